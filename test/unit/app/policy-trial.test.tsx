// Issue 22: a policy file tried in the TUI before the controller gets it (`:policy test FILE`), with the code behind
// `certdesk policy test`: the command queues the dry run, the effect judges the store's requests under the file and
// the default, and the Health pane lists where the decisions would differ; `:policy clear` hides it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { runEffect } from '../../../src/app/effects.js';
import { healthSections } from '../../../src/app/order.js';
import { initialState, reducer, runCommand, type TuiState } from '../../../src/app/store.js';
import type { ClusterContext, ContextSnapshot, NodeAddresses } from '../../../src/services/kube/api-types.js';
import { buildHostileRequests } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { HealthPane } from '../../../src/views/health-pane.js';
import { hostileCsr, hostileNodes, hostilePods } from '../../helpers/hostile-world.js';
import { frameOf } from '../../views/tui/render.js';
import { NOW, snapshot } from './fixtures.js';

let dir = '';
const savedStateDir = process.env.CERTDESK_STATE_DIR;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-policy-trial-'));
  process.env.CERTDESK_STATE_DIR = join(dir, 'state'); // an empty audit log: only the live requests are judged
});
after(() => {
  if (savedStateDir === undefined) delete process.env.CERTDESK_STATE_DIR;
  else process.env.CERTDESK_STATE_DIR = savedStateDir;
  rmSync(dir, { recursive: true, force: true });
});

async function hostileSnapshot(): Promise<ContextSnapshot> {
  const csrs = (await buildHostileRequests()).map((h) => hostileCsr(h));
  return {
    ...snapshot('hostile', csrs),
    pods: new Map(hostilePods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p as V1Pod])),
    nodes: new Map(hostileNodes.map((n) => [n.metadata?.name ?? '', n as NodeAddresses])),
  };
}

function run(state: TuiState, line: string): TuiState {
  return runCommand(state, line);
}

describe(':policy test FILE', () => {
  it('queues the dry run; the effect judges the store; the Health pane shows what would differ', async () => {
    const snap = await hostileSnapshot();
    let state = initialState({ contexts: ['hostile'], columns: 160, rows: 60, now: NOW });
    state = reducer(state, { type: 'snapshots', snapshots: { hostile: snap } });

    assert.match(run(state, 'policy').status?.text ?? '', /Give a policy file to try: :policy test FILE/);
    const file = join(dir, 'lenient.yaml');
    // A key seen under another identity only warns: the copy and its original are left for a person, not denied.
    writeFileSync(file, 'name: lenient\nkeyReuse: warn\n');
    state = run(state, `policy test ${file}`);
    const effect = state.outbox.at(-1);
    assert.deepEqual(effect && { kind: effect.kind, file: 'file' in effect ? effect.file : '' }, {
      kind: 'policy-test',
      file,
    });
    assert.equal(state.pane, 'health');
    assert.equal(state.status?.text, `Trying policy ${file}…`);

    const deps = {
      contexts: new Map([['hostile', {} as ClusterContext]]),
      store: { reconnect: () => {}, snapshot: () => snap },
    };
    const done = await runEffect(effect!, deps);
    assert.ok(done?.trial);
    const names = done.trial.rows.map((r) => r.name).sort();
    assert.deepEqual(names, ['hostile-key-reuse', 'hostile-superseded']);
    const keyReuse = done.trial.rows.find((r) => r.name === 'hostile-key-reuse');
    assert.deepEqual([keyReuse?.policy.verdict, keyReuse?.default.verdict], ['leave', 'deny']);
    assert.match(done.text, /requests judged under policy "lenient"; 2 would be decided differently\./);

    state = reducer(state, { type: 'effect-done', status: done, id: effect!.id });
    assert.equal(state.status?.text, done.text);
    assert.ok(!('trial' in (state.status ?? {})), 'the status line keeps only its sentence');
    const section = healthSections(state).find((s) => s.label === 'Policy test');
    assert.ok(section, 'a Policy test section in the Health pane');
    const frame = await frameOf(
      <HealthPane sections={healthSections(state)} width={160} height={30} focused={true} offset={0} />,
    );
    assert.match(frame, /Policy test +\d+ requests judged under policy "lenient"; 2 would be decided differently/);
    assert.match(
      frame,
      /hostile\/hostile-key-reuse: taken pending · policy leave \(key-reuse\?\) · default deny \(key-reuse\)/,
    );

    state = run(state, 'policy clear');
    assert.equal(state.policyTrial, undefined);
    assert.equal(
      healthSections(state).some((s) => s.label === 'Policy test'),
      false,
    );
  });

  it('a file that is not a policy is said in one sentence, and nothing is tried', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'keyReuse: maybe\n');
    const deps = {
      contexts: new Map([['hostile', {} as ClusterContext]]),
      store: { reconnect: () => {}, snapshot: () => snapshot('hostile', []) },
    };
    const done = await runEffect({ id: 1, kind: 'policy-test', file }, deps);
    assert.equal(done?.tone, 'bad');
    assert.match(done?.text ?? '', /keyReuse" must be ok, warn or fail: nothing tried\.$/);
    assert.equal(done?.trial, undefined);
  });
});

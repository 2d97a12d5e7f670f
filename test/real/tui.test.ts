// The TUI end to end against the real kube-apiserver 1.37: the built binary in tmux, with `certdesk scenario run
// calico-rollout hostile` playing Calico on the real server. A hostile CSR shows as visible escapes and cannot be
// approved by accident; a Calico CSR approved and signed from the keyboard runs its pod (as kubectl 1.37 sees it);
// the rest, bulk-approved and bulk-signed, turn TigeraStatus Available.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok } from '../e2e/headless/helpers.js';
import { TmuxTerminal } from '../e2e/tui/tmux.js';
import { type ScenarioProcess, startScenarioRun, trustRegisteredCa } from '../helpers/scenario-run.js';
import { type RealEnv, startRealEnv, until } from './helpers.js';

const SIGNER = 'example.com/calico';
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('TUI end to end on the real server (built binary in tmux)', { timeout: 300_000 }, () => {
  let e: RealEnv;
  let run: ScenarioProcess | undefined;
  let term: TmuxTerminal;

  async function calicoPending(): Promise<string[]> {
    const out = ok(await e.kubectl(['get', 'csr', '--no-headers'])).stdout;
    return out
      .split('\n')
      .filter((l) => l.startsWith('calico-system:calico-') && /\sPending\s*$/.test(l))
      .map((l) => l.split(/\s+/)[0] ?? '');
  }

  before(async () => {
    e = await startRealEnv(['east']);
    ok(await e.run(['ca', 'init', '--signer', SIGNER]));
    run = await startScenarioRun(
      [
        'calico-rollout',
        'hostile',
        '--set',
        'calico-rollout.nodes=2',
        '--set',
        'calico-rollout.backoffMs=600000',
        ...trustRegisteredCa(e.env),
      ],
      e.env,
    );
    await until('3 calico CSRs', async () => (await calicoPending()).length === 3);
    term = new TmuxTerminal(140, 40);
    const env = [
      `CERTDESK_CONFIG_DIR=${q(e.env.CERTDESK_CONFIG_DIR ?? '')}`,
      `CERTDESK_STATE_DIR=${q(e.env.CERTDESK_STATE_DIR ?? '')}`,
      `HOME=${q(e.dir)}`,
      'TERM=xterm-256color',
    ].join(' ');
    term.start(
      `env ${env} ${q(process.execPath)} ${q(resolve('bin/certdesk.js'))} --kubeconfig ${q(e.cluster.kubeconfigPath)} --context east 2>${q(join(e.dir, 'stderr.log'))}`,
    );
    await term.waitFor((s) => /east ● live/.test(s), 'the context live', 60_000);
  });

  after(async () => {
    term?.stop();
    if (run && run.child.exitCode === null) await run.interrupt();
    await e?.stop();
  });

  it('shows a hostile CSR as visible escapes; approving it asks for its name', async () => {
    const titleBefore = term.title();
    await term.filter('hostile-escape-sequences');
    term.keys('Enter');
    const screen = await term.waitForText('hostile-escape-sequences · east');
    assert.equal(term.title(), titleBefore, 'the pane title did not change');
    assert.match(screen, /\\x1b\]0\\;pwned\\x07/, 'the OSC title sequence shows as text');
    assert.match(screen, /^ certdesk {2}ctx: east/m, 'the header is still on the first line');
    assert.match(screen, /✗ Control, bidi or invisible characters/);
    term.keys('a');
    await term.waitForText('type hostile-escape-sequences to confirm');
    term.keys('Escape');
    await term.waitForText('a approve  x deny');
    term.keys('Escape');
    await term.waitForText('CTX  NAME');
    assert.match(ok(await e.kubectl(['get', 'csr', 'hostile-escape-sequences'])).stdout, /Pending/);
  });

  it('approves and signs a Calico CSR from the keyboard; its pod runs on the real server', async () => {
    const name = (await calicoPending()).find((n) => n.includes('calico-node-')) ?? '';
    const pod = name.split(':')[1] ?? '';
    await term.filter(name);
    term.keys('A');
    await term.waitForText('Approve and sign 1 CSR?');
    await term.confirm(name);
    await term.waitForText('Approved and signed.');
    await until(`pod ${pod} Running`, async () =>
      /1\/1\s+Running/.test(ok(await e.kubectl(['get', 'pod', '-n', 'calico-system', pod])).stdout),
    );
    await term.filter('calico-system/');
    await term.waitFor((s) => !s.includes(`calico-system/${pod}`), `pod ${pod} gone from Pods in Init`);
  });

  it('bulk-approves, bulk-signs, and TigeraStatus turns Available', async () => {
    const pending = await calicoPending();
    assert.equal(pending.length, 2);
    await term.filter('calico-system:calico-');
    term.keys('g');
    await term.waitFor((s) => /^│▶/m.test(s), 'a selected row');
    term.keysAtOnce('Space', 'Space');
    await term.waitForText('2 selected');
    term.keys('a');
    await term.waitForText('Approve 2 CSRs?');
    term.keys('Enter');
    await term.waitForText('Approved 2 of 2.');
    await term.filter('approved');
    term.keys('g');
    await term.waitFor((s) => /^│▶/m.test(s), 'a selected row');
    term.keysAtOnce('Space', 'Space');
    await term.waitForText('2 selected');
    term.keys('s');
    await term.waitForText('Sign 2 CSRs?');
    term.keys('Enter');
    await term.waitForText('Signed 2 of 2.', 30_000);
    await term.waitForText(/east +calico {2}Available True/, 60_000);
    assert.match(ok(await e.kubectl(['get', 'tigerastatus'])).stdout, /calico\s+True\s+False\s+False/);
  });
});

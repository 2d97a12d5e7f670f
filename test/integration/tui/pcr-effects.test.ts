// The PCR view's verbs as the TUI runs them (runEffect 'pcr': `s` issue, `x` deny, `f` mark Failed) over HTTPS
// against the sandbox's pod-certificates scenario: each writes through the same gated, audited actions as
// `certdesk sign|deny|fail pcr`, bound to the object the dialog showed; a PCR deleted and re-created under its name
// between inspect and the write (another UID) is refused and left as it is.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import { runEffect } from '../../../src/app/effects.js';
import { InsightCache } from '../../../src/app/insights.js';
import { pcrHealthLines, selectPcrInspect } from '../../../src/app/pcrs.js';
import { REFRESH_OVERDUE_MS } from '../../../src/services/health/pcr.js';
import { type DialogState, type Effect, initialState, type PcrVerb, reducer } from '../../../src/app/store.js';
import { caCertificatePem, initCa } from '../../../src/services/config/ca-registry.js';
import { type ClusterContext, loadContexts } from '../../../src/services/kube/index.js';
import { pcrState, readPcr, type WirePcr } from '../../../src/services/kube/pod-certificates.js';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { snapshot } from '../../unit/app/fixtures.js';

const ADMIN = { name: 'admin', groups: ['system:masters'] };
const PCRS = '/apis/certificates.k8s.io/v1/namespaces/workloads/podcertificaterequests';
const SIGNER = 'example.com/pod-identity';
let sb: Sandbox;
let east: SandboxCluster;
let ctx: ClusterContext;
let dir = '';
const savedStateDir = process.env.CERTDESK_STATE_DIR;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-pcr-'));
  process.env.CERTDESK_STATE_DIR = join(dir, 'state');
  sb = await startTestSandbox(undefined, {
    scenarios: ['pod-certificates'],
    scenarioOptions: { 'pod-certificates': { pods: 13, backoffMs: 60_000 } },
  });
  east = sb.cluster('east');
  [ctx] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  await initCa({ signerName: SIGNER, cwd: dir });
});
after(async () => {
  await sb?.stop();
  if (savedStateDir === undefined) delete process.env.CERTDESK_STATE_DIR;
  else process.env.CERTDESK_STATE_DIR = savedStateDir;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The pending PCR of a pod, as inspect shows it. */
async function inspected(pod: string): Promise<WirePcr> {
  const r = await east.requestAs(ADMIN, 'GET', `${PCRS}?fieldSelector=spec.podName%3D${pod}`);
  const items = (JSON.parse(r.body) as { items: WirePcr[] }).items;
  assert.equal(items.length, 1, r.body);
  return items[0]!;
}

const run = (verb: PcrVerb, pcr: WirePcr, extra: { reason?: string; message?: string; overrides?: string[] } = {}) =>
  runEffect(
    {
      id: 1,
      kind: 'pcr',
      verb,
      targets: [
        {
          context: 'east',
          namespace: 'workloads',
          name: pcr.metadata?.name ?? '',
          pcr,
          ...(extra.overrides ? { overrides: extra.overrides } : {}),
        },
      ],
      reason: extra.reason ?? '',
      message: extra.message ?? '',
    },
    {
      contexts: new Map([['east', ctx]]),
      store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map() }) as never },
      registryDir: dir,
    },
  );

async function now(pcr: WirePcr): Promise<WirePcr | undefined> {
  const r = await readPcr(ctx, 'v1', 'workloads', pcr.metadata?.name ?? '');
  return r.ok ? r.value : undefined;
}

const audit = () =>
  readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the PCR view verbs (runEffect)', () => {
  it('s issues with the registered CA: the chain is on the PCR, audited intent then outcome', async () => {
    const pcr = await inspected('web-0');
    const status = await run('issue', pcr);
    assert.equal(status?.tone, 'ok', status?.text);
    assert.match(status?.text ?? '', /^Issued PodCertificateRequest workloads\/web-0/);
    const after = await now(pcr);
    assert.equal(after && pcrState(after), 'Issued');
    assert.match(after?.status?.certificateChain ?? '', /BEGIN CERTIFICATE/);
    const mine = audit().filter((e) => e.name === pcr.metadata?.name || e.csrName === pcr.metadata?.name);
    assert.ok(mine.length >= 2, JSON.stringify(audit()));
  });

  it('s with an encrypted CA key and no passphrase source: nothing issued, the passphrase asked for; typed, it issues', async () => {
    // Another registry holding the signer's CA as an encrypted key file with no stored passphrase source.
    const sealed = join(dir, 'sealed-registry');
    await initCa({ signerName: SIGNER, cwd: sealed, passphrase: 'correct horse battery' });
    const pcr = await inspected('web-12');
    const issue = (secrets?: Record<string, string>) =>
      runEffect(
        {
          id: 1,
          kind: 'pcr',
          verb: 'issue',
          targets: [{ context: 'east', namespace: 'workloads', name: pcr.metadata?.name ?? '', pcr }],
          reason: '',
          message: '',
          ...(secrets ? { secrets } : {}),
        },
        {
          contexts: new Map([['east', ctx]]),
          store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map() }) as never },
          registryDir: sealed,
        },
      );
    const asked = await issue();
    assert.equal(asked?.tone, 'bad', asked?.text);
    assert.equal(asked?.ask?.length, 1, JSON.stringify(asked));
    assert.equal(asked?.ask?.[0]?.[0], SIGNER);
    assert.match(asked?.ask?.[0]?.[1] ?? '', /passphrase/);
    assert.equal(pcrState((await now(pcr))!), 'Pending', 'nothing issued');
    const done = await issue({ [SIGNER]: 'correct horse battery' });
    assert.equal(done?.tone, 'ok', done?.text);
    assert.equal(pcrState((await now(pcr))!), 'Issued');
  });

  it('x denies with the reason and message typed', async () => {
    const pcr = await inspected('api-1');
    const status = await run('deny', pcr, { reason: 'NotOurPod', message: 'by the desk' });
    assert.equal(status?.tone, 'ok', status?.text);
    const cond = (await now(pcr))?.status?.conditions?.find((c) => c.type === 'Denied');
    assert.equal(cond?.reason, 'NotOurPod');
    assert.equal(cond?.message, 'by the desk');
  });

  it('f marks Failed (an empty reason is CertdeskFailed)', async () => {
    const pcr = await inspected('web-2');
    const status = await run('fail', pcr);
    assert.equal(status?.tone, 'ok', status?.text);
    const cond = (await now(pcr))?.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(cond?.reason, 'CertdeskFailed');
  });

  it('s on a PCR with a ✗ finding (its pod deleted): the dialog asks for the name; only the codes it shows issue', async () => {
    const pcr = await inspected('web-6');
    const del = await east.requestAs(ADMIN, 'DELETE', '/api/v1/namespaces/workloads/pods/web-6');
    assert.equal(del.code, 200, del.body);
    const east0 = { ...snapshot('east', []), pcrs: new Map([[`workloads/${pcr.metadata?.name}`, pcr]]) };
    const state = reducer(
      reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: Date.now() }), {
        type: 'snapshots',
        snapshots: { east: east0 },
      }),
      { type: 'open-pcrs' },
    );
    const d = await openVerb('pcr-issue', state, {
      insights: new InsightCache({ contexts: new Map([['east', ctx]]), onChange: () => {} }),
      now: () => new Date(),
      registryDir: dir,
      contexts: new Map([['east', ctx]]),
    });
    assert.ok(!('status' in d), JSON.stringify(d));
    assert.equal(d.guard, 'fail', JSON.stringify(d.details));
    assert.equal(d.confirmName, pcr.metadata?.name);
    const codes = d.pcr?.targets[0]?.overrides ?? [];
    assert.ok(codes.length > 0);
    const refused = await run('issue', pcr);
    assert.equal(refused?.tone, 'bad', refused?.text);
    assert.match(refused?.text ?? '', /failing findings/);
    assert.equal(pcrState((await now(pcr))!), 'Pending');
    const status = await run('issue', pcr, { overrides: codes });
    assert.equal(status?.tone, 'ok', status?.text);
    assert.equal(pcrState((await now(pcr))!), 'Issued');
  });

  for (const verb of ['issue', 'deny', 'fail'] as const) {
    it(`${verb}: a PCR replaced between inspect and the write is refused and left Pending`, async () => {
      const pod = { issue: 'api-3', deny: 'web-4', fail: 'api-5' }[verb];
      const pcr = await inspected(pod);
      const name = pcr.metadata?.name ?? '';
      const del = await east.requestAs(ADMIN, 'DELETE', `${PCRS}/${name}`);
      assert.equal(del.code, 200, del.body);
      // The kubelet's way: the PCR's node creates it (the Node authorizer allows no one else).
      const node = {
        name: `system:node:${pcr.spec?.nodeName ?? ''}`,
        groups: ['system:nodes', 'system:authenticated'],
      };
      const made = await east.requestAs(node, 'POST', PCRS, {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'PodCertificateRequest',
        metadata: { name, namespace: 'workloads' },
        spec: pcr.spec,
      });
      assert.equal(made.code, 201, made.body);
      const status = await run(verb, pcr, { reason: 'NotOurPod' });
      assert.equal(status?.tone, 'bad', status?.text);
      assert.match(status?.text ?? '', /replaced|UID|uid/);
      const replacement = await now(pcr);
      assert.notEqual(replacement?.metadata?.uid, pcr.metadata?.uid);
      assert.equal(replacement && pcrState(replacement), 'Pending');
    });
  }

  /** The PCR view of `contexts` (listed under the first), its can-i asked through a real InsightCache. */
  async function dialogIn(
    contexts: Record<string, ClusterContext>,
    pcr: WirePcr,
    verb: 'pcr-issue' | 'pcr-deny' | 'pcr-fail' | 'pcr-trust-bundle',
  ) {
    const names = Object.keys(contexts);
    const snap = { ...snapshot(names[0]!, []), pcrs: new Map([[`workloads/${pcr.metadata?.name}`, pcr]]) };
    const state = reducer(
      reducer(
        initialState({
          contexts: names,
          // Every context here reaches the sandbox's east: one cluster.
          clusters: Object.fromEntries(names.map((n) => [n, 'east'])),
          columns: 140,
          rows: 40,
          now: Date.now(),
        }),
        { type: 'snapshots', snapshots: { [names[0]!]: snap } },
      ),
      { type: 'open-pcrs' },
    );
    const map = new Map(Object.entries(contexts));
    const d = await openVerb(verb, state, {
      insights: new InsightCache({ contexts: map, onChange: () => {} }),
      now: () => new Date(),
      registryDir: dir,
      contexts: map,
    });
    return { state, d, map };
  }

  it('a context that may not write PCR status: s, x and f say so when the dialog opens (before anything is typed)', async () => {
    const [viewer] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east-viewer'] }) as [ClusterContext];
    const pcr = await inspected('api-7');
    for (const verb of ['pcr-issue', 'pcr-deny', 'pcr-fail'] as const) {
      const { d } = await dialogIn({ 'east-viewer': viewer }, pcr, verb);
      assert.ok(!('status' in d), JSON.stringify(d));
      assert.match(
        d.blocked ?? '',
        /^You may not sign for example\.com\/pod-identity in east-viewer: missing sign on signers\.certificates\.k8s\.io "example\.com\/pod-identity" \(or "example\.com\/\*"\), update on podcertificaterequests\/status\.certificates\.k8s\.io in namespace "workloads"\.$/,
        `${verb}: ${d.blocked}`,
      );
    }
    assert.equal(pcrState((await now(pcr))!), 'Pending');
  });

  it('two contexts reach one cluster: the verb acts through the one that may, and the dialog says which', async () => {
    const [viewer, admin] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east-viewer', 'east'] }) as [
      ClusterContext,
      ClusterContext,
    ];
    const pcr = await inspected('web-8');
    const { state, d, map } = await dialogIn({ 'east-viewer': viewer, east: admin }, pcr, 'pcr-deny');
    assert.ok(!('status' in d), JSON.stringify(d));
    assert.equal(d.blocked, undefined);
    assert.equal(d.pcr?.targets[0]?.context, 'east');
    assert.match(JSON.stringify(d.details), /through context east \(same cluster as east-viewer may not sign\)/);
    const submitted = reducer(reducer(state, { type: 'open-dialog', dialog: d as DialogState }), {
      type: 'dialog-submit',
    });
    const effect = submitted.outbox.find((e): e is Extract<Effect, { kind: 'pcr' }> => e.kind === 'pcr');
    assert.equal(effect?.targets[0]?.context, 'east');
    const status = await runEffect(effect!, {
      contexts: map,
      store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map() }) as never },
      registryDir: dir,
    });
    assert.equal(status?.tone, 'ok', status?.text);
    assert.equal(pcrState((await now(pcr))!), 'Denied');
    const written = audit().filter((e) => e.csrName === pcr.metadata?.name && e.phase === 'outcome');
    assert.deepEqual(
      written.map((e) => [e.context, e.action, e.outcome]),
      [['east', 'deny', 'ok']],
    );
  });

  it('refresh: an issued PCR is overdue only once its beginRefreshAt passed by more than 10 min (the TUI clock moved on)', async () => {
    // The API refuses a beginRefreshAt in the past at issue time: the PCR is issued now (web-0, first test), and
    // the desk's clock is moved past its refresh time instead.
    const pcr = await inspected('web-0');
    assert.equal(pcrState(pcr), 'Issued');
    const refreshAt = Date.parse(pcr.status?.beginRefreshAt ?? '');
    assert.ok(refreshAt > Date.now(), 'beginRefreshAt is ahead at issue time');
    const key = `workloads/${pcr.metadata?.name}`;
    const snap = {
      ...snapshot('east', []),
      pcrs: new Map([[key, pcr]]),
      trustBundles: new Map(),
      podCertificateApis: { podCertificateRequests: 'v1', clusterTrustBundles: 'v1' },
      podCertificatesListed: true,
    };
    const loaded = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: Date.now() }), {
      type: 'snapshots',
      snapshots: { east: snap },
    });
    const at = (now: number) => reducer(loaded, { type: 'tick', now });
    const health = (now: number) =>
      pcrHealthLines(at(now), 'east')
        .map((l) => l.text)
        .join('\n');
    const inspect = (now: number) => {
      const view = { index: 0, top: 0, inspect: { context: 'east', key, uid: pcr.metadata?.uid, offset: 0 } };
      return JSON.stringify(selectPcrInspect(at(now), view));
    };
    assert.doesNotMatch(health(Date.now()), /overdue/);
    assert.doesNotMatch(health(refreshAt + REFRESH_OVERDUE_MS), /overdue/, 'exactly 10 min late is not yet overdue');
    assert.doesNotMatch(inspect(refreshAt + REFRESH_OVERDUE_MS), /overdue/);
    assert.match(
      health(refreshAt + REFRESH_OVERDUE_MS + 60_000),
      /pcr example\.com\/pod-identity: 1 overdue for refresh/,
    );
    assert.match(
      inspect(refreshAt + REFRESH_OVERDUE_MS + 60_000),
      /overdue by 11m \(the kubelet has not re-requested\)/,
    );
  });

  it("E publishes the signer's CA as its trust bundle through a context that may attest; one that may not is told up front", async () => {
    const [viewer, admin] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east-viewer', 'east'] }) as [
      ClusterContext,
      ClusterContext,
    ];
    const pcr = await inspected('web-0');
    const alone = await dialogIn({ 'east-viewer': viewer }, pcr, 'pcr-trust-bundle');
    assert.ok(!('status' in alone.d), JSON.stringify(alone.d));
    assert.match(
      alone.d.blocked ?? '',
      /^You may not attest for example\.com\/pod-identity in east-viewer: missing attest on signers\.certificates\.k8s\.io "example\.com\/pod-identity" \(or "example\.com\/\*"\), create on clustertrustbundles\.certificates\.k8s\.io\.$/,
    );
    const { state, d, map } = await dialogIn({ 'east-viewer': viewer, east: admin }, pcr, 'pcr-trust-bundle');
    assert.ok(!('status' in d), JSON.stringify(d));
    assert.equal(d.blocked, undefined);
    assert.match(JSON.stringify(d.details), /through context east \(same cluster as east-viewer may not attest\)/);
    assert.match(JSON.stringify(d.details), /CA CN=example\.com\/pod-identity CA/);
    const submitted = reducer(reducer(state, { type: 'open-dialog', dialog: d as DialogState }), {
      type: 'dialog-submit',
    });
    assert.equal(submitted.mode.kind, 'pcrs', 'back in the PCR view');
    const effect = submitted.outbox.find((e) => e.kind === 'export-trust-bundle');
    assert.deepEqual(effect && { ...effect, id: 0 }, {
      id: 0,
      kind: 'export-trust-bundle',
      context: 'east',
      signer: SIGNER,
      name: 'live',
      removeOld: false,
    });
    const status = await runEffect(effect!, {
      contexts: map,
      store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map() }) as never },
      registryDir: dir,
    });
    assert.equal(status?.tone, 'ok', status?.text);
    assert.match(
      status?.text ?? '',
      /^ClusterTrustBundle example\.com:pod-identity:live created in east: 1 CA\(s\)\.$/,
    );
    const r = await east.requestAs(
      ADMIN,
      'GET',
      '/apis/certificates.k8s.io/v1/clustertrustbundles/example.com:pod-identity:live',
    );
    const bundle = JSON.parse(r.body) as { spec?: { signerName?: string; trustBundle?: string } };
    assert.equal(bundle.spec?.signerName, SIGNER);
    const ca = await caCertificatePem(SIGNER, { cwd: dir });
    assert.equal(bundle.spec?.trustBundle?.trim(), ca.trim());
  });

  it('s on three marked PCRs: each checked and issued on its own; the one with a ✗ finding is left out', async () => {
    const [ok1, ok2, bad] = [await inspected('api-9'), await inspected('web-10'), await inspected('api-11')];
    const del = await east.requestAs(ADMIN, 'DELETE', '/api/v1/namespaces/workloads/pods/api-11');
    assert.equal(del.code, 200, del.body);
    const snap = {
      ...snapshot('east', []),
      pcrs: new Map([ok1!, ok2!, bad!].map((p) => [`workloads/${p.metadata?.name}`, p] as const)),
    };
    let state = reducer(
      reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: Date.now() }), {
        type: 'snapshots',
        snapshots: { east: snap },
      }),
      { type: 'open-pcrs' },
    );
    for (let i = 0; i < 3; i++) state = reducer(state, { type: 'pcrs', action: { kind: 'toggle-mark' } });
    const map = new Map([['east', ctx]]);
    const d = await openVerb('pcr-issue', state, {
      insights: new InsightCache({ contexts: map, onChange: () => {} }),
      now: () => new Date(),
      registryDir: dir,
      contexts: map,
    });
    assert.ok(!('status' in d), JSON.stringify(d));
    assert.equal(d.title, 'Issue 2 PCRs?');
    assert.equal(d.confirmName, undefined);
    assert.equal(d.blocked, undefined, d.blocked);
    assert.deepEqual(
      d.pcr?.targets.map((t) => [t.name, t.overrides]).sort(),
      [
        [ok1!.metadata?.name, undefined],
        [ok2!.metadata?.name, undefined],
      ].sort(),
    );
    assert.match(JSON.stringify(d.details), /1 marked PCR left out \(not Pending, or a ✗ finding\)/);
    assert.match(JSON.stringify(d.details), /example\.com\/pod-identity → CN=example\.com\/pod-identity CA/);
    assert.equal(d.guard, 'ok', JSON.stringify(d.details));
    const submitted = reducer(reducer(state, { type: 'open-dialog', dialog: d as DialogState }), {
      type: 'dialog-submit',
    });
    const effect = submitted.outbox.find((e): e is Extract<Effect, { kind: 'pcr' }> => e.kind === 'pcr');
    assert.equal(effect?.targets.length, 2);
    const status = await runEffect(effect!, {
      contexts: map,
      store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map() }) as never },
      registryDir: dir,
    });
    assert.deepEqual(status, { text: 'Issued 2 of 2.', tone: 'ok' });
    const [a, b, c] = [await now(ok1!), await now(ok2!), await now(bad!)];
    assert.equal(a && pcrState(a), 'Issued');
    assert.equal(b && pcrState(b), 'Issued');
    assert.notEqual(a?.status?.certificateChain, b?.status?.certificateChain);
    assert.equal(c && pcrState(c), 'Pending', 'the PCR with a ✗ finding was not issued');
  });
});

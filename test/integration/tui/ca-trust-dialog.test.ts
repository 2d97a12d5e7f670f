// The TUI's sign dialog reads what the cluster trusts for the signer (a ClusterTrustBundle in a sandbox, over
// HTTPS) before it asks: with another CA there, it shows the ca-untrusted finding, asks for the CSR's name, and the
// typed name accepts it (the action checks it again); several CSRs at once are blocked; with the CA there it says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { csrKey, type DialogState, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import { CA_UNTRUSTED } from '../../../src/services/actions/ca-trust.js';
import { caCertificatePem, initCa } from '../../../src/services/config/ca-registry.js';
import { type ClusterContext, loadContexts } from '../../../src/services/kube/index.js';
import type { WirePcr } from '../../../src/services/kube/pod-certificates.js';
import { createCa } from '../../../src/services/pki/index.js';
import { decodeCsr } from '../../../src/services/pki/decode.js';
import { generateKeyAndCsr } from '../../../src/services/pki/generate.js';
import { putTrustBundle, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { csr, NOW, snapshot } from '../../unit/app/fixtures.js';

const SIGNER = 'example.com/calico';
const BUNDLE = 'example.com:calico:live';
let sb: Sandbox;
let dir = '';
let registryDir = '';
let otherPem = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-ca-trust-'));
  registryDir = join(dir, 'registry');
  sb = await startTestSandbox(undefined, { clusters: ['east'] });
  await initCa({ signerName: SIGNER, cwd: registryDir });
  otherPem = (await createCa({ cn: `${SIGNER} CA` })).certPem;
});
after(async () => {
  await sb?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const bundle = (pem: string) => putTrustBundle(sb.cluster('east'), SIGNER, BUNDLE, pem);

/** The sign dialog over `names` (Approved CSRs), marked when several, with a fresh context (no cached statement). */
async function signDialog(names: string[]): Promise<DialogState> {
  const { csrPem } = await generateKeyAndCsr({ cn: 'calico-node', hosts: ['calico-node'] });
  const decoded = await decodeCsr(csrPem);
  const objects = names.map((n) => {
    const o = csr(n, { state: 'Approved', signer: SIGNER });
    o.spec.request = Buffer.from(csrPem).toString('base64');
    return o;
  });
  let state: TuiState = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, { type: 'snapshots', snapshots: { east: snapshot('east', objects) } });
  if (names.length > 1) state = { ...state, marked: new Set(names.map((n) => csrKey('east', n))) };
  const [ctx] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  const insights = {
    insightNow: async () => ({ decoded, findings: [], worst: 'ok' as const }),
    capability: () => undefined,
  };
  const dialog = await openVerb('sign', state, {
    insights: insights as unknown as InsightCache,
    contexts: new Map([['east', ctx]]),
    registryDir,
    now: () => new Date(),
  });
  assert.ok('details' in dialog, 'status' in dialog ? dialog.status : 'no dialog');
  return dialog;
}

const text = (d: DialogState) => d.details.flatMap((s) => s.lines.map((l) => ('text' in l ? l.text : ''))).join('\n');

describe('sign dialog: the CA against what the cluster trusts', () => {
  it('another CA in the bundle: the finding shown, the name asked, the typed name accepts ca-untrusted', async () => {
    await bundle(otherPem);
    const d = await signDialog(['calico-node-a']);
    assert.equal(d.blocked, undefined);
    assert.equal(d.guard, 'fail');
    assert.equal(d.confirmName, 'calico-node-a');
    assert.deepEqual(d.bound?.[csrKey('east', 'calico-node-a')]?.overrides, [CA_UNTRUSTED]);
    const shown = text(d);
    assert.match(
      shown,
      /trust {5}✗ ClusterTrustBundle example\.com:calico:live trusts CN=example\.com\/calico CA \(SHA-256 [0-9A-F:]{11}…\), not this CA \(ca-untrusted\)/,
    );
    assert.match(
      shown,
      /✗ This CA \(CN=example\.com\/calico CA, SHA-256 .*ClusterTrustBundle example\.com:calico:live trusts/,
    );
    assert.doesNotMatch(shown, /✓ no warnings/);
    // The request itself is fine, but the dialog as a whole is not: its row says ✗.
    assert.match(shown, /^✗ calico-node-a · east · example\.com\/calico$/m);
  });

  it('several CSRs at once: blocked, one by one accepts it', async () => {
    const d = await signDialog(['calico-node-a', 'calico-node-b']);
    assert.match(
      d.blocked ?? '',
      /The CA for example\.com\/calico is not one east trusts \(ca-untrusted, see above\): sign one by one/,
    );
  });

  it('this CA in the bundle: trusted, said, nothing asked', async () => {
    await bundle(await caCertificatePem(SIGNER, { cwd: registryDir }));
    const d = await signDialog(['calico-node-a']);
    assert.equal(d.guard, 'ok');
    assert.equal(d.confirmName, undefined);
    assert.match(text(d), /trust {5}✓ the CA ClusterTrustBundle example\.com:calico:live trusts/);
  });

  it('issuing a PodCertificateRequest with a CA the bundle does not hold: the finding shown, the name asked', async () => {
    await bundle(otherPem);
    const pcr: WirePcr = {
      metadata: { name: 'web-0-abc', namespace: 'workloads', uid: 'uid-web-0', resourceVersion: '41' },
      spec: { signerName: SIGNER, podName: 'web-0', nodeName: 'node-1', maxExpirationSeconds: 86400 },
    };
    let state: TuiState = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
    state = reducer(state, {
      type: 'snapshots',
      snapshots: { east: { ...snapshot('east', []), pcrs: new Map([['workloads/web-0-abc', pcr]]) } },
    });
    state = reducer(state, { type: 'open-pcrs' });
    const [ctx] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
    const d = await openVerb('pcr-issue', state, {
      insights: { pcrCapabilityNow: async () => undefined } as unknown as InsightCache,
      contexts: new Map([['east', ctx]]),
      registryDir,
      now: () => new Date(),
    });
    assert.ok('details' in d, 'status' in d ? d.status : 'no dialog');
    assert.equal(d.guard, 'fail');
    assert.equal(d.confirmName, 'web-0-abc');
    assert.ok(d.pcr?.targets[0]?.overrides?.includes(CA_UNTRUSTED), JSON.stringify(d.pcr?.targets[0]?.overrides));
    assert.match(text(d), /ClusterTrustBundle example\.com:calico:live trusts CN=example\.com\/calico CA/);
  });
});

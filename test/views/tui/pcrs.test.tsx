// The PodCertificateRequests view through the reducer, the selectors and the views (ink-testing-library): Pending
// first with the pod that waits on it, inspect (signer, identity, requested key and its proof of possession,
// maxExpirationSeconds, unverified annotations, the issued chain and its refresh time), Health's lines per signer
// (waiting, overdue for refresh, the trust bundle and whether it holds the signing CA), and hostile text escaped.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { pcrsKey } from '../../../src/app/pcrs.js';
import { type CsrInsights, noInsights, selectScreen } from '../../../src/app/selectors.js';
import { type Action, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import type { WireCtb, WirePcr } from '../../../src/services/kube/pod-certificates.js';
import { parsePemBlocks } from '../../../src/services/pki/pem.js';
import { makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';
import { MainScreen } from '../../../src/views/main-screen.js';
import { makeCsrPem } from '../../helpers/sandbox.js';
import { NOW, snapshot } from '../../unit/app/fixtures.js';
import { frameAt, frameOf, lines } from './render.js';

const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
const SIGNER = 'example.com/pod-identity';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pcr(name: string, extra: { podName: string; podUID: string; stub?: string; status?: WirePcr['status'] }) {
  return {
    metadata: { name, namespace: 'workloads', uid: `uid-${name}`, creationTimestamp: iso(NOW - 90_000) },
    spec: {
      signerName: SIGNER,
      podName: extra.podName,
      podUID: extra.podUID,
      serviceAccountName: 'default',
      serviceAccountUID: 'sa-1',
      nodeName: 'node-1',
      nodeUID: 'n-1',
      maxExpirationSeconds: 86400,
      ...(extra.stub ? { stubPKCS10Request: extra.stub } : {}),
      unverifiedUserAnnotations: { 'example.com/team': 'a\x1b]0;owned\x07' },
    },
    ...(extra.status ? { status: extra.status } : {}),
  } satisfies WirePcr;
}

function run(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}
const frame = (state: TuiState) => frameOf(<MainScreen screen={selectScreen(state, noInsights, places)} />);
const key = (s: TuiState, input: string, k = {}) => {
  if (s.mode.kind !== 'pcrs') throw new Error(`not in the PCR view: ${s.mode.kind}`);
  const intent = pcrsKey(s.mode.view, input, k);
  return intent?.kind === 'action' ? reducer(s, intent.action) : s;
};

describe('views: PodCertificateRequests', () => {
  let base: TuiState;
  before(async () => {
    const ca = await makeCert({ cn: 'pod identity CA', ...window(NOW, -10, 3650) });
    const leaf = await makeCert({
      cn: '',
      hosts: ['spiffe://cluster.local/ns/workloads/sa/default'],
      issuer: ca,
      ...window(NOW, -1, 1),
    });
    const stub = Buffer.from(parsePemBlocks(makeCsrPem({ commonName: '' }).pem)[0]!.der).toString('base64');
    const waiting = pcr('web-0-abc', { podName: 'web-0', podUID: 'pod-web-0', stub });
    const issued = pcr('api-0-def', {
      podName: 'api-0',
      podUID: 'pod-api-0',
      stub,
      status: {
        conditions: [{ type: 'Issued', status: 'True', reason: 'CertdeskIssued', message: 'issued' }],
        certificateChain: leaf.certPem + ca.certPem,
        notBefore: iso(NOW - 86_400_000),
        beginRefreshAt: iso(NOW - 30 * 60_000),
        notAfter: iso(NOW + 86_400_000),
      },
    });
    const pod = (name: string, uid: string, waitingReason?: string) =>
      ({
        metadata: { name, namespace: 'workloads', uid },
        spec: { nodeName: 'node-1', serviceAccountName: 'default', containers: [{ name: 'app' }] },
        status: {
          phase: waitingReason ? 'Pending' : 'Running',
          containerStatuses: [
            {
              name: 'app',
              image: 'x',
              imageID: '',
              ready: !waitingReason,
              restartCount: 0,
              state: waitingReason ? { waiting: { reason: waitingReason } } : { running: {} },
            },
          ],
        },
      }) as V1Pod;
    const bundle: WireCtb = {
      metadata: { name: 'example.com:pod-identity:live' },
      spec: { signerName: SIGNER, trustBundle: ca.certPem },
    };
    const east = {
      ...snapshot('east', []),
      pods: new Map([
        ['workloads/web-0', pod('web-0', 'pod-web-0', 'ContainerCreating')],
        ['workloads/api-0', pod('api-0', 'pod-api-0')],
      ]),
      pcrs: new Map([
        ['workloads/api-0-def', issued],
        ['workloads/web-0-abc', waiting],
      ]),
      trustBundles: new Map([[bundle.metadata!.name!, bundle]]),
      podCertificateApis: { podCertificateRequests: 'v1', clusterTrustBundles: 'v1' },
      podCertificatesListed: true,
    };
    base = run(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east },
    });
  });

  it(':pcr lists Pending first, each with the pod waiting on it', async () => {
    const s = run(base, { type: 'start-command' }, { type: 'text-input', text: 'pcr' }, { type: 'text-submit' });
    assert.equal(s.mode.kind, 'pcrs');
    const rows = lines(await frame(s)).filter((l) => l.includes('workloads/'));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /east .*workloads\/web-0-abc .*pod-identity .*web-0 ← ContainerCreating .*Pending/);
    assert.match(rows[1]!, /east .*workloads\/api-0-def .*api-0 \(Running\) .*Issued/);
  });

  it('inspect shows identity, the key and its proof of possession, annotations escaped, the chain and refresh', async () => {
    let s = run(base, { type: 'open-pcrs' });
    s = key(s, '', { return: true });
    const pending = (await frame(s)).replace(/\s+/g, ' ');
    assert.match(pending, /PCRs › workloads\/web-0-abc · east · Pending · 90s/);
    assert.match(pending, /signer example\.com\/pod-identity/);
    assert.match(pending, /maxExpirationSeconds 86400 \(24h\)/);
    assert.match(pending, /key ECDSA P-256 \(from stubPKCS10Request\)/);
    assert.match(pending, /✓ proof of possession/);
    assert.match(pending, /pod workloads\/web-0 uid pod-web-0/);
    assert.match(pending, /node node-1 uid n-1/);
    assert.match(pending, /the pod is ContainerCreating on node-1 as default/);
    assert.ok(pending.includes('example.com/team=a\\x1b]0;owned\\x07'), 'the annotation escaped');
    assert.ok(!pending.includes('\x1b]0;'));
    s = key(key(s, '', { escape: true }), 'j');
    s = key(s, '', { return: true });
    const issued = (await frame(s)).replace(/\s+/g, ' ');
    assert.match(issued, /Issued=True CertdeskIssued/);
    assert.match(issued, /refresh from .* overdue by 30m/);
    assert.match(
      issued,
      /leaf .*URI spiffe:\/\/cluster\.local\/ns\/workloads\/sa\/default .*issuer CN=pod identity CA/,
    );
    assert.match(issued, /↑ CN=pod identity CA/);
  });

  it('the footer names the PCR keys at 140 and 80 columns; s, x, f dimmed with why when the context may not', async () => {
    const at = async (columns: number, insights: CsrInsights = noInsights, inspect = false) => {
      let s = run({ ...base, columns }, { type: 'open-pcrs' });
      if (inspect) s = key(s, '', { return: true });
      const frame = lines(await frameAt(<MainScreen screen={selectScreen(s, insights, places)} />, columns));
      return { frame, footer: frame.at(-1) ?? '' };
    };
    const wide = await at(140);
    assert.equal(
      wide.footer,
      ' ↑↓ move  ⏎ inspect  s issue  x deny  f fail  E trust bundle  space select  : command  esc back',
    );
    // The signer column holds a whole signer name beside the PCR's name at 140 columns.
    assert.match(wide.frame.join('\n'), /workloads\/web-0-abc +example\.com\/pod-identity +web-0 ← ContainerCreating/);
    const narrow = await at(80);
    assert.equal(narrow.footer, ' ⏎ inspect  s issue  x deny  f fail  E trust bundle  esc back');
    assert.ok(narrow.frame.every((l) => l.length <= 80));
    assert.equal(
      (await at(140, noInsights, true)).footer,
      ' esc back  ↑↓ scroll  s issue  x deny  f fail  E trust bundle',
    );

    const asked: string[] = [];
    const readOnly: CsrInsights = {
      ...noInsights,
      pcrCapability: (context, signer, namespace) => {
        asked.push(`${context} ${signer} ${namespace}`);
        return { allowed: false, missing: ['update on podcertificaterequests/status'] };
      },
    };
    const denied = await at(140, readOnly);
    assert.match(
      denied.footer,
      /s issue \(not allowed: update on podcertificaterequests\/status\) {2}x deny {2}f fail/,
    );
    assert.ok(asked.includes('east example.com/pod-identity workloads'), asked.join(';'));
    const keys = selectScreen(run({ ...base, columns: 140 }, { type: 'open-pcrs' }), readOnly, places).footer.keys;
    assert.deepEqual(
      keys.filter((k) => k.disabled).map((k) => k.key),
      ['s', 'x', 'f'],
    );
  });

  it('Health: waiting per signer, overdue for refresh, and the trust bundle holding the signing CA', async () => {
    const healthOf = (s: TuiState) =>
      selectScreen(s, noInsights, places)
        // A section's wrapped lines joined again (the pane wraps them to its width), sections one per line.
        .health.map((h) => h.lines.map((l) => l.text).join(' '))
        .join('\n');
    const text = healthOf(base);
    assert.match(
      text,
      /pcr example\.com\/pod-identity: 1 PCR waiting \(oldest 90s\), 1 overdue for refresh, trust bundle holds the signing CA/,
    );
    const other = await makeCert({ cn: 'pod identity CA', ...window(NOW, -10, 3650) });
    const east = base.snapshots.east!;
    const replaced = run(base, {
      type: 'snapshots',
      snapshots: {
        east: {
          ...east,
          version: 2,
          trustBundles: new Map([
            ['x', { metadata: { name: 'x' }, spec: { signerName: SIGNER, trustBundle: other.certPem } }],
          ]),
        },
      },
    });
    assert.match(healthOf(replaced), /trust bundle does not hold the CA that signs/);
  });
});

// The Certificates view through the reducer, the selectors and the views (ink-testing-library): soonest expiry
// first with its problems, the filter, inspect with the chain and what to do, jumps to the CSR, the signer and
// the pods, Health's count, and hostile text made terminal-safe.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { certsKey, certsOnScreen } from '../../../src/app/certs.js';
import { csrKey } from '../../../src/app/order.js';
import { noInsights, selectScreen } from '../../../src/app/selectors.js';
import { type Action, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import { bySoonestExpiry, checkRecord, inspectPem, inspectPemDeferred } from '../../../src/services/certs/index.js';
import type { CertRecord } from '../../../src/services/certs/types.js';
import { makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';
import { MainScreen } from '../../../src/views/main-screen.js';
import type { SectionVm } from '../../../src/views/models.js';
import { csr, NOW, snapshot } from '../../unit/app/fixtures.js';
import { frameOf, lines } from './render.js';

const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };

async function records(): Promise<CertRecord[]> {
  const ca = await makeCert({ cn: 'demo CA', ...window(NOW, -10, 3650) });
  const soon = await makeCert({ cn: 'api', hosts: ['api.prod.svc'], issuer: ca, ...window(NOW, -80, 4) });
  const fine = await makeCert({ cn: 'web', issuer: ca, ...window(NOW, -1, 300) });
  const hostile = await makeCert({ cn: 'evil\x1b[31mred', issuer: ca, ...window(NOW, -1, 200) });
  const issued = await makeCert({ cn: 'node-1', issuer: ca, ...window(NOW, -1, 2) });
  const anchors = { pems: [ca.certPem], where: 'ca.crt of Secret prod/api-tls' };
  const secret = (name: string, pem: string) => ({
    context: 'east',
    location: { source: 'secret' as const, kind: 'Secret', namespace: 'prod', name, field: 'tls.crt' },
    content: pem,
    bundle: false,
    anchors,
  });
  return [
    ...inspectPem(secret('api-tls', soon.certPem)),
    ...inspectPem(secret('web-tls', fine.certPem)),
    ...inspectPem(secret('evil-tls', hostile.certPem)),
    ...inspectPem(secret('junk-tls', 'garbage')),
    ...inspectPem({
      context: 'west',
      location: { source: 'csr', kind: 'CertificateSigningRequest', name: 'node-1-csr', field: 'status.certificate' },
      content: issued.certPem,
      bundle: false,
      renewal: { csrName: 'node-1-csr', signerName: 'example.com/calico' },
    }),
  ].sort(bySoonestExpiry);
}

function run(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}

const frame = (state: TuiState) => frameOf(<MainScreen screen={selectScreen(state, noInsights, places)} />);

/** The renewal radar's line of a context's Health section, its wrapped lines joined again (the pane wraps them). */
function certificatesLine(health: readonly SectionVm[], label: string): string | undefined {
  const text = health
    .find((h) => h.label === label)
    ?.lines.map((l) => l.text)
    .join(' ');
  return text?.slice(text.lastIndexOf('certificates:'));
}

describe('views: Certificates', () => {
  let base: TuiState;
  before(async () => {
    const pod = {
      metadata: { name: 'api-5d9', namespace: 'prod' },
      spec: { containers: [], volumes: [{ name: 'tls', secret: { secretName: 'api-tls' } }] },
      status: { phase: 'Running' },
    } as V1Pod;
    const east = snapshot('east', []);
    const west = snapshot('west', [csr('node-1-csr', { state: 'Issued' })]);
    base = run(
      initialState({ contexts: ['east', 'west'], columns: 140, rows: 40, now: NOW }),
      { type: 'snapshots', snapshots: { east: { ...east, pods: new Map([['prod/api-5d9', pod]]) }, west } },
      { type: 'certs-feed', feed: { records: await records(), version: 1, skipped: [] } },
    );
  });

  it(':certs lists every context soonest first, with problems and time left; hostile text is escaped', async () => {
    const s = run(base, { type: 'start-command' }, { type: 'text-input', text: 'certs' }, { type: 'text-submit' });
    assert.equal(s.mode.kind, 'certs');
    const rows = lines(await frame(s)).filter((l) => /Secret|CertificateSigningRequest/.test(l));
    assert.equal(rows.length, 5);
    assert.match(rows[0]!, /east .*Secret prod\/junk-tls .*<unparseable> .*\? unparseable/);
    assert.match(rows[1]!, /west .*node-1-csr .*node-1 .* 2d expiring/);
    assert.match(rows[2]!, /east .*api-tls .*api .* 4d expiring/);
    assert.ok(rows.some((r) => r.includes('evil\\x1b[31mred')));
    assert.ok(!(await frame(s)).includes('\x1b[31m'));
  });

  it('/ filters (the prompt takes text), esc goes back to the main screen', async () => {
    let s = run(base, { type: 'open-certs' });
    for (const input of ['/', 'w', 'e', 'b']) {
      const intent = certsKey((s.mode as Extract<TuiState['mode'], { kind: 'certs' }>).view, input, {});
      assert.equal(intent?.kind, 'action');
      if (intent?.kind === 'action') s = reducer(s, intent.action);
    }
    s = run(s, { type: 'certs', action: { kind: 'submit' } });
    const rows = lines(await frame(s)).filter((l) => l.includes('Secret'));
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /web-tls/);
    assert.equal(run(s, { type: 'certs', action: { kind: 'back' } }).mode.kind, 'list');
  });

  it('inspect: decoded certificate, chain, problems, what renews it and what to do; p names the pod', async () => {
    const s = run(
      base,
      { type: 'open-certs' },
      { type: 'certs', action: { kind: 'move', delta: 2 } },
      {
        type: 'certs',
        action: { kind: 'inspect' },
      },
    );
    const text = await frame(s);
    assert.match(text, /subject CN=api/);
    assert.match(text, /SANs api\.prod\.svc/);
    assert.match(text, /↑ CN=demo CA .*ca\.crt of Secret prod\/api-tls/);
    assert.match(text, /✗ expires .* \(within 30d\)/);
    assert.match(text, /pod prod\/api-5d9 mounts it \(Running\)/);
    assert.match(text, /certdesk export secret api-tls -n prod/);
    const p = run(s, { type: 'certs', action: { kind: 'jump', to: 'pod' } });
    assert.match(p.status?.text ?? '', /Mounted by prod\/api-5d9/);
  });

  it('c opens the CSR that issued it; n shows its signer’s CSRs', () => {
    const s = run(base, { type: 'open-certs' }, { type: 'certs', action: { kind: 'move', delta: 1 } });
    const c = run(s, { type: 'certs', action: { kind: 'jump', to: 'csr' } });
    assert.deepEqual(c.mode, { kind: 'inspect', key: csrKey('west', 'node-1-csr'), offset: 0 });
    const n = run(s, { type: 'certs', action: { kind: 'jump', to: 'signer' } });
    assert.equal(n.mode.kind, 'list');
    assert.equal(n.scope.signer, 'example.com/calico');
  });

  it('while a context is still being read, the list says so above its rows; the last row stays reachable', async () => {
    let s = run(base, { type: 'open-certs' });
    const feed = s.certs!;
    s = run({ ...s, rows: 12 }, { type: 'certs-feed', feed: { ...feed, scanning: ['west\x1b[2J'] } });
    s = run(s, { type: 'certs', action: { kind: 'edge', where: 'last' } });
    let shown = lines(await frame(s));
    assert.ok(
      shown.some((l) => l.includes('reading certificates of west\\x1b[2J…')),
      shown.join('\n'),
    );
    const view = (s.mode as Extract<TuiState['mode'], { kind: 'certs' }>).view;
    // The selected (last) record is among the rows drawn, and the count above names exactly the rows drawn.
    const onScreen = certsOnScreen(s, view);
    assert.equal(onScreen.at(-1), feed.records.at(-1));
    const drawn = shown.filter((l) => /Secret|CertificateSigningRequest/.test(l));
    assert.equal(drawn.length, onScreen.length);
    assert.ok(
      drawn.some((l) => l.includes('▶')),
      shown.join('\n'),
    );
    assert.ok(shown.some((l) => l.includes(`of ${feed.records.length}`) && l.includes(`–${feed.records.length} `)));
    s = run(s, { type: 'certs-feed', feed: { ...feed } });
    shown = lines(await frame(s));
    assert.ok(!shown.some((l) => l.includes('reading certificates')), shown.join('\n'));
  });

  it('a certificate whose chain is not checked yet says so; once checked, what the chain found shows', async () => {
    const ca = await makeCert({ cn: 'lazy CA', ...window(NOW, -10, 3650) });
    const impostor = await makeCert({ cn: 'lazy CA', ...window(NOW, -10, 3650) });
    const leaf = await makeCert({ cn: 'lazy', issuer: impostor, ...window(NOW, -1, 200) });
    const [lazy] = inspectPemDeferred({
      context: 'east',
      location: { source: 'secret', kind: 'Secret', namespace: 'prod', name: 'lazy-tls', field: 'tls.crt' },
      content: leaf.certPem,
      bundle: false,
      anchors: { pems: [ca.certPem], where: 'ca.crt of Secret prod/lazy-tls' },
    });
    assert.ok(lazy?.pending);
    const feed = (version: number) =>
      ({ type: 'certs-feed', feed: { records: [lazy!], version, skipped: [] } }) as const;
    let s = run(base, feed(2), { type: 'open-certs' });
    const row = async () => lines(await frame(s)).find((x) => x.includes('lazy-tls')) ?? '';
    assert.match(await row(), /lazy .*checking…/);
    assert.deepEqual(certsOnScreen(s, (s.mode as Extract<TuiState['mode'], { kind: 'certs' }>).view), [lazy]);
    const broken = () => certificatesLine(selectScreen(s, noInsights, places).health, 'east');
    assert.equal(broken(), 'certificates: none due within 30d');
    s = run(s, { type: 'certs', action: { kind: 'inspect' } });
    assert.match(await frame(s), /Chain +checking…/);
    assert.match(await frame(s), /checking… \(the chain is not verified yet/);

    // The watch checks it in place (the same record, the same array) and feeds a new version.
    assert.ok(checkRecord(lazy!));
    s = run(s, feed(3));
    const text = await frame(s);
    assert.doesNotMatch(text, /checking…/);
    assert.match(text, /✗ the chain does not verify against ca\.crt of Secret prod\/lazy-tls/);
    s = run(s, { type: 'certs', action: { kind: 'back' } });
    assert.match(await row(), /chain-unverified/);
    assert.equal(
      broken(),
      'certificates: none due within 30d, 1 broken (:certs)'.replace(
        'none due within 30d, ',
        '0 expire within 30d or expired, ',
      ),
    );
  });

  it('on screen: the rows the list shows (after scrolling), or the one inspected', async () => {
    let s = run(base, { type: 'open-certs' });
    const view = () => (s.mode as Extract<TuiState['mode'], { kind: 'certs' }>).view;
    const all = s.certs!.records;
    assert.deepEqual(certsOnScreen(s, view()), all);
    s = run({ ...s, rows: 12 }, { type: 'certs', action: { kind: 'edge', where: 'last' } });
    const shown = certsOnScreen(s, view());
    assert.ok(shown.length > 0 && shown.length < all.length, String(shown.length));
    assert.equal(shown.at(-1), all.at(-1));
    s = run(s, { type: 'certs', action: { kind: 'inspect' } });
    assert.deepEqual(certsOnScreen(s, view()), [all.at(-1)]);
  });

  it('from a PodCertificateRequest’s certificate, c opens its PCR and p names its pod', async () => {
    const ca = await makeCert({ cn: 'pod CA', ...window(NOW, -10, 3650) });
    const leaf = await makeCert({ cn: 'web-0', issuer: ca, ...window(NOW, -1, 1) });
    const records = inspectPem({
      context: 'east',
      location: {
        source: 'pcr',
        kind: 'PodCertificateRequest',
        namespace: 'workloads',
        name: 'web-0-abcde',
        field: 'status.certificateChain',
      },
      content: leaf.certPem + ca.certPem,
      bundle: false,
      renewal: {
        signerName: 'example.com/pod-identity',
        pcr: { namespace: 'workloads', name: 'web-0-abcde', podName: 'web-0' },
      },
    });
    const pod = {
      metadata: { name: 'web-0', namespace: 'workloads', uid: 'pod-uid' },
      spec: { containers: [] },
      status: { phase: 'Running' },
    } as V1Pod;
    const pcr = {
      metadata: { name: 'web-0-abcde', namespace: 'workloads', uid: 'pcr-uid' },
      spec: { podName: 'web-0' },
    };
    const east = snapshot('east', []);
    let s = run(
      base,
      { type: 'snapshots', snapshots: { east: { ...east, pods: new Map([['workloads/web-0', pod]]) } } },
      { type: 'certs-feed', feed: { records, version: 5, skipped: [] } },
      { type: 'open-certs' },
      { type: 'certs', action: { kind: 'inspect' } },
    );
    const text = await frame(s);
    assert.match(text, /PodCertificateRequest workloads\/web-0-abcde for pod web-0/);
    assert.match(text, /c PCR/);
    assert.match(
      run(s, { type: 'certs', action: { kind: 'jump', to: 'pod' } }).status?.text ?? '',
      /Issued for pod workloads\/web-0 \(Running\)/,
    );
    // Not followed (yet): said so, the view stays.
    const missing = run(s, { type: 'certs', action: { kind: 'jump', to: 'csr' } });
    assert.equal(missing.mode.kind, 'certs');
    assert.match(missing.status?.text ?? '', /PodCertificateRequest workloads\/web-0-abcde is no longer in east/);
    s = run(s, {
      type: 'snapshots',
      snapshots: {
        east: { ...east, pods: new Map([['workloads/web-0', pod]]), pcrs: new Map([['workloads/web-0-abcde', pcr]]) },
      },
    });
    assert.deepEqual(run(s, { type: 'certs', action: { kind: 'jump', to: 'csr' } }).mode, {
      kind: 'pcrs',
      view: { index: 0, top: 0, inspect: { context: 'east', key: 'workloads/web-0-abcde', uid: 'pcr-uid', offset: 0 } },
    });
  });

  it('Health counts what expires within the window per context', () => {
    const health = selectScreen(base, noInsights, places).health;
    const line = (label: string) => certificatesLine(health, label);
    assert.equal(line('east'), 'certificates: 1 expire within 30d or expired, 1 broken (:certs)');
    assert.equal(line('west'), 'certificates: 1 expire within 30d or expired (:certs)');
  });
});

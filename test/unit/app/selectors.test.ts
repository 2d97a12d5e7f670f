import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CsrInsights, selectHeader, selectInspect, selectScreen, selectYaml } from '../../../src/app/selectors.js';
import { podYaml } from '../../../src/app/pods.js';
import { csrKey, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import { csr, NOW, snapshot } from './fixtures.js';

const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
const insights = { insight: () => undefined, certificate: () => undefined, capability: () => undefined };
const HOSTILE = 'evil\x1b]0;pwned\x07\x1b[2J\u202eAPPROVE ME\u200b';
// Anything that could act on a terminal: C0/C1 controls, bidi overrides, zero-width characters.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

function state(): TuiState {
  const s = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  const hostile = csr(HOSTILE, { user: HOSTILE, signer: `example.com/${HOSTILE}` });
  hostile.spec!.extra = { [HOSTILE]: [HOSTILE] };
  hostile.status!.conditions = [{ type: 'Denied', status: 'True', reason: HOSTILE, message: HOSTILE }];
  return reducer(s, {
    type: 'snapshots',
    snapshots: { east: snapshot('east', [hostile, csr('calm')]) },
    newCsrs: [{ key: csrKey('east', HOSTILE), context: 'east', name: HOSTILE }],
  });
}

/** Every displayed string of a view model (`key` and `selectedKey` are identities for React, never shown). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'key' && k !== 'selectedKey') strings(v, out);
  }
  return out;
}

describe('selectors', () => {
  it('the footer fits its line at every width: all keys where they fit, the main ones where not', () => {
    for (const columns of [80, 99, 100, 110, 120, 140]) {
      const s = { ...state(), columns, rows: 40 };
      const keys = selectScreen(s, insights, places).footer.keys;
      const width = keys.reduce((n, k) => n + [...k.key].length + [...k.label].length + 3, 0);
      assert.ok(width <= columns, `${columns} columns: ${width}`);
      assert.ok(
        keys.some((k) => k.key === 'a'),
        `${columns} columns: approve is always named`,
      );
    }
    const wide = selectScreen({ ...state(), columns: 140, rows: 40 }, insights, places).footer.keys;
    assert.ok(
      wide.some((k) => k.key === 'q'),
      'all keys at 140 columns',
    );
  });

  it("one context's long state never pushes the others off the header line", () => {
    const contexts = ['north', 'north-viewer', 'dead'];
    let s = initialState({ contexts, columns: 140, rows: 40, now: NOW });
    const err = { kind: 'forbidden', message: 'forbidden' } as never;
    const snaps = Object.fromEntries(contexts.map((c) => [c, snapshot(c, [csr(`r-${c}`)])]));
    snaps['north-viewer'] = {
      ...snaps['north-viewer']!,
      errors: { pcrs: err, trustBundles: err, tigeraStatuses: err },
    };
    snaps.dead = { ...snaps.dead!, connection: { phase: 'unreachable', since: NOW } as never, synced: false };
    snaps.hang = {
      ...snaps.hang!,
      connection: { phase: 'retrying', nextAttemptAt: NOW + 9000 } as never,
      synced: false,
    };
    s = reducer(s, { type: 'snapshots', snapshots: snaps });
    for (const columns of [140, 100, 80]) {
      const h = selectHeader({ ...s, columns });
      const used =
        15 + (columns < 100 ? 32 : 48) + h.contexts.reduce((n, c) => n + c.name.length + c.state.length + 4, 0);
      assert.ok(used <= columns, `${columns}: ${JSON.stringify(h.contexts)}`);
      assert.deepEqual(
        h.contexts.map((c) => c.name),
        contexts,
      );
    }
    assert.equal(selectHeader(s).contexts[1]?.state, 'live, 3 kinds failing');
  });

  it('the Health pane footer names what works there, not the CSR verbs', () => {
    const keys = (pane: 'csrs' | 'health') =>
      selectScreen({ ...state(), pane }, insights, places).footer.keys.map((k) => k.key);
    assert.ok(keys('csrs').includes('a'));
    assert.deepEqual(keys('health'), ['↑↓', 'r', ':', 'tab', '?', 'q']);
  });

  it('every string of the frame is terminal-safe, hostile CSR included', () => {
    let s = state();
    const screen = selectScreen(s, insights, places);
    for (const text of strings(screen)) assert.doesNotMatch(text, UNSAFE, JSON.stringify(text));
    assert.ok(strings(screen).some((t) => t.includes('\\x1b]0;pwned')));
    s = reducer(s, { type: 'move-to', where: 'last' });
    s = reducer(s, { type: 'open-inspect' });
    const inspected = selectScreen(s, insights, places);
    assert.equal(inspected.overlay?.kind, 'inspect');
    for (const text of strings(inspected)) assert.doesNotMatch(text, UNSAFE, JSON.stringify(text));
  });

  it('inspect and YAML of the hostile CSR are safe', () => {
    const s = state();
    const key = csrKey('east', HOSTILE);
    for (const text of strings(selectInspect(s, key, insights))) assert.doesNotMatch(text, UNSAFE);
    for (const text of strings(selectYaml(s, key))) assert.doesNotMatch(text, UNSAFE);
  });

  it('YAML views print apiVersion and kind first, as kubectl does, for a listed object that has them last', () => {
    // A list's items come without apiVersion and kind; the store adds them, so they end up after status.
    const { apiVersion: _a, kind: _k, ...rest } = csr('listed');
    const listed = { ...rest, apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest' };
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', [listed]) },
    });
    const csrLines = selectYaml(s, csrKey('east', 'listed')).lines;
    assert.deepEqual(csrLines.slice(0, 2), ['apiVersion: certificates.k8s.io/v1', 'kind: CertificateSigningRequest']);
    assert.ok(
      csrLines.some((l) => /^ {2}creationTimestamp: "?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"?$/.test(l)),
      csrLines.join('\n'),
    );
    const pod = {
      metadata: { name: 'p', namespace: 'ns', creationTimestamp: new Date(NOW) },
      spec: { containers: [] },
      kind: 'Pod',
    };
    assert.deepEqual(podYaml(pod).slice(0, 2), ['apiVersion: v1', 'kind: Pod']);
  });

  it('shows the connection state of each context in words', () => {
    const s = state();
    const snap = snapshot('east', []);
    const retrying = reducer(s, {
      type: 'snapshots',
      snapshots: {
        east: {
          ...snap,
          connection: { phase: 'retrying', lastError: 'connection refused', nextAttemptAt: NOW + 3000, attempt: 2 },
          // From before the reconnect: not said while the connection itself fails.
          errors: { tigeraStatuses: { kind: 'unreachable', message: 'an older error (ECONNREFUSED)' } },
        },
      },
    });
    // The header has a few words per context, so one context's error never pushes the others off; the reason is
    // in full in the Health pane.
    assert.deepEqual(selectHeader(retrying).contexts[0], { name: 'east', state: 'retrying 3s', tone: 'warn' });
    assert.match(JSON.stringify(selectScreen(retrying, insights, places).health), /retrying: connection refused/);
    assert.doesNotMatch(JSON.stringify(selectScreen(retrying, insights, places).health), /an older error/);
    const forbidden = reducer(s, {
      type: 'snapshots',
      snapshots: { east: { ...snap, connection: { phase: 'forbidden', message: 'list csrs is forbidden' } } },
    });
    assert.equal(selectHeader(forbidden).contexts[0]?.tone, 'bad');
    assert.equal(selectHeader(forbidden).contexts[0]?.state, 'forbidden');
    assert.match(JSON.stringify(selectScreen(forbidden, insights, places).health), /forbidden: list csrs is forbidden/);
  });

  it('renders only the visible window of a long list', () => {
    const many = Array.from({ length: 5000 }, (_, i) => csr(`csr-${i}`, { ageSeconds: i }));
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', many) },
    });
    const screen = selectScreen(s, insights, places);
    assert.equal(screen.csrs.total, 5000);
    assert.ok(screen.csrs.rows.length < 40);
    const end = selectScreen(reducer(s, { type: 'move-to', where: 'last' }), insights, places);
    assert.equal(end.csrs.rows.at(-1)?.name, 'csr-0');
    assert.equal(end.csrs.offset + end.csrs.rows.length, 5000);
  });

  it('shows verbs the user may not use as disabled, with the missing permission', () => {
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', [csr('calm')]) },
    });
    const denied = {
      ...insights,
      capability: () => ({
        approve: { allowed: false, missing: ['approve on signers "example.com/calico"'] },
        sign: { allowed: true, missing: [] },
      }),
    };
    const keys = selectScreen(s, denied, places).footer.keys;
    const approve = keys.find((k) => k.key === 'a');
    assert.equal(approve?.disabled, true);
    assert.match(approve?.label ?? '', /not allowed: approve on signers "example\.com\/calico"/);
    assert.equal(keys.find((k) => k.key === 's')?.disabled, undefined);
  });

  it('on a cluster reached by several contexts, dims a verb only when none of them may use it', () => {
    const options = {
      // The row is listed under the first context (the viewer), which may not act; east may.
      contexts: ['east-viewer', 'east'],
      clusters: { east: 'https://east\nCA', 'east-viewer': 'https://east\nCA' },
      columns: 140,
      rows: 40,
      now: NOW,
    };
    const s = reducer(initialState(options), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', [csr('calm')]), 'east-viewer': snapshot('east-viewer', [csr('calm')]) },
    });
    const refused = { allowed: false, missing: ['approve on signers "example.com/calico"'] };
    const allowed = { allowed: true, missing: [] };
    const viewerOnlyRefused = {
      ...insights,
      capability: (c: string) =>
        c === 'east-viewer' ? { approve: refused, sign: refused } : { approve: allowed, sign: allowed },
    };
    const bothRefused = { ...insights, capability: () => ({ approve: refused, sign: refused }) };
    const key = (i: CsrInsights, k: string) => selectScreen(s, i, places).footer.keys.find((x) => x.key === k);
    assert.equal(key(viewerOnlyRefused, 'a')?.disabled, undefined);
    assert.equal(key(viewerOnlyRefused, 's')?.disabled, undefined);
    assert.equal(key(bothRefused, 'a')?.disabled, true);
    assert.match(key(bothRefused, 'a')?.label ?? '', /not allowed: approve on signers/);
  });

  it('says when a kind is failing in a live context', () => {
    const snap = snapshot('east', []);
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: { ...snap, errors: { pods: { kind: 'forbidden', message: 'pods is forbidden' } } } },
    });
    assert.equal(selectHeader(s).contexts[0]?.state, 'live, pods failing');
    assert.match(JSON.stringify(selectScreen(s, insights, places).health), /pods not followed: pods is forbidden/);
  });
});

describe('health pane', () => {
  it('says in full why a context is not live', async () => {
    const { healthSections } = await import('../../../src/app/order.js');
    const snap = snapshot('east', []);
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: {
        east: {
          ...snap,
          connection: {
            phase: 'unreachable',
            message: 'The API server in context east is unreachable (connection refused).',
            nextAttemptAt: NOW + 5000,
          },
        },
      },
    });
    const [section] = healthSections(s);
    assert.equal(section?.lines[0]?.tone, 'bad');
    assert.match(section?.lines[0]?.text ?? '', /unreachable: The API server .* \(r reconnects now\)/);
  });

  it('ages go on with the clock between health passes', async () => {
    const { healthSections } = await import('../../../src/app/order.js');
    const { computeHealth, humanDuration } = await import('../../../src/services/health/index.js');
    const snap = snapshot('east', [
      csr('waiting', { ageSeconds: 60 }),
      csr('approved', { ageSeconds: 200, state: 'Approved', signer: 'example.com/slow' }),
    ]);
    // The pass ran at NOW; the screen is drawn 30 s later (passes run every few seconds, the clock every second).
    const health = computeHealth(snap, NOW);
    const base = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
    const s = { ...reducer(base, { type: 'snapshots', snapshots: { east: snap } }), health: { east: health } };
    const text = (now: number) => healthSections({ ...s, now })[0]?.lines.map((l) => l.text) ?? [];
    assert.ok(text(NOW).includes(`1 pending, oldest ${humanDuration(60_000)}`), text(NOW).join('\n'));
    const later = text(NOW + 30_000);
    assert.ok(later.includes(`1 pending, oldest ${humanDuration(90_000)}`), later.join('\n'));
    assert.ok(
      later.some((l) => l.startsWith('signer example.com/slow: 1 approved, unissued ' + humanDuration(230_000))),
      later.join('\n'),
    );
  });
});

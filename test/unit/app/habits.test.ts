// Issue 24 (the screen; keys a k9s user expects) and issue 18.9 (modifiers never act), at the store's layer:
// grouping of contexts that reach one cluster, counts, commands, sorting, dialogs that survive a failure, inspect
// pinned to the UID it opened, and keys with Ctrl or Alt held.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { certsKey } from '../../../src/app/certs.js';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { keyIntent, listKey } from '../../../src/app/keymap.js';
import { csrOrder } from '../../../src/app/order.js';
import { selectHeader, selectInspect, selectScreen } from '../../../src/app/selectors.js';
import {
  type Action,
  clusterAliases,
  csrKey,
  type DialogState,
  focusedPodKey,
  initialState,
  inspectReplaced,
  reducer,
  type TuiState,
} from '../../../src/app/store.js';
import type { ContextHealth } from '../../../src/services/health/index.js';
import type { ContextSnapshot } from '../../../src/services/kube/index.js';
import { csr, NOW, snapshot } from './fixtures.js';

const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
const noInsights = { insight: () => undefined, certificate: () => undefined, capability: () => undefined };
const run = (s: TuiState, ...actions: Action[]) => actions.reduce(reducer, s);

function loaded(contexts = ['east', 'west'], clusters: Record<string, string> = {}): TuiState {
  const s = initialState({ contexts, columns: 140, rows: 45, now: NOW, clusters });
  const snapshots = Object.fromEntries(
    contexts.map((c) => [
      c,
      snapshot(c, [
        csr('zeta', { ageSeconds: 30 }),
        csr('alpha', { ageSeconds: 20, signer: 'kubernetes.io/kube-apiserver-client', user: 'jane' }),
        csr(`only-${c.split('-')[0]}`, { ageSeconds: 10, state: 'Issued' }),
      ]),
    ]),
  );
  return reducer(s, { type: 'snapshots', snapshots });
}

function health(pending: number): ContextHealth {
  return {
    pendingCount: pending,
    podsInInit: [],
    signerBacklog: [],
    tigera: 'not-installed',
  } as unknown as ContextHealth;
}

/** Findings all ok; can-i answered by `may(context, verb)`. */
function insights(may: (context: string, verb: string) => boolean = () => true): InsightCache {
  return {
    ...noInsights,
    insightNow: async () => ({ findings: [{ level: 'ok', code: 'x', message: 'fine' }], worst: 'ok' }),
    capability: (context: string) => ({
      approve: { allowed: may(context, 'approve'), missing: may(context, 'approve') ? [] : ['approve'] },
      sign: { allowed: may(context, 'sign'), missing: may(context, 'sign') ? [] : ['sign'] },
    }),
  } as unknown as InsightCache;
}

describe('keys with a modifier never act (issue 18.9)', () => {
  it('Ctrl-A is not a, Ctrl-X not x, Alt-s not s; Ctrl-B/F still page and Ctrl-U clears a field', () => {
    for (const [input, key] of [
      ['a', { ctrl: true }],
      ['x', { ctrl: true }],
      ['s', { meta: true }],
      ['e', { ctrl: true }],
      ['q', { ctrl: true }],
      ['y', { ctrl: true }],
      [' ', { ctrl: true }],
    ] as const) {
      assert.equal(keyIntent('list', input, key), undefined, `list ${JSON.stringify([input, key])}`);
      assert.equal(keyIntent('inspect', input, key), undefined, `inspect ${JSON.stringify([input, key])}`);
    }
    assert.equal(keyIntent('quit-confirm', 'y', { ctrl: true }), undefined);
    const certs = { filter: { text: '', invert: false }, cursor: 0, top: 0 } as unknown as Parameters<
      typeof certsKey
    >[0];
    for (const letter of ['c', 'n', 'p', 'q', 'j']) assert.equal(certsKey(certs, letter, { ctrl: true }), undefined);
    assert.ok(certsKey(certs, 'c', {}));
    assert.deepEqual(listKey('a', {}), { kind: 'verb', verb: 'approve' });
    assert.deepEqual(listKey('f', { ctrl: true }), { kind: 'action', action: { type: 'page', direction: 1 } });
    assert.deepEqual(keyIntent('filter', 'u', { ctrl: true }), { kind: 'action', action: { type: 'text-clear' } });
    assert.deepEqual(keyIntent('dialog', 'u', { ctrl: true }), { kind: 'action', action: { type: 'text-clear' } });
  });

  it('Shift plus a letter sorts; the same letter again reverses', () => {
    let s = loaded(['east']);
    const names = () => csrOrder(s).entries.map((e) => e.name);
    assert.deepEqual(names(), ['zeta', 'alpha', 'only-east']);
    const sort = listKey('N', { shift: true });
    assert.ok(sort?.kind === 'action');
    s = run(s, sort.action);
    assert.deepEqual(names(), ['alpha', 'only-east', 'zeta']);
    s = run(s, sort.action);
    assert.deepEqual(names(), ['zeta', 'only-east', 'alpha']);
    assert.match(selectScreen(s, noInsights, places).csrScope, /by name \(reversed\)/);
    s = run(s, { type: 'sort', column: 'age' });
    assert.deepEqual(names(), ['only-east', 'alpha', 'zeta']);
  });

  it('X sorts by context (the CTX column; C opens Certificates); X again reverses; ? lists it', () => {
    let s = loaded(['east', 'west']);
    const contexts = () => csrOrder(s).entries.map((e) => e.context);
    assert.deepEqual(listKey('C', { shift: true }), { kind: 'action', action: { type: 'open-certs' } });
    const sort = listKey('X', { shift: true });
    assert.deepEqual(sort, { kind: 'action', action: { type: 'sort', column: 'context' } });
    assert.ok(sort?.kind === 'action');
    assert.notDeepEqual(contexts(), [...contexts()].sort(), 'pending first mixes the contexts');
    s = run(s, sort.action);
    assert.deepEqual(contexts(), ['east', 'east', 'east', 'west', 'west', 'west']);
    assert.match(selectScreen(s, noInsights, places).csrScope, /by context/);
    s = run(s, sort.action);
    assert.deepEqual(contexts(), ['west', 'west', 'west', 'east', 'east', 'east']);
    assert.equal(listKey('X', { ctrl: true }), undefined, 'a modifier never sorts');
    assert.deepEqual(listKey('x', {}), { kind: 'verb', verb: 'deny' }, 'x still denies');
    const help = selectScreen(run(s, { type: 'open-help' }), noInsights, places);
    assert.match(JSON.stringify(help), /P N T S R X/);
  });
});

describe('contexts that reach the same cluster (issue 24)', () => {
  const clusters = { east: 'https://e\nCA-E', 'east-viewer': 'https://e\nCA-E', west: 'https://w\nCA-W' };

  it("the Health pane says the grouped contexts' own trouble under their cluster", () => {
    const s0 = loaded(['east', 'east-viewer', 'west'], clusters);
    const viewer = s0.snapshots['east-viewer']!;
    const forbidden = { kind: 'forbidden', message: 'User "viewer" cannot list resource "podcertificaterequests"' };
    const s = reducer(s0, {
      type: 'snapshots',
      snapshots: { 'east-viewer': { ...viewer, version: 2, errors: { pcrs: forbidden } } as ContextSnapshot },
    });
    const east = selectScreen(s, noInsights, places).health.find((x) => x.label === 'east');
    assert.match(JSON.stringify(east?.lines), /east-viewer: pcrs not followed: User \\"viewer\\"/);
  });

  it('are grouped: each request once, the header says which contexts are one cluster', () => {
    assert.deepEqual(clusterAliases(['east', 'east-viewer', 'west'], clusters), { 'east-viewer': 'east' });
    // Same server, another CA: another cluster.
    assert.deepEqual(clusterAliases(['a', 'b'], { a: 'https://x\n1', b: 'https://x\n2' }), {});
    const s = loaded(['east', 'east-viewer', 'west'], clusters);
    const rows = csrOrder(s).entries.map((e) => `${e.context}/${e.name}`);
    assert.deepEqual(rows.sort(), [
      'east/alpha',
      'east/only-east',
      'east/zeta',
      'west/alpha',
      'west/only-west',
      'west/zeta',
    ]);
    assert.deepEqual(
      selectHeader(s).contexts.map((c) => c.name),
      ['east', 'east-viewer=east', 'west'],
    );
    // :ctx east-viewer still shows that context alone.
    const only = run(
      s,
      { type: 'start-command' },
      { type: 'text-input', text: 'ctx east-viewer' },
      { type: 'text-submit' },
    );
    assert.deepEqual(
      csrOrder(only).entries.map((e) => e.context),
      ['east-viewer', 'east-viewer', 'east-viewer'],
    );
  });

  it('a dialog without fields lists no field keys in the footer; one with fields does', async () => {
    const s = loaded();
    const keys = (d: DialogState) =>
      selectScreen(run(s, { type: 'open-dialog', dialog: d }), noInsights, places).footer.keys.map((k) => k.key);
    const approve = (await openVerb('approve', s, { insights: insights(), now: () => new Date(NOW) })) as DialogState;
    assert.equal(approve.fields.length, 0);
    assert.deepEqual(keys(approve), ['⏎', 'esc']);
    const deny = (await openVerb('deny', s, { insights: insights(), now: () => new Date(NOW) })) as DialogState;
    assert.ok(deny.fields.length > 0);
    assert.deepEqual(keys(deny), ['⏎', 'tab', '^U', 'esc']);
  });

  it('a bulk dialog says once per cluster which context acts, not once per request', async () => {
    const s0 = loaded(['east-viewer', 'east'], clusters);
    const s = { ...s0, marked: new Set([csrKey('east-viewer', 'zeta'), csrKey('east-viewer', 'alpha')]) };
    const may = (context: string) => context === 'east';
    const d = (await openVerb('approve', s, { insights: insights(may), now: () => new Date(NOW) })) as DialogState;
    const acts = d.details.find((x) => x.label === 'Acts')?.lines.map((l) => l.text) ?? [];
    assert.deepEqual(acts, ['through context east (same cluster as east-viewer may not approve)']);
  });

  it('act through the context that may act, and say which', async () => {
    // The read-only user comes first in the kubeconfig: its context is the one the row is listed under.
    const s = loaded(['east-viewer', 'east'], clusters);
    const may = (context: string) => context === 'east';
    const d = (await openVerb('approve', s, { insights: insights(may), now: () => new Date(NOW) })) as DialogState;
    assert.equal(d.blocked, undefined);
    assert.deepEqual(d.via, { [csrKey('east-viewer', 'zeta')]: 'east' });
    assert.match(JSON.stringify(d.details), /through context east \(same cluster as east-viewer may not approve\)/);
    const done = run(s, { type: 'open-dialog', dialog: d }, { type: 'dialog-submit' });
    const effect = done.outbox[0];
    assert.ok(effect?.kind === 'approve');
    assert.deepEqual(
      effect.targets.map((t) => [t.key, t.context, t.name]),
      [[csrKey('east-viewer', 'zeta'), 'east', 'zeta']],
    );
    // Nobody may: the dialog says so, naming the context it would have used.
    const none = (await openVerb('approve', s, {
      insights: insights(() => false),
      now: () => new Date(NOW),
    })) as DialogState;
    assert.match(none.blocked ?? '', /You may not approve .* in east-viewer/);
  });
});

describe('counts agree with what is shown (issue 24)', () => {
  it('the header shows … until every context is counted, never 0 beside rows', () => {
    let s = loaded();
    assert.equal(selectHeader(s).pending, undefined);
    assert.equal(selectScreen(s, noInsights, places).csrs.total, 6);
    s = run(s, { type: 'health', health: { east: health(2) } });
    assert.equal(selectHeader(s).pending, undefined);
    s = run(s, { type: 'health', health: { west: health(2) } });
    assert.equal(selectHeader(s).pending, 4);
  });

  it("contexts that never answered count nothing: `…` when none did, the others' counts when some did", () => {
    const never = (c: string, connection: ContextSnapshot['connection']): ContextSnapshot => ({
      ...snapshot(c, []),
      connection,
      synced: false,
    });
    let s = reducer(initialState({ contexts: ['east', 'west'], columns: 140, rows: 45, now: NOW, clusters: {} }), {
      type: 'snapshots',
      snapshots: {
        east: never('east', { phase: 'unreachable', message: 'unreachable', nextAttemptAt: NOW + 5000 }),
        west: never('west', { phase: 'forbidden', message: 'forbidden' }),
      },
    } as Action);
    s = run(s, { type: 'health', health: { east: health(0), west: health(0) } });
    assert.equal(selectHeader(s).pending, undefined, 'pending 0 for contexts that never answered');
    assert.equal(selectHeader(s).init, undefined);
    s = reducer(s, {
      type: 'snapshots',
      snapshots: { west: snapshot('west', [csr('w', { ageSeconds: 5 })]) },
    } as Action);
    s = run(s, { type: 'health', health: { west: health(1) } });
    assert.equal(selectHeader(s).pending, 1);
  });

  it('counted once the CSRs are in but not the pods: pending and stalled show, pods in Init say they are listing', () => {
    const early = (pending: number): ContextHealth => ({ ...health(pending), podsListed: false });
    let s = run(loaded(), { type: 'health', health: { east: early(2), west: early(1) } });
    let screen = selectScreen(s, noInsights, places);
    assert.equal(screen.header.pending, 3);
    assert.equal(screen.header.stalled, 0);
    assert.equal(screen.header.init, undefined, 'init counted before the pods were listed');
    assert.equal(screen.tabLabels.init, 'Init …');
    assert.equal(screen.initPods.listing, true);
    // One context's pods are in: still not every context's.
    s = run(s, { type: 'health', health: { east: health(2) } });
    assert.equal(selectHeader(s).init, undefined);
    s = run(s, { type: 'health', health: { west: health(1) } });
    screen = selectScreen(s, noInsights, places);
    assert.equal(screen.header.init, 0);
    assert.equal(screen.tabLabels.init, 'Init 0');
    assert.equal(screen.initPods.listing, undefined);
  });

  it('the Health pane says certificates are being scanned rather than "none due" before they are', () => {
    const feed = { records: [], version: 1, skipped: [] };
    const lines = (s: TuiState) =>
      selectScreen(s, noInsights, places).health.flatMap((section) => section.lines.map((l) => l.text));
    let s = run(loaded(), { type: 'health', health: { east: health(0), west: health(0) } });
    s = run(s, { type: 'certs-feed', feed: { ...feed, scanning: ['west'] } });
    assert.deepEqual(
      lines(s).filter((t) => t.startsWith('certificates')),
      ['certificates: none due within 30d', 'certificates: scanning…'],
    );
    s = run(s, { type: 'certs-feed', feed: { ...feed, version: 2 } });
    assert.ok(!lines(s).includes('certificates: scanning…'));
  });

  it('the CSRs tab counts the list as filtered', () => {
    const s = run(
      { ...loaded(), columns: 80, rows: 24 },
      { type: 'start-filter' },
      { type: 'text-input', text: 'zeta' },
      { type: 'text-submit' },
    );
    const screen = selectScreen(s, noInsights, places);
    assert.equal(screen.csrs.total, 2);
    assert.equal(screen.tabLabels.csrs, 'CSRs 2');
  });

  it('rows of a context that lost its connection say since when', () => {
    let s = loaded();
    s = run(s, { type: 'tick', now: NOW + 5000 });
    const snap = s.snapshots.west!;
    s = run(s, {
      type: 'snapshots',
      snapshots: {
        west: {
          ...snap,
          connection: { phase: 'retrying', lastError: 'refused', nextAttemptAt: NOW + 9000, attempt: 1 },
        },
      },
    });
    s = run(s, { type: 'tick', now: NOW + 65_000 });
    const screen = selectScreen(s, noInsights, places);
    assert.match(screen.csrScope, /west stale since 15:00:05 UTC \(60s\)/);
    assert.ok(screen.csrs.rows.filter((r) => r.context === 'west').every((r) => r.stale));
    assert.ok(screen.csrs.rows.filter((r) => r.context === 'east').every((r) => !r.stale));
    // A retry connecting again is not back yet: still stale, since the first loss (it flickered and reset "since").
    s = run(s, { type: 'snapshots', snapshots: { west: { ...snap, connection: { phase: 'connecting' } } } });
    s = run(s, { type: 'tick', now: NOW + 70_000 });
    assert.match(selectScreen(s, noInsights, places).csrScope, /west stale since 15:00:05 UTC \(65s\)/);
    s = run(s, { type: 'snapshots', snapshots: { west: { ...snap, connection: { phase: 'live', since: NOW } } } });
    assert.deepEqual(s.lostAt, {});
  });
});

describe('commands and panes (issue 24)', () => {
  it(':pods and :csr switch panes; :ctx with no name opens a picker', () => {
    const cmd = (s: TuiState, text: string) =>
      run(s, { type: 'start-command' }, { type: 'text-input', text }, { type: 'text-submit' });
    let s = cmd(loaded(), 'pods');
    assert.equal(s.pane, 'init');
    s = cmd(s, 'csr');
    assert.equal(s.pane, 'csrs');
    s = cmd(s, 'health');
    assert.equal(s.pane, 'health');
    s = cmd(s, 'ctx');
    assert.deepEqual(s.mode, { kind: 'picker', items: ['all', 'east', 'west'], index: 0 });
    assert.equal(selectScreen(s, noInsights, places).overlay?.kind, 'picker');
    s = run(s, { type: 'move', delta: 2 }, { type: 'picker-choose' });
    assert.equal(s.scope.context, 'west');
    assert.equal(s.mode.kind, 'list');
    s = cmd(s, 'nope');
    assert.match(s.status?.text ?? '', /Unknown command ":nope"; try :ctx NAME .*:pods/);
  });

  it('y, d and l on a pod of the Pods in Init pane: its YAML, describe, logs', () => {
    const pod: V1Pod = {
      metadata: { name: 'calico-node-1', namespace: 'calico-system', uid: 'u1' },
      spec: {
        containers: [{ name: 'calico-node', image: 'calico/node' }],
        initContainers: [{ name: 'node-certs-key-cert-provisioner', image: 'tigera/key-cert-provisioner' }],
      },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'node-certs-key-cert-provisioner',
            ready: false,
            restartCount: 0,
            image: '',
            imageID: '',
            state: { running: {} },
          },
        ],
      },
    };
    let s = loaded(['east']);
    const snap = s.snapshots.east!;
    const pods = new Map([['calico-system/calico-node-1', pod]]);
    s = run(
      s,
      { type: 'snapshots', snapshots: { east: { ...snap, pods } } },
      {
        type: 'health',
        health: {
          east: {
            ...health(0),
            podsInInit: [{ namespace: 'calico-system', name: 'calico-node-1', status: 'Init:0/1', csrName: 'zeta' }],
          } as unknown as ContextHealth,
        },
      },
      { type: 'next-pane', direction: 1 },
    );
    const key = focusedPodKey(s)!;
    assert.equal(key, 'east\u0000calico-system/calico-node-1');
    const yaml = run(s, { type: 'open-yaml' });
    assert.deepEqual(yaml.mode, { kind: 'pod', view: 'yaml', key, offset: 0 });
    const overlay = (t: TuiState) => selectScreen(t, noInsights, places).overlay;
    assert.match(JSON.stringify(overlay(yaml)), /Pods in Init › calico-system\/calico-node-1 · east › yaml/);
    assert.match(JSON.stringify(overlay(yaml)), /key-cert-provisioner/);
    const described = run(s, { type: 'open-describe' });
    assert.match(
      JSON.stringify(overlay(described)),
      /Init Containers:.*node-certs-key-cert-provisioner.*State: {4}Running/,
    );
    let logs = run(s, { type: 'open-logs', key, container: 'node-certs-key-cert-provisioner' });
    assert.match(JSON.stringify(overlay(logs)), /reading the logs…/);
    logs = run(logs, { type: 'logs-loaded', key, lines: ['line 1', 'waiting \u001b[2Jfor the CSR'] });
    const shown = JSON.stringify(overlay(logs));
    assert.match(shown, /logs node-certs-key-cert-provisioner/);
    assert.match(shown, /waiting \\\\x1b\[2Jfor the CSR/);
    // From the CSR the pod waits on, l finds the pod too.
    assert.equal(focusedPodKey(run(s, { type: 'next-pane', direction: -1 })), key);
  });
});

describe('dialogs and inspect (issue 24)', () => {
  it('a failed action gives its dialog back with what was typed and the error', () => {
    const d: DialogState = {
      action: 'export-secret',
      targets: [csrKey('east', 'only-east')],
      skipped: [],
      guard: 'ok',
      typed: '',
      field: 2,
      title: 'Export',
      details: [],
      fields: [
        { id: 'namespace', label: 'namespace', value: 'web' },
        { id: 'name', label: 'name', value: 'web-tls' },
        { id: 'keyFile', label: 'key', value: '/tmp/wrong.key' },
        { id: 'outFile', label: 'out', value: '' },
      ],
    };
    let s = run(loaded(), { type: 'open-dialog', dialog: d }, { type: 'dialog-submit' });
    assert.equal(s.mode.kind, 'list');
    const id = s.outbox[0]!.id;
    s = run(s, { type: 'effect-done', id, status: { text: 'The key does not match the certificate.', tone: 'bad' } });
    assert.equal(s.mode.kind, 'dialog');
    assert.ok(s.mode.kind === 'dialog');
    assert.equal(s.mode.dialog.fields[2]?.value, '/tmp/wrong.key');
    assert.equal(s.mode.dialog.error, 'The key does not match the certificate.');
    // Ctrl-U clears the field in focus.
    s = run(s, { type: 'text-clear' });
    assert.ok(s.mode.kind === 'dialog');
    assert.equal(s.mode.dialog.fields[2]?.value, '');
    // Success closes it for good.
    s = run(s, { type: 'text-input', text: '/tmp/right.key' }, { type: 'dialog-submit' });
    s = run(s, { type: 'effect-done', id: s.outbox.at(-1)!.id, status: { text: 'Secret created.', tone: 'ok' } });
    assert.equal(s.mode.kind, 'list');
    assert.equal(s.reopen, undefined);
  });

  it('the deny reason follows one stated rule', () => {
    const d: DialogState = {
      action: 'deny',
      targets: [csrKey('east', 'zeta')],
      skipped: [],
      guard: 'ok',
      typed: '',
      field: 0,
      title: 'Deny',
      details: [],
      fields: [
        { id: 'reason', label: 'reason', value: 'not ours' },
        { id: 'message', label: 'message', value: '' },
      ],
    };
    const s = run(loaded(), { type: 'open-dialog', dialog: d }, { type: 'dialog-submit' });
    assert.ok(s.mode.kind === 'dialog');
    assert.match(
      s.mode.dialog.error ?? '',
      /one CamelCase word: a capital letter, then letters and digits, at most 64/,
    );
  });

  it('inspect stays on the UID it opened and says the request was replaced', async () => {
    let s = run(loaded(['east']), { type: 'open-inspect' });
    assert.ok(s.mode.kind === 'inspect');
    assert.equal(s.mode.uid, 'uid-zeta');
    assert.equal(inspectReplaced(s), false);
    const again = csr('zeta', { ageSeconds: 1 });
    again.metadata!.uid = 'uid-zeta-2';
    const snap = s.snapshots.east!;
    s = run(s, {
      type: 'snapshots',
      snapshots: { east: { ...snap, csrs: new Map([...snap.csrs, ['zeta', again]]) } },
    });
    assert.equal(inspectReplaced(s), true);
    const vm = selectInspect(s, csrKey('east', 'zeta'), noInsights);
    assert.equal(vm.facts, '· east · replaced');
    assert.match(
      JSON.stringify(vm.sections),
      /deleted and a new one was created under the same name \(UID uid-zeta-2\)/,
    );
    const verb = await openVerb('approve', s, { insights: insights(), now: () => new Date(NOW) });
    assert.match((verb as { status: string }).status, /deleted and re-created under its name/);
  });

  it('kubernetes.io signers: the cluster signs once approved; a client request offers the kubeconfig', async () => {
    const s = run(loaded(['east']), { type: 'move', delta: 1 });
    const deps = { insights: insights(), now: () => new Date(NOW) };
    const sign = (await openVerb('approve-sign', s, deps)) as DialogState;
    assert.match(
      sign.blocked ?? '',
      /The cluster signs kubernetes.io\/kube-apiserver-client requests itself once they are approved: press a to approve/,
    );
    assert.deepEqual(sign.switchKeys, { a: 'approve' });
    const actions = selectInspect(s, csrKey('east', 'alpha'), noInsights).actions.map((a) => a.text);
    assert.deepEqual(actions, ['a approve (the cluster signs)', 'x deny', "e write the user's kubeconfig", 'y yaml']);
    const issued = run(loaded(['east']), { type: 'move', delta: 2 });
    const signed = csr('alpha', { state: 'Issued', signer: 'kubernetes.io/kube-apiserver-client', user: 'jane' });
    const snap = issued.snapshots.east!;
    const withCert = run(issued, {
      type: 'snapshots',
      snapshots: { east: { ...snap, csrs: new Map([...snap.csrs, ['alpha', signed]]) } },
    });
    const target = run(withCert, { type: 'select-key', pane: 'csrs', key: csrKey('east', 'alpha') });
    const kc = (await openVerb('export-secret', target, {
      ...deps,
      keyFileFor: (n) => (n === 'alpha' ? '/demo/jane.key' : undefined),
    })) as DialogState;
    assert.equal(kc.action, 'kubeconfig');
    assert.deepEqual(
      kc.fields.map((f) => [f.id, f.value]),
      [
        ['keyFile', '/demo/jane.key'],
        ['outFile', 'alpha.kubeconfig'],
        ['user', ''],
      ],
    );
  });
});

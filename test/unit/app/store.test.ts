import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csrOrder } from '../../../src/app/order.js';
import {
  type Action,
  actionTargets,
  csrKey,
  type DialogState,
  initialState,
  reducer,
  type TuiState,
} from '../../../src/app/store.js';
import { selectDialog } from '../../../src/app/selectors.js';
import { csr, NOW, snapshot } from './fixtures.js';

function run(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}

function loaded(): TuiState {
  const s = initialState({ contexts: ['east', 'west'], columns: 140, rows: 40, now: NOW });
  return reducer(s, {
    type: 'snapshots',
    snapshots: {
      east: snapshot('east', [
        csr('old-issued', { ageSeconds: 900, state: 'Issued' }),
        csr('pending-young', { ageSeconds: 5 }),
        csr('pending-old', { ageSeconds: 300 }),
      ]),
      west: snapshot('west', [csr('west-pending', { ageSeconds: 60 }), csr('west-denied', { state: 'Denied' })]),
    },
  });
}

function dialog(overrides: Partial<DialogState>): DialogState {
  return {
    action: 'approve',
    targets: [csrKey('east', 'pending-old')],
    skipped: [],
    guard: 'ok',
    typed: '',
    fields: [],
    field: 0,
    title: 'Approve?',
    details: [],
    ...overrides,
  };
}

describe('store: order and cursor', () => {
  it('acting on the top row before the cursor ever moved: the selection follows that CSR when it moves', () => {
    // pending-old is the top row. Approve it (the dialog is opened and submitted), then it stops being pending and
    // moves below the pending CSRs: the next verb (s) must still act on it, not on west-pending, now on top.
    let s = run(loaded(), { type: 'open-dialog', dialog: dialog({}) }, { type: 'dialog-submit' });
    s = reducer(s, {
      type: 'snapshots',
      snapshots: {
        east: snapshot(
          'east',
          [
            csr('old-issued', { ageSeconds: 900, state: 'Issued' }),
            csr('pending-young', { ageSeconds: 5 }),
            csr('pending-old', { ageSeconds: 300, state: 'Approved' }),
          ],
          2,
        ),
      },
    });
    assert.equal(csrOrder(s).keys.at(0), csrKey('west', 'west-pending'));
    assert.deepEqual(actionTargets(s), [csrKey('east', 'pending-old')]);
  });

  it('in the Pods in Init pane, the highlighted row acts before the cursor ever moved', () => {
    const base = loaded();
    const pod = (name: string, csrName: string) => ({ namespace: 'calico-system', name, status: 'Init:0/1', csrName });
    const health = {
      context: 'east',
      tigera: 'not-installed' as const,
      podsInInit: [pod('calico-node-a', 'pending-old'), pod('calico-node-b', 'pending-young')],
      signerBacklog: [],
      pendingCount: 2,
      at: NOW,
    };
    const s = { ...base, pane: 'init' as const, health: { east: health } };
    assert.deepEqual(actionTargets(s), [csrKey('east', 'pending-old')]);
    assert.deepEqual(actionTargets(run(s, { type: 'move', delta: 1 })), [csrKey('east', 'pending-young')]);
  });

  it('orders pending first, then oldest, across contexts', () => {
    const names = csrOrder(loaded()).entries.map((e) => `${e.context}/${e.name}`);
    assert.deepEqual(names, [
      'east/pending-old',
      'west/west-pending',
      'east/pending-young',
      'east/old-issued',
      'west/west-denied',
    ]);
  });

  it('moves, pages and jumps within bounds', () => {
    let s = loaded();
    s = run(s, { type: 'move', delta: 1 });
    assert.equal(s.cursor.csrs, csrKey('west', 'west-pending'));
    s = run(s, { type: 'move-to', where: 'last' });
    assert.equal(s.cursor.csrs, csrKey('west', 'west-denied'));
    s = run(s, { type: 'move', delta: 5 });
    assert.equal(s.cursor.csrs, csrKey('west', 'west-denied'));
    s = run(s, { type: 'page', direction: -1 });
    assert.equal(s.cursor.csrs, csrKey('east', 'pending-old'));
  });

  it('keeps the selection on the same object when rows move', () => {
    let s = run(loaded(), { type: 'move', delta: 2 });
    assert.equal(s.cursor.csrs, csrKey('east', 'pending-young'));
    // An older pending CSR arrives in west: rows shift, the selection stays on pending-young.
    s = reducer(s, {
      type: 'snapshots',
      snapshots: {
        west: snapshot('west', [csr('west-pending', { ageSeconds: 60 }), csr('ancient', { ageSeconds: 5000 })], 2),
      },
      newCsrs: [{ key: csrKey('west', 'ancient'), context: 'west', name: 'ancient' }],
    });
    s = reducer(s, { type: 'move', delta: 1 });
    assert.equal(s.cursor.csrs, csrKey('east', 'old-issued'));
    assert.match(s.notice?.text ?? '', /New CSR ancient in west/);
  });

  it('clears the notice once its time is up', () => {
    let s = reducer(loaded(), {
      type: 'snapshots',
      snapshots: {},
      newCsrs: [{ key: csrKey('west', 'x'), context: 'west', name: 'x' }],
    });
    s = reducer(s, { type: 'tick', now: NOW + 1000 });
    assert.ok(s.notice);
    s = reducer(s, { type: 'tick', now: NOW + 10_000 });
    assert.equal(s.notice, undefined);
  });

  it('filters with / and inverts with !', () => {
    let s = run(loaded(), { type: 'start-filter' }, { type: 'text-input', text: 'west' }, { type: 'text-submit' });
    assert.deepEqual(
      csrOrder(s).entries.map((e) => e.name),
      ['west-pending', 'west-denied'],
    );
    // `/` starts from the filter in force (to refine it); Ctrl-U clears the field.
    s = run(s, { type: 'start-filter' });
    assert.deepEqual(s.mode, { kind: 'filter', draft: 'west' });
    s = run(s, { type: 'text-clear' });
    assert.deepEqual(s.mode, { kind: 'filter', draft: '' });
    s = run(s, { type: 'text-input', text: '!pendinx' }, { type: 'text-backspace' }, { type: 'text-input', text: 'g' });
    s = run(s, { type: 'text-submit' });
    assert.deepEqual(
      csrOrder(s).entries.map((e) => e.name),
      ['old-issued', 'west-denied'],
    );
    s = run(s, { type: 'start-filter' });
    assert.deepEqual(s.mode, { kind: 'filter', draft: '!pending' });
    s = run(s, { type: 'text-clear' }, { type: 'text-submit' });
    assert.equal(csrOrder(s).entries.length, 5);
  });

  it('runs : commands and reports unknown ones', () => {
    let s = run(loaded(), { type: 'start-command' }, { type: 'text-input', text: 'ctx west' }, { type: 'text-submit' });
    assert.equal(s.scope.context, 'west');
    assert.equal(csrOrder(s).entries.length, 2);
    s = run(s, { type: 'start-command' }, { type: 'text-input', text: 'ctx nowhere' }, { type: 'text-submit' });
    assert.equal(s.status?.tone, 'bad');
    assert.equal(s.scope.context, 'west');
    s = run(s, { type: 'start-command' }, { type: 'text-input', text: 'ctx all' }, { type: 'text-submit' });
    assert.equal(s.scope.context, undefined);
    s = run(s, { type: 'start-command' }, { type: 'text-input', text: 'signer other.io/x' }, { type: 'text-submit' });
    assert.equal(csrOrder(s).entries.length, 0);
    s = run(s, { type: 'start-command' }, { type: 'text-input', text: 'bogus' }, { type: 'text-submit' });
    assert.match(s.status?.text ?? '', /Unknown command/);
    s = run(s, { type: 'start-command' }, { type: 'text-input', text: 'q' }, { type: 'text-submit' });
    assert.equal(s.quit, true);
  });

  it('cycles panes with tab', () => {
    const s = run(loaded(), { type: 'next-pane', direction: 1 }, { type: 'next-pane', direction: 1 });
    assert.equal(s.pane, 'health');
    assert.equal(reducer(s, { type: 'next-pane', direction: 1 }).pane, 'csrs');
  });
});

describe('store: bulk selection and dialogs', () => {
  it('marks with space, and verbs then act on the marks', () => {
    const s = run(loaded(), { type: 'toggle-mark' }, { type: 'toggle-mark' });
    assert.equal(s.marked.size, 2);
    assert.deepEqual(actionTargets(s), [csrKey('east', 'pending-old'), csrKey('west', 'west-pending')]);
    assert.equal(reducer(s, { type: 'back' }).marked.size, 0);
  });

  it('approves on Enter when the findings are clean, emitting one effect', () => {
    let s = run(loaded(), { type: 'open-dialog', dialog: dialog({}) }, { type: 'dialog-submit' });
    assert.equal(s.mode.kind, 'list');
    assert.equal(s.outbox.length, 1);
    assert.equal(s.outbox[0]?.kind, 'approve');
    assert.equal(s.running, 1);
    s = run(
      s,
      { type: 'effects-taken', upTo: s.outbox[0]!.id },
      { type: 'effect-done', status: { text: 'ok', tone: 'ok' } },
    );
    assert.equal(s.outbox.length, 0);
    assert.equal(s.running, 0);
  });

  it('asks for a second key (y) on a warning', () => {
    let s = run(loaded(), { type: 'open-dialog', dialog: dialog({ guard: 'warn' }) }, { type: 'dialog-submit' });
    assert.equal(s.mode.kind, 'dialog');
    assert.equal(s.outbox.length, 0);
    s = reducer(s, { type: 'text-input', text: 'y' });
    assert.equal(s.outbox.length, 1);
  });

  it('asks for the CSR name on a failure', () => {
    let s = run(
      loaded(),
      { type: 'open-dialog', dialog: dialog({ guard: 'fail', confirmName: 'pending-old' }) },
      { type: 'text-input', text: 'y' },
      { type: 'dialog-submit' },
    );
    assert.equal(s.outbox.length, 0);
    assert.match((s.mode.kind === 'dialog' && s.mode.dialog.error) || '', /Type the CSR's name/);
    s = run(s, { type: 'text-backspace' }, { type: 'text-input', text: 'pending-old' }, { type: 'dialog-submit' });
    assert.equal(s.outbox.length, 1);
  });

  it('refuses when blocked, whatever is pressed', () => {
    const s = run(
      loaded(),
      {
        type: 'open-dialog',
        dialog: dialog({ action: 'sign', blocked: 'No CA is registered for example.com/calico.' }),
      },
      { type: 'dialog-submit' },
    );
    assert.equal(s.outbox.length, 0);
  });

  it('collects deny reason and message field by field', () => {
    const s = run(
      loaded(),
      {
        type: 'open-dialog',
        dialog: dialog({
          action: 'deny',
          fields: [
            { id: 'reason', label: 'reason', value: '' },
            { id: 'message', label: 'message', value: '' },
          ],
        }),
      },
      { type: 'text-input', text: 'Forged' },
      { type: 'dialog-next-field', direction: 1 },
      { type: 'text-input', text: 'not ours' },
      { type: 'dialog-submit' },
    );
    const effect = s.outbox[0];
    assert.equal(effect?.kind, 'deny');
    if (effect?.kind === 'deny') {
      assert.equal(effect.reason, 'Forged');
      assert.equal(effect.message, 'not ours');
    }
  });

  it('asks before quitting while an action runs', () => {
    let s = run(loaded(), { type: 'open-dialog', dialog: dialog({}) }, { type: 'dialog-submit' }, { type: 'quit' });
    assert.equal(s.quit, false);
    assert.equal(s.mode.kind, 'quit-confirm');
    s = reducer(s, { type: 'quit-confirmed' });
    assert.equal(s.quit, true);
  });

  it('a ✗ finding with a secret field: the name goes in its own field before the secret', () => {
    const fields = [
      { id: 'confirm', label: 'type pending-old to confirm', value: '' },
      { id: 'secret:example.com/token', label: 'PIN for token "ca"', value: '', secret: true },
    ];
    const d = dialog({ action: 'sign', guard: 'fail', confirmName: 'pending-old', fields });
    let s = run(loaded(), { type: 'open-dialog', dialog: d }, { type: 'text-input', text: 'pending' });
    s = run(s, { type: 'dialog-next-field', direction: 1 }, { type: 'text-input', text: '1234' });
    s = reducer(s, { type: 'dialog-submit' });
    assert.equal(s.outbox.length, 0, 'not with the name half typed');
    assert.match(s.mode.kind === 'dialog' ? (s.mode.dialog.error ?? '') : '', /Type the CSR's name exactly/);
    s = run(
      s,
      { type: 'dialog-next-field', direction: 1 },
      { type: 'text-input', text: '-old' },
      { type: 'dialog-submit' },
    );
    const effect = s.outbox[0];
    assert.equal(effect?.kind, 'sign');
    assert.deepEqual(effect?.kind === 'sign' ? effect.secrets : undefined, { 'example.com/token': '1234' });
  });

  it('a CA key secret: typed masked, handed to the effect once, never given back with the dialog', () => {
    const signer = 'example.com/token';
    const fields = [{ id: `secret:${signer}`, label: 'PIN for token "ca"', value: '', secret: true }];
    let s = run(
      loaded(),
      { type: 'open-dialog', dialog: dialog({ action: 'sign', fields }) },
      { type: 'dialog-submit' },
    );
    assert.equal(s.mode.kind, 'dialog', 'an empty PIN does not sign');
    assert.match(s.mode.kind === 'dialog' ? (s.mode.dialog.error ?? '') : '', /Type the PIN for token "ca"/);
    s = run(s, { type: 'text-input', text: '1234' }, { type: 'text-input', text: '56' });
    const vm = s.mode.kind === 'dialog' ? selectDialog(s, s.mode.dialog) : undefined;
    assert.equal(vm?.fields[0]?.value, '••••••');
    assert.ok(!JSON.stringify(vm).includes('123456'), 'the PIN is nowhere in what is drawn');
    s = reducer(s, { type: 'dialog-submit' });
    const effect = s.outbox[0];
    assert.equal(effect?.kind, 'sign');
    assert.deepEqual(effect?.kind === 'sign' ? effect.secrets : undefined, { [signer]: '123456' });
    assert.ok(!JSON.stringify(s.reopen).includes('123456'), 'the dialog kept for a retry holds no PIN');
    s = run(
      s,
      { type: 'effects-taken', upTo: effect!.id },
      {
        type: 'effect-done',
        status: { text: 'Not signed: Wrong PIN for token "ca"; try again.', tone: 'bad' },
        id: effect!.id,
      },
    );
    assert.ok(!JSON.stringify(s).includes('123456'), 'nothing in the state holds the PIN once the effect is taken');
    assert.equal(s.mode.kind, 'dialog', 'a wrong PIN gives the dialog back, the selection kept');
    if (s.mode.kind !== 'dialog') return;
    assert.equal(s.mode.dialog.fields[0]?.value, '');
    assert.match(s.mode.dialog.error ?? '', /Wrong PIN/);
    assert.deepEqual(s.mode.dialog.targets, [csrKey('east', 'pending-old')]);
    s = run(s, { type: 'text-input', text: '99' }, { type: 'back' });
    assert.ok(!JSON.stringify(s).includes('99"'), 'esc drops what was typed');
  });
  it('the key let go while its dialog was open: the dialog comes back asking for the PIN, the name typed kept', () => {
    // The dialog opened while the token was logged in (no PIN field); it was let go (idle) before ⏎.
    const signer = 'example.com/token';
    const d = dialog({ action: 'approve-sign', guard: 'fail', confirmName: 'pending-old' });
    let s = run(loaded(), { type: 'open-dialog', dialog: d }, { type: 'text-input', text: 'pending-old' });
    s = reducer(s, { type: 'dialog-submit' });
    const effect = s.outbox[0];
    assert.equal(effect?.kind, 'sign');
    assert.equal(effect?.kind === 'sign' ? effect.secrets : 'none', undefined);
    s = run(
      s,
      { type: 'effects-taken', upTo: effect!.id },
      {
        type: 'effect-done',
        status: {
          text: 'Not approved and signed: The PIN for token "ca" is needed now: press the key again (s, A) to type it.',
          tone: 'bad',
          ask: [[signer, 'PIN for token "ca"']],
        },
        id: effect!.id,
      },
    );
    assert.equal(s.mode.kind, 'dialog', 'the dialog is back');
    if (s.mode.kind !== 'dialog') return;
    const back = s.mode.dialog;
    assert.deepEqual(back.targets, [csrKey('east', 'pending-old')], 'on the same CSR');
    assert.deepEqual(
      back.fields.map((f) => [f.id, f.value, f.secret ?? false]),
      [
        ['confirm', 'pending-old', false],
        [`secret:${signer}`, '', true],
      ],
    );
    assert.equal(back.fields[back.field]?.secret, true, 'the PIN field has the focus');
    assert.equal(
      back.error,
      'Nothing signed: the PIN for token "ca" is needed again (the key was let go while idle); type it, then ⏎.',
    );
    assert.equal(s.status?.text, back.error, 'the footer says the same, not "press the key again"');
    assert.equal('ask' in (s.status ?? {}), false);
    s = run(s, { type: 'text-input', text: '4321' }, { type: 'dialog-submit' });
    const again = s.outbox.at(-1);
    assert.equal(again?.kind, 'sign');
    assert.deepEqual(again?.kind === 'sign' ? [again.approveFirst, again.secrets] : undefined, [
      true,
      { [signer]: '4321' },
    ]);
  });
});

describe('store: incremental order', () => {
  it('keeps the order right when a few CSRs change between snapshots', () => {
    const base = Array.from({ length: 50 }, (_, i) => csr(`c-${i}`, { ageSeconds: 1000 - i * 7 }));
    let s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', base) },
    });
    assert.equal(csrOrder(s).entries.length, 50);
    const changed = [...base];
    changed[3] = csr('c-3', { ageSeconds: 1000 - 3 * 7, state: 'Approved' });
    changed.splice(10, 1);
    changed.push(csr('new-oldest', { ageSeconds: 5000 }), csr('new-newest', { ageSeconds: 1 }));
    s = reducer(s, { type: 'snapshots', snapshots: { east: snapshot('east', changed, 2) } });
    const incremental = csrOrder(s).entries.map((e) => e.name);
    const fresh = [...changed]
      .map((c) => ({
        c,
        pending: !(c.status?.conditions ?? []).length,
        t: new Date(c.metadata!.creationTimestamp!).getTime(),
      }))
      .sort((a, b) => (a.pending === b.pending ? a.t - b.t : a.pending ? -1 : 1))
      .map((x) => x.c.metadata!.name!);
    assert.deepEqual(incremental, fresh);
    assert.equal(incremental[0], 'new-oldest');
    assert.equal(incremental.at(-1), 'c-3');
  });
});

describe('keymap', () => {
  it('splits bursts into keys and reads Esc+key as both', async () => {
    const { splitKeys, keyIntent } = await import('../../../src/app/keymap.js');
    assert.deepEqual(splitKeys('/ab\r', {}), [
      ['/', {}],
      ['a', {}],
      ['b', {}],
      ['', { return: true }],
    ]);
    // `/` and Ctrl-U in one read: the filter opens, then is emptied (Ctrl-U is not typed into it).
    assert.deepEqual(splitKeys('/\x15', {}), [
      ['/', {}],
      ['u', { ctrl: true }],
    ]);
    assert.deepEqual(splitKeys('/', { meta: true }), [
      ['', { escape: true }],
      ['/', { meta: false }],
    ]);
    // Esc then Tab (or Enter) sent together: back, then the key (not a meta key that nothing owns).
    assert.deepEqual(splitKeys('', { meta: true, tab: true }), [
      ['', { escape: true }],
      ['', { meta: false, tab: true }],
    ]);
    assert.deepEqual(keyIntent('list', 'a', {}), { kind: 'verb', verb: 'approve' });
    assert.deepEqual(keyIntent('filter', 'a', {}), { kind: 'action', action: { type: 'text-input', text: 'a' } });
    // A control sequence that slips through never reaches the state with its ESC.
    assert.deepEqual(keyIntent('filter', '\x1b[31m', {}), {
      kind: 'action',
      action: { type: 'text-input', text: '[31m' },
    });
    assert.deepEqual(keyIntent('quit-confirm', 'y', {}), { kind: 'action', action: { type: 'quit-confirmed' } });
  });

  it('knows which modes take a chunk of plain characters as text', async () => {
    const { plainChar, takesText } = await import('../../../src/app/keymap.js');
    assert.ok(plainChar('j', {}));
    assert.ok(!plainChar('', { return: true }));
    assert.ok(!plainChar('b', { ctrl: true }));
    assert.ok(takesText({ kind: 'filter', draft: '' }));
    assert.ok(!takesText({ kind: 'list' }));
    const dialog = {
      action: 'approve' as const,
      targets: ['k'],
      skipped: [],
      typed: '',
      fields: [],
      field: 0,
      title: 't',
      details: [],
    };
    // A warning guard answers to a single y: its keys stay keys.
    assert.ok(!takesText({ kind: 'dialog', from: 'list', dialog: { ...dialog, guard: 'warn' } }));
    assert.ok(takesText({ kind: 'dialog', from: 'list', dialog: { ...dialog, guard: 'fail', confirmName: 'n' } }));
    assert.ok(
      takesText({
        kind: 'dialog',
        from: 'list',
        dialog: { ...dialog, guard: 'ok', fields: [{ id: 'reason', label: 'reason', value: '' }] },
      }),
    );
  });
});

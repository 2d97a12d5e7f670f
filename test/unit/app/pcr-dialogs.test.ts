// The PCR view's verbs through the reducer: `s`, `x`, `f` ask for their dialogs (pcrsKey), deny and Failed ask a
// reason checked by the CSR deny rule and a message, a ✗ finding on issue needs the PCR's name typed (which accepts
// the failing codes shown), and each effect carries the object shown (uid + resourceVersion); esc goes back to the
// PCR view where the dialog was opened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { pcrsKey, visiblePcrs } from '../../../src/app/pcrs.js';
import { noInsights, selectScreen } from '../../../src/app/selectors.js';
import {
  type Action,
  type DialogState,
  type Effect,
  initialState,
  reducer,
  type TuiState,
} from '../../../src/app/store.js';
import type { WirePcr } from '../../../src/services/kube/pod-certificates.js';
import { NOW, snapshot } from './fixtures.js';

const pending: WirePcr = {
  metadata: { name: 'web-0-abc', namespace: 'workloads', uid: 'uid-web-0', resourceVersion: '41' },
  spec: { signerName: 'example.com/pod-identity', podName: 'web-0', nodeName: 'node-1', maxExpirationSeconds: 86400 },
};
const issued: WirePcr = {
  metadata: { name: 'api-0-def', namespace: 'workloads', uid: 'uid-api-0', resourceVersion: '7' },
  spec: { signerName: 'example.com/pod-identity', podName: 'api-0', nodeName: 'node-1' },
  status: { conditions: [{ type: 'Issued', status: 'True', reason: 'CertdeskIssued', message: 'issued' }] },
};

const run = (state: TuiState, ...actions: Action[]) => actions.reduce(reducer, state);
const typed = (text: string): Action => ({ type: 'text-input', text });

function inPcrView(): TuiState {
  const east = {
    ...snapshot('east', []),
    pcrs: new Map([
      ['workloads/web-0-abc', pending],
      ['workloads/api-0-def', issued],
    ]),
  };
  return run(
    initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }),
    {
      type: 'snapshots',
      snapshots: { east },
    },
    { type: 'open-pcrs' },
  );
}

async function dialogFor(state: TuiState, input: string): Promise<DialogState | { status: string }> {
  assert.equal(state.mode.kind, 'pcrs');
  const intent = state.mode.kind === 'pcrs' ? pcrsKey(state.mode.view, input, {}) : undefined;
  assert.equal(intent?.kind, 'verb', `${input} asks for a verb`);
  if (intent?.kind !== 'verb') throw new Error('no verb');
  return openVerb(intent.verb, state, { insights: noCapability, now: () => new Date(NOW) });
}

/** can-i not known (no contexts loaded): the dialogs open without a permission line. */
const noCapability = { pcrCapabilityNow: async () => undefined } as unknown as InsightCache;

const pcrEffect = (s: TuiState) => s.outbox.find((e): e is Extract<Effect, { kind: 'pcr' }> => e.kind === 'pcr');

/** The issue dialog on web-0-abc as the PCR view opens it (guard and the codes a typed name accepts as given). */
function issueDialog(state: TuiState, guard: DialogState['guard'], overrides?: string[]): DialogState {
  if (state.mode.kind !== 'pcrs') throw new Error('not in the PCR view');
  return {
    action: 'pcr-issue',
    targets: [],
    skipped: [],
    guard,
    ...(guard === 'fail' ? { confirmName: 'web-0-abc' } : {}),
    typed: '',
    fields: [],
    field: 0,
    title: 'Issue web-0-abc?',
    details: [],
    pcr: {
      targets: [
        {
          context: 'east',
          namespace: 'workloads',
          name: 'web-0-abc',
          pcr: pending,
          ...(overrides ? { overrides } : {}),
        },
      ],
      view: state.mode.view,
    },
  };
}

describe('PCR view verbs: dialogs and effect requests', () => {
  for (const [input, verb, fallback] of [
    ['x', 'deny', 'CertdeskDeny'],
    ['f', 'fail', 'CertdeskFailed'],
  ] as const) {
    it(`${input} asks a reason (the deny rule) and a message, then requests ${verb} bound to the PCR shown`, async () => {
      const state = inPcrView();
      const d = await dialogFor(state, input);
      assert.ok(!('status' in d), JSON.stringify(d));
      assert.match(d.fields[0]?.label ?? '', new RegExp(`CamelCase.*empty: ${fallback}`));
      let s = run(state, { type: 'open-dialog', dialog: d }, typed('not a word'), { type: 'dialog-submit' });
      assert.equal(s.mode.kind, 'dialog');
      assert.match(s.mode.kind === 'dialog' ? (s.mode.dialog.error ?? '') : '', /one CamelCase word/);
      assert.equal(pcrEffect(s), undefined);
      s = run(
        s,
        { type: 'text-clear' },
        typed('NotOurPod'),
        { type: 'dialog-next-field', direction: 1 },
        typed('wrong node'),
        { type: 'dialog-submit' },
      );
      const effect = pcrEffect(s);
      assert.equal(effect?.verb, verb);
      assert.equal(effect?.reason, 'NotOurPod');
      assert.equal(effect?.message, 'wrong node');
      assert.deepEqual(
        [
          effect?.targets[0]?.namespace,
          effect?.targets[0]?.name,
          effect?.targets[0]?.pcr?.metadata?.uid,
          effect?.targets[0]?.pcr?.metadata?.resourceVersion,
        ],
        ['workloads', 'web-0-abc', 'uid-web-0', '41'],
      );
      assert.equal(s.mode.kind, 'pcrs', 'back in the PCR view');
    });
  }

  it('a PCR that is no longer Pending gets a sentence, not a dialog', async () => {
    const state = run(inPcrView(), { type: 'pcrs', action: { kind: 'move', delta: 1 } } as Action);
    const d = await dialogFor(state, 'x');
    assert.deepEqual(d, {
      status: 'PodCertificateRequest workloads/api-0-def is already Issued; its status never changes after that.',
    });
  });

  it('issue with a ✗ finding: the name must be typed; the effect accepts exactly the failing codes shown', () => {
    const state = inPcrView();
    const dialog = issueDialog(state, 'fail', ['PodNotFound']);
    let s = run(state, { type: 'open-dialog', dialog }, typed('web-0'), { type: 'dialog-submit' });
    assert.match(s.mode.kind === 'dialog' ? (s.mode.dialog.error ?? '') : '', /Type the PodCertificateRequest's name/);
    assert.equal(pcrEffect(s), undefined);
    s = run(s, typed('-abc'), { type: 'dialog-submit' });
    const effect = pcrEffect(s);
    assert.equal(effect?.verb, 'issue');
    assert.deepEqual(effect?.targets[0]?.overrides, ['PodNotFound']);
    assert.equal(effect?.targets[0]?.pcr?.metadata?.resourceVersion, '41');
  });

  it('a failed deny gives its dialog back, with the reason and message typed and the error; none if the view was left', async () => {
    const state = inPcrView();
    const d = await dialogFor(state, 'x');
    assert.ok(!('status' in d));
    let s = run(
      state,
      { type: 'open-dialog', dialog: d },
      typed('NotOurPod'),
      { type: 'dialog-next-field', direction: 1 },
      typed('wrong node'),
      { type: 'dialog-submit' },
    );
    const effect = pcrEffect(s)!;
    const failed: Action = {
      type: 'effect-done',
      status: { text: 'PodCertificateRequest workloads/web-0-abc was changed meanwhile.', tone: 'bad' },
      id: effect.id,
    };
    const back = run(s, { type: 'effects-taken', upTo: effect.id }, failed);
    assert.equal(back.mode.kind, 'dialog', 'the dialog is back');
    if (back.mode.kind !== 'dialog') return;
    assert.deepEqual(
      back.mode.dialog.fields.map((f) => f.value),
      ['NotOurPod', 'wrong node'],
    );
    assert.equal(back.mode.dialog.error, 'PodCertificateRequest workloads/web-0-abc was changed meanwhile.');
    assert.equal(back.mode.dialog.pcr?.targets[0]?.pcr?.metadata?.uid, 'uid-web-0', 'on the same PCR');
    // Gone to the CSR list meanwhile: the failure is the footer's, no dialog pops up there.
    s = run(s, { type: 'effects-taken', upTo: effect.id }, { type: 'back' });
    assert.notEqual(s.mode.kind, 'pcrs');
    assert.notEqual(run(s, failed).mode.kind, 'dialog');
  });

  it('issue with the token let go while the dialog was open: back with the PIN field on the same PCR', () => {
    const state = inPcrView();
    const signer = 'example.com/pod-identity';
    const dialog = issueDialog(state, 'ok');
    let s = run(state, { type: 'open-dialog', dialog }, { type: 'dialog-submit' });
    const effect = pcrEffect(s)!;
    assert.equal(effect.secrets, undefined);
    s = run(
      s,
      { type: 'effects-taken', upTo: effect.id },
      {
        type: 'effect-done',
        status: {
          text: 'PodCertificateRequest workloads/web-0-abc: the PIN is needed now.',
          tone: 'bad',
          ask: [[signer, 'PIN for token "ca"']],
        },
        id: effect.id,
      },
    );
    assert.equal(s.mode.kind, 'dialog');
    if (s.mode.kind !== 'dialog') return;
    assert.deepEqual(
      s.mode.dialog.fields.map((f) => [f.id, f.secret ?? false]),
      [[`secret:${signer}`, true]],
    );
    assert.match(s.mode.dialog.error ?? '', /PIN for token "ca" is needed again/);
    s = run(s, typed('4321'), { type: 'dialog-submit' });
    const again = pcrEffect({ ...s, outbox: s.outbox.filter((e) => e.id > effect.id) });
    assert.deepEqual(again?.secrets, { [signer]: '4321' });
    assert.equal(again?.targets[0]?.pcr?.metadata?.resourceVersion, '41', 'bound to the same PCR');
  });

  it('esc from a PCR dialog goes back to the PCR view', async () => {
    const state = inPcrView();
    const d = await dialogFor(state, 'f');
    assert.ok(!('status' in d));
    const s = run(state, { type: 'open-dialog', dialog: d }, { type: 'back' });
    assert.equal(s.mode.kind, 'pcrs');
    assert.equal(s.outbox.length, 0);
  });

  it('Ctrl-F in the PCR view is a page, never mark Failed', () => {
    const state = inPcrView();
    const intent = state.mode.kind === 'pcrs' ? pcrsKey(state.mode.view, 'f', { ctrl: true }) : undefined;
    assert.notEqual(intent?.kind, 'verb');
  });

  it('a cluster reached through two contexts: each PCR listed once; the footer dims s/x/f only when neither may', () => {
    const snap = (c: string) => ({ ...snapshot(c, []), pcrs: new Map([['workloads/web-0-abc', pending]]) });
    const s = run(
      initialState({
        contexts: ['east-viewer', 'east'],
        clusters: { 'east-viewer': 'https://e\nCA', east: 'https://e\nCA' },
        columns: 140,
        rows: 40,
        now: NOW,
      }),
      { type: 'snapshots', snapshots: { 'east-viewer': snap('east-viewer'), east: snap('east') } },
      { type: 'open-pcrs' },
    );
    assert.deepEqual(
      visiblePcrs(s).map((r) => `${r.context} ${r.key}`),
      ['east-viewer workloads/web-0-abc'],
    );
    const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
    const dimmed = (may: (context: string) => boolean) =>
      selectScreen(
        s,
        {
          ...noInsights,
          pcrCapability: (c) => ({ allowed: may(c), missing: may(c) ? [] : ['sign on signers'] }),
        },
        places,
      )
        .footer.keys.filter((k) => k.disabled)
        .map((k) => k.key);
    assert.deepEqual(
      dimmed((c) => c === 'east'),
      [],
    );
    assert.deepEqual(
      dimmed(() => false),
      ['s', 'x', 'f'],
    );
  });

  it('Space marks rows; x on the marked denies each Pending one, bound to its own object; the marks clear', async () => {
    const second: WirePcr = {
      ...pending,
      metadata: { name: 'web-1-ghi', namespace: 'workloads', uid: 'uid-web-1', resourceVersion: '52' },
      spec: { ...pending.spec, podName: 'web-1' },
    };
    const east = {
      ...snapshot('east', []),
      pcrs: new Map([
        ['workloads/web-0-abc', pending],
        ['workloads/web-1-ghi', second],
        ['workloads/api-0-def', issued],
      ]),
    };
    let s = run(
      initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW }),
      { type: 'snapshots', snapshots: { east } },
      { type: 'open-pcrs' },
    );
    for (let i = 0; i < 3; i++) {
      const intent = s.mode.kind === 'pcrs' ? pcrsKey(s.mode.view, ' ', {}) : undefined;
      assert.equal(intent?.kind, 'action');
      if (intent?.kind === 'action') s = reducer(s, intent.action);
    }
    const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
    const overlay = selectScreen(s, noInsights, places).overlay;
    assert.match(JSON.stringify(overlay), /pending first · 3 selected/);
    assert.match(JSON.stringify(overlay), /"marked":true/);
    const d = await dialogFor(s, 'x');
    assert.ok(!('status' in d), JSON.stringify(d));
    assert.equal(d.title, 'Deny 2 PCRs?');
    assert.match(JSON.stringify(d.details), /1 marked PCR left out \(not Pending\)/);
    s = run(s, { type: 'open-dialog', dialog: d }, typed('NotOurPod'), { type: 'dialog-submit' });
    const effect = pcrEffect(s);
    assert.deepEqual(
      effect?.targets.map((t) => [t.name, t.pcr?.metadata?.uid, t.pcr?.metadata?.resourceVersion]),
      [
        ['web-0-abc', 'uid-web-0', '41'],
        ['web-1-ghi', 'uid-web-1', '52'],
      ],
    );
    assert.equal(s.status?.text, 'Denying 2 PCRs…');
    assert.equal(s.mode.kind === 'pcrs' ? s.mode.view.marked?.size : -1, 0, 'the marks are cleared');
  });
});

// Issue 22: the deny dialog offers deleting instead (Ctrl-D), so the requester asks again; the delete dialog is the
// confirmation, binds each delete to the object shown, and leaves issued requests to `certdesk delete csr --force`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { dialogSwitchKey, takesText } from '../../../src/app/keymap.js';
import { selectDialog } from '../../../src/app/selectors.js';
import { csrKey, type DialogState, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import { csr, NOW, snapshot } from './fixtures.js';

function setup(marked: string[]): { state: TuiState; deps: Parameters<typeof openVerb>[2] } {
  const objects = [
    csr('good', { state: 'Pending' }),
    csr('old', { state: 'Approved' }),
    csr('done', { state: 'Issued' }),
  ];
  let state = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, { type: 'snapshots', snapshots: { east: snapshot('east', objects) } });
  state = { ...state, pane: 'csrs', marked: new Set(marked.map((n) => csrKey('east', n))) };
  const insights = {
    insightNow: async () => ({ findings: [], worst: 'ok' as const }),
    capability: () => undefined,
  } as unknown as InsightCache;
  return { state, deps: { insights, now: () => new Date(NOW) } };
}

async function dialog(verb: 'deny' | 'delete', marked: string[]): Promise<{ state: TuiState; d: DialogState }> {
  const { state, deps } = setup(marked);
  const d = await openVerb(verb, state, deps);
  assert.ok('targets' in d, JSON.stringify(d));
  return { state: reducer(state, { type: 'open-dialog', dialog: d }), d };
}

describe('delete instead of deny', () => {
  it('the deny dialog hands Ctrl-D to the delete dialog; D and d stay text for its fields', async () => {
    const { state, d } = await dialog('deny', ['good']);
    assert.deepEqual(d.switchKeys, { '^D': 'delete' });
    assert.deepEqual(dialogSwitchKey(d, 'd', { ctrl: true }), { kind: 'verb', verb: 'delete', replacesDialog: true });
    assert.equal(dialogSwitchKey(d, 'd', {}), undefined);
    assert.equal(dialogSwitchKey(d, 'D', { shift: true }), undefined);
    assert.equal(takesText(state.mode), true, 'a reason such as DuplicateRequest can be typed');
    assert.match(selectDialog(state, d).prompt, /^\^D delete instead {3}⏎ confirm/);
  });

  it('Enter in the delete dialog queues one delete per request, bound to the object shown', async () => {
    const { state, d } = await dialog('delete', ['good', 'old', 'done']);
    assert.deepEqual(d.targets, [csrKey('east', 'good'), csrKey('east', 'old')]);
    assert.deepEqual(d.skipped, [csrKey('east', 'done')], 'an issued request is left out');
    assert.match(d.details.find((s) => s.label === 'Delete')?.lines[0]?.text ?? '', /asks again/);
    const next = reducer(state, { type: 'dialog-submit' });
    const effect = next.outbox.at(-1);
    assert.equal(effect?.kind, 'delete');
    assert.deepEqual(effect?.kind === 'delete' ? effect.targets.map((t) => [t.name, t.csr?.metadata?.uid]) : [], [
      ['good', 'uid-good'],
      ['old', 'uid-old'],
    ]);
    assert.equal(next.status?.text, 'Deleting 2 CSRs…');
  });

  it('an issued request alone is blocked, with the command that deletes it anyway', async () => {
    const { state, d } = await dialog('delete', ['done']);
    assert.match(d.blocked ?? '', /is issued.*certdesk delete csr --force/);
    const next = reducer(state, { type: 'dialog-submit' });
    assert.equal(next.outbox.length, 0);
  });
});

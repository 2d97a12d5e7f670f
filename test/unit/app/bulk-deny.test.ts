// Issue 18, item 2: denying is the safe direction, so the TUI's bulk deny takes every selected Pending request,
// the ✗ ones included (bulk approve and sign still leave those out); dialogs bind each write to the object shown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { csrKey, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import type { Finding } from '../../../src/services/policy/index.js';
import { csr, NOW, snapshot } from './fixtures.js';

const failing: Finding = { level: 'fail', code: 'privileged-group', message: 'O=system:masters' };

function setup(): { state: TuiState; insights: InsightCache } {
  const objects = [csr('good', { state: 'Pending' }), csr('masters', { state: 'Pending' })];
  let state = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, { type: 'snapshots', snapshots: { east: snapshot('east', objects) } });
  state = { ...state, pane: 'csrs', marked: new Set([csrKey('east', 'good'), csrKey('east', 'masters')]) };
  const insights = {
    insightNow: async (_context: string, object: { metadata?: { name?: string } }) =>
      object.metadata?.name === 'masters'
        ? { findings: [failing], worst: 'fail' as const }
        : { findings: [], worst: 'ok' as const },
    capability: () => undefined,
  } as unknown as InsightCache;
  return { state, insights };
}

describe('TUI bulk actions and ✗ rows', () => {
  it('bulk deny includes the ✗ request; bulk approve leaves it out', async () => {
    const { state, insights } = setup();
    const deps = { insights, now: () => new Date(NOW) };
    const deny = await openVerb('deny', state, deps);
    assert.ok('targets' in deny);
    assert.deepEqual([...deny.targets].sort(), [csrKey('east', 'good'), csrKey('east', 'masters')]);
    assert.deepEqual(deny.skipped, []);
    // Before a deny: a Denied request is final; deleting it lets the requester ask again (issue 22).
    const final = deny.details.find((d) => d.label === 'Final');
    assert.match(final?.lines[0]?.text ?? '', /can never be approved.*delete the request instead/);
    const approve = await openVerb('approve', state, deps);
    assert.ok('targets' in approve);
    assert.deepEqual(approve.targets, [csrKey('east', 'good')]);
    assert.deepEqual(approve.skipped, [csrKey('east', 'masters')]);
  });

  it('binds the write to the object shown; a typed name accepts the failing codes shown', async () => {
    const { state, insights } = setup();
    const single = {
      ...state,
      marked: new Set<string>(),
      cursor: { ...state.cursor, csrs: csrKey('east', 'masters') },
    };
    const dialog = await openVerb('approve', single, { insights, now: () => new Date(NOW) });
    assert.ok('targets' in dialog);
    assert.equal(dialog.confirmName, 'masters');
    const bound = dialog.bound?.[csrKey('east', 'masters')];
    assert.equal(bound?.csr?.metadata?.uid, 'uid-masters');
    assert.deepEqual(bound?.overrides, ['privileged-group']);
  });
});

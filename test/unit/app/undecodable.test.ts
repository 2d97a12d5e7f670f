// A request certdesk cannot decode: nothing else about it was checked, so the TUI's approve and sign dialogs are
// blocked (typing its name would otherwise accept the one `decode` finding); deny stays open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { initialState, reducer } from '../../../src/app/store.js';
import { csr, NOW, snapshot } from './fixtures.js';

async function open(verb: 'approve' | 'approve-sign' | 'deny') {
  let state = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, {
    type: 'snapshots',
    snapshots: { east: snapshot('east', [csr('bad', { state: 'Pending' })]) },
  });
  const insights = {
    insightNow: async () => ({
      findings: [{ level: 'fail', code: 'decode', message: 'The request cannot be decoded: trailing bytes.' }],
      worst: 'fail' as const,
    }),
    capability: () => undefined,
  } as unknown as InsightCache;
  const d = await openVerb(verb, state, { insights, now: () => new Date(NOW) });
  assert.ok('targets' in d, JSON.stringify(d));
  return d;
}

describe('a request that cannot be decoded', () => {
  it('blocks approve and approve-and-sign, whatever is typed', async () => {
    for (const verb of ['approve', 'approve-sign'] as const) {
      const d = await open(verb);
      assert.match(
        d.blocked ?? '',
        /^CSR bad cannot be approved.*: decode \(The request cannot be decoded: trailing bytes\); nothing else about it could be checked, so no --override accepts it\. Deny it \(d\)/,
      );
    }
  });
  it('leaves deny open', async () => {
    assert.equal((await open('deny')).blocked, undefined);
  });
});

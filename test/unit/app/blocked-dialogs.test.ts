// Dialogs that say at once why they cannot act: a request certdesk cannot decode (nothing else about it was checked,
// so typing its name would otherwise accept the one `decode` finding; deny stays open), and approving a request that
// was decided already (it asked for the name first, then refused).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { initialState, reducer } from '../../../src/app/store.js';
import { csr, NOW, snapshot } from './fixtures.js';

const UNDECODABLE = [{ level: 'fail', code: 'decode', message: 'The request cannot be decoded: trailing bytes.' }];

async function open(
  verb: 'approve' | 'approve-sign' | 'deny',
  state0: 'Pending' | 'Denied' | 'Approved' = 'Pending',
  findings: { level: string; code: string; message: string }[] = UNDECODABLE,
) {
  let state = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, {
    type: 'snapshots',
    snapshots: { east: snapshot('east', [csr('bad', { state: state0 })]) },
  });
  const insights = {
    insightNow: async () => ({ findings, worst: findings.length ? ('fail' as const) : ('ok' as const) }),
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

describe('approving a request decided already', () => {
  it('says so when the dialog opens, before any name is asked for', async () => {
    const denied = await open('approve', 'Denied', []);
    assert.match(denied.blocked ?? '', /^CSR bad is Denied\. A Denied request can never be approved/);
    const approved = await open('approve', 'Approved', []);
    assert.match(approved.blocked ?? '', /^CSR bad is Approved already: there is nothing to approve\./);
  });
});

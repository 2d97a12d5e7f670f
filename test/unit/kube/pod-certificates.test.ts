// The STATE column of `get pcr`: Issued, Denied or Failed from the first of those conditions with status True.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pcrState, type WireCondition } from '../../../src/services/kube/pod-certificates.js';

const state = (...conditions: WireCondition[]) => pcrState({ status: { conditions } });

test('no conditions, or none of Issued/Denied/Failed with status True, is Pending', () => {
  assert.equal(pcrState({}), 'Pending');
  assert.equal(state(), 'Pending');
  assert.equal(state({ type: 'Issued', status: 'False' }), 'Pending');
  assert.equal(state({ type: 'Denied', status: 'Unknown' }), 'Pending');
  assert.equal(state({ type: 'Approved', status: 'True' }), 'Pending', 'PCRs have no Approved condition');
});

test('a terminal condition with status True names the state', () => {
  assert.equal(state({ type: 'Issued', status: 'True' }), 'Issued');
  assert.equal(state({ type: 'Denied', status: 'True', reason: 'UnsupportedKeyType' }), 'Denied');
  assert.equal(state({ type: 'Failed', status: 'True' }), 'Failed');
  assert.equal(state({ type: 'Issued', status: 'False' }, { type: 'Failed', status: 'True' }), 'Failed');
});

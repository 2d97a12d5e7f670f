import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { csrCondition, csrState } from '../../../src/services/kube/csr-state.js';

function csr(types: string[], certificate?: string): V1CertificateSigningRequest {
  return {
    spec: { request: '', signerName: 'example.com/x' },
    status: { conditions: types.map((type) => ({ type, status: 'True' })), ...(certificate ? { certificate } : {}) },
  };
}

describe('csrState', () => {
  it('Failed, then Denied, then Issued, then Approved, then Pending, whatever the order of the conditions', () => {
    const cases: [string[], boolean, string][] = [
      [[], false, 'Pending'],
      [[], true, 'Issued'],
      [['Approved'], false, 'Approved'],
      [['Approved'], true, 'Issued'],
      [['Denied'], true, 'Denied'],
      [['Approved', 'Denied'], false, 'Denied'],
      [['Approved', 'Failed'], true, 'Failed'],
      [['Denied', 'Failed'], false, 'Failed'],
      [['Approved', 'Denied', 'Failed'], true, 'Failed'],
      [['Unknown'], false, 'Pending'],
    ];
    for (const [types, cert, expected] of cases) {
      for (const order of [types, [...types].reverse()]) {
        assert.equal(csrState(csr(order, cert ? 'LS0t' : undefined)), expected, `${order.join(',')} cert=${cert}`);
      }
    }
    assert.equal(csrState({ spec: { request: '', signerName: 'x' } }), 'Pending', 'no status');
    assert.equal(csrCondition(csr(['Failed', 'Approved'], 'LS0t')), 'Approved,Failed,Issued');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fit, fitMiddle } from '../../../src/views/theme.js';

test('fit pads or cuts at the end with ~', () => {
  assert.equal(fit('abc', 5), 'abc  ');
  assert.equal(fit('abcdef', 4), 'abc~');
  assert.equal(fit('7s', 4, 'right'), '  7s');
});

test('fitMiddle keeps the distinguishing end of a pod name', () => {
  const cut = fitMiddle('calico-system/calico-node-rsmsk', 27);
  assert.equal(cut.length, 27);
  assert.equal(cut, 'calico-s~/calico-node-rsmsk');
  assert.equal(fitMiddle('short', 10), 'short     ');
});

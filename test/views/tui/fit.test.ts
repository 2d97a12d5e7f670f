import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { fit, fitDistinct, sharedPrefixes } from '../../../src/views/theme.js';
import { wrapLine } from '../../../src/views/layout.js';

test('fit pads or cuts at the end with ~', () => {
  assert.equal(fit('abc', 5), 'abc  ');
  assert.equal(fit('abcdef', 4), 'abc~');
  assert.equal(fit('7s', 4, 'right'), '  7s');
});

describe('fitDistinct: cuts keep the part that tells rows apart (issue 24)', () => {
  it('cuts the prefix a value shares with others, else the start; keeps the tail', () => {
    const names = [
      'calico-system:calico-typha-688c9d7f4-7cjnm:2b0d82',
      'calico-system:calico-typha-688c9d7f4-h9c5w:9a3a10',
      'calico-system:calico-node-5ckvq:4f1c2e',
      'web',
    ];
    const shared = sharedPrefixes(names);
    assert.equal(shared.get('calico-system:calico-node-5ckvq:4f1c2e'), 'calico-system:calico-'.length);
    assert.equal(shared.get('web'), 0);
    assert.equal(fitDistinct(names[2]!, 30, shared), 'calico-syst~-node-5ckvq:4f1c2e');
    assert.match(fitDistinct(names[0]!, 30, shared), /^calico-system:ca~-7cjnm:2b0d82$/);
    assert.match(fitDistinct(names[1]!, 30, shared), /~-h9c5w:9a3a10$/);
    assert.equal(fitDistinct('clusterissuers.cert-manager.io/foo', 20), '~cert-manager.io/foo');
    assert.equal(fitDistinct('Pending', 7), 'Pending');
    assert.equal(fitDistinct('web', 6), 'web   ');
    for (const n of names) assert.equal([...fitDistinct(n, 17, shared)].length, 17);
  });
});

test('wrapLine breaks after spaces, hard-breaks a word longer than the width, and keeps every character', () => {
  assert.deepEqual(wrapLine('short', 10), ['short']);
  assert.deepEqual(wrapLine('the API server is unreachable', 10), ['the API', 'server is', 'unreachabl', 'e']);
  assert.deepEqual(wrapLine('ab  cd', 3), ['ab', 'cd']);
  assert.deepEqual(wrapLine('✗ café ✓ ok', 6), ['✗ café', '✓ ok']);
  for (let i = 0; i < 200; i++) {
    const words = Array.from({ length: 1 + (i % 9) }, (_, j) => 'x'.repeat(1 + ((i * 7 + j * 3) % 13)));
    const text = words.join(' ');
    const width = 1 + (i % 17);
    const lines = wrapLine(text, width);
    for (const line of lines) assert.ok(line.length <= width, `${JSON.stringify(line)} > ${width}`);
    assert.equal(lines.join('').replace(/ /g, ''), text.replace(/ /g, ''));
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasUnsafeCharacters, terminalSafe, terminalSafeDeep } from '../../src/services/text/sanitize.js';

test('escape sequences become visible text', () => {
  const hostile = 'evil\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b1m';
  const safe = terminalSafe(hostile);
  assert.equal(safe, 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x9b1m');
  assert.equal(hasUnsafeCharacters(safe), false);
});

test('bidi, zero-width and separators are escaped; ordinary Unicode is kept', () => {
  assert.equal(terminalSafe('a\u202eb\u200bc\u2028d\ufeff'), 'a\\u{202e}b\\u{200b}c\\u{2028}d\\u{feff}');
  assert.equal(terminalSafe('Zürich ✓ 東京'), 'Zürich ✓ 東京');
});

test('multiline keeps line feeds only; maxLength cuts with an ellipsis', () => {
  assert.equal(terminalSafe('a\nb\rc', { multiline: true }), 'a\nb\\rc');
  assert.equal(terminalSafe('abcdef', { maxLength: 4 }), 'abc…');
});

test('deep sanitising covers keys and nested values', () => {
  const out = terminalSafeDeep({ 'k\x1b': ['v\x07', { n: 1 }] });
  assert.deepEqual(out, { 'k\\x1b': ['v\\x07', { n: 1 }] });
});

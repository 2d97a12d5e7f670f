// scripts/string-width-patch.mjs (applied by the build to Ink's string-width): the patched module must measure
// exactly as the original does. Both are loaded side by side from node_modules' source and compared on every code
// point up to the end of the emoji blocks, and on random strings built from the pieces that make graphemes of
// several code points (ZWJ sequences, skin tones, flags, keycaps, variation selectors, combining marks, Hangul jamo).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
// @ts-expect-error: a build script (plain JavaScript, no types)
import { patchStringWidth, RGI_EMOJI_LINE } from '../../scripts/string-width-patch.mjs';

type StringWidth = (s: string, options?: { ambiguousIsNarrow?: boolean }) => number;

const require = createRequire(import.meta.url);
const SOURCE_PATH = require.resolve('string-width');
const source = readFileSync(SOURCE_PATH, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'certdesk-string-width-'));

/** The module's source as a file of its own, its bare imports pointing at node_modules. */
async function load(text: string, name: string): Promise<StringWidth> {
  const resolved = text.replace(/from '([^'.][^']*)'/g, (_, spec: string) => {
    const url = pathToFileURL(createRequire(SOURCE_PATH).resolve(spec)).href;
    return `from ${JSON.stringify(url)}`;
  });
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, resolved);
  return ((await import(pathToFileURL(file).href)) as { default: StringWidth }).default;
}

describe("string-width's emoji class, built on first need (scripts/string-width-patch.mjs)", () => {
  let original: StringWidth;
  let patched: StringWidth;
  before(async () => {
    original = await load(source, 'original');
    patched = await load(patchStringWidth(source) as string, 'patched');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies to the installed string-width, and leaves other sources alone', () => {
    assert.ok(source.includes(RGI_EMOJI_LINE), 'the installed string-width no longer has the line the patch replaces');
    assert.notEqual(patchStringWidth(source), undefined);
    assert.equal(patchStringWidth(source.replace(RGI_EMOJI_LINE, '')), undefined);
    assert.equal(
      patchStringWidth(`${source}\nexport const again = rgiEmojiRegex;`),
      undefined,
      'a use other than test',
    );
  });

  it('measures every code point up to U+1FAFF as the original does', () => {
    const differ: string[] = [];
    for (let cp = 0; cp <= 0x1_fa_ff; cp++) {
      if (cp >= 0xd8_00 && cp <= 0xdf_ff) continue;
      const s = String.fromCodePoint(cp);
      for (const ambiguousIsNarrow of [true, false]) {
        if (original(s, { ambiguousIsNarrow }) !== patched(s, { ambiguousIsNarrow })) differ.push(cp.toString(16));
      }
    }
    assert.deepEqual(differ, []);
  });

  it('measures strings of emoji sequences, marks and text as the original does', () => {
    const pieces = [
      'a',
      ' ',
      '─',
      '▶',
      '·',
      '…',
      '中',
      '\u200d', // zero-width joiner
      '\ufe0f', // VS16
      '\ufe0e', // VS15
      '\u20e3', // combining enclosing keycap
      '\u0301', // combining acute
      '#',
      '1',
      '👩',
      '💻',
      '❤',
      '🏽', // skin tone
      '🇩',
      '🇪', // regional indicators
      '☺',
      '\u1100',
      '\u1161',
      '\u11a8', // Hangul jamo
      '\u001b[31m',
      '\u001b[0m',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (parts) => {
        const s = parts.join('');
        assert.equal(patched(s), original(s), JSON.stringify(s));
      }),
      { numRuns: 3000 },
    );
  });
});

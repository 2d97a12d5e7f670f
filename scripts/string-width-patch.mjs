// string-width 8 (Ink's text measuring) builds `/^\p{RGI_Emoji}$/v` when its module loads and runs it on every
// grapheme that is not printable ASCII. V8 expands that class into every emoji sequence Unicode lists: building it
// took 34 ms on Node 22 and 59 ms on Node 24, and its first match another 28-31 ms, all before the TUI's first
// frame, whose borders and marks (─ ▶ · …) are not ASCII.
//
// For a grapheme of one code point, `^\p{RGI_Emoji}$` is `\p{Emoji_Presentation}` minus the 26 regional indicator
// letters (a flag takes two of them): checked for every code point on Node 22 and 24. This patch answers those
// with that small class and builds the full one on the first grapheme of several code points (an emoji sequence,
// a letter with a combining mark). string-width's results are unchanged: test/unit/string-width-patch.test.ts
// compares the patched module with the original on every code point up to U+1FAFF and on random sequences.
// scripts/build.mjs applies it when bundling; if an upgrade changes the line, the build says so and leaves the
// module as it is.

export const RGI_EMOJI_LINE = 'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;';

const LAZY_RGI_EMOJI = [
  '// certdesk (scripts/string-width-patch.mjs): the full class is built on the first grapheme of several code points.',
  'const emojiPresentation = /\\p{Emoji_Presentation}/u;',
  'let rgiEmojiFull;',
  'const rgiEmojiRegex = {',
  '\ttest(segment) {',
  '\t\tconst codePoint = segment.codePointAt(0);',
  '\t\tif (segment.length === (codePoint > 0xFF_FF ? 2 : 1)) {',
  '\t\t\treturn emojiPresentation.test(segment) && !(codePoint >= 0x1_F1_E6 && codePoint <= 0x1_F1_FF);',
  '\t\t}',
  '',
  "\t\trgiEmojiFull ??= new RegExp('^\\\\p{RGI_Emoji}$', 'v');",
  '\t\treturn rgiEmojiFull.test(segment);',
  '\t},',
  '};',
].join('\n');

/** string-width's index.js with the emoji class built lazily, or undefined when its source is not as expected. */
export function patchStringWidth(source) {
  const parts = source.split(RGI_EMOJI_LINE);
  // The object stands in for the RegExp only where it is used for .test().
  const uses = (parts[1] ?? '').split('rgiEmojiRegex').length - 1;
  const tests = (parts[1] ?? '').split('rgiEmojiRegex.test(').length - 1;
  if (parts.length !== 2 || tests === 0 || uses !== tests) return undefined;
  return parts.join(LAZY_RGI_EMOJI);
}

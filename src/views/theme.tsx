// Colours by meaning (tone), switched off as a whole by NO_COLOR or --no-color through ColorContext.
import { Text } from 'ink';
import { createContext, type ReactNode, useContext } from 'react';
import type { Tone } from './models.js';

export const ColorContext = createContext<boolean>(true);

const toneColor: Record<Tone, string | undefined> = {
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  muted: 'gray',
  info: 'cyan',
  accent: 'magenta',
  plain: undefined,
};

export interface ToneTextProps {
  tone?: Tone | undefined;
  bold?: boolean;
  inverse?: boolean;
  wrap?: 'truncate-end' | 'wrap' | 'truncate-middle';
  children?: ReactNode;
}

/** Text in a tone's colour; without colour, `bad` stays visible as bold and `muted` as dim. */
export function ToneText({ tone = 'plain', bold, inverse, wrap = 'truncate-end', children }: ToneTextProps) {
  const color = useContext(ColorContext);
  if (!color) {
    return (
      <Text bold={bold || tone === 'bad'} inverse={inverse} wrap={wrap}>
        {children}
      </Text>
    );
  }
  return (
    <Text color={toneColor[tone]} bold={bold} inverse={inverse} dimColor={tone === 'muted'} wrap={wrap}>
      {children}
    </Text>
  );
}

/**
 * Pads or cuts `text` to exactly `width` cells, marking a cut with `~`. Assumes single-width characters.
 * ASCII on purpose: Ink measures every Text node with string-width, which is ~1000× slower on any non-ASCII
 * string; table cells stay ASCII and glyphs (▶ ● ✓ ✗) get tiny nodes of their own.
 */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return `${chars.slice(0, Math.max(0, width - 1)).join('')}~`;
  const pad = ' '.repeat(width - chars.length);
  return align === 'left' ? text + pad : pad + text;
}

/**
 * For each value, the length of the longest prefix it shares with another (different) value of the column: the part
 * that repeats, which a cut may take. Neighbours in sorted order share the longest prefixes.
 */
export function sharedPrefixes(values: readonly string[]): Map<string, number> {
  const sorted = [...new Set(values)].sort();
  const lcp = (a = '', b = '') => {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
  };
  return new Map(sorted.map((v, i) => [v, Math.max(lcp(v, sorted[i - 1]), lcp(v, sorted[i + 1]))]));
}

/**
 * Pads or cuts `text` to `width` cells, keeping the part that tells rows apart: a cut takes characters from the end
 * of the prefix it shares with other values of the column (`common`, see sharedPrefixes), else from the start;
 * the tail is kept.
 * `calico-system:calico-node-5ckvq:9a3a10` in 30 cells with rows sharing `calico-system:calico-` becomes
 * `calico-syst~-node-5ckvq:9a3a10`; `clusterissuers.cert-manager.io/foo` alone becomes `~cert-manager.io/foo`.
 */
export function fitDistinct(text: string, width: number, shared: number | ReadonlyMap<string, number> = 0): string {
  const chars = [...text];
  if (chars.length <= width || width < 2) return fit(text, width);
  let common = typeof shared === 'number' ? shared : (shared.get(text) ?? 0);
  // Keep the separator before the distinguishing part (`/foo`, `-node-5ckvq`), so the tail reads as a unit.
  const separator = common > 0 ? Math.max(...['/', ':', '.', '-'].map((c) => text.lastIndexOf(c, common - 1))) : -1;
  if (separator > 0) common = separator;
  const over = chars.length - width + 1;
  const keepHead = Math.min(common, chars.length) - over;
  if (keepHead >= 1) return `${chars.slice(0, keepHead).join('')}~${chars.slice(common).join('')}`;
  return `~${chars.slice(chars.length - (width - 1)).join('')}`;
}

/**
 * Like `fit`, but a cut falls in the middle, keeping the end: `calico-s~/calico-node-5ckvq`. For names whose
 * distinguishing part is their suffix (pods of a Deployment or DaemonSet, `namespace/pod`).
 */
export function fitMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width || width < 5) return fit(text, width);
  const head = Math.floor((width - 1) / 3);
  return `${chars.slice(0, head).join('')}~${chars.slice(chars.length - (width - 1 - head)).join('')}`;
}

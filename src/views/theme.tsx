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
 * Like `fit`, but a cut falls in the middle, keeping the end: `calico-s~/calico-node-5ckvq`. For names whose
 * distinguishing part is their suffix (pods of a Deployment or DaemonSet, `namespace/pod`).
 */
export function fitMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width || width < 5) return fit(text, width);
  const head = Math.floor((width - 1) / 3);
  return `${chars.slice(0, head).join('')}~${chars.slice(chars.length - (width - 1 - head)).join('')}`;
}

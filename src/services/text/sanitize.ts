// The one place where text from a cluster or a CSR is made terminal-safe before anyone displays it.
// Control characters (C0, DEL, C1 — so ESC, CSI, OSC and friends), bidi overrides, zero-width and other
// invisible format characters, line/paragraph separators and lone surrogates become visible escapes like
// `\x1b` or `\u{202e}`; they can no longer move the cursor, recolour, retitle, hyperlink or reorder a line.

const UNSAFE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/gu;
const UNSAFE_TEST = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code === 0x0a) return '\\n';
  if (code === 0x0d) return '\\r';
  if (code === 0x09) return '\\t';
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

export interface SafeTextOptions {
  /** Keep line feeds (for multi-line blocks such as PEM or YAML previews). @default false */
  multiline?: boolean;
  /** Cut to this many characters, ending with `…`. @default unlimited */
  maxLength?: number;
}

/** Returns `text` with every character that could act on a terminal replaced by a visible escape. */
export function terminalSafe(text: unknown, options: SafeTextOptions = {}): string {
  let s = typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
  if (UNSAFE_TEST.test(s)) {
    s = s.replace(UNSAFE, (ch) => (options.multiline && ch === '\n' ? ch : escapeChar(ch)));
  }
  if (options.maxLength !== undefined && s.length > options.maxLength) {
    s = `${s.slice(0, Math.max(0, options.maxLength - 1))}…`;
  }
  return s;
}

/** True when `text` holds anything `terminalSafe` would escape (used by findings to flag hostile names). */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE_TEST.test(text);
}

/** Deep copy of plain JSON data with every string (keys included) made terminal-safe. */
export function terminalSafeDeep<T>(value: T): T {
  if (typeof value === 'string') return terminalSafe(value) as T;
  if (Array.isArray(value)) return value.map((v) => terminalSafeDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[terminalSafe(k)] = terminalSafeDeep(v);
    return out as T;
  }
  return value;
}

// Ink keeps the tokenised form of each line it draws (its "styled chars": one object per character) in a cache that
// lives for one frame only: every frame tokenises every line again, although most lines did not change. With a
// 140×40 screen redrawn several times a second while 200 CSR events a second arrive, that was about two thirds of
// all the memory the TUI allocated, and the pages it filled were often promoted to the old generation mid-frame
// (measured: docs/tui.md, "Memory").
//
// This gives Ink's Output one cache shared across frames instead, bounded to the lines of the last frames. It is the
// same memo of the same pure functions (Ink's own cache class computes every entry), and Ink only reads what it
// returns, so frames are byte-for-byte those Ink draws alone (test/views/tui/ink-line-cache.test.ts compares them).
// It touches an internal of Ink: it installs itself only when Ink's Output looks as described below and otherwise
// leaves Ink as it is (slower, never wrong); the test fails when the installed Ink no longer matches.
import { loadInkOutput } from './ink-output.js';

/** The part of Ink's OutputCaches that Output.get uses. */
interface OutputCaches {
  styledChars: Map<string, unknown>;
  widths: Map<string, number>;
  blockWidths: Map<string, number>;
  getStyledChars(line: string): unknown;
  getStringWidth(text: string): number;
  getWidestLine(text: string): number;
}

interface OutputInstance {
  caches: OutputCaches;
  write(x: number, y: number, text: string, options: { transformers: unknown[] }): void;
  get(): { output: string; height: number };
}

export type OutputClass = new (options: { width: number; height: number }) => OutputInstance;

/** Lines kept per generation: a frame draws a few hundred distinct strings (cells, rows, borders). */
const GENERATION_LINES = 1024;

/**
 * Two generations of Ink's own caches: lookups fill the current one, an entry found in the previous one moves up,
 * and a full current generation becomes the previous one (the oldest is dropped). So what the last frames drew
 * stays cached and memory stays bounded whatever scrolls by.
 */
export class SharedOutputCaches {
  private previous: OutputCaches;
  private current: OutputCaches;

  constructor(private readonly make: () => OutputCaches) {
    this.previous = make();
    this.current = make();
  }

  private lookup<T>(pick: (c: OutputCaches) => Map<string, T>, key: string, compute: (c: OutputCaches) => T): T {
    const current = this.current;
    let value = pick(current).get(key);
    if (value !== undefined) return value;
    value = pick(this.previous).get(key);
    if (value !== undefined) pick(current).set(key, value);
    else value = compute(current);
    if (current.styledChars.size + current.blockWidths.size > GENERATION_LINES || current.widths.size > 8192) {
      this.previous = current;
      this.current = this.make();
    }
    return value;
  }

  getStyledChars(line: string): unknown {
    return this.lookup(
      (c) => c.styledChars,
      line,
      (c) => c.getStyledChars(line),
    );
  }

  getStringWidth(text: string): number {
    return this.lookup(
      (c) => c.widths,
      text,
      (c) => c.getStringWidth(text),
    );
  }

  getWidestLine(text: string): number {
    return this.lookup(
      (c) => c.blockWidths,
      text,
      (c) => c.getWidestLine(text),
    );
  }

  /** Entries held, for tests. */
  get size(): number {
    const n = (c: OutputCaches) => c.styledChars.size + c.widths.size + c.blockWidths.size;
    return n(this.previous) + n(this.current);
  }
}

/** Ink's Output class, from the copy of Ink that the TUI draws with. */
export async function inkOutputClass(): Promise<OutputClass> {
  return (await loadInkOutput()) as OutputClass;
}

const installed = Symbol.for('certdesk.inkLineCache');

/** Ink's own get, kept on the prototype under this key once the cache is installed (tests compare with it). */
export const INK_GET = Symbol.for('certdesk.inkOwnGet');

/** Why the cache cannot go into this Output class, or undefined when it can. */
export function unsupportedReason(Output: OutputClass): string | undefined {
  if (typeof Output !== 'function' || typeof Output.prototype?.get !== 'function') return 'no Output.get';
  const probe = new Output({ width: 1, height: 1 });
  const c = probe.caches as Partial<OutputCaches> | undefined;
  if (!c || !(c.styledChars instanceof Map) || !(c.widths instanceof Map) || !(c.blockWidths instanceof Map)) {
    return 'Output.caches has no styledChars/widths/blockWidths maps';
  }
  for (const m of ['getStyledChars', 'getStringWidth', 'getWidestLine'] as const) {
    if (typeof c[m] !== 'function') return `Output.caches has no ${m}`;
  }
  const source = Output.prototype.get.toString();
  // get() must reach the caches only through these three methods, and nothing else may (write() does not).
  const uses = source.match(/this\.caches\.\w+/g) ?? [];
  const allowed = new Set(['this.caches.getStyledChars', 'this.caches.getStringWidth', 'this.caches.getWidestLine']);
  if (uses.length === 0 || uses.some((u: string) => !allowed.has(u))) return 'Output.get uses its caches differently';
  if (/caches/.test(Output.prototype.write.toString())) return 'Output.write uses the caches';
  return undefined;
}

/**
 * Gives every Output one cache shared across frames (idempotent). Returns whether it is installed; when Ink's
 * internals differ from what this expects, nothing changes and the reason is returned instead.
 */
export function installLineCache(Output: OutputClass): { installed: true } | { installed: false; reason: string } {
  const proto = Output.prototype as OutputInstance & { [installed]?: true; [INK_GET]?: OutputInstance['get'] };
  if (proto[installed]) return { installed: true };
  const reason = unsupportedReason(Output);
  if (reason) return { installed: false, reason };
  const make = () => new Output({ width: 0, height: 0 }).caches;
  const shared = new SharedOutputCaches(make) as unknown as OutputCaches;
  const get = proto.get;
  Object.defineProperty(proto, installed, { value: true });
  Object.defineProperty(proto, INK_GET, { value: get });
  proto.get = function (this: OutputInstance) {
    this.caches = shared;
    return get.call(this);
  };
  return { installed: true };
}

/** Installs the shared line cache into the Ink that the TUI loads; never throws (Ink works without it). */
export async function installInkLineCache(): Promise<boolean> {
  try {
    return installLineCache(await inkOutputClass()).installed;
  } catch {
    return false;
  }
}

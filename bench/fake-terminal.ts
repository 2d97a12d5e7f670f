// What the in-process TUI benches (tui, certs) draw into and measure with: an in-memory 140×40 terminal that
// records the time of each write, a raw-mode stdin, Ink's options for them, key-to-frame latencies and their
// percentiles.
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import type { RenderOptions } from 'ink';

/** An in-memory terminal for Ink: records each write with its time. */
export class FakeTerminal extends Writable {
  readonly isTTY = true;
  columns = 140;
  rows = 40;
  listeners_: ((text: string, at: number) => void)[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void) {
    const text = chunk.toString();
    const at = performance.now();
    for (const l of this.listeners_) l(text, at);
    done();
  }
  /** Resolves with the time of the first write (from now on) for which `test` holds. */
  waitWrite(test: (text: string) => boolean, timeoutMs = 120_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching frame')), timeoutMs);
      const l = (text: string, at: number) => {
        if (!test(text)) return;
        clearTimeout(timer);
        this.listeners_ = this.listeners_.filter((x) => x !== l);
        resolve(at);
      };
      this.listeners_.push(l);
    });
  }
}

/** A stdin Ink accepts as a TTY in raw mode; what is written to it is what the App reads as keys. */
export function fakeStdin(): NodeJS.ReadStream {
  const s = new PassThrough() as unknown as NodeJS.ReadStream & { isTTY: boolean };
  s.isTTY = true;
  (s as unknown as { setRawMode: (m: boolean) => void }).setRawMode = () => {};
  (s as unknown as { ref: () => void }).ref = () => {};
  (s as unknown as { unref: () => void }).unref = () => {};
  return s;
}

/** Ink's options for drawing into `terminal`, at most `maxFps` frames/s and incrementally, as run-tui.ts draws. */
export function inkOptions(terminal: FakeTerminal, stdin: NodeJS.ReadStream, maxFps: number): RenderOptions {
  return {
    stdout: terminal as unknown as NodeJS.WriteStream,
    stdin,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps,
    incrementalRendering: true,
  };
}

/**
 * Key-to-frame, `count` times: j/k alternately; the frame is the first write, after the render that moved the
 * cursor (as `cursor` reads it from the last rendered state), that redraws the selected row. Milliseconds each.
 */
export async function pressKeys(
  terminal: FakeTerminal,
  stdin: NodeJS.ReadStream,
  cursor: () => number,
  count: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const down = i % 2 === 0;
    const expected = cursor() + (down ? 1 : -1);
    let rendered = false;
    const frame = terminal.waitWrite((t) => {
      if (!rendered) rendered = cursor() === expected;
      return rendered && t.includes('▶');
    }, 10_000);
    const pressed = performance.now();
    stdin.write(down ? 'j' : 'k');
    latencies.push((await frame) - pressed);
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 50));
  }
  return latencies;
}

/** The `p`th percentile (0–100) of `values`: the sorted value at index ⌊p/100 · n⌋; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

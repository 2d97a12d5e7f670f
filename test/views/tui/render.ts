// Renders a view with ink-testing-library and waits (with a deadline) for its first frame.
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';

export async function frameOf(element: ReactElement, timeoutMs = 2000): Promise<string> {
  const instance = render(element);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const frame = instance.lastFrame();
      if (frame) return frame;
      if (Date.now() > deadline) throw new Error('no frame rendered');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    instance.unmount();
    instance.cleanup();
  }
}

/** Lines of a frame, trailing spaces cut. */
export function lines(frame: string): string[] {
  return frame.split('\n').map((l) => l.trimEnd());
}

/**
 * Renders on a terminal `columns` wide (ink-testing-library's is always 100, and Ink clips a wider frame's blank
 * cells to it), and waits for the first frame.
 */
export async function frameAt(element: ReactElement, columns: number, timeoutMs = 2000): Promise<string> {
  const { EventEmitter } = await import('node:events');
  const { render: inkRender } = await import('ink');
  let last: string | undefined;
  const stdout = Object.assign(new EventEmitter(), {
    columns,
    rows: 100,
    write: (frame: string) => {
      last = frame;
      return true;
    },
  });
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read: () => null,
  });
  const instance = inkRender(element, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: stdout as unknown as NodeJS.WriteStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (last) return last;
      if (Date.now() > deadline) throw new Error('no frame rendered');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    instance.unmount();
    instance.cleanup();
  }
}

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

// V8's young generation (its "new space") starts small and doubles after a scavenge in which much survived, up to a
// maximum fixed when the process starts: 16 MiB semi-spaces on Node 20 and 22, 64 MiB on Node 24 (V8 13.6). The
// TUI keeps everything its lists bring, so it always reaches that maximum; on Node 24 that was 128 MiB of new space,
// about 95 MiB more peak RSS than on Node 22 (docs/performance.md, "Memory").
// The maximum can only be set on Node's command line (--max-semi-space-size): a flag set later is read too late, and
// bin/certdesk.js would need a second process to pass it. The growth factor is read at each growth, though: after
// each GC, growth is turned off while the new space is at or above the cap and on again below it.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** At most 2 × 8 MiB semi-spaces: below Node 22's default, with shorter scavenges for about as much GC time. */
export const YOUNG_GENERATION_CAP_MIB = 16;

/** Caps the new space at `capMiB` for the rest of the process, unless the person chose a size on the command line. */
export function capYoungGeneration(capMiB = YOUNG_GENERATION_CAP_MIB): void {
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /semi[-_]space/.test(a));
  if (chosen) return;
  const cap = capMiB * 2 ** 20;
  let growing = true;
  const check = () => {
    const full = (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) >= cap;
    if (full === growing) {
      growing = !growing;
      setFlagsFromString(`--semi-space-growth-factor=${growing ? 2 : 1}`);
    }
  };
  check();
  new PerformanceObserver(check).observe({ entryTypes: ['gc'] });
}

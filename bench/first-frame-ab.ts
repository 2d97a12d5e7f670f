// A/B of the TUI's first full frame: two builds (or one build with two environments) started cold in turn, in
// tmux, on the same two-context cluster, each next to the headless `get csr -o name` of the same lists by the same
// build. Medians of wall time to the frame (`of N` on screen) and of the process's CPU at that moment
// (/proc/<pid>/stat). How docs/tui.md's "Session 13" figures were taken.
//   certdesk sandbox --clusters east,west --scenario scale --kubeconfig-out /tmp/scale.kubeconfig &
//   node --import tsx bench/first-frame-ab.ts /tmp/scale.kubeconfig 6 A=/other/checkout/bin/certdesk.js B=PROTO=1
// A side is `PATH/bin/certdesk.js` (another build) or `NAME=VALUE,…` (this build with those variables).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTuiInTmux } from './tmux.js';

const [kubeconfigArg, runsArg, ...sides] = process.argv.slice(2);
if (!kubeconfigArg || !runsArg || sides.length !== 2 || sides.some((s) => !/^[AB]=/.test(s))) {
  console.error('usage: bench/first-frame-ab.ts KUBECONFIG RUNS A=BIN|VAR=V,… B=BIN|VAR=V,…  (BENCH_NODE: the node)');
  process.exit(2);
}
const kubeconfig: string = kubeconfigArg;
const node = process.env.BENCH_NODE ?? process.execPath;
const THIS_BIN = fileURLToPath(new URL('../bin/certdesk.js', import.meta.url));

interface Side {
  name: string;
  bin: string;
  env: Record<string, string>;
}
const parse = (arg: string): Side => {
  const [name, spec] = [arg.slice(0, 1), arg.slice(2)];
  if (spec.endsWith('.js')) return { name, bin: spec, env: {} };
  const env = Object.fromEntries(
    spec
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split(/=(.*)/s, 2) as [string, string]),
  );
  return { name, bin: THIS_BIN, env };
};

const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
};
const total = execFileSync(
  node,
  [THIS_BIN, 'get', 'csr', '--kubeconfig', kubeconfig, '--context', 'east', '--context', 'west', '-o', 'name'],
  { encoding: 'utf8', maxBuffer: 2 ** 26 },
)
  .split('\n')
  .filter(Boolean).length;

async function once(side: Side): Promise<{ wall: number; cpu: number; headless: number }> {
  const start = performance.now();
  const term = startTuiInTmux(`ab-${side.name}`, kubeconfig, undefined, node, side);
  let wall = Number.NaN;
  let cpu = Number.NaN;
  try {
    const pid = Number(term.tmux('display', '-p', '-t', 'b', '#{pane_pid}').trim());
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      if (term.screen().includes(`of ${total}`)) {
        wall = performance.now() - start;
        cpu = cpuMs(pid);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    term.kill();
  }
  const t = performance.now();
  execFileSync(
    node,
    [side.bin, 'get', 'csr', '--kubeconfig', kubeconfig, '--context', 'east', '--context', 'west', '-o', 'name'],
    { env: { ...process.env, ...side.env }, maxBuffer: 2 ** 26 },
  );
  return { wall, cpu, headless: performance.now() - t };
}

const [a, b] = sides.map(parse) as [Side, Side];
const results = new Map<string, { wall: number; cpu: number; headless: number }[]>([
  ['A', []],
  ['B', []],
]);
for (let i = 0; i < Number(runsArg); i++) {
  for (const side of [a, b]) results.get(side.name)?.push(await once(side));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`${node} · ${total} CSRs · ${runsArg} alternating cold starts each · load ${load}`);
for (const [name, runs] of results) {
  const wall = median(runs.map((r) => r.wall));
  const headless = median(runs.map((r) => r.headless));
  console.log(
    `${name}: first frame ${wall.toFixed(0)} ms (CPU ${median(runs.map((r) => r.cpu)).toFixed(0)} ms) · headless listing ${headless.toFixed(0)} ms · ${(wall / headless).toFixed(2)}× · walls ${runs.map((r) => r.wall.toFixed(0)).join(' ')}`,
  );
}

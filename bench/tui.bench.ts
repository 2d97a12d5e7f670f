// The TUI at scale: two sandbox contexts with 10,000 CSRs and 5,000 pods each. Time from start to the first full
// frame, key-to-frame latency (p50/p95) while 200 CSR events/s arrive, and peak memory; next to the bare store
// sync (no UI) measured in the same run. The sandbox and the event load run in a child process; the TUI (the real
// App, Ink and the kube store) runs here, drawing into an in-memory 140×40 terminal.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TuiState } from '../src/app/store.js';
import { createClusterStore, loadContexts } from '../src/services/kube/index.js';
import { DEFAULT_POLICY } from '../src/services/policy/index.js';
import { FakeTerminal, fakeStdin, inkOptions, percentile, pressKeys } from './fake-terminal.js';
import { type BenchNode, benchNodes } from './nodes.js';
import { startTuiInTmux } from './tmux.js';

const CSRS = 10_000;
const PODS = 5_000;
const RATE = 200;
const KEYS = 60;
const SANDBOX_MODULE = fileURLToPath(new URL('../src/services/sandbox/index.ts', import.meta.url));

/** The child: a two-cluster scale sandbox; on `churn SECONDS` it creates RATE CSRs per second (both clusters). */
const CHILD = `
const { startSandbox } = await import(process.env.SANDBOX_MODULE);
const sandbox = await startSandbox({ clusters: ['east', 'west'], scale: { csrs: ${CSRS}, pods: ${PODS} },
  builtinSigners: false, watchHistorySize: 20000 });
process.stdout.write(JSON.stringify({ kubeconfig: sandbox.kubeconfigPath }) + '\\n');
const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const request = sandbox.cluster('east').api.store.list('certificatesigningrequests')[0]?.obj?.spec?.request;
const admin = { name: 'admin', groups: ['system:masters'] };
let n = 0;
const churned = [];
const rl = (await import('node:readline')).createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.startsWith('churn ')) {
    const seconds = Number(line.slice(6));
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * ${RATE});
      while (sent < due) {
        const cluster = sandbox.cluster(sent % 2 ? 'west' : 'east');
        const name = 'churn-' + n++;
        await cluster.createAs(admin, path,
          { metadata: { name }, spec: { request, signerName: 'example.com/churn', usages: ['client auth'] } });
        churned.push([cluster, name]);
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    process.stdout.write(JSON.stringify({ sent, seconds: (performance.now() - start) / 1000 }) + '\\n');
  } else if (line === 'reset') {
    // Back to the scenario's 2 × ${CSRS} CSRs, so that every run of the binary starts on the same lists.
    for (const [cluster, name] of churned.splice(0)) await cluster.requestAs(admin, 'DELETE', path + '/' + name);
    process.stdout.write('{}\\n');
  } else if (line === 'exit') {
    await sandbox.stop();
    process.exit(0);
  }
}
`;

function startChild() {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, SANDBOX_MODULE },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // A child that died is reported by next(); writes to its closed stdin must not crash the run with EPIPE.
  child.stdin.on('error', () => {});
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next(): Promise<Record<string, unknown>> {
      const { value, done } = await lines.next();
      if (done) throw new Error('the sandbox child exited');
      return JSON.parse(value as string) as Record<string, unknown>;
    },
    send: (line: string) => child.stdin.write(`${line}\n`),
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.write('exit\n');
      const timer = setTimeout(() => child.kill(), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mib = (bytes: number) => bytes / 2 ** 20;

const f = (n: number, digits = 0) => n.toFixed(digits);

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The built binary in a real terminal (tmux, 140×40): start → first full frame including Node's startup and the
 * imports (every context's CSRs in the table; the pods follow, the header says `init …` until they are counted),
 * start → the pods counted (`init N`), then its peak RSS (VmHWM) after `during` ran. Undefined when tmux or dist/
 * is missing.
 */
async function binaryRun(
  kubeconfig: string,
  total: number,
  during: (keys: (k: string) => void) => Promise<void>,
  node: string,
): Promise<{ firstFrameMs: number; podsCountedMs: number; peakRssMiB: number } | undefined> {
  const { execFileSync } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  if (!existsSync(`${ROOT}dist/cli.js`)) return undefined;
  try {
    execFileSync('tmux', ['-V']);
  } catch {
    return undefined;
  }
  const start = performance.now();
  const term = startTuiInTmux('tui', kubeconfig, undefined, node);
  try {
    let firstFrameMs = Number.NaN;
    let podsCountedMs = Number.NaN;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const screen = term.screen();
      if (Number.isNaN(firstFrameMs) && screen.includes(`of ${total}`)) firstFrameMs = performance.now() - start;
      if (Number.isNaN(podsCountedMs) && / init \d+ /.test(screen.split('\n')[0] ?? '')) {
        podsCountedMs = performance.now() - start;
      }
      if (!Number.isNaN(firstFrameMs) && !Number.isNaN(podsCountedMs)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await during(term.keys);
    return { firstFrameMs, podsCountedMs, peakRssMiB: term.peakRssMiB() };
  } finally {
    term.kill();
  }
}
/** The headless listing of the same CSRs (same startup, same lists, no UI): wall time and peak RSS. */
async function headlessRun(kubeconfig: string, node: string): Promise<{ ms: number; peakRssMiB: number }> {
  const { execFile } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  let peakRssMiB = Number.NaN;
  const t = performance.now();
  await new Promise<void>((resolve) => {
    const args = ['get', 'csr', '--kubeconfig', kubeconfig, '--context', 'east', '--context', 'west', '-o', 'name'];
    const run = execFile(node, [`${ROOT}bin/certdesk.js`, ...args], { maxBuffer: 64 * 2 ** 20 }, () => {
      clearInterval(poll);
      resolve();
    });
    // VmHWM only grows: the last reading before the process ends is its peak (to within 20 ms).
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.pid}/status`, 'utf8'));
        if (m) peakRssMiB = Number(m[1]) / 1024;
      } catch {}
    }, 20);
  });
  return { ms: performance.now() - t, peakRssMiB };
}

/** Cold starts of the binary (and of its headless reference) per run of the benchmark; medians are reported. */
const BINARY_RUNS = 3;
const median = (values: number[]) => percentile(values, 50);
const spread = (values: number[], digits = 0) =>
  `${f(median(values), digits)} (${f(Math.min(...values), digits)}–${f(Math.max(...values), digits)})`;

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

export async function run(): Promise<string> {
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false';
  const child = startChild();
  try {
    const { kubeconfig } = (await child.next()) as { kubeconfig: string };
    const contexts = loadContexts({ kubeconfig, contexts: ['east', 'west'] });

    // The real binary, as a person starts it, first: this process is still small and idle, so the machine is the
    // binary's and the sandbox's. Each run: first frame, then 8 s of events and keys, then its peak RSS; then the
    // headless listing of the same lists as its reference; then the events' CSRs are deleted again.
    const binaries: {
      node: BenchNode;
      runs: { firstFrameMs: number; podsCountedMs: number; peakRssMiB: number }[];
      headless: { ms: number; peakRssMiB: number }[];
    }[] = [];
    for (const node of benchNodes()) {
      const runs: { firstFrameMs: number; podsCountedMs: number; peakRssMiB: number }[] = [];
      const headless: { ms: number; peakRssMiB: number }[] = [];
      // Node 22+ fill their compile cache on the first start: one listing first, not measured.
      await headlessRun(kubeconfig, node.path);
      for (let i = 0; i < BINARY_RUNS; i++) {
        const binary = await binaryRun(
          kubeconfig,
          2 * CSRS,
          async (key) => {
            child.send('churn 8');
            for (let k = 0; k < 40; k++) {
              key(k % 2 ? 'k' : 'j');
              await new Promise((r) => setTimeout(r, 150));
            }
            await child.next();
          },
          node.path,
        );
        if (!binary) break;
        runs.push(binary);
        child.send('reset');
        await child.next();
        headless.push(await headlessRun(kubeconfig, node.path));
      }
      if (runs.length) binaries.push({ node, runs, headless });
    }

    // Reference: the bare store, synced, no UI.
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const bareRssBase = process.memoryUsage().rss;
    let barePeakRss = bareRssBase;
    let barePeakHeap = heapBefore;
    const bareSampler = setInterval(() => {
      const m = process.memoryUsage();
      barePeakRss = Math.max(barePeakRss, m.rss);
      barePeakHeap = Math.max(barePeakHeap, m.heapUsed);
    }, 50);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const bare = createClusterStore(contexts);
    bare.start();
    await bare.whenSynced(undefined, 120_000);
    const bareSync = performance.now() - t0;
    const bareCpu = cpuMs(process.cpuUsage(cpu0));
    clearInterval(bareSampler);
    gc();
    const bareHeap = mib(process.memoryUsage().heapUsed - heapBefore);
    bare.stop();
    gc();

    // The TUI.
    process.env.NODE_ENV ??= 'production';
    const { createElement } = await import('react');
    const { render } = await import('ink');
    await (await import('../src/views/ink-line-cache.js')).installInkLineCache();
    const { App, notifyInsights } = await import('../src/app/app.js');
    const { MAX_FPS, tuiInsights } = await import('../src/app/run-tui.js');
    const { needsNodes } = await import('../src/services/actions/facts.js');
    const rssBase = process.memoryUsage().rss;
    let peakRss = rssBase;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const terminal = new FakeTerminal();
    const stdin = fakeStdin();
    const total = 2 * CSRS;
    const firstFrame = terminal.waitWrite((t) => t.includes(`of ${total}`) && !t.includes('connecting'), 120_000);
    let latest: TuiState | undefined;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    // As run-tui.ts makes it: Nodes followed when the policy's node-addresses finding needs them.
    const store = createClusterStore(contexts, { nodes: needsNodes(DEFAULT_POLICY) });
    // The findings as the binary makes them (cluster facts included: superseded, key-reuse and the rest).
    const { insights } = tuiInsights({
      store,
      policy: DEFAULT_POLICY,
      nodes: needsNodes(DEFAULT_POLICY),
      onChange: notifyInsights,
    });
    store.start();
    const instance = render(
      createElement(App, {
        store,
        insights,
        effects: { contexts: new Map(contexts.map((c) => [c.name, c])), store },
        places: { config: '-', auditLog: '-', caRegistry: '-' },
        color: true,
        onFrame: (state: TuiState) => {
          latest = state;
        },
      }),
      inkOptions(terminal, stdin, MAX_FPS),
    );
    const firstFrameMs = (await firstFrame) - start;
    const firstFrameCpu = cpuMs(process.cpuUsage(cpuStart));

    // Key-to-frame (bench/fake-terminal.ts): first with no events (reference), then while RATE CSR events/s arrive.
    const cursor = () => latest?.cursorIndex.csrs ?? 0;
    await new Promise((r) => setTimeout(r, 1500));
    const idle = await pressKeys(terminal, stdin, cursor, 20);
    child.send(`churn ${Math.ceil((KEYS * 150) / 1000) + 3}`);
    await new Promise((r) => setTimeout(r, 1000));
    const latencies = await pressKeys(terminal, stdin, cursor, KEYS);
    const churn = (await child.next()) as { sent: number; seconds: number };
    clearInterval(sampler);
    gc();
    const retainedHeap = mib(process.memoryUsage().heapUsed - heapBefore);
    instance.unmount();
    insights.stop();
    store.stop();

    const load = (await import('node:os')).loadavg()[0] ?? 0;

    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const rows = [
      ['start → first full frame (both contexts, 20,000 CSRs listed)', `${f(firstFrameMs)} ms`, '< 2000 ms'],
      ['reference: bare store sync, no UI (same data)', `${f(bareSync)} ms`, ''],
      ['ratio first frame / bare sync', `${f(firstFrameMs / bareSync, 2)}×`, ''],
      [
        'CPU time to first frame / to bare sync (less sensitive to a busy machine)',
        `${f(firstFrameCpu)} / ${f(bareCpu)} ms = ${f(firstFrameCpu / bareCpu, 2)}×`,
        '',
      ],
      [
        `key-to-frame p50 / p95 (${KEYS} keys, ${f(churn.sent / churn.seconds)} CSR events/s)`,
        `${f(p50, 1)} / ${f(p95, 1)} ms`,
        'p95 < 50 ms',
      ],
      [
        'reference: key-to-frame p50 / p95 with no events (20 keys)',
        `${f(percentile(idle, 50), 1)} / ${f(percentile(idle, 95), 1)} ms`,
        '',
      ],
      ['ratio p95 under load / p95 idle', `${f(p95 / percentile(idle, 95), 2)}×`, ''],
      ...(binaries.length
        ? binaries.flatMap(({ node, runs, headless }) => [
            [
              `Node ${node.version}: built binary in tmux: start → first full frame (Node startup and imports included; median (range) of ${runs.length} cold starts)`,
              `${spread(runs.map((r) => r.firstFrameMs))} ms`,
              '< 2000 ms',
            ],
            [
              `Node ${node.version}: reference: built binary, \`certdesk get csr --context east --context west -o name\` (same lists, no UI)`,
              `${spread(headless.map((r) => r.ms))} ms`,
              '',
            ],
            [
              `Node ${node.version}: ratio of the medians: binary first frame / headless listing`,
              `${f(median(runs.map((r) => r.firstFrameMs)) / median(headless.map((r) => r.ms)), 2)}×`,
              '≤ 1.5×',
            ],
            [
              `Node ${node.version}: built binary: start → the pods counted too (header \`init N\`; until then \`init …\`), median (range)`,
              `${spread(runs.map((r) => r.podsCountedMs))} ms`,
              '',
            ],
            [
              `Node ${node.version}: built binary: peak RSS (VmHWM) after 8 s of ${RATE} CSR events/s and 40 keys, median (range)`,
              `${spread(runs.map((r) => r.peakRssMiB))} MiB`,
              '< 300 MB',
            ],
            [
              `Node ${node.version}: reference: peak RSS of that headless listing (same lists, no UI)`,
              `${spread(headless.map((r) => r.peakRssMiB))} MiB`,
              '',
            ],
          ])
        : [['built binary (needs `npm run build` and tmux)', 'not measured', '']]),
      ['peak RSS of this process (store + UI, after the reference run)', `${f(mib(peakRss))} MiB`, ''],
      ['reference: RSS of this process before the TUI started (Node, tsx, modules)', `${f(mib(rssBase))} MiB`, ''],
      ['reference: peak RSS during the bare store sync', `${f(mib(barePeakRss))} MiB`, ''],
      ['peak JS heap of the TUI process', `${f(mib(peakHeap))} MiB`, ''],
      ['reference: peak JS heap during the bare store sync', `${f(mib(barePeakHeap))} MiB`, ''],
      ['JS heap retained with the TUI running, after GC', `${f(retainedHeap)} MiB`, ''],
      ['reference: heap retained by the bare store, synced', `${f(bareHeap)} MiB`, ''],
    ];
    return [
      '## TUI at scale',
      '',
      `Two sandbox contexts with ${CSRS.toLocaleString('en')} CSRs and ${PODS.toLocaleString('en')} pods each (sandbox and event load in a child process). The real App, Ink 6 and the kube store run in the measured process, drawing into an in-memory 140×40 terminal. Key-to-frame is the time from writing the key to stdin to the first terminal write, after the commit that moved the cursor, that redraws the selected row; Ink draws at most ${MAX_FPS} frames/s (as in the binary), so up to ${Math.ceil(1000 / MAX_FPS)} ms of it can be Ink's frame throttle. The built binary runs first, in tmux, while this process is still idle: ${BINARY_RUNS} cold starts, each on the same 2 × ${CSRS.toLocaleString('en')} CSRs, each next to a headless listing of them. Its first full frame is the CSR table of both contexts, what the listing prints too; the pods are listed after the CSRs of every context (the header says \`init …\` until they are counted: a row of its own).`,
      '',
      '| measure | value | target |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `Load average (1 min) on this shared machine when the run ended: ${f(load, 1)}.`,
      '',
      'Command: `BENCH_NODES=… npm run bench tui` (bench/nodes.ts: the built binary under each Node given)',
    ].join('\n');
  } finally {
    await child.stop();
  }
}

// Startup of the built CLI (`npm run build` first; `npm run bench startup` does it): wall time from spawn to exit of
// `certdesk --help`, `--version`, `get csr` (1,000 CSRs) and `inspect <CSR file>`, next to references measured in the
// same run: bare `node -e 0`, `kubectl version --client`, and `kubectl get csr` against the same sandbox.
// Every command runs once per round, in a shuffled order, so load from other processes on the machine spreads
// evenly over all of them; the first rounds only warm caches (page cache, Node's compile cache) and are dropped.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startSandbox } from '../src/services/sandbox/index.js';

const exec = promisify(execFile);
const BIN = resolve('bin/certdesk.js');
const CSR_FILE = resolve('test/unit/pki/fixtures/rsa8192.csr.pem');
const RUNS = Number(process.env.CERTDESK_BENCH_RUNS ?? 20);
/** Optional: bin/certdesk.js of another build (e.g. an older commit's), measured in the same rounds for before/after. */
const BASELINE = process.env.CERTDESK_STARTUP_BASELINE;
const WARMUP = 2;
const CSRS = 1000;

interface Case {
  label: string;
  file: string;
  args: string[];
  /** Label of the reference this case is compared with. */
  ref?: string;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-bench-startup-'));
  const csrFile = join(dir, 'request.csr');
  copyFileSync(CSR_FILE, csrFile);
  const sandbox = await startSandbox({ clusters: ['east'], scale: { csrs: CSRS, pods: 0 }, builtinSigners: false });
  const env = {
    ...process.env,
    KUBECONFIG: sandbox.kubeconfigPath,
    CERTDESK_CONFIG_DIR: join(dir, 'config'),
    CERTDESK_STATE_DIR: join(dir, 'state'),
  };
  const node = process.execPath;
  const BARE = 'node -e 0';
  const KUBECTL_GET = 'kubectl get csr';
  const cases: Case[] = [
    { label: BARE, file: node, args: ['-e', '0'] },
    { label: 'kubectl version --client', file: 'kubectl', args: ['version', '--client'] },
    { label: KUBECTL_GET, file: 'kubectl', args: ['get', 'csr'] },
    { label: 'certdesk --help', file: node, args: [BIN, '--help'], ref: BARE },
    { label: 'certdesk --version', file: node, args: [BIN, '--version'], ref: BARE },
    { label: 'certdesk inspect <csr file>', file: node, args: [BIN, 'inspect', csrFile], ref: BARE },
    { label: 'certdesk get csr', file: node, args: [BIN, 'get', 'csr'], ref: KUBECTL_GET },
  ];
  if (BASELINE) {
    const base = resolve(BASELINE);
    cases.push(
      { label: 'baseline --help', file: node, args: [base, '--help'], ref: BARE },
      { label: 'baseline --version', file: node, args: [base, '--version'], ref: BARE },
      { label: 'baseline inspect <csr file>', file: node, args: [base, 'inspect', csrFile], ref: BARE },
      { label: 'baseline get csr', file: node, args: [base, 'get', 'csr'], ref: KUBECTL_GET },
    );
  }
  const times = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  const lines = new Map<string, number>();
  try {
    for (let round = 0; round < WARMUP + RUNS; round++) {
      for (const c of shuffle(cases)) {
        const t0 = performance.now();
        const { stdout } = await exec(c.file, c.args, { env, maxBuffer: 64 * 2 ** 20 });
        const ms = performance.now() - t0;
        if (round >= WARMUP) times.get(c.label)?.push(ms);
        lines.set(c.label, stdout.split('\n').length - 1);
      }
    }
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Both listings print a header plus one line per CSR; a mismatch means one of them did not list everything.
  for (const label of ['certdesk get csr', ...(BASELINE ? ['baseline get csr'] : [])]) {
    if (lines.get(label) !== lines.get(KUBECTL_GET)) {
      throw new Error(`${label} printed ${lines.get(label)} lines, kubectl ${lines.get(KUBECTL_GET)}`);
    }
  }
  const baselineNote = BASELINE
    ? ` The \`baseline\` rows are another build of certdesk (\`CERTDESK_STARTUP_BASELINE\`: ${process.env.CERTDESK_STARTUP_BASELINE_NAME ?? BASELINE}), measured in the same rounds.`
    : '';
  const med = (label: string) => percentile(times.get(label) ?? [], 50);
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  const rows = cases.map((c) => {
    const xs = times.get(c.label) ?? [];
    const ratio = c.ref ? `${(med(c.label) / med(c.ref)).toFixed(2)}× \`${c.ref}\`` : 'reference';
    const vsBare = c.label === BARE ? '1.00×' : `${(med(c.label) / med(BARE)).toFixed(2)}×`;
    return `| \`${c.label}\` | ${f(percentile(xs, 50))} | ${f(percentile(xs, 90))} | ${vsBare} | ${ratio} |`;
  });
  return `## Startup

| command | median | p90 | vs \`node -e 0\` | ratio |
|---|---|---|---|---|
${rows.join('\n')}

Command: \`npm run bench startup\` (runs \`npm run build\` first). ${RUNS} runs of each command (after ${WARMUP} warm-up
rounds), one per round in a shuffled order, each a whole process from spawn to exit of the built CLI
(\`node bin/certdesk.js\`); \`get csr\` and \`kubectl get csr\` list the same ${CSRS.toLocaleString('en-US')} CSRs of one
sandbox started in the benchmark's process. The ratio column compares each certdesk command with its reference from
the same run; lower is better. \`CERTDESK_BENCH_RUNS\` changes the number of runs.${baselineNote}
`;
}

// certdesk against the real kube-apiserver v1.37 (docs/real-cluster.md), each figure next to a reference measured in
// the same run on the same server:
// 1. `certdesk controller` approve + sign throughput on N pending CSRs, next to the bare rate of one client (the same
//    concurrency) doing create → PUT /approval → PUT /status with a ready certificate (no checks, no signing);
// 2. `certdesk get csr` (table and -o json) next to kubectl v1.37 built from the same module, on 1,000 and 10,000 CSRs;
// 3. the built TUI in tmux on two contexts with 10,000 CSRs each: first full frame and key-to-frame, next to the
//    headless listing of the same CSRs by the same binary.
// Needs Go (the real server's build, cached), tmux and `npm run build` (npm run bench does it).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CertificatesV1Api, KubeConfig } from '@kubernetes/client-node';
import { startRealCluster } from '../test/helpers/real-cluster.js';
import { startTuiInTmux } from './tmux.js';
import { createController } from '../src/services/controller/controller.js';
import { loadContexts } from '../src/services/kube/contexts.js';
import { createCa, generateKeyAndCsr, issueCertificate, loadCaFromPem } from '../src/services/pki/index.js';
import { DEFAULT_POLICY } from '../src/services/policy/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIGNER = 'example.com/bench';
const CONTROLLER_CSRS = Number(process.env.CERTDESK_BENCH_CSRS ?? 1000);
const CONCURRENCY = Number(process.env.CERTDESK_BENCH_CONCURRENCY ?? 8);
const TUI_CSRS = Number(process.env.CERTDESK_BENCH_TUI_CSRS ?? 10_000);
const REPEAT = 3;
const exec = promisify(execFile);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] as number;
const f = (n: number, d = 0) => n.toFixed(d);

function client(kubeconfig: string, context: string): CertificatesV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  kc.setCurrentContext(context);
  return kc.makeApiClient(CertificatesV1Api);
}

function csrBody(name: string, request: string) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request, signerName: SIGNER, usages: ['digital signature', 'client auth'] },
  };
}

/** Runs `work(i)` for i in [0, count) on `lanes` concurrent lanes. */
async function lanes(count: number, width: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function run(): Promise<string> {
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first.');
  const real = await startRealCluster(undefined, { clusters: ['east', 'west'] });
  try {
    const { kubeconfigPath: kubeconfig, kubectl } = real;
    const east = client(kubeconfig, 'east');
    const { csrPem } = await generateKeyAndCsr({ cn: 'admin' });
    const request = Buffer.from(csrPem).toString('base64');
    const { certPem, keyPem } = await createCa({ cn: 'certdesk bench CA' });
    const ca = await loadCaFromPem(certPem, keyPem);

    // 1a. The bare reference: one client, create → approval → status with a certificate made once beforehand.
    const ready = (
      await issueCertificate(csrPem, ca, { usages: ['digital signature', 'client auth'], signerName: SIGNER })
    ).pem;
    const readyB64 = Buffer.from(ready).toString('base64');
    const bareMs = await timed(() =>
      lanes(CONTROLLER_CSRS, CONCURRENCY, async (i) => {
        const name = `bare-${i}`;
        const created = await east.createCertificateSigningRequest({ body: csrBody(name, request) });
        const approved = await east.replaceCertificateSigningRequestApproval({
          name,
          body: {
            ...created,
            status: {
              conditions: [
                {
                  type: 'Approved',
                  status: 'True',
                  reason: 'Bench',
                  message: 'bare reference',
                  lastUpdateTime: new Date(),
                },
              ],
            },
          },
        });
        await east.replaceCertificateSigningRequestStatus({
          name,
          body: { ...approved, status: { ...approved.status, certificate: readyB64 } },
        });
      }),
    );

    // 1b. The controller on as many pending CSRs (created before it starts; not timed).
    await lanes(CONTROLLER_CSRS, 16, (i) =>
      east.createCertificateSigningRequest({ body: csrBody(`ctl-${i}`, request) }),
    );
    const [context] = loadContexts({ kubeconfig, contexts: ['east'] });
    if (!context) throw new Error('no east context');
    const controller = createController({
      context,
      signers: [SIGNER],
      policy: DEFAULT_POLICY,
      approve: true,
      sign: true,
      cas: new Map([[SIGNER, { ca }]]),
      leaderElection: { namespace: 'default', name: 'certdesk-bench', identity: 'bench' },
      log: () => {},
      concurrency: CONCURRENCY,
    });
    const expected = CONTROLLER_CSRS;
    const ctlStart = performance.now();
    await controller.start();
    const deadline = Date.now() + 600_000;
    while (controller.stats().issued < expected) {
      if (Date.now() > deadline) throw new Error(`the controller issued ${controller.stats().issued} in 10 minutes`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ctlMs = performance.now() - ctlStart;
    const stats = controller.stats();
    await controller.stop();
    const bareRate = CONTROLLER_CSRS / (bareMs / 1000);
    const ctlRate = expected / (ctlMs / 1000);

    // 2. get csr vs kubectl 1.37 at 1,000 and 10,000 CSRs, on west (east holds the CSRs of part 1).
    const west = client(kubeconfig, 'west');
    const env = { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
    const certdesk = (args: string[]) =>
      exec(process.execPath, [join(ROOT, 'bin/certdesk.js'), ...args], { env, maxBuffer: 512 * 2 ** 20 });
    const kctl = (args: string[]) => exec(kubectl, args, { env, maxBuffer: 512 * 2 ** 20 });
    const count = async (api = west) => (await api.listCertificateSigningRequest()).items.length;
    const getRows: string[] = [];
    for (const size of [1000, TUI_CSRS]) {
      const have = await count();
      if (have < size) {
        await lanes(size - have, 16, (i) =>
          west.createCertificateSigningRequest({ body: csrBody(`fill-${have + i}`, request) }),
        );
      }
      const n = await count();
      const ways: [string, () => Promise<unknown>][] = [
        ['certdesk get csr (table)', () => certdesk(['get', 'csr', '--context', 'west'])],
        ['kubectl get csr (table)', () => kctl(['--context', 'west', 'get', 'csr'])],
        ['certdesk get csr -o json', () => certdesk(['get', 'csr', '--context', 'west', '-o', 'json'])],
        ['kubectl get csr -o json', () => kctl(['--context', 'west', 'get', 'csr', '-o', 'json'])],
      ];
      const times = new Map<string, number[]>(ways.map(([w]) => [w, []]));
      // Alternate the ways within each repetition so drift on a shared machine hits them alike.
      for (let r = 0; r < REPEAT; r++) for (const [w, fn] of ways) times.get(w)?.push(await timed(fn));
      const m = (w: string) => median(times.get(w) ?? []);
      getRows.push(
        `| ${n.toLocaleString('en')} | table | ${f(m('certdesk get csr (table)'))} ms | ${f(m('kubectl get csr (table)'))} ms | ${(m('certdesk get csr (table)') / m('kubectl get csr (table)')).toFixed(2)}× |`,
        `| ${n.toLocaleString('en')} | -o json | ${f(m('certdesk get csr -o json'))} ms | ${f(m('kubectl get csr -o json'))} ms | ${(m('certdesk get csr -o json') / m('kubectl get csr -o json')).toFixed(2)}× |`,
      );
    }

    // 3. The TUI on east and west with TUI_CSRS each (east filled up now).
    const eastHave = await count(east);
    await lanes(TUI_CSRS - eastHave, 16, (i) =>
      east.createCertificateSigningRequest({ body: csrBody(`e-${eastHave + i}`, request) }),
    );
    const total = (await count(east)) + (await count(west));
    const tui = await tuiRuns(kubeconfig, total);
    const headless: number[] = [];
    for (let r = 0; r < REPEAT; r++)
      headless.push(
        await timed(() => certdesk(['get', 'csr', '--context', 'east', '--context', 'west', '-o', 'name'])),
      );

    return `## Against the real kube-apiserver v1.37

The real server of docs/real-cluster.md (kube-apiserver, kube-controller-manager and embedded etcd built from
k8s.io/kubernetes v1.37.2, two clusters on loopback, in child processes of this one), with each figure next to a
reference measured in the same run on the same server.

| controller approve + sign | CSRs | wall time | CSRs/s |
|---|---:|---:|---:|
| \`certdesk controller --approve --sign\` (findings, leader-elected, concurrency ${CONCURRENCY}) | ${expected} | ${f(ctlMs / 1000, 2)} s | ${f(ctlRate, 1)} |
| reference: one client, create → PUT /approval → PUT /status with a ready certificate (concurrency ${CONCURRENCY}, no checks, no signing) | ${CONTROLLER_CSRS} | ${f(bareMs / 1000, 2)} s | ${f(bareRate, 1)} |

**Controller / bare client: ${(ctlRate / bareRate).toFixed(2)}×** (goal ≥ 0.8×). The controller: ${stats.approved} approved, ${stats.issued} issued, ${stats.denied} denied; its time includes the informer's initial list and the Lease.

| CSRs | output | certdesk get csr | kubectl v1.37 get csr | ratio |
|---:|---|---:|---:|---:|
${getRows.join('\n')}

Medians of ${REPEAT} runs, alternating; both are cold process starts (certdesk: Node; kubectl: Go binary).

| TUI, 2 contexts, ${total.toLocaleString('en')} CSRs | median (min–max) |
|---|---|
| built binary in tmux 140×40: start → first full frame (${tui.first.length} cold starts) | ${f(median(tui.first))} ms (${f(Math.min(...tui.first))}–${f(Math.max(...tui.first))}) |
| reference: headless \`get csr -o name\` of the same CSRs by the same binary | ${f(median(headless))} ms (${f(Math.min(...headless))}–${f(Math.max(...headless))}) |
| key (\`j\`) → screen changed, p50 / p95 of ${tui.keys.length} keys (tmux capture-pane polled every 2 ms) | ${f(pct(tui.keys, 50))} / ${f(pct(tui.keys, 95))} ms |
| reference: the same loop on \`less\` paging a file in the same tmux (the harness's floor) | ${f(pct(tui.floor, 50))} / ${f(pct(tui.floor, 95))} ms |
| peak RSS of the TUI | ${f(median(tui.rss))} MiB |

Command: \`npm run bench real\` (CERTDESK_BENCH_CSRS=${CONTROLLER_CSRS}, CERTDESK_BENCH_TUI_CSRS=${TUI_CSRS}).
`;
  } finally {
    await real.stop();
  }
}

/** The built TUI in tmux: first frame (the list footer shows `of TOTAL`), then keys, then its peak RSS. */
async function tuiRuns(
  kubeconfig: string,
  total: number,
): Promise<{ first: number[]; keys: number[]; rss: number[]; floor: number[] }> {
  const out = { first: [] as number[], keys: [] as number[], rss: [] as number[], floor: [] as number[] };
  for (let r = 0; r < REPEAT; r++) {
    const start = performance.now();
    const term = startTuiInTmux('real', kubeconfig);
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const screen = term.screen();
        if (screen.includes(`of ${total.toLocaleString('en')}`) || screen.includes(`of ${total}`)) break;
        await new Promise((res) => setTimeout(res, 10));
      }
      out.first.push(performance.now() - start);
      await keyToChange(term, out.keys);
      out.rss.push(term.peakRssMiB());
    } finally {
      term.kill();
    }
  }
  // The harness's own floor: the same key → changed-screen loop on `less` paging a long file in tmux.
  const socket = `certdesk-bench-floor-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'b', '-x', '140', '-y', '40', 'seq 1 100000 | less');
  try {
    await new Promise((res) => setTimeout(res, 300));
    const floor = {
      screen: () => tmux('capture-pane', '-p', '-t', 'b'),
      keys: (k: string) => void tmux('send-keys', '-t', 'b', k),
    };
    await keyToChange(floor, out.floor);
  } finally {
    try {
      tmux('kill-server');
    } catch {}
  }
  return out;

  async function keyToChange(term: { screen(): string; keys(k: string): void }, into: number[]): Promise<void> {
    for (let k = 0; k < 20; k++) {
      const before = term.screen();
      const t = performance.now();
      term.keys('j');
      const until = Date.now() + 2000;
      while (Date.now() < until && term.screen() === before) await new Promise((res) => setTimeout(res, 2));
      into.push(performance.now() - t);
    }
  }
}

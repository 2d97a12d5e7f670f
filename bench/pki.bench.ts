// Issue throughput of the PKI core for RSA-2048, RSA-4096 and P-256 CAs, against the physical limit measured in the
// same run (`openssl speed` for the same key, one core and both cores) and against `openssl x509 -req` per certificate.
// The machine is shared: wall-clock rates move with the load, so rates per CPU-second are reported too.
import { execFile } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  createCa,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  type KeyAlgorithmName,
  loadCaFromPem,
} from '../src/services/pki/index.js';
import { readPrivateKey, signAsync, signatureFor } from '../src/services/pki/keys.js';

const execFileAsync = promisify(execFile);
const SECONDS = Number(process.env.PKI_BENCH_SECONDS ?? 3);
/** Requests in flight (a bulk signer, e.g. the controller working through a backlog). */
const CONCURRENCY = Number(process.env.PKI_BENCH_CONCURRENCY ?? 128);
/** Each of our measurements is repeated, the ways of issuing taking turns; the median run is reported. */
const REPEATS = Number(process.env.PKI_BENCH_REPEATS ?? 5);
const X509_REQ_RUNS = 20;
/** Seconds of each `openssl speed` run taken between two of ours (the reference each run is compared with). */
const REF_SECONDS = Number(process.env.PKI_BENCH_REF_SECONDS ?? 1);

interface CaCase {
  alg: KeyAlgorithmName;
  label: string;
  speedArg: string;
}

const CASES: CaCase[] = [
  { alg: 'RSAWithSize2048', label: 'RSA-2048', speedArg: 'rsa2048' },
  { alg: 'RSAWithSize4096', label: 'RSA-4096', speedArg: 'rsa4096' },
  { alg: 'ECDSAWithCurve256', label: 'ECDSA P-256', speedArg: 'ecdsap256' },
];

/** sign/s from `openssl speed` (wall clock with -elapsed, else per CPU-second as openssl reports by default). */
async function opensslSpeed(
  arg: string,
  opts: { elapsed: boolean; multi?: number; seconds?: number },
): Promise<number> {
  const args = ['speed', '-seconds', String(opts.seconds ?? SECONDS)];
  if (opts.elapsed) args.push('-elapsed');
  if (opts.multi) args.push('-multi', String(opts.multi));
  args.push(arg);
  const { stdout } = await execFileAsync('openssl', args, { maxBuffer: 1 << 20 });
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => /^rsa \d+ bits|bits ecdsa/.test(l.trim()));
  const cols = line?.trim().split(/\s+/) ?? [];
  // … sign verify sign/s verify/s: sign/s is the second-to-last column.
  const value = Number(cols[cols.length - 2]);
  if (!Number.isFinite(value)) throw new Error(`could not parse openssl speed output for ${arg}`);
  return value;
}

/**
 * The ceiling for any issuer built on node:crypto using every core: `threads` worker threads each running the
 * synchronous one-shot crypto.sign on a TBS-sized buffer in a tight loop, nothing else.
 */
async function syncSignCeiling(privateKey: KeyObject, threads: number): Promise<OurRun> {
  const sig = signatureFor(privateKey);
  const code = `const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
const data = Buffer.alloc(700, 0x5a);
parentPort.once('message', (ms) => {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 10; i++) sign(workerData.hash, data, workerData.key);
    n += 10;
  }
  parentPort.postMessage(n);
});`;
  const workers = Array.from(
    { length: threads },
    () => new Worker(code, { eval: true, workerData: { key: privateKey, hash: sig.hash } }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const elu0 = perf.eventLoopUtilization();
  const t0 = performance.now();
  const counts = await Promise.all(
    workers.map((w) => {
      w.postMessage(SECONDS * 1000);
      return new Promise<number>((resolve) => w.once('message', resolve));
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = perf.eventLoopUtilization(elu0).utilization;
  loop.disable();
  await Promise.all(workers.map((w) => w.terminate()));
  const signed = counts.reduce((a, b) => a + b, 0);
  return {
    wallRate: signed / wall,
    cpuRate: signed / (cpu.user / 1e6),
    coresUsed: (cpu.user + cpu.system) / 1e6 / wall,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    elu,
  };
}

interface OurRun {
  /**
   * openssl's sign/s per user-CPU-second on one core, the mean of the `openssl speed` runs just before and just after
   * this one: the machine's speed moves by 10-20% within a minute, so each run is compared with its own reference.
   */
  ref?: number;
  /** Likewise `openssl speed -elapsed -multi N`'s signatures/s (wall clock, every core), just before and after. */
  refWall?: number;
  wallRate: number;
  cpuRate: number;
  coresUsed: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Event-loop utilisation: the share of wall time the main thread was busy. */
  elu: number;
}

interface Setup {
  loaded: Awaited<ReturnType<typeof loadCaFromPem>>;
  /** The CA's key itself, for the bare crypto.sign references. */
  privateKey: KeyObject;
  csrPem: string;
  csr: Awaited<ReturnType<typeof decodeCsr>>;
  files: { ca: string; key: string; csr: string };
}

const REQUEST = {
  usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
  signerName: 'example.com/bench',
};

async function setup(c: CaCase): Promise<Setup> {
  const ca = await createCa({ cn: `bench ${c.label}`, keyAlgorithm: c.alg, days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const { csrPem } = await generateKeyAndCsr({
    cn: 'calico-node',
    hosts: ['calico-node.calico-system.svc', '10.96.0.10'],
    names: [{ O: 'tigera' }],
  });
  const csr = await decodeCsr(csrPem);
  const dir = await mkdtemp(join(os.tmpdir(), 'certdesk-bench-'));
  const files = { ca: join(dir, 'ca.pem'), key: join(dir, 'ca.key'), csr: join(dir, 'req.csr') };
  await writeFile(files.ca, ca.certPem);
  await writeFile(files.key, ca.keyPem, { mode: 0o600 });
  await writeFile(files.csr, csrPem);
  return { loaded, privateKey: readPrivateKey(ca.keyPem), csrPem, csr, files };
}

/** Issues with `issue` from CONCURRENCY callers for SECONDS; rates, cores and event-loop figures. */
async function measure(issue: () => Promise<unknown>): Promise<OurRun> {
  await Promise.all(Array.from({ length: 200 }, issue)); // warm-up
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const elu0 = perf.eventLoopUtilization();
  const t0 = performance.now();
  let issued = 0;
  const caller = async () => {
    while (performance.now() - t0 < SECONDS * 1000) {
      await issue();
      issued++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = perf.eventLoopUtilization(elu0).utilization;
  loop.disable();
  // openssl speed divides by user CPU time (getrusage ru_utime); count ours the same way.
  const cpuSeconds = cpu.user / 1e6;
  const allCpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    wallRate: issued / wall,
    cpuRate: issued / cpuSeconds,
    coresUsed: allCpuSeconds / wall,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    elu,
  };
}

/** Certificates per second with one `openssl x509 -req` process per certificate (how scripts sign). */
async function opensslX509Req(files: { ca: string; key: string; csr: string }): Promise<number> {
  const dir = join(files.ca, '..');
  const ext = join(dir, 'ext.cnf');
  await writeFile(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const t0 = performance.now();
  for (let i = 0; i < X509_REQ_RUNS; i++) {
    await execFileAsync('openssl', [
      'x509',
      '-req',
      '-in',
      files.csr,
      '-CA',
      files.ca,
      '-CAkey',
      files.key,
      '-set_serial',
      String(1000 + i),
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      join(dir, 'out.pem'),
    ]);
  }
  return X509_REQ_RUNS / ((performance.now() - t0) / 1000);
}

/** Event-loop delay of an idle process over the same time: what the machine's load alone causes. */
async function idleLoopDelay(): Promise<{ p99: number; max: number }> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  loop.disable();
  return { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
}

const f0 = (n: number) => n.toFixed(0);
/** Our rate per CPU-second ÷ openssl's measured around the same run. */
const perCpu = (x: OurRun) => x.cpuRate / x.ref!;
/** The run with the median rate per CPU-second relative to its reference. */
const median = (runs: OurRun[]): OurRun =>
  [...runs].sort((a, b) => perCpu(a) - perCpu(b))[Math.floor(runs.length / 2)]!;
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;

interface Reference {
  label: string;
  /** sign/s per user-CPU-second, one process: every run taken between ours. */
  oneCoreCpu: number[];
  oneCoreWall: number;
  /** `-multi N -elapsed`: signatures/s of all processes together (wall clock), every run taken between ours. */
  twoCoresWall: number[];
  /** `-multi N`: per user-CPU-second of one process (measured once, before ours). */
  twoCoresCpuPerProcess: number;
  x509Rate: number;
}

export async function run(): Promise<string> {
  const rows: string[] = [];
  const references: Reference[] = [];
  const cores = os.cpus().length;
  const idle = await idleLoopDelay();
  for (const c of CASES.filter((x) => x.label.includes(process.env.PKI_BENCH_ONLY ?? ''))) {
    console.error(`  ${c.label}: openssl speed…`);
    const oneCoreWall = await opensslSpeed(c.speedArg, { elapsed: true });
    // Without -elapsed, -multi sums each process's signatures per its own user-CPU-second.
    const twoCoresCpuPerProcess = (await opensslSpeed(c.speedArg, { elapsed: false, multi: cores })) / cores;
    const env = await setup(c);
    const sig = signatureFor(env.privateKey);
    const tbsSized = Buffer.alloc(700, 0x5a);
    const ways: Array<{ how: string; measure: () => Promise<OurRun>; runs: OurRun[] }> = [
      {
        how: 'issueCertificate (node:crypto, threadpool)',
        measure: () => measure(() => issueCertificate(env.csr, env.loaded, REQUEST)),
        runs: [],
      },
      {
        how: 'issueCertificate, description read',
        measure: () =>
          measure(() => issueCertificate(env.csr, env.loaded, REQUEST).then((r) => r.certificate.sha256Fingerprint)),
        runs: [],
      },
      {
        how: `*sync crypto.sign only, ${cores} threads (ceiling)*`,
        measure: () => syncSignCeiling(env.privateKey, cores),
        runs: [],
      },
      {
        how: '*async crypto.sign only (threadpool)*',
        measure: () => measure(() => signAsync(sig.hash, tbsSized, env.privateKey)),
        runs: [],
      },
    ];
    // Between two of our runs: openssl on one core (per CPU-second) and on every core (wall clock).
    const oneCoreCpu: number[] = [];
    const twoCoresWall: number[] = [];
    const refs = async () => {
      oneCoreCpu.push(await opensslSpeed(c.speedArg, { elapsed: false, seconds: REF_SECONDS }));
      twoCoresWall.push(await opensslSpeed(c.speedArg, { elapsed: true, multi: cores, seconds: REF_SECONDS }));
    };
    const around = (x: number[]) => (x[x.length - 2]! + x[x.length - 1]!) / 2;
    await refs();
    for (let r = 0; r < REPEATS; r++) {
      for (const way of ways) {
        console.error(`  ${c.label}: ${way.how} (${r + 1}/${REPEATS})…`);
        const run = await way.measure();
        await refs();
        run.ref = around(oneCoreCpu);
        run.refWall = around(twoCoresWall);
        way.runs.push(run);
      }
    }
    console.error(`  ${c.label}: openssl x509 -req…`);
    const x509Rate = await opensslX509Req(env.files);
    await rm(join(env.files.ca, '..'), { recursive: true, force: true });
    references.push({
      label: c.label,
      oneCoreCpu,
      oneCoreWall,
      twoCoresWall,
      twoCoresCpuPerProcess,
      x509Rate,
    });
    const range = (runs: OurRun[], of: (r: OurRun) => number) =>
      `${pct(Math.min(...runs.map(of)))}–${pct(Math.max(...runs.map(of)))}`;
    for (const way of ways) {
      const r = median(way.runs);
      const wall = (x: OurRun) => x.wallRate / x.refWall!;
      rows.push(
        `| ${c.label} | ${way.how} | ${f0(r.wallRate)} | **${pct(wall(r))}** (${range(way.runs, wall)}) | ${f0(r.cpuRate)} | **${pct(perCpu(r))}** (${range(way.runs, perCpu)}) | ${pct(r.cpuRate / twoCoresCpuPerProcess)} | ${r.coresUsed.toFixed(2)} | ${pct(r.elu)} | ${r.loopP99Ms.toFixed(1)} / ${r.loopMaxMs.toFixed(1)} | **${(r.wallRate / x509Rate).toFixed(0)}×** |`,
      );
    }
  }
  const notes = [
    `- Each of our rows is the median of ${REPEATS} runs by rate per CPU-second relative to its own reference (the ranges of the ${REPEATS} runs are in brackets); the ways of issuing take turns within each repeat, so they see the same load.`,
    `- **vs openssl, ${cores} cores (wall)**: our certificates/s (wall clock, every thread) ÷ \`openssl speed -elapsed -multi ${cores}\` raw signatures/s, the mean of the ${REF_SECONDS}-second runs just before and just after ours (as for the per-CPU-second column).`,
    `- **vs openssl 1 core (per CPU-s)**: certificates per user-CPU-second of the whole process (every thread) ÷ \`openssl speed\` signatures per user-CPU-second (its default divisor), each run of ours against the mean of the ${REF_SECONDS}-second \`openssl speed\` runs just before and just after it (the machine's speed drifts by 10–20% within a minute; a reference taken minutes away moved the ratio by as much). The per-core efficiency, much less sensitive to the machine's other load than wall-clock rates. *vs -multi per core* divides by the per-process rate of \`openssl speed -multi N\` instead (both cores busy, as ours are; one ${SECONDS}-second run before ours).`,
    '- *sync crypto.sign only* is the most any issuer built on node:crypto can reach: worker threads (one per core) doing nothing but the synchronous one-shot `crypto.sign(hash, 700 bytes, key)` in a loop. Each call still fetches the digest by name, sets up a digest and key context (EVP_DigestSignInit), hashes the data and allocates the result; `openssl speed` reuses one context and signs a ready digest. *async crypto.sign only* is the callback form issueCertificate uses (plus a hop to the threadpool and back).',
    "- *issueCertificate* is what the sign action, `certdesk issue`, the controller and the sandbox's signers call, given the decoded CSR: kube-controller-manager's checks and the plan on the calling thread, the TBS written into one buffer (pooled random serial, SHA-1 SKI, cached issuer/AKI/usage extensions), node:crypto's callback `sign` on libuv's threadpool (so calls in flight sign on every core), the PEM. *description read* also reads `certificate.sha256Fingerprint` of each result (the description, with its SHA-256, is built on first access), as the sign action does for its audit line.",
    `- *main thread busy* is the event-loop utilisation of the calling thread; the loop-delay column is p99 / max of \`monitorEventLoopDelay\` (1 ms resolution) during the run. Reference in the same run: an idle process saw p99 ${idle.p99.toFixed(1)} ms / max ${idle.max.toFixed(1)} ms from the machine's load alone.`,
    '- `openssl x509 -req` forks one process per certificate, as shell scripts and `cfssl`-less runbooks do; the last column is our rate ÷ that rate.',
  ];
  const spread = (x: number[]) =>
    `${f0(x.reduce((a, b) => a + b, 0) / x.length)} (${f0(Math.min(...x))}–${f0(Math.max(...x))}, ${x.length} runs of ${REF_SECONDS} s)`;
  const refRows = references.map(
    (r) =>
      `| ${r.label} | ${spread(r.oneCoreCpu)} | ${f0(r.oneCoreWall)} | ${spread(r.twoCoresWall)} | ${f0(r.twoCoresCpuPerProcess)} | ${r.x509Rate.toFixed(1)} |`,
  );
  return [
    '## PKI: certificate issuing throughput',
    '',
    `Command: \`npm run bench pki\` (\`node --import tsx bench/run.ts pki\`); ${SECONDS}s per measurement, ${CONCURRENCY} requests in flight, ${X509_REQ_RUNS} \`openssl x509 -req\` runs; ${cores} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}. The CSR is ECDSA P-256 with two SANs; usages digital signature, key encipherment, server auth, client auth.`,
    '',
    `| CA key | how | certs/s (wall) | vs openssl, ${cores} cores (wall) | certs per CPU-s | vs openssl 1 core (per CPU-s) | vs -multi per core | cores used | main thread busy | event loop delay p99 / max ms | vs x509 -req |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'References measured in the same run:',
    '',
    `| CA key | openssl speed sign per CPU-s, 1 core (mean; range, runs between ours) | 1 core sign/s (wall) | -multi ${cores} sign/s (wall; mean, range, runs between ours) | -multi ${cores} sign per CPU-s, per process | openssl x509 -req certs/s |`,
    '|---|---|---|---|---|---|',
    ...refRows,
    '',
    ...notes,
  ].join('\n');
}

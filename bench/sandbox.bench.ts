// Sandbox start-up and the scale scenario: how long a cluster takes to be ready, how long 10,000 CSRs + 5,000 pods
// take to preload, and how long a full CSR list takes over HTTPS — next to references measured in the same run.
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { type SandboxCluster, startSandbox } from '../src/services/sandbox/index.js';

const CSRS = 10_000;
const PODS = 5_000;

function get(cluster: SandboxCluster, path: string, accept = 'application/json'): Promise<string> {
  const cert = cluster.clientCert('admin', ['system:masters']);
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port: cluster.port,
        path,
        ca: cluster.caCertPem,
        cert: cert.certPem,
        key: cert.keyPem,
        headers: { accept },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    )
      .on('error', reject)
      .end();
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const ms = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

export async function run(): Promise<string> {
  // 1. An empty one-cluster sandbox, against a bare HTTPS GET on an already-running one (the floor of "ready").
  const emptyStart = await timed(async () => {
    const sb = await startSandbox({ builtinSigners: false });
    await sb.stop();
  }, 5);
  const probe = await startSandbox({ builtinSigners: false });
  const probeCluster = probe.cluster('east');
  const versionGet = await timed(() => get(probeCluster, '/version'), 5);
  await probe.stop();

  // 2. The scale scenario.
  const t0 = performance.now();
  const sb = await startSandbox({ builtinSigners: false, scale: { csrs: CSRS, pods: PODS } });
  const scaleStart = performance.now() - t0;
  const east = sb.cluster('east');
  try {
    const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
    const body = await get(east, path);
    const items = (JSON.parse(body) as { items: unknown[] }).items.length;
    const listJson = await timed(async () => JSON.parse(await get(east, path)), 5);
    const listTable = await timed(
      () => get(east, `${path}?limit=500`, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'),
      5,
    );
    const podsAll = await timed(async () => JSON.parse(await get(east, '/api/v1/pods')), 5);
    // Reference: serializing and parsing the same 10,000 objects in-process, no network, no server.
    const objects = east.api.store.list('certificatesigningrequests').map((e) => e.obj);
    const reference = await timed(async () => JSON.parse(JSON.stringify({ items: objects })), 5);

    return [
      '## Sandbox',
      '',
      `Scale scenario: ${CSRS.toLocaleString('en')} CSRs and ${PODS.toLocaleString('en')} pods preloaded (${items.toLocaleString('en')} CSRs listed, ${(body.length / 2 ** 20).toFixed(1)} MiB of JSON).`,
      '',
      '| what | time | reference (same run) | ratio |',
      '|---|---|---|---|',
      `| start an empty 1-cluster sandbox (CA, certs, listen), median of 5 | ${ms(emptyStart)} | one GET /version over HTTPS: ${ms(versionGet)} | ${(emptyStart / versionGet).toFixed(1)}× |`,
      `| start with the scale scenario (goal < 10 s) | ${ms(scaleStart)} | empty start: ${ms(emptyStart)} | ${(scaleStart / emptyStart).toFixed(1)}× |`,
      `| full CSR list over HTTPS, JSON, parsed by the client (goal < 1 s), median of 5 | ${ms(listJson)} | JSON.stringify + JSON.parse of the same objects in-process: ${ms(reference)} | ${(listJson / reference).toFixed(2)}× |`,
      `| first 500 CSRs as a Table (what kubectl get csr asks), median of 5 | ${ms(listTable)} | full JSON list: ${ms(listJson)} | ${(listTable / listJson).toFixed(2)}× |`,
      `| all ${PODS.toLocaleString('en')} pods across namespaces, JSON, median of 5 | ${ms(podsAll)} | full CSR list: ${ms(listJson)} | ${(podsAll / listJson).toFixed(2)}× |`,
      '',
      'Command: `npm run bench sandbox` (bench/sandbox.bench.ts). The list is served from per-object JSON kept at write time, so the server does not re-serialize; the client-side JSON.parse dominates.',
    ].join('\n');
  } finally {
    await sb.stop();
  }
}

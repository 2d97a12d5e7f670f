// The headless commands against the document's tools, in the same run on the same sandbox:
// 1. `certdesk get csr -o json` and the table vs `kubectl get csr -o json` with 1,000 CSRs;
// 2. signing 10 approved CSRs: one `certdesk sign` vs the "Manage TLS Certificates in a Cluster" pipeline per CSR
//    (kubectl get | base64 -d | cfssl sign | cfssljson, then kubectl get -o json | jq | kubectl replace --raw /status).
// Needs `npm run build` (npm run bench does it), kubectl, cfssl, cfssljson and jq.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { getCa } from '../src/services/config/ca-registry.js';
import { createCsr, loadContexts } from '../src/services/kube/index.js';
import { generateKeyAndCsr } from '../src/services/pki/index.js';
import { startSandbox } from '../src/services/sandbox/index.js';
import { type BenchNode, benchNodes } from './nodes.js';

const exec = promisify(execFile);
const BIN = resolve('bin/certdesk.js');
const SIGNER = 'example.com/serving';
const SIGN_COUNT = 10;
const REPEAT = 5;
/** get csr runs per way (table and JSON, certdesk and kubectl, interleaved). */
const TABLE_REPEAT = 11;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function repeat(fn: () => Promise<unknown>, n = REPEAT): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await timed(fn));
  return median(times);
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-bench-headless-'));
  const sandbox = await startSandbox({ clusters: ['east'], scale: { csrs: 1000, pods: 0 }, builtinSigners: false });
  const env = {
    ...process.env,
    KUBECONFIG: sandbox.kubeconfigPath,
    CERTDESK_CONFIG_DIR: join(dir, 'config'),
    CERTDESK_STATE_DIR: join(dir, 'state'),
  };
  const certdeskOn = (node: string, args: string[]) => exec(node, [BIN, ...args], { env, maxBuffer: 256 * 2 ** 20 });
  const certdesk = (args: string[]) => certdeskOn(process.execPath, args);
  const sh = (script: string) =>
    exec('bash', ['-euo', 'pipefail', '-c', script], { env, cwd: dir, maxBuffer: 256 * 2 ** 20 });
  try {
    // 1. Listing, under each Node (bench/nodes.ts).
    // Interleaved, so a busy machine slows every way alike.
    const kubectl = (args: string[]) => exec('kubectl', args, { env, maxBuffer: 256 * 2 ** 20 });
    const listing: {
      node: BenchNode;
      getJson: number;
      kubectlJson: number;
      getTable: number;
      kubectlTable: number;
      help: number;
      nodeBare: number;
    }[] = [];
    for (const node of benchNodes()) {
      // One run first: Node 22+ fill their compile cache on the first start.
      await certdeskOn(node.path, ['get', 'csr', '-o', 'name']);
      const ways = {
        getJson: () => certdeskOn(node.path, ['get', 'csr', '-o', 'json']),
        kubectlJson: () => kubectl(['get', 'csr', '-o', 'json']),
        getTable: () => certdeskOn(node.path, ['get', 'csr']),
        kubectlTable: () => kubectl(['get', 'csr']),
      };
      const times: Record<keyof typeof ways, number[]> = {
        getJson: [],
        kubectlJson: [],
        getTable: [],
        kubectlTable: [],
      };
      for (let i = 0; i < TABLE_REPEAT; i++) {
        for (const [k, fn] of Object.entries(ways)) times[k as keyof typeof ways].push(await timed(fn));
      }
      listing.push({
        node,
        getJson: median(times.getJson),
        kubectlJson: median(times.kubectlJson),
        getTable: median(times.getTable),
        kubectlTable: median(times.kubectlTable),
        help: await repeat(() => certdeskOn(node.path, ['--help'])),
        nodeBare: await repeat(() => exec(node.path, ['-e', ''])),
      });
    }

    // 2. Signing: a CA both tools use, 2×SIGN_COUNT approved CSRs.
    await certdesk(['ca', 'init', '--signer', SIGNER, '--key-algorithm', 'ECDSAWithCurve256']);
    const entry = getCa(SIGNER, { cwd: join(dir, 'config') });
    const caCert = entry.certPath;
    const caKey = entry.keyPath;
    writeFileSync(
      join(dir, 'server-signing-config.json'),
      JSON.stringify({
        signing: {
          default: {
            usages: ['digital signature', 'key encipherment', 'server auth'],
            expiry: '876000h',
            ca_constraint: { is_ca: false },
          },
        },
      }),
    );
    const [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] });
    if (!ctx) throw new Error('no context');
    const names: string[] = [];
    for (let i = 0; i < 2 * SIGN_COUNT; i++) {
      const { csrPem } = await generateKeyAndCsr({ cn: `svc-${i}`, hosts: [`svc-${i}.bench.svc`] });
      const name = `bench-sign-${i}`;
      const r = await createCsr(ctx, {
        metadata: { name },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: SIGNER,
          usages: ['digital signature', 'key encipherment', 'server auth'],
        },
      });
      if (!r.ok) throw new Error(r.error.message);
      names.push(name);
    }
    await certdesk(['approve', ...names]);
    const mine = names.slice(0, SIGN_COUNT);
    const theirs = names.slice(SIGN_COUNT);
    const certdeskSign = await timed(() => certdesk(['sign', ...mine]));
    const pipeline = await timed(async () => {
      for (const n of theirs) {
        await sh(
          `kubectl get csr ${n} -o jsonpath='{.spec.request}' | base64 --decode | ` +
            `cfssl sign -ca '${caCert}' -ca-key '${caKey}' -config server-signing-config.json - 2>/dev/null | cfssljson -bare ${n}\n` +
            `kubectl get csr ${n} -o json | jq '.status.certificate = "'$(base64 ${n}.pem | tr -d '\\n')'"' | ` +
            `kubectl replace --raw /apis/certificates.k8s.io/v1/certificatesigningrequests/${n}/status -f - >/dev/null`,
        );
      }
    });
    const f = (ms: number) => `${ms.toFixed(0)} ms`;
    return `## Headless commands

| what | certdesk | reference (same run) | ratio |
|---|---|---|---|
${listing
  .map(
    (
      l,
    ) => `| Node ${l.node.version}: list 1,000 CSRs, \`get csr -o json\` (median of ${TABLE_REPEAT}, interleaved) | ${f(l.getJson)} | \`kubectl get csr -o json\`: ${f(l.kubectlJson)} | ${(l.getJson / l.kubectlJson).toFixed(2)}× |
| Node ${l.node.version}: list 1,000 CSRs, table (median of ${TABLE_REPEAT}, interleaved) | ${f(l.getTable)} | \`kubectl get csr\` (its table): ${f(l.kubectlTable)} | ${(l.getTable / l.kubectlTable).toFixed(2)}× |
| Node ${l.node.version}: \`certdesk --help\` (startup, median of ${REPEAT}) | ${f(l.help)} | \`node -e ''\`: ${f(l.nodeBare)} | ${(l.help / l.nodeBare).toFixed(2)}× |
`,
  )
  .join(
    '',
  )}| sign + upload ${SIGN_COUNT} approved CSRs | one \`certdesk sign\`: ${f(certdeskSign)} | the document's kubectl + cfssl + jq pipeline per CSR: ${f(pipeline)} | ${(certdeskSign / pipeline).toFixed(2)}× |

Command: \`BENCH_NODES=… npm run bench headless\` (bench/nodes.ts: the listing under each Node given). Each figure is a whole process from spawn to exit, against one sandbox in
the same process as the benchmark. Lower ratio is better for certdesk.
`;
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

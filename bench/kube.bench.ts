// The kube store at scale: two sandbox contexts with 10,000 CSRs and 5,000 pods each. Time to first full sync,
// retained memory, and event-to-store latency under a burst of 1,000 CSR changes, each next to a plain reference
// measured in the same run (a single unpaginated list / a bare watch stream over node:https, JSON.parse only).
// The sandbox runs in a child process, so the client's heap and event loop are measured alone.
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { computeHealth } from '../src/services/health/index.js';
import { type ClusterContext, createClusterStore, loadContexts } from '../src/services/kube/index.js';

const CSRS = 10_000;
const PODS = 5_000;
const BURST = 1_000;
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const SANDBOX_MODULE = fileURLToPath(new URL('../src/services/sandbox/index.ts', import.meta.url));

/** The child: starts the sandbox, prints {kubeconfig}; on `burst` writes BURST CSRs in-process and prints their times. */
const CHILD = `
const { startSandbox } = await import(process.env.SANDBOX_MODULE);
const sandbox = await startSandbox({ clusters: ['east', 'west'], scale: { csrs: ${CSRS}, pods: ${PODS} },
  builtinSigners: false, watchHistorySize: 5000 });
const now = () => performance.timeOrigin + performance.now();
process.stdout.write(JSON.stringify({ kubeconfig: sandbox.kubeconfigPath }) + '\\n');
const rl = (await import('node:readline')).createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.startsWith('burst ')) {
    const request = line.slice(6);
    const written = {};
    for (let i = 0; i < ${BURST}; i++) {
      const name = 'burst-' + i;
      await sandbox.cluster('east').createAs({ name: 'admin', groups: ['system:masters'] },
        '${CSR_PATH}', { metadata: { name }, spec: { request, signerName: 'example.com/burst', usages: ['client auth'] } });
      written[name] = now();
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(JSON.stringify({ written }) + '\\n');
  } else if (line === 'exit') {
    await sandbox.stop();
    process.exit(0);
  }
}
`;

interface Child {
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
  stop(): Promise<void>;
}

function startChild(): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, SANDBOX_MODULE: SANDBOX_MODULE },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const line = queue.shift();
        if (line !== undefined) return resolve(JSON.parse(line));
        const onExit = () => reject(new Error('the sandbox child exited'));
        child.once('exit', onExit);
        waiting.push((l) => {
          child.off('exit', onExit);
          resolve(JSON.parse(l));
        });
      }),
    send: (line) => child.stdin.write(`${line}\n`),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.write('exit\n');
        setTimeout(() => child.kill(), 10_000).unref();
      }),
  };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function tlsOf(ctx: ClusterContext) {
  const cluster = ctx.kubeConfig.getCurrentCluster();
  const user = ctx.kubeConfig.getCurrentUser();
  const b = (s?: string) => (s ? Buffer.from(s, 'base64') : undefined);
  return { ca: b(cluster?.caData), cert: b(user?.certData), key: b(user?.keyData) };
}

/** The reference list: one GET, the whole collection, JSON.parse, nothing else. */
function plainList(
  ctx: ClusterContext,
  path: string,
): Promise<{ items: unknown[]; metadata: { resourceVersion: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(ctx.server + path),
      { ...tlsOf(ctx), headers: { Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The reference watch: a bare stream, one JSON.parse per line, calling back with each object's name. */
function plainWatch(ctx: ClusterContext, path: string, rv: string, onName: (name: string) => void): () => void {
  const url = new URL(`${ctx.server}${path}?watch=true&resourceVersion=${rv}`);
  const req = request(url, { ...tlsOf(ctx), headers: { Accept: 'application/json' } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string } } };
        if (ev.type !== 'BOOKMARK' && ev.object.metadata?.name) onName(ev.object.metadata.name);
        nl = buf.indexOf('\n');
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return () => req.destroy();
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

export async function run(): Promise<string> {
  const child = startChild();
  try {
    const { kubeconfig } = (await child.next()) as { kubeconfig: string };
    const contexts = loadContexts({ kubeconfig, contexts: ['east', 'west'] });

    // Reference: one unpaginated list of CSRs and pods per context, in parallel.
    const heapBeforeRef = heapMiB();
    let t = performance.now();
    const refLists = await Promise.all(contexts.flatMap((c) => [plainList(c, CSR_PATH), plainList(c, '/api/v1/pods')]));
    const refSyncMs = performance.now() - t;
    const refHeap = heapMiB() - heapBeforeRef;
    const refCount = refLists.reduce((n, l) => n + l.items.length, 0);
    refLists.length = 0;

    // certdesk's store: paginated lists (500), typed objects, then watches, for CSRs, pods and namespaces.
    const heapBeforeStore = heapMiB();
    const store = createClusterStore(contexts, { batchMs: 50 });
    t = performance.now();
    store.start();
    const synced = await store.whenSynced(undefined, 120_000);
    const storeSyncMs = performance.now() - t;
    if (!synced) throw new Error('the store did not sync within 120 s');
    const storeHeap = heapMiB() - heapBeforeStore;
    const storeCount = contexts.reduce((n, c) => {
      const s = store.snapshot(c.name);
      return n + s.csrs.size + s.pods.size;
    }, 0);
    // Wait until the watches are open before the burst.
    const liveDeadline = Date.now() + 30_000;
    while (!contexts.every((c) => store.snapshot(c.name).connection.phase === 'live')) {
      if (Date.now() > liveDeadline) throw new Error('the store did not go live');
      await new Promise((r) => setTimeout(r, 20));
    }

    // Health of one context (pure): computeHealth over the whole snapshot, next to a bare pass over the same maps.
    const snap = store.snapshot('east');
    // Cold: every call sees a CSR map it has not indexed yet (what happens after each CSR change).
    const copies = Array.from({ length: 25 }, () => ({ ...snap, csrs: new Map(snap.csrs) }));
    for (let i = 0; i < 5; i++) computeHealth(copies[i]!, Date.now());
    t = performance.now();
    for (let i = 5; i < 25; i++) computeHealth(copies[i]!, Date.now());
    const healthMs = (performance.now() - t) / 20;
    // Warm: the same snapshot again (the periodic refresh while CSRs did not change; the index is cached).
    t = performance.now();
    for (let i = 0; i < 20; i++) computeHealth(snap, Date.now());
    const healthWarmMs = (performance.now() - t) / 20;
    copies.length = 0;
    t = performance.now();
    let touched = 0;
    for (let i = 0; i < 20; i++) {
      for (const c of snap.csrs.values()) if (c.status?.conditions?.length) touched++;
      for (const p of snap.pods.values()) if (p.status?.phase) touched++;
    }
    const bareMs = (performance.now() - t) / 20;

    // Burst: 1,000 new CSRs on east, written in the sandbox process; latency = batch delivered to a subscriber
    // (store) or watch line parsed (reference) minus the moment the write returned, on the shared wall clock.
    const east = contexts[0]!;
    const now = () => performance.timeOrigin + performance.now();
    const storeSeen = new Map<string, number>();
    const refSeen = new Map<string, number>();
    const unsubscribe = store.subscribe((batch) => {
      const at = now();
      for (const ch of batch.changes)
        for (const k of ch.upserted.csrs ?? []) if (!storeSeen.has(k)) storeSeen.set(k, at);
    });
    // A second store on east with a 1 ms window: the pipeline's own cost without the batching delay.
    const eager = createClusterStore([east], { batchMs: 1, pods: false, tigera: false });
    const eagerSeen = new Map<string, number>();
    eager.subscribe((batch) => {
      const at = now();
      for (const ch of batch.changes)
        for (const k of ch.upserted.csrs ?? []) if (!eagerSeen.has(k)) eagerSeen.set(k, at);
    });
    eager.start();
    if (!(await eager.whenSynced(undefined, 120_000))) throw new Error('the eager store did not sync');
    while (eager.snapshot('east').connection.phase !== 'live') await new Promise((r) => setTimeout(r, 20));
    const rv = (await plainList(east, `${CSR_PATH}?limit=1`)).metadata.resourceVersion;
    const stopRef = plainWatch(east, CSR_PATH, rv, (name) => {
      if (!refSeen.has(name)) refSeen.set(name, now());
    });
    await new Promise((r) => setTimeout(r, 200));
    const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    const sample = store.snapshot('east').csrs.values().next().value;
    const burstStart = now();
    child.send(`burst ${sample?.spec.request ?? ''}`);
    const { written: writtenObj } = (await child.next()) as { written: Record<string, number> };
    const written = new Map(Object.entries(writtenObj));
    const burstWriteMs = Math.max(...written.values()) - burstStart;
    const deadline = Date.now() + 60_000;
    while (names.some((n) => !storeSeen.has(n) || !refSeen.has(n) || !eagerSeen.has(n))) {
      if (Date.now() > deadline) throw new Error('burst not fully seen within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const burstAllSeenMs = Math.max(...names.map((n) => storeSeen.get(n)!)) - burstStart;
    const eventsPerSecond = (BURST / burstAllSeenMs) * 1000;
    unsubscribe();
    stopRef();
    const storeLat = names.map((n) => storeSeen.get(n)! - written.get(n)!);
    const refLat = names.map((n) => refSeen.get(n)! - written.get(n)!);
    const eagerLat = names.map((n) => eagerSeen.get(n)! - written.get(n)!);
    store.stop();
    eager.stop();

    const perContext = `${CSRS.toLocaleString('en')} CSRs + ${PODS.toLocaleString('en')} pods per context, two contexts`;
    return [
      '## kube: the live store at scale',
      '',
      `Sandbox with ${perContext}, in a child process (the figures are the client's own heap and latency).`,
      '',
      '| measure | certdesk store | reference | ratio |',
      '|---|---|---|---|',
      `| time to first full sync (both contexts) | ${f1(storeSyncMs)} ms (${storeCount} objects, pages of 500, typed, + namespaces) | ${f1(refSyncMs)} ms (${refCount} objects, one unpaginated GET each, JSON.parse only) | ${f2(storeSyncMs / refSyncMs)}× |`,
      `| heap retained after sync | ${f1(storeHeap)} MiB | ${f1(refHeap)} MiB (the parsed lists) | ${f2(storeHeap / refHeap)}× |`,
      `| event→store latency, burst of ${BURST} CSRs, p50 | ${f1(percentile(storeLat, 50))} ms | ${f1(percentile(refLat, 50))} ms (bare watch line parsed) | ${f2(percentile(storeLat, 50) / Math.max(0.1, percentile(refLat, 50)))}× |`,
      `| same, p95 | ${f1(percentile(storeLat, 95))} ms | ${f1(percentile(refLat, 95))} ms | ${f2(percentile(storeLat, 95) / Math.max(0.1, percentile(refLat, 95)))}× |`,
      `| same, max | ${f1(Math.max(...storeLat))} ms | ${f1(Math.max(...refLat))} ms | ${f2(Math.max(...storeLat) / Math.max(0.1, Math.max(...refLat)))}× |`,
      `| same with batchMs 1 (CSRs only), p50 / p95 | ${f1(percentile(eagerLat, 50))} / ${f1(percentile(eagerLat, 95))} ms | ${f1(percentile(refLat, 50))} / ${f1(percentile(refLat, 95))} ms | ${f2(percentile(eagerLat, 95) / Math.max(0.1, percentile(refLat, 95)))}× (p95) |`,
      `| computeHealth on one context (${CSRS} CSRs, ${PODS} pods), mean of 20: new CSR map / same snapshot again | ${f2(healthMs)} / ${f2(healthWarmMs)} ms | ${f2(bareMs)} ms (a bare pass over both maps, ${touched > 0 ? 'reading one field' : ''}) | ${f2(healthMs / Math.max(0.01, bareMs))}× / ${f2(healthWarmMs / Math.max(0.01, bareMs))}× |`,
      '',
      `The burst took ${f1(burstWriteMs)} ms to write; the store had announced all ${BURST} after ${f1(burstAllSeenMs)} ms ` +
        `(${Math.round(eventsPerSecond)} events/s, the sandbox's write rate being the limit). ` +
        'Store latency includes the 50 ms batching window (batchMs), which is what a UI subscriber sees.',
      '',
      'Command: `npm run bench kube` (or `node --import tsx bench/run.ts kube`).',
    ].join('\n');
  } finally {
    await child.stop();
  }
}

// The live store against a two-cluster sandbox over HTTPS: first sync, batches, restart on the same port,
// 410 Expired relists, and an unreachable context that must not hold the others up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { computeHealth } from '../../../src/services/health/index.js';
import {
  type ClusterContext,
  type ClusterStore,
  createClusterStore,
  createCsr,
  listCsrs,
  loadContexts,
} from '../../../src/services/kube/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { BatchRecorder, csrBody, uniqueName, waitFor } from './helpers.js';

const ADMIN = { name: 'admin', groups: ['system:masters'] };
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

describe('cluster store (two sandbox clusters)', () => {
  let sandbox: Sandbox;
  let contexts: ClusterContext[];
  const stores: ClusterStore[] = [];
  const dirs: string[] = [];

  before(async () => {
    sandbox = await startSandbox({ clusters: ['east', 'west'], builtinSigners: false, bookmarkIntervalMs: 200 });
    contexts = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east', 'west'] });
  });

  after(async () => {
    for (const s of stores) s.stop();
    await sandbox?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function newStore(ctxs = contexts, options: Parameters<typeof createClusterStore>[1] = {}): ClusterStore {
    const store = createClusterStore(ctxs, { batchMs: 20, backoff: { initialMs: 50, maxMs: 400 }, ...options });
    stores.push(store);
    return store;
  }

  it('syncs both contexts, goes live, and announces new CSRs in batches by key', async () => {
    const store = newStore();
    const recorder = new BatchRecorder(store);
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    await waitFor('both live', () => store.contexts().every((c) => store.snapshot(c).connection.phase === 'live'));
    const before = store.snapshot('east');
    assert.equal(before.tigeraStatuses, 'not-installed');
    assert.ok(before.namespaces.has('kube-system'));

    const name = uniqueName('store-new');
    const created = await createCsr(contexts[0]!, csrBody(name));
    assert.ok(created.ok, created.ok ? '' : created.error.message);
    await waitFor('CSR in store', () => store.snapshot('east').csrs.get(name));
    const csr = store.snapshot('east').csrs.get(name)!;
    assert.ok(csr.metadata?.creationTimestamp instanceof Date, 'timestamps are Dates, as the typed clients give');
    assert.equal(csr.kind, 'CertificateSigningRequest');
    assert.equal(store.snapshot('west').csrs.has(name), false, 'contexts do not mix');
    await waitFor('batch announcing it', () => recorder.upsertCount('east', 'csrs', name) === 1);
    // Snapshots are immutable: the one taken before the change did not grow.
    assert.equal(before.csrs.has(name), false);
    assert.ok(store.snapshot('east').version > before.version);
    const health = computeHealth(store.snapshot('east'), Date.now());
    assert.ok(health.pendingCount >= 1);
    recorder.unsubscribe();
  });

  it('converges after the server stops and restarts on the same port, each CSR announced once', async () => {
    const store = newStore();
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    await waitFor('east live', () => store.snapshot('east').connection.phase === 'live');
    const recorder = new BatchRecorder(store);
    const east = sandbox.cluster('east');
    const port = east.port;
    await east.pause();
    await waitFor('east not live', () => store.snapshot('east').connection.phase !== 'live');
    const names = [uniqueName('down-a'), uniqueName('down-b'), uniqueName('down-c')];
    for (const n of names) await east.createAs(ADMIN, CSR_PATH, csrBody(n));
    assert.equal(store.snapshot('west').connection.phase, 'live', 'west is unaffected');
    await east.resume();
    assert.equal(east.port, port);
    await waitFor('all created-while-down CSRs', () => names.every((n) => store.snapshot('east').csrs.has(n)), 15_000);
    await waitFor('east live again', () => store.snapshot('east').connection.phase === 'live', 15_000);
    await waitFor('batches announcing them', () => names.every((n) => recorder.upsertCount('east', 'csrs', n) > 0));
    for (const n of names) assert.equal(recorder.upsertCount('east', 'csrs', n), 1, `${n} announced once`);
    for (const n of names) assert.equal(store.snapshot('west').csrs.has(n), false);
  });

  it('recovers from 410 Expired with a relist: nothing lost, nothing announced twice, deletions seen', async () => {
    const store = newStore();
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    await waitFor('east live', () => store.snapshot('east').connection.phase === 'live');
    const east = sandbox.cluster('east');
    const doomed = uniqueName('doomed');
    await east.createAs(ADMIN, CSR_PATH, csrBody(doomed));
    await waitFor('doomed in store', () => store.snapshot('east').csrs.has(doomed));
    const recorder = new BatchRecorder(store);
    const unchanged = [...store.snapshot('east').csrs.keys()].filter((k) => k !== doomed);
    const expiredBefore = store.snapshot('east').counters.expired;

    await east.pause();
    await waitFor('east not live', () => store.snapshot('east').connection.phase !== 'live');
    const names = [uniqueName('exp-a'), uniqueName('exp-b')];
    for (const n of names) await east.createAs(ADMIN, CSR_PATH, csrBody(n));
    const del = await east.requestAs(ADMIN, 'DELETE', `${CSR_PATH}/${doomed}`);
    assert.ok(del.kind === 'json' && del.code < 300);
    east.expireWatchHistory();
    await east.resume();

    await waitFor('new CSRs after relist', () => names.every((n) => store.snapshot('east').csrs.has(n)), 15_000);
    await waitFor('deletion after relist', () => !store.snapshot('east').csrs.has(doomed), 15_000);
    await waitFor('batches announcing them', () => names.every((n) => recorder.upsertCount('east', 'csrs', n) > 0));
    await waitFor('batch announcing the deletion', () => recorder.deleteCount('east', 'csrs', doomed) > 0);
    assert.ok(store.snapshot('east').counters.expired > expiredBefore, 'the watch really hit 410 Expired');
    for (const n of names) assert.equal(recorder.upsertCount('east', 'csrs', n), 1, `${n} announced once`);
    assert.equal(recorder.deleteCount('east', 'csrs', doomed), 1);
    for (const k of unchanged)
      assert.equal(recorder.upsertCount('east', 'csrs', k), 0, `${k} unchanged, not re-announced`);
  });

  it('lists in pages (continue tokens) and ends up with exactly the CSRs the server has', async () => {
    for (let i = 0; i < 7; i++) assert.ok((await createCsr(contexts[1]!, csrBody(uniqueName('paged')))).ok);
    const store = newStore([contexts[1]!], { pageSize: 3, pods: false, tigera: false });
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    const all = await listCsrs(contexts[1]!);
    assert.ok(all.ok && all.value.length >= 7);
    assert.deepEqual([...store.snapshot('west').csrs.keys()].sort(), all.value.map((c) => c.metadata?.name).sort());
    assert.ok(store.snapshot('west').counters.lists >= 1);
  });

  it('lists the CSRs first and the other kinds once they are in, so the CSR table is whole early', async () => {
    for (let i = 0; i < 20; i++) assert.ok((await createCsr(contexts[1]!, csrBody(uniqueName('first')))).ok);
    // Pages of 2: the CSR list takes a dozen round trips, in which a namespace list started alongside would be in.
    const store = newStore([contexts[1]!], { pageSize: 2, tigera: false });
    const seen: string[] = [];
    store.subscribe((batch) => {
      for (const change of batch.changes) {
        if (change.csrsListed) seen.push('csrs listed');
        for (const kind of ['pods', 'namespaces'] as const) if (change.upserted[kind]?.length) seen.push(kind);
      }
    });
    assert.equal(store.snapshot('west').csrsListed, false);
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    assert.ok(store.snapshot('west').csrsListed);
    assert.ok(store.snapshot('west').namespaces.has('kube-system'), 'the other kinds are listed after');
    // Change batches reach subscribers asynchronously: wait (with a deadline) until the namespaces' batch is in.
    const deadline = Date.now() + 10_000;
    while (!seen.includes('namespaces') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen[0], 'csrs listed', `first: ${seen.join(', ')}`);
  });

  it("a context's other kinds wait for every context's CSRs, so one's pods do not slow the others' CSR list", async () => {
    for (let i = 0; i < 30; i++) assert.ok((await createCsr(contexts[1]!, csrBody(uniqueName('long')))).ok);
    // Pages of 2: west's CSR list takes many more round trips than east's (a few CSRs).
    const store = newStore(contexts, { pageSize: 2, tigera: false });
    const seen: string[] = [];
    store.subscribe((batch) => {
      for (const change of batch.changes) {
        if (change.csrsListed) seen.push(`${change.context} csrs listed`);
        for (const kind of ['pods', 'namespaces'] as const)
          if (change.upserted[kind]?.length) seen.push(`${change.context} ${kind}`);
      }
    });
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    const deadline = Date.now() + 10_000;
    while (!seen.includes('east namespaces') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const westIn = seen.indexOf('west csrs listed');
    assert.ok(seen.indexOf('east csrs listed') < westIn, `east's CSRs came first: ${seen.join(', ')}`);
    assert.ok(seen.indexOf('east namespaces') > westIn, `east's other kinds waited: ${seen.join(', ')}`);
  });

  it('with holdRest the other kinds wait for releaseRest(), and start at the latest 2 s after the CSRs', async () => {
    const store = newStore([contexts[0]!], { tigera: false, holdRest: true });
    store.start();
    await waitFor('the CSRs listed', () => store.snapshot('east').csrsListed === true);
    // Nothing else is listed while held: checked for as long as it is, right up to the release.
    const listedAt = Date.now();
    while (Date.now() - listedAt < 300) {
      assert.equal(store.snapshot('east').namespaces.size, 0, 'namespaces listed before the release');
      await new Promise((r) => setTimeout(r, 20));
    }
    store.releaseRest();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    assert.ok(store.snapshot('east').namespaces.has('kube-system'));

    // Never released: the other kinds start anyway, at most 2 s after the CSRs are in.
    const unreleased = newStore([contexts[0]!], { tigera: false, holdRest: true });
    const started = Date.now();
    unreleased.start();
    assert.equal(await unreleased.whenSynced(undefined, 10_000), true);
    const took = Date.now() - started;
    assert.ok(took >= 1900, `synced after ${took} ms although nothing released the other kinds`);
  });

  it('an unreachable context does not hold up the others', async () => {
    // A port nothing listens on (connection refused) and a non-routable address (connect hangs).
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as { port: number }).port;
        srv.close(() => resolve(port));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'kube-test-kc-'));
    dirs.push(dir);
    const extra = join(dir, 'extra.kubeconfig');
    writeFileSync(
      extra,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'refused', cluster: { server: `https://127.0.0.1:${closed}` } },
          { name: 'blackhole', cluster: { server: 'https://10.255.255.1:6443' } },
        ],
        users: [{ name: 'nobody', user: { token: 'x' } }],
        contexts: [
          { name: 'refused', context: { cluster: 'refused', user: 'nobody' } },
          { name: 'blackhole', context: { cluster: 'blackhole', user: 'nobody' } },
        ],
      }),
    );
    const all = loadContexts({
      kubeconfig: `${extra}:${sandbox.kubeconfigPath}`,
      contexts: ['refused', 'blackhole', 'east', 'west'],
    });
    const store = newStore(all, { connectTimeoutMs: 30_000 });
    store.start();
    assert.equal(await store.whenSynced('east', 10_000), true);
    assert.equal(await store.whenSynced('west', 10_000), true);
    await waitFor('refused is unreachable', () => store.snapshot('refused').connection.phase === 'unreachable');
    const refused = store.snapshot('refused').connection;
    assert.ok(refused.phase === 'unreachable' && /ECONNREFUSED/.test(refused.message), JSON.stringify(refused));
    assert.equal(store.snapshot('blackhole').synced, false);
    assert.equal(store.snapshot('refused').synced, false);
  });
});

describe('cluster store: TigeraStatus and a user who may not read pods', () => {
  let sandbox: Sandbox;
  let store: ClusterStore | undefined;

  before(async () => {
    sandbox = await startSandbox({
      clusters: ['east'],
      builtinSigners: false,
      users: [
        {
          name: 'csr-reader',
          rules: [
            {
              apiGroups: ['certificates.k8s.io'],
              resources: ['certificatesigningrequests'],
              verbs: ['get', 'list', 'watch'],
            },
          ],
        },
      ],
    });
  });

  after(async () => {
    store?.stop();
    await sandbox?.stop();
  });

  it('reports TigeraStatus as not installed, then follows it once the API group is served', async () => {
    const ctxs = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] });
    store = createClusterStore(ctxs, { batchMs: 20, discoveryIntervalMs: 100, backoff: { initialMs: 50, maxMs: 400 } });
    store.start();
    assert.equal(await store.whenSynced('east', 10_000), true);
    assert.equal(store.snapshot('east').tigeraStatuses, 'not-installed');
    const east = sandbox.cluster('east');
    east.enableApiGroup('operator.tigera.io');
    await east.createAs(ADMIN, '/apis/operator.tigera.io/v1/tigerastatuses', {
      apiVersion: 'operator.tigera.io/v1',
      kind: 'TigeraStatus',
      metadata: { name: 'calico' },
      status: { conditions: [{ type: 'Available', status: 'True', reason: 'AllObjectsAvailable', message: '' }] },
    });
    await waitFor('TigeraStatus in store', () => {
      const t = store?.snapshot('east').tigeraStatuses;
      return t !== undefined && t !== 'not-installed' && t.has('calico');
    });
    const health = computeHealth(store.snapshot('east'), Date.now());
    assert.ok(Array.isArray(health.tigera) && health.tigera[0]?.healthy === true);
    store.stop();
  });

  it('follows pods only in the namespaces asked for', async () => {
    const ctxs = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] });
    store = createClusterStore(ctxs, { batchMs: 20, namespaces: ['kube-system'], tigera: false });
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    const east = sandbox.cluster('east');
    const podBody = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
    });
    await east.createAs(ADMIN, '/api/v1/namespaces/default/pods', podBody('not-followed'));
    await east.createAs(ADMIN, '/api/v1/namespaces/kube-system/pods', podBody('followed'));
    await waitFor('kube-system pod', () => store?.snapshot('east').pods.has('kube-system/followed'));
    assert.equal(store.snapshot('east').pods.has('default/not-followed'), false);
    store.stop();
  });

  it('a user who may read CSRs but not pods: synced and live, with the pods error kept per kind', async () => {
    const ctxs = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east-csr-reader'] });
    store = createClusterStore(ctxs, { batchMs: 20, backoff: { initialMs: 50, maxMs: 400 } });
    store.start();
    assert.equal(await store.whenSynced(undefined, 10_000), true);
    await waitFor('live', () => store?.snapshot('east-csr-reader').connection.phase === 'live');
    const snap = store.snapshot('east-csr-reader');
    assert.equal(snap.errors.pods?.kind, 'forbidden');
    assert.match(snap.errors.pods?.message ?? '', /cannot list resource "pods"/);
    store.stop();
  });
});

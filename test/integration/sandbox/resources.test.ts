// Pods, namespaces, secrets, configmaps, serviceaccounts, leases over HTTPS with client-node; server-side Tables.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import {
  apiError,
  clients,
  csrObject,
  makeCsrPem,
  type Sandbox,
  startTestSandbox,
  getTable,
} from '../../helpers/sandbox.js';

let sb: Sandbox;
let east: SandboxCluster;
let core: CoreV1Api;

before(async () => {
  sb = await startTestSandbox(undefined);
  east = sb.cluster('east');
  core = clients(east.kubeConfigFor('admin', ['system:masters'])).core;
  for (const ns of ['calico-system', 'apps']) await core.createNamespace({ body: { metadata: { name: ns } } });
});
after(() => sb.stop());

function pod(name: string, extra: Partial<V1Pod['spec']> = {}, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...extra },
  };
}

function table(path: string): Promise<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }> {
  return getTable(east, path);
}

describe('pods', () => {
  it('creates Pending pods, lists across namespaces with field and label selectors, updates /status', async () => {
    await core.createNamespacedPod({
      namespace: 'calico-system',
      body: pod('calico-node-a', { nodeName: 'node-1' }, { app: 'calico-node' }),
    });
    await core.createNamespacedPod({ namespace: 'apps', body: pod('web', { nodeName: 'node-2' }, { app: 'web' }) });
    const created = await core.readNamespacedPod({ name: 'calico-node-a', namespace: 'calico-system' });
    assert.equal(created.status?.phase, 'Pending');
    const all = await core.listPodForAllNamespaces();
    assert.deepEqual(
      all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
      ['apps/web', 'calico-system/calico-node-a'],
    );
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    assert.deepEqual(
      onNode.items.map((p) => p.metadata?.name),
      ['calico-node-a'],
    );
    const byLabel = await core.listPodForAllNamespaces({ labelSelector: 'app in (web,other)' });
    assert.deepEqual(
      byLabel.items.map((p) => p.metadata?.name),
      ['web'],
    );
    const nsSel = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=apps,status.phase=Pending' });
    assert.deepEqual(
      nsSel.items.map((p) => p.metadata?.name),
      ['web'],
    );

    created.status = { ...created.status, phase: 'Running' };
    created.spec = { ...created.spec, containers: [{ name: 'changed', image: 'x' }] };
    const updated = await core.replaceNamespacedPodStatus({
      name: 'calico-node-a',
      namespace: 'calico-system',
      body: created,
    });
    assert.equal(updated.status?.phase, 'Running');
    assert.equal(updated.spec?.containers[0]?.name, 'app');
    const running = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' });
    assert.deepEqual(
      running.items.map((p) => p.metadata?.name),
      ['calico-node-a'],
    );
    const { code, body } = await apiError(core.listPodForAllNamespaces({ fieldSelector: 'spec.image=x' }));
    assert.equal(code, 400);
    assert.equal(body.message, 'field label not supported: spec.image');
  });

  it('404 for a pod in a missing namespace, 422 without containers, deletecollection by label', async () => {
    const missing = await apiError(core.createNamespacedPod({ namespace: 'nope', body: pod('x') }));
    assert.equal(missing.code, 404);
    assert.equal(missing.body.message, 'namespaces "nope" not found');
    const invalid = await apiError(
      core.createNamespacedPod({ namespace: 'apps', body: { metadata: { name: 'empty' }, spec: { containers: [] } } }),
    );
    assert.equal(invalid.code, 422);
    assert.equal(invalid.body.message, 'Pod "empty" is invalid: spec.containers: Required value');
    const notFound = await apiError(core.readNamespacedPod({ name: 'ghost', namespace: 'apps' }));
    assert.equal(notFound.body.message, 'pods "ghost" not found');
    for (const n of ['batch-1', 'batch-2'])
      await core.createNamespacedPod({ namespace: 'apps', body: pod(n, {}, { batch: 'yes' }) });
    await core.deleteCollectionNamespacedPod({ namespace: 'apps', labelSelector: 'batch=yes' });
    const left = await core.listNamespacedPod({ namespace: 'apps', labelSelector: 'batch=yes' });
    assert.equal(left.items.length, 0);
  });

  it('serves the pod Table with kubectl STATUS rules (Init:0/1, Init:CrashLoopBackOff, PodInitializing, Running)', async () => {
    const initPod = pod('typha', { initContainers: [{ name: 'key-cert-provisioner', image: 'x' }] });
    const initDone = {
      name: 'key-cert-provisioner',
      image: 'x',
      imageID: '',
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    };
    const appInitializing = {
      name: 'app',
      image: 'nginx',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'PodInitializing' } },
    };
    const states: [string, NonNullable<V1Pod['status']>][] = [
      [
        'init-0',
        {
          phase: 'Pending',
          initContainerStatuses: [
            {
              name: 'key-cert-provisioner',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { running: { startedAt: new Date() } },
            },
          ],
          containerStatuses: [appInitializing],
        },
      ],
      [
        'init-crash',
        {
          phase: 'Pending',
          initContainerStatuses: [
            {
              name: 'key-cert-provisioner',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date(Date.now() - 30_000) } },
            },
          ],
        },
      ],
      [
        'pod-init',
        {
          phase: 'Pending',
          initContainerStatuses: [initDone],
          containerStatuses: [appInitializing],
        },
      ],
      [
        'running',
        {
          phase: 'Running',
          conditions: [
            { type: 'Initialized', status: 'True' },
            { type: 'Ready', status: 'True' },
          ],
          initContainerStatuses: [initDone],
          containerStatuses: [
            {
              name: 'app',
              image: 'nginx',
              imageID: '',
              ready: true,
              restartCount: 0,
              state: { running: { startedAt: new Date() } },
            },
          ],
        },
      ],
    ];
    for (const [name, status] of states) {
      const p = await core.createNamespacedPod({
        namespace: 'calico-system',
        body: { ...initPod, metadata: { name } },
      });
      await core.replaceNamespacedPodStatus({ name, namespace: 'calico-system', body: { ...p, status } });
    }
    const t = await table('/api/v1/namespaces/calico-system/pods');
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    );
    const byName = new Map(t.rows.map((r) => [r.cells[0], r.cells]));
    assert.equal(byName.get('init-0')?.[2], 'Init:0/1');
    assert.equal(byName.get('init-0')?.[1], '0/1');
    assert.equal(byName.get('init-crash')?.[2], 'Init:CrashLoopBackOff');
    // The last termination was 30 s before the status was written; a slow machine may take a second or two more.
    assert.match(String(byName.get('init-crash')?.[3]), /^3 \((30|31|32)s ago\)$/);
    assert.equal(byName.get('pod-init')?.[2], 'PodInitializing');
    assert.equal(byName.get('running')?.[2], 'Running');
    assert.equal(byName.get('running')?.[1], '1/1');
  });
});

describe('CSR Table', () => {
  it('has kubectl columns and the CONDITION rule', async () => {
    const certs = clients(east.kubeConfigFor('admin', ['system:masters'])).certs;
    const pem = makeCsrPem({ commonName: 't' }).pem;
    await certs.createCertificateSigningRequest({
      body: csrObject('tbl-pending', pem, 'example.com/t', ['client auth'], 600),
    });
    const c = await certs.createCertificateSigningRequest({
      body: csrObject('tbl-denied', pem, 'example.com/t', ['client auth'], 86_400),
    });
    c.status = { conditions: [{ type: 'Denied', status: 'True', reason: 'No', message: 'no' }] };
    await certs.replaceCertificateSigningRequestApproval({ name: 'tbl-denied', body: c });
    const t = await table(
      '/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%3Dexample.com%2Ft',
    );
    assert.deepEqual(
      t.columnDefinitions.map((col) => col.name),
      ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition'],
    );
    assert.deepEqual(
      t.rows.map((r) => [r.cells[0], r.cells[2], r.cells[3], r.cells[4], r.cells[5]]),
      [
        ['tbl-denied', 'example.com/t', 'admin', '24h', 'Denied'],
        ['tbl-pending', 'example.com/t', 'admin', '10m', 'Pending'],
      ],
    );
  });
});

describe('secrets and configmaps', () => {
  it('kubernetes.io/tls needs tls.crt and tls.key; 1 MiB limit; stringData merged', async () => {
    const { code, body } = await apiError(
      core.createNamespacedSecret({
        namespace: 'apps',
        body: { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'AA==' } },
      }),
    );
    assert.equal(code, 422);
    assert.equal(body.message, 'Secret "tls" is invalid: data[tls.key]: Required value');
    const big = Buffer.alloc(1024 * 1024 + 1).toString('base64');
    const tooBig = await apiError(
      core.createNamespacedSecret({ namespace: 'apps', body: { metadata: { name: 'big' }, data: { blob: big } } }),
    );
    assert.equal(tooBig.code, 422);
    assert.match(String(tooBig.body.message), /^Secret "big" is invalid: data: Too long/);
    const s = await core.createNamespacedSecret({
      namespace: 'apps',
      body: { metadata: { name: 'plain' }, stringData: { a: 'b' } },
    });
    assert.equal(s.type, 'Opaque');
    assert.deepEqual(s.data, { a: Buffer.from('b').toString('base64') });
    const cmBig = await apiError(
      core.createNamespacedConfigMap({
        namespace: 'apps',
        body: { metadata: { name: 'cm' }, data: { x: 'y'.repeat(1024 * 1024 + 1) } },
      }),
    );
    assert.equal(cmBig.code, 422);
    const cm = await core.createNamespacedConfigMap({
      namespace: 'apps',
      body: { metadata: { name: 'ca' }, data: { 'ca.crt': 'pem' } },
    });
    cm.data = { 'ca.crt': 'new' };
    const cm2 = await core.replaceNamespacedConfigMap({ name: 'ca', namespace: 'apps', body: cm });
    assert.equal(cm2.data?.['ca.crt'], 'new');
    await core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'sa' } } });
  });

  it('deleting a namespace deletes what is in it', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'x' } } });
    await core.deleteNamespace({ name: 'doomed' });
    assert.equal((await apiError(core.readNamespacedConfigMap({ name: 'x', namespace: 'doomed' }))).code, 404);
  });
});

describe('leases', () => {
  it('conflicts on a stale resourceVersion, as leader election relies on', async () => {
    const leases = east.kubeConfigFor('admin', ['system:masters']).makeApiClient(CoordinationV1Api);
    const lease = await leases.createNamespacedLease({
      namespace: 'kube-system',
      body: { metadata: { name: 'certdesk-controller' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    const stale = structuredClone(lease);
    lease.spec = { ...lease.spec, holderIdentity: 'b' };
    await leases.replaceNamespacedLease({ name: 'certdesk-controller', namespace: 'kube-system', body: lease });
    stale.spec = { ...stale.spec, holderIdentity: 'c' };
    const { code, body } = await apiError(
      leases.replaceNamespacedLease({ name: 'certdesk-controller', namespace: 'kube-system', body: stale }),
    );
    assert.equal(code, 409);
    assert.equal(
      body.message,
      'Operation cannot be fulfilled on leases.coordination.k8s.io "certdesk-controller": the object has been modified; please apply your changes to the latest version and try again',
    );
    const dup = await apiError(
      leases.createNamespacedLease({
        namespace: 'kube-system',
        body: { metadata: { name: 'certdesk-controller' }, spec: {} },
      }),
    );
    assert.equal(dup.code, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
  });
});

// PATCH (merge, JSON, strategic) on CSRs and their /approval and /status subresources, on pods, 409 on a stale
// resourceVersion, 415/422/400 errors, and deletecollection by field selector — over HTTPS with client-node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { certificatePem, csrBody, errorBody, statusOf } from './rbac-patch-helpers.js';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

describe('sandbox PATCH and deletecollection', () => {
  let sandbox: Sandbox;
  let certs: CertificatesV1Api;
  let core: CoreV1Api;
  let n = 0;
  const newCsr = async (signer = 'example.com/serving', labels: Record<string, string> = {}) => {
    n += 1;
    return certs.createCertificateSigningRequest({ body: await csrBody(`patch-${n}`, signer, labels) });
  };

  before(async () => {
    sandbox = await startSandbox({ builtinSigners: false });
    const kc = sandbox.clusters[0]?.kubeConfigFor('admin', ['system:masters']);
    assert.ok(kc);
    certs = kc.makeApiClient(CertificatesV1Api);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('patches CSR annotations with merge, JSON and strategic merge patches', async () => {
    const csr = await newCsr();
    const name = csr.metadata?.name ?? '';
    const m = await certs.patchCertificateSigningRequest(
      { name, body: { metadata: { annotations: { 'example.com/a': '1', 'example.com/b': '2' } } } },
      merge,
    );
    assert.deepEqual(m.metadata?.annotations, { 'example.com/a': '1', 'example.com/b': '2' });
    assert.notEqual(m.metadata?.resourceVersion, csr.metadata?.resourceVersion);

    const j = await certs.patchCertificateSigningRequest(
      {
        name,
        body: [
          { op: 'test', path: '/metadata/annotations/example.com~1a', value: '1' },
          { op: 'add', path: '/metadata/annotations/example.com~1c', value: '3' },
          { op: 'remove', path: '/metadata/annotations/example.com~1b' },
        ],
      },
      jsonPatch,
    );
    assert.deepEqual(j.metadata?.annotations, { 'example.com/a': '1', 'example.com/c': '3' });

    const s = await certs.patchCertificateSigningRequest(
      { name, body: { metadata: { annotations: { 'example.com/a': null, 'example.com/d': '4' } } } },
      strategic,
    );
    assert.deepEqual(s.metadata?.annotations, { 'example.com/c': '3', 'example.com/d': '4' });

    // The spec is immutable through the main resource: a patch of it is silently dropped, as on a real server.
    const spec = await certs.patchCertificateSigningRequest(
      { name, body: { spec: { signerName: 'example.com/other' } } },
      merge,
    );
    assert.equal(spec.spec.signerName, 'example.com/serving');
    const read = await certs.readCertificateSigningRequest({ name });
    assert.deepEqual(read.metadata?.annotations, { 'example.com/c': '3', 'example.com/d': '4' });
  });

  it('keeps both the condition and the annotation of a merge patch through /approval', async () => {
    const csr = await newCsr();
    const name = csr.metadata?.name ?? '';
    const approved = await certs.patchCertificateSigningRequestApproval(
      {
        name,
        body: {
          metadata: { annotations: { 'example.com/approved-by': 'test' } },
          status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'approved by a test' }] },
        },
      },
      merge,
    );
    assert.equal(approved.metadata?.annotations?.['example.com/approved-by'], 'test');
    const cond = approved.status?.conditions?.[0];
    assert.equal(cond?.type, 'Approved');
    assert.equal(cond?.reason, 'Test');
    assert.ok(cond?.lastUpdateTime, 'lastUpdateTime is filled in by the server');

    // A strategic merge patch adds a condition by type and keeps Approved (a merge patch would replace the list).
    const failed = await certs.patchCertificateSigningRequestStatus(
      { name, body: { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'Test' }] } } },
      strategic,
    );
    assert.deepEqual(
      failed.status?.conditions?.map((c) => c.type),
      ['Approved', 'Failed'],
    );
    // Removing Approved through a merge patch of the list is refused (422), as validation forbids removal.
    const removal = await errorBody(
      certs.patchCertificateSigningRequestApproval({ name, body: { status: { conditions: [] } } }, merge),
    );
    assert.equal(removal.code, 422);
    assert.match(removal.message ?? '', /may not remove a condition of type "Approved"/);
  });

  it('sets the certificate with a merge patch of /status, once', async () => {
    const csr = await newCsr();
    const name = csr.metadata?.name ?? '';
    await certs.patchCertificateSigningRequestApproval(
      { name, body: { status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test' }] } } },
      merge,
    );
    const pem = await certificatePem('issued');
    const issued = await certs.patchCertificateSigningRequestStatus(
      {
        name,
        body: {
          metadata: { labels: { 'example.com/issued': 'yes' } },
          status: { certificate: Buffer.from(pem).toString('base64') },
        },
      },
      merge,
    );
    assert.equal(Buffer.from(issued.status?.certificate ?? '', 'base64').toString(), pem);
    assert.equal(issued.status?.conditions?.[0]?.type, 'Approved');
    assert.equal(issued.metadata?.labels?.['example.com/issued'], 'yes');
    const again = await errorBody(
      certs.patchCertificateSigningRequestStatus(
        { name, body: { status: { certificate: Buffer.from(await certificatePem('other')).toString('base64') } } },
        merge,
      ),
    );
    assert.equal(again.code, 422);
  });

  it('answers 409 to a patch carrying a stale resourceVersion, and applies one carrying the current one', async () => {
    const csr = await newCsr();
    const name = csr.metadata?.name ?? '';
    const stale = csr.metadata?.resourceVersion;
    const updated = await certs.patchCertificateSigningRequest(
      { name, body: { metadata: { labels: { step: '1' }, resourceVersion: stale } } },
      merge,
    );
    const conflict = await errorBody(
      certs.patchCertificateSigningRequest(
        { name, body: { metadata: { labels: { step: '2' }, resourceVersion: stale } } },
        merge,
      ),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.reason, 'Conflict');
    assert.match(conflict.message ?? '', /the object has been modified/);
    assert.equal(
      await statusOf(
        certs.patchCertificateSigningRequestApproval(
          {
            name,
            body: {
              metadata: { resourceVersion: stale },
              status: { conditions: [{ type: 'Approved', status: 'True' }] },
            },
          },
          merge,
        ),
      ),
      409,
    );
    const ok = await certs.patchCertificateSigningRequest(
      {
        name,
        body: [
          { op: 'replace', path: '/metadata/resourceVersion', value: updated.metadata?.resourceVersion },
          { op: 'add', path: '/metadata/labels/step', value: '3' },
        ],
      },
      jsonPatch,
    );
    assert.equal(ok.metadata?.labels?.step, '3');
  });

  it('refuses bad patches with the API server codes: 415, 422, 400, 404', async () => {
    const csr = await newCsr();
    const name = csr.metadata?.name ?? '';
    assert.equal(
      await statusOf(
        certs.patchCertificateSigningRequest({ name, body: {} }, setHeaderOptions('Content-Type', 'text/plain')),
      ),
      415,
    );
    assert.equal(
      await statusOf(
        certs.patchCertificateSigningRequest(
          { name, body: [{ op: 'test', path: '/metadata/name', value: 'someone-else' }] },
          jsonPatch,
        ),
      ),
      422,
    );
    assert.equal(
      await statusOf(
        certs.patchCertificateSigningRequest({ name, body: [{ op: 'remove', path: '/nope' }] }, jsonPatch),
      ),
      422,
    );
    assert.equal(await statusOf(certs.patchCertificateSigningRequest({ name, body: [1, 2] }, merge)), 400);
    assert.equal(await statusOf(certs.patchCertificateSigningRequest({ name: 'absent', body: {} }, merge)), 404);
    // The object is unchanged after all that.
    const read = await certs.readCertificateSigningRequest({ name });
    assert.equal(read.metadata?.resourceVersion, csr.metadata?.resourceVersion);
  });

  it('patches pod annotations three ways and merges containers by name', async () => {
    const pod = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'patched' },
        spec: {
          containers: [
            { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] },
            { name: 'sidecar', image: 'side:1' },
          ],
        },
      },
    });
    const name = pod.metadata?.name ?? '';
    const ns = 'default';
    await core.patchNamespacedPod({ name, namespace: ns, body: { metadata: { annotations: { m: '1' } } } }, merge);
    await core.patchNamespacedPod(
      { name, namespace: ns, body: [{ op: 'add', path: '/metadata/annotations/j', value: '2' }] },
      jsonPatch,
    );
    const s = await core.patchNamespacedPod(
      {
        name,
        namespace: ns,
        body: {
          metadata: { annotations: { s: '3' } },
          spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] }] },
        },
      },
      strategic,
    );
    assert.deepEqual(s.metadata?.annotations, { m: '1', j: '2', s: '3' });
    assert.deepEqual(
      s.spec?.containers.map((c) => [c.name, c.image, (c.env ?? []).map((e) => e.name)]),
      [
        ['app', 'app:2', ['A', 'B']],
        ['sidecar', 'side:1', []],
      ],
    );
    await core.deleteNamespacedPod({ name, namespace: ns });
  });

  it('deletecollection by label selector for pods, secrets, configmaps and leases, within the namespace', async () => {
    const kc = sandbox.clusters[0]?.kubeConfigFor('admin', ['system:masters']);
    assert.ok(kc);
    const coord = kc.makeApiClient(CoordinationV1Api);
    await core.createNamespace({ body: { metadata: { name: 'dc-other' } } });
    for (const ns of ['default', 'dc-other']) {
      for (const [i, doomed] of [
        [1, 'yes'],
        [2, 'no'],
      ] as const) {
        const metadata = { name: `dc-${i}`, labels: { doomed } };
        await core.createNamespacedPod({
          namespace: ns,
          body: { metadata, spec: { containers: [{ name: 'c', image: 'i' }] } },
        });
        await core.createNamespacedSecret({ namespace: ns, body: { metadata, stringData: { a: 'b' } } });
        await core.createNamespacedConfigMap({ namespace: ns, body: { metadata, data: { a: 'b' } } });
        await coord.createNamespacedLease({ namespace: ns, body: { metadata, spec: { holderIdentity: 'x' } } });
      }
    }
    await core.deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'doomed=yes' });
    await core.deleteCollectionNamespacedSecret({ namespace: 'default', labelSelector: 'doomed=yes' });
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'default', labelSelector: 'doomed=yes' });
    await coord.deleteCollectionNamespacedLease({ namespace: 'default', labelSelector: 'doomed=yes' });
    const names = async (ns: string) =>
      [
        ...(await core.listNamespacedPod({ namespace: ns, labelSelector: 'doomed' })).items,
        ...(await core.listNamespacedSecret({ namespace: ns, labelSelector: 'doomed' })).items,
        ...(await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'doomed' })).items,
        ...(await coord.listNamespacedLease({ namespace: ns, labelSelector: 'doomed' })).items,
      ].map((o) => o.metadata?.name);
    assert.deepEqual(await names('default'), ['dc-2', 'dc-2', 'dc-2', 'dc-2']);
    assert.deepEqual(await names('dc-other'), ['dc-1', 'dc-2', 'dc-1', 'dc-2', 'dc-1', 'dc-2', 'dc-1', 'dc-2']);
  });

  it('deletecollection by spec.signerName leaves the other CSRs alone', async () => {
    const gone: V1CertificateSigningRequest[] = [];
    const kept: V1CertificateSigningRequest[] = [];
    for (let i = 0; i < 3; i++) gone.push(await newCsr('example.com/doomed'));
    for (let i = 0; i < 2; i++) kept.push(await newCsr('example.com/kept'));
    kept.push(await newCsr('example.com/kept-too', { team: 'x' }));
    await certs.deleteCollectionCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.com/doomed' });
    const names = (await certs.listCertificateSigningRequest()).items.map((c) => c.metadata?.name);
    for (const c of gone) assert.ok(!names.includes(c.metadata?.name), `${c.metadata?.name} was deleted`);
    for (const c of kept) assert.ok(names.includes(c.metadata?.name), `${c.metadata?.name} was kept`);
    await certs.deleteCollectionCertificateSigningRequest({ labelSelector: 'team=x' });
    const after = (await certs.listCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.com/kept-too' }))
      .items;
    assert.equal(after.length, 0);
    assert.equal(
      (await certs.listCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.com/kept' })).items.length,
      2,
    );
  });
});

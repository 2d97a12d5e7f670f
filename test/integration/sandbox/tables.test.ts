// Date and duration cells of the server-side Tables, as a real server renders them: ages (duration.HumanDuration) for
// the built-in AGE columns and for custom resources' `date` columns (TigeraStatus SINCE, a CRD's default Age),
// REQUESTEDDURATION as a duration, `Created At` as RFC 3339 for the kinds with the default table convertor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox, getTable } from '../../helpers/sandbox.js';

interface Table {
  columnDefinitions: { name: string; type: string }[];
  rows: { cells: unknown[] }[];
}

describe('Table date columns', () => {
  let sb: Sandbox;
  let east: SandboxCluster;

  const table = (path: string): Promise<Table> => getTable<Table>(east, path);

  const column = (t: Table, name: string): { type: string; cells: unknown[] } => {
    const i = t.columnDefinitions.findIndex((c) => c.name === name);
    assert.ok(i >= 0, `column ${name} in ${t.columnDefinitions.map((c) => c.name).join(',')}`);
    return { type: t.columnDefinitions[i]?.type ?? '', cells: t.rows.map((r) => r.cells[i]) };
  };
  const ago = (ms: number): string => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');

  before(async () => {
    sb = await startTestSandbox(undefined);
    east = sb.cluster('east');
    east.enableApiGroup('operator.tigera.io');
  });
  after(() => sb.stop());

  it('TigeraStatus SINCE is the age of the Available transition; blank (null) without one', async () => {
    const custom = east.kubeConfigFor('admin', ['system:masters']).makeApiClient(CustomObjectsApi);
    const ref = { group: 'operator.tigera.io', version: 'v1', plural: 'tigerastatuses' };
    await custom.createClusterCustomObject({
      ...ref,
      body: { apiVersion: 'operator.tigera.io/v1', kind: 'TigeraStatus', metadata: { name: 'calico' }, spec: {} },
    });
    await custom.createClusterCustomObject({
      ...ref,
      body: { apiVersion: 'operator.tigera.io/v1', kind: 'TigeraStatus', metadata: { name: 'apiserver' }, spec: {} },
    });
    const conds = [
      { type: 'Available', status: 'True', reason: 'AllObjectsAvailable', lastTransitionTime: ago(125_500) },
      { type: 'Progressing', status: 'False', reason: 'AllObjectsAvailable', lastTransitionTime: ago(125_500) },
      { type: 'Degraded', status: 'False', reason: 'AllObjectsAvailable', lastTransitionTime: ago(125_500) },
    ];
    await custom.patchClusterCustomObjectStatus({
      ...ref,
      name: 'calico',
      body: [{ op: 'add', path: '/status', value: { conditions: conds } }],
    });
    const t = await table('/apis/operator.tigera.io/v1/tigerastatuses');
    const since = column(t, 'Since');
    assert.equal(since.type, 'date');
    const names = column(t, 'Name').cells;
    const calico = since.cells[names.indexOf('calico')];
    assert.match(String(calico), /^2m(5|6)s$/, `SINCE ${String(calico)}`);
    assert.equal(since.cells[names.indexOf('apiserver')], null);
    assert.equal(column(t, 'Available').cells[names.indexOf('apiserver')], null);
    assert.equal(column(t, 'Available').cells[names.indexOf('calico')], 'True');
  });

  it('a CRD without printer columns (Installation) shows Name and Age as an age', async () => {
    const custom = east.kubeConfigFor('admin', ['system:masters']).makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({
      group: 'operator.tigera.io',
      version: 'v1',
      plural: 'installations',
      body: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', metadata: { name: 'default' }, spec: {} },
    });
    const t = await table('/apis/operator.tigera.io/v1/installations');
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.type]),
      [
        ['Name', 'string'],
        ['Age', 'date'],
      ],
    );
    assert.match(String(t.rows[0]?.cells[1]), /^\d+s$/);
  });

  it('CSR AGE and REQUESTEDDURATION are human durations; creationTimestamp is the server time', async () => {
    const { certs, core } = clients(east.kubeConfigFor('admin', ['system:masters']));
    const { pem } = makeCsrPem({ commonName: 'jane' });
    const body = csrObject('dur-1', pem, 'example.com/x', ['client auth'], 86_400);
    await certs.createCertificateSigningRequest({
      body: { ...body, metadata: { ...body.metadata, creationTimestamp: new Date('2020-01-01T00:00:00Z') } },
    });
    await certs.createCertificateSigningRequest({
      body: csrObject('dur-2', pem, 'example.com/x', ['client auth'], 600),
    });
    await certs.createCertificateSigningRequest({
      body: csrObject('dur-3', pem, 'example.com/x', ['client auth'], 3_600 * 24 * 365),
    });
    const t = await table('/apis/certificates.k8s.io/v1/certificatesigningrequests');
    const names = column(t, 'Name').cells;
    const dur = column(t, 'RequestedDuration').cells;
    assert.equal(dur[names.indexOf('dur-1')], '24h');
    assert.equal(dur[names.indexOf('dur-2')], '10m');
    assert.equal(dur[names.indexOf('dur-3')], '365d');
    // The client's creationTimestamp is replaced (FillObjectMetaSystemFields), so the AGE is seconds, not years.
    assert.match(String(column(t, 'Age').cells[names.indexOf('dur-1')]), /^\d+s$/);
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    });
    const pods = await table('/api/v1/namespaces/default/pods');
    assert.equal(column(pods, 'Age').type, 'string');
    assert.match(String(column(pods, 'Age').cells[0]), /^\d+s$/);
  });

  it('RBAC roles keep the default convertor: Created At as RFC 3339', async () => {
    const rbac = east.kubeConfigFor('admin', ['system:masters']).makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'system:x' }, rules: [] } });
    const t = await table('/apis/rbac.authorization.k8s.io/v1/clusterroles?fieldSelector=metadata.name%3Dsystem%3Ax');
    assert.match(String(column(t, 'Created At').cells[0]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

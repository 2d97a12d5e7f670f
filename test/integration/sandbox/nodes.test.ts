// Nodes, the Node authorizer and NodeRestriction over HTTPS: what `system:node:<name>` users in `system:nodes` may
// do (plugin/pkg/auth/authorizer/node and plugin/pkg/admission/noderestriction of kube 1.37), and the Node Table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1NodeSystemInfo,
} from '@kubernetes/client-node';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import {
  apiError,
  clients,
  csrObject,
  getTable,
  makeCsrPem,
  type Sandbox,
  startTestSandbox,
} from '../../helpers/sandbox.js';

let sb: Sandbox;
let east: SandboxCluster;
let admin: CoreV1Api;
const asNode = (name: string) => clients(east.kubeConfigFor(`system:node:${name}`, ['system:nodes']));

function node(name: string, labels: Record<string, string> = {}): V1Node {
  return {
    metadata: { name, labels },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.11' },
        { type: 'ExternalIP', address: '203.0.113.11' },
        { type: 'Hostname', address: name },
      ],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }],
      nodeInfo: { kubeletVersion: 'v1.37.2', architecture: 'amd64' } as V1NodeSystemInfo,
    },
  };
}

before(async () => {
  sb = await startTestSandbox(undefined);
  east = sb.cluster('east');
  admin = clients(east.kubeConfigFor('admin', ['system:masters'])).core;
  await admin.createNamespace({ body: { metadata: { name: 'apps' } } });
  await admin.createNamespacedSecret({ namespace: 'apps', body: { metadata: { name: 'web-tls' } } });
  await admin.createNamespacedSecret({ namespace: 'apps', body: { metadata: { name: 'other' } } });
  await admin.createNamespacedPod({
    namespace: 'apps',
    body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'web', image: 'nginx' }],
        volumes: [{ name: 'tls', secret: { secretName: 'web-tls' } }],
      },
    },
  });
  await admin.createNamespacedPod({
    namespace: 'apps',
    body: { metadata: { name: 'db' }, spec: { nodeName: 'n2', containers: [{ name: 'db', image: 'pg' }] } },
  });
});
after(() => sb.stop());

describe('nodes', () => {
  it('a node registers itself with its status, reads only its own Node, and updates only its own status', async () => {
    const n1 = asNode('n1').core;
    const created = await n1.createNode({ body: node('n1', { 'kubernetes.io/hostname': 'n1' }) });
    assert.deepEqual(
      created.status?.addresses?.map((a) => a.type),
      ['InternalIP', 'ExternalIP', 'Hostname'],
    );
    assert.equal(created.status?.nodeInfo?.osImage, '', 'NodeSystemInfo fields are written as empty strings');
    assert.equal(created.status?.daemonEndpoints?.kubeletEndpoint?.Port, 0);
    await asNode('n2').core.createNode({ body: node('n2') });

    const other = await apiError(n1.createNode({ body: node('n3') }));
    assert.equal(other.code, 403);
    assert.equal(other.body.message, 'nodes "n3" is forbidden: node "n1" is not allowed to modify node "n3"');
    const label = await apiError(asNode('n4').core.createNode({ body: node('n4', { 'kubernetes.io/role': 'x' }) }));
    assert.equal(
      label.body.message,
      'nodes "n4" is forbidden: node "n4" is not allowed to set the following labels: kubernetes.io/role',
    );

    assert.equal((await n1.readNode({ name: 'n1' })).metadata?.name, 'n1');
    const read = await apiError(n1.readNode({ name: 'n2' }));
    assert.equal(read.code, 403);
    assert.equal(
      read.body.message,
      `nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node: node 'n1' cannot read 'n2', only its own Node object`,
    );
    const list = await apiError(n1.listNode());
    assert.match(String(list.body.message), /node 'n1' cannot read all nodes, only its own Node object$/);
    assert.deepEqual(
      (await n1.listNode({ fieldSelector: 'metadata.name=n1' })).items.map((n) => n.metadata?.name),
      ['n1'],
    );

    const mine = await n1.readNode({ name: 'n1' });
    mine.status = { ...mine.status, conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] };
    mine.spec = { ...mine.spec, unschedulable: true };
    const updated = await n1.replaceNodeStatus({ name: 'n1', body: mine });
    assert.equal(updated.status?.conditions?.[0]?.status, 'False');
    assert.equal(updated.spec?.unschedulable, undefined, '/status keeps the spec');
    const theirs = await admin.readNode({ name: 'n2' });
    const refused = await apiError(n1.replaceNodeStatus({ name: 'n2', body: theirs }));
    assert.equal(refused.body.message, 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    const taint = await apiError(
      n1.patchNode(
        { name: 'n1', body: { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    assert.equal(taint.body.message, 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
  });

  it('serves the Node table with kubectl columns (wide ones included)', async () => {
    const t = await getTable(east, '/api/v1/nodes');
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      [
        'Name',
        'Status',
        'Roles',
        'Age',
        'Version',
        'Internal-IP',
        'External-IP',
        'OS-Image',
        'Kernel-Version',
        'Container-Runtime',
      ],
    );
    const row = t.rows.find((r) => r.cells[0] === 'n2')?.cells;
    assert.deepEqual(
      [row?.[1], row?.[2], row?.[4], row?.[5], row?.[6], row?.[7], row?.[8]],
      ['Ready', '<none>', 'v1.37.2', '10.0.0.11', '203.0.113.11', '<unknown>', '<unknown> (amd64)'],
    );
    const n1 = t.rows.find((r) => r.cells[0] === 'n1')?.cells;
    assert.equal(n1?.[1], 'NotReady');
  });
});

describe('the Node authorizer and NodeRestriction', () => {
  it('reads pods bound to the node, lists them only by spec.nodeName, and reports their status', async () => {
    const n1 = asNode('n1').core;
    assert.equal((await n1.readNamespacedPod({ name: 'web', namespace: 'apps' })).metadata?.name, 'web');
    const db = await apiError(n1.readNamespacedPod({ name: 'db', namespace: 'apps' }));
    assert.equal(
      db.body.message,
      `pods "db" is forbidden: User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "apps": node: no relationship found between node 'n1' and this object`,
    );
    const all = await apiError(n1.listPodForAllNamespaces());
    assert.match(String(all.body.message), /node: can only list\/watch pods with spec.nodeName field selector$/);
    const mine = await n1.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    assert.deepEqual(
      mine.items.map((p) => p.metadata?.name),
      ['web'],
    );

    const web = await n1.readNamespacedPod({ name: 'web', namespace: 'apps' });
    web.status = { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] };
    assert.equal(
      (await n1.replaceNamespacedPodStatus({ name: 'web', namespace: 'apps', body: web })).status?.podIP,
      '10.244.1.5',
    );
    const other = await admin.readNamespacedPod({ name: 'db', namespace: 'apps' });
    const refused = await apiError(n1.replaceNamespacedPodStatus({ name: 'db', namespace: 'apps', body: other }));
    assert.equal(
      refused.body.message,
      'pods "db" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself',
    );
    const relabel = await n1.readNamespacedPod({ name: 'web', namespace: 'apps' });
    relabel.metadata = { ...relabel.metadata, labels: { app: 'evil' } };
    const labels = await apiError(n1.replaceNamespacedPodStatus({ name: 'web', namespace: 'apps', body: relabel }));
    assert.equal(labels.body.message, 'pods "web" is forbidden: node "n1" cannot update labels through pod status');
    const create = await apiError(
      n1.createNamespacedPod({
        namespace: 'apps',
        body: { metadata: { name: 'x' }, spec: { nodeName: 'n1', containers: [{ name: 'x', image: 'x' }] } },
      }),
    );
    assert.equal(
      create.body.message,
      'pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
    );
  });

  it('reads only the secrets of its pods, and creates node CSRs only for itself', async () => {
    const n1 = asNode('n1');
    assert.equal(
      (await n1.core.readNamespacedSecret({ name: 'web-tls', namespace: 'apps' })).metadata?.name,
      'web-tls',
    );
    assert.equal((await apiError(n1.core.readNamespacedSecret({ name: 'other', namespace: 'apps' }))).code, 403);
    const mine = makeCsrPem({ commonName: 'system:node:n1', organizations: ['system:nodes'] }).pem;
    await n1.certs.createCertificateSigningRequest({
      body: csrObject('n1-serving', mine, 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']),
    });
    const theirs = makeCsrPem({ commonName: 'system:node:n2', organizations: ['system:nodes'] }).pem;
    const refused = await apiError(
      n1.certs.createCertificateSigningRequest({
        body: csrObject('n1-as-n2', theirs, 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']),
      }),
    );
    assert.equal(
      refused.body.message,
      'certificatesigningrequests.certificates.k8s.io "n1-as-n2" is forbidden: can only create a node CSR with CN=system:node:n1',
    );
    assert.equal((await n1.certs.listCertificateSigningRequest()).items.length, 1, 'nodes may list CSRs');
  });
});

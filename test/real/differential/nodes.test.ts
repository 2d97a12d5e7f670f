// Nodes, the Node authorizer and NodeRestriction: the sandbox against a real kube-apiserver 1.37
// (--authorization-mode=Node,RBAC, NodeRestriction admission), row by row, as the nodes themselves.
import { type Answer, type Case, differential, statusOf } from './harness.js';
import { csr, TABLE } from './fixtures.js';
import { makeCsrPem } from '../../helpers/sandbox.js';

const N1 = { user: 'system:node:dn1', groups: ['system:nodes'] };
const N2 = { user: 'system:node:dn2', groups: ['system:nodes'] };
const NODES = '/api/v1/nodes';
const NS = '/api/v1/namespaces/diff-nodes';
const PODS = `${NS}/pods`;
const SECRETS = `${NS}/secrets`;
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const merge = { 'content-type': 'application/merge-patch+json' };
const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

const body = (a: Answer) => (a.body ?? {}) as Record<string, unknown>;

function node(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { diff: 'yes', 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.21' },
        { type: 'ExternalIP', address: '203.0.113.21' },
        { type: 'Hostname', address: name },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      nodeInfo: { kubeletVersion: 'v1.37.2', osImage: 'Debian', architecture: 'amd64' },
    },
  };
}

function pod(name: string, nodeName: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { diff: 'yes' } },
    spec: {
      nodeName,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'c', image: 'busybox' }],
      volumes: [{ name: 'tls', secret: { secretName: `${name}-tls` } }],
      ...extra,
    },
  };
}

const podStatus = { status: { phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }] } };
const ssar = (verb: string, resource: string, name = '', namespace = '', subresource = '') => ({
  kind: 'SelfSubjectAccessReview',
  apiVersion: 'authorization.k8s.io/v1',
  spec: { resourceAttributes: { verb, resource, name, namespace, subresource } },
});
const allowed = (a: Answer) => ({ code: a.code, allowed: (body(a).status as { allowed?: boolean })?.allowed });
const servingCsr = (name: string, cn: string) => ({
  ...csr(name),
  spec: {
    request: Buffer.from(makeCsrPem({ commonName: cn, organizations: ['system:nodes'] }).pem).toString('base64'),
    signerName: 'kubernetes.io/kubelet-serving',
    usages: ['digital signature', 'server auth'],
  },
});

const cases: Case[] = [
  // Nodes: registration, reads, status
  { name: 'a node registers itself, status included', method: 'POST', path: NODES, as: N1, body: node('dn1') },
  { name: 'the other node registers itself', method: 'POST', path: NODES, as: N2, body: node('dn2') },
  { name: 'get the node as admin', path: `${NODES}/dn1` },
  { name: 'the node table', path: `${NODES}/dn1`, headers: { accept: TABLE } },
  {
    name: 'list nodes by label as a table',
    path: `${NODES}?labelSelector=diff%3Dyes`,
    headers: { accept: TABLE },
    omit: ['metadata.resourceVersion'],
  },
  {
    name: 'list nodes by spec.unschedulable',
    path: `${NODES}?labelSelector=diff%3Dyes&fieldSelector=spec.unschedulable%3Dfalse`,
    pick: (a) => ({
      code: a.code,
      names: ((body(a).items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    }),
  },
  { name: 'a node reads its own Node', path: `${NODES}/dn1`, as: N1 },
  { name: 'a node may not read another Node', path: `${NODES}/dn2`, as: N1, pick: statusOf },
  { name: 'a node may not list all Nodes', path: NODES, as: N1, pick: statusOf },
  {
    name: 'a node lists its own Node by name',
    path: `${NODES}?fieldSelector=metadata.name%3Ddn1`,
    as: N1,
    pick: (a) => ({ code: a.code, n: (body(a).items as unknown[] | undefined)?.length }),
  },
  { name: 'a node may not register another', method: 'POST', path: NODES, as: N1, body: node('dn3'), pick: statusOf },
  {
    name: 'a node may not set a kubernetes.io label it does not own',
    method: 'POST',
    path: NODES,
    as: { user: 'system:node:dn4', groups: ['system:nodes'] },
    body: node('dn4', { 'node-role.kubernetes.io/control-plane': '' }),
    pick: statusOf,
  },
  {
    name: 'a node updates its own status',
    method: 'PATCH',
    path: `${NODES}/dn1/status`,
    as: N1,
    headers: merge,
    body: {
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.22' },
          { type: 'Hostname', address: 'dn1' },
        ],
      },
    },
  },
  {
    name: 'a node may not update another node status',
    method: 'PATCH',
    path: `${NODES}/dn2/status`,
    as: N1,
    headers: merge,
    body: { status: { phase: 'Running' } },
    pick: statusOf,
  },
  {
    name: 'a node may not modify its taints',
    method: 'PATCH',
    path: `${NODES}/dn1`,
    as: N1,
    headers: merge,
    body: { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
    pick: statusOf,
  },
  {
    name: 'a node may not get its status subresource',
    path: `${NODES}/dn1/status`,
    as: N1,
    pick: statusOf,
  },
  // pods and secrets of the node
  {
    name: 'namespace for node pods',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { metadata: { name: 'diff-nodes' } },
    pick: (a) => a.code,
  },
  {
    name: 'secret of pod p1',
    method: 'POST',
    path: SECRETS,
    body: { metadata: { name: 'p1-tls' } },
    pick: (a) => a.code,
  },
  {
    name: 'secret of nobody',
    method: 'POST',
    path: SECRETS,
    body: { metadata: { name: 'loose' } },
    pick: (a) => a.code,
  },
  { name: 'pod bound to dn1', method: 'POST', path: PODS, body: pod('p1', 'dn1'), pick: (a) => a.code },
  { name: 'pod bound to dn2', method: 'POST', path: PODS, body: pod('p2', 'dn2'), pick: (a) => a.code },
  {
    name: 'the node reads its pod',
    path: `${PODS}/p1`,
    as: N1,
    pick: (a) => ({ code: a.code, name: (body(a).metadata as { name?: string })?.name }),
  },
  { name: 'the node may not read another node pod', path: `${PODS}/p2`, as: N1, pick: statusOf },
  { name: 'the node may not list pods', path: '/api/v1/pods', as: N1, pick: statusOf },
  { name: 'the node may not list pods of a namespace', path: PODS, as: N1, pick: statusOf },
  {
    name: 'the node lists its pods by spec.nodeName',
    path: '/api/v1/pods?fieldSelector=spec.nodeName%3Ddn1',
    as: N1,
    pick: (a) => ({
      code: a.code,
      names: ((body(a).items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    }),
  },
  {
    name: 'the node reports its pod status with pod IPs',
    method: 'PATCH',
    path: `${PODS}/p1/status`,
    as: N1,
    headers: merge,
    body: podStatus,
    pick: (a) => ({
      code: a.code,
      ips: (body(a).status as { podIPs?: unknown })?.podIPs,
      ip: (body(a).status as { podIP?: unknown })?.podIP,
    }),
  },
  {
    name: 'the node may not report another node pod status',
    method: 'PATCH',
    path: `${PODS}/p2/status`,
    as: N1,
    headers: merge,
    body: podStatus,
    pick: statusOf,
  },
  {
    name: 'the node may not change labels through pod status',
    method: 'PATCH',
    path: `${PODS}/p1/status`,
    as: N1,
    headers: merge,
    body: { metadata: { labels: { diff: 'no' } } },
    pick: statusOf,
  },
  {
    name: 'the node may not create a pod that is no mirror pod',
    method: 'POST',
    path: PODS,
    as: N1,
    body: pod('p3', 'dn1'),
    pick: statusOf,
  },
  { name: 'the node may not delete another node pod', method: 'DELETE', path: `${PODS}/p2`, as: N1, pick: statusOf },
  { name: 'the node reads the secret of its pod', path: `${SECRETS}/p1-tls`, as: N1, pick: (a) => a.code },
  { name: 'the node may not read another secret', path: `${SECRETS}/loose`, as: N1, pick: statusOf },
  { name: 'the node may not list secrets', path: SECRETS, as: N1, pick: statusOf },
  // CSRs
  {
    name: 'a node creates its serving CSR',
    method: 'POST',
    path: CSRS,
    as: N1,
    body: servingCsr('d-dn1-serving', 'system:node:dn1'),
    pick: (a) => a.code,
  },
  {
    name: 'a node may not create a serving CSR for another node',
    method: 'POST',
    path: CSRS,
    as: N1,
    body: servingCsr('d-dn1-as-dn2', 'system:node:dn2'),
    pick: statusOf,
  },
  { name: 'a node lists CSRs', path: `${CSRS}?labelSelector=nothing%3Dhere`, as: N1, pick: (a) => a.code },
  // access reviews as a node
  {
    name: 'SSAR: node may update pods/status',
    method: 'POST',
    path: SSAR,
    as: N1,
    body: ssar('update', 'pods', '', 'diff-nodes', 'status'),
    pick: allowed,
  },
  {
    name: 'SSAR: node may get its pod',
    method: 'POST',
    path: SSAR,
    as: N1,
    body: ssar('get', 'pods', 'p1', 'diff-nodes'),
    pick: allowed,
  },
  {
    name: 'SSAR: node may not get the other pod',
    method: 'POST',
    path: SSAR,
    as: N1,
    body: ssar('get', 'pods', 'p2', 'diff-nodes'),
    pick: allowed,
  },
  {
    name: 'SSAR: node may not delete nodes',
    method: 'POST',
    path: SSAR,
    as: N2,
    body: ssar('delete', 'nodes', 'dn2'),
    pick: allowed,
  },
  // clean-up
  {
    name: 'delete the node pods namespace',
    method: 'DELETE',
    path: '/api/v1/namespaces/diff-nodes',
    pick: (a) => a.code,
  },
  { name: 'delete node dn1', method: 'DELETE', path: `${NODES}/dn1`, pick: statusOf },
];

differential(cases);

// Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns and rules of
// kubectl's printers (pkg/printers/internalversion/printers.go): kube-api.md §7 and §8.
import type { ResourceDef } from './resources.js';
import type { KObject } from './store.js';
import { asRecord, type Json } from './strategy.js';
import { humanDuration } from '../text/duration.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export function age(timestamp: unknown, now = Date.now()): string {
  if (typeof timestamp !== 'string' || !timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

const col = (name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME_COL = col(
  'Name',
  'string',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  0,
  'name',
);
const AGE_COL = col(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

// ------------------------------------------------------------------------------------------------ CSR
export function csrCondition(obj: KObject): string {
  const status = asRecord(obj.status) ?? {};
  const conds = Array.isArray(status.conditions) ? (status.conditions as Json[]) : [];
  const types = new Set(conds.map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (typeof status.certificate === 'string' && status.certificate.length > 0) s += ',Issued';
  return s;
}

const CSR_COLUMNS = [
  NAME_COL,
  AGE_COL,
  col(
    'SignerName',
    'string',
    'Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it\'s a kubelet client certificate, it is assigned\n    "kubernetes.io/kube-apiserver-client-kubelet".\n 2. If it\'s a kubelet serving certificate, it is assigned\n    "kubernetes.io/kubelet-serving".\n 3. Otherwise, it is assigned "kubernetes.io/legacy-unknown".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.',
  ),
  col('Requestor', 'string', 'Base64-encoded PKCS#10 CSR data'),
  col(
    'RequestedDuration',
    'string',
    'expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.',
  ),
  col('Condition', 'string', 'Conditions applied to the request, such as approval or denial.'),
];

function csrRow(obj: KObject, now: number): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const exp = typeof spec.expirationSeconds === 'number' ? humanDuration(spec.expirationSeconds * 1000) : '<none>';
  return [
    obj.metadata.name ?? '',
    age(obj.metadata.creationTimestamp, now),
    typeof spec.signerName === 'string' && spec.signerName ? spec.signerName : '<none>',
    String(spec.username ?? ''),
    exp,
    csrCondition(obj),
  ];
}

// ------------------------------------------------------------------------------------------------ Pods
const POD_COLUMNS = [
  NAME_COL,
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col(
    'Restarts',
    'string',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  ),
  AGE_COL,
  col(
    'IP',
    'string',
    'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
    1,
  ),
  col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', 1),
  col('Nominated Node', 'string', 'nominatedNodeName is set when this pod preempts other pods on the node.', 1),
  col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
];

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; signal?: number; reason?: string; finishedAt?: string };
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

function lastRestart(cs: ContainerStatus): number {
  const f = cs.lastState?.terminated?.finishedAt;
  return f ? Date.parse(f) || 0 : 0;
}

export function podStatusColumns(obj: KObject, now = Date.now()): { ready: string; status: string; restarts: string } {
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const containers = Array.isArray(spec.containers) ? (spec.containers as Json[]) : [];
  const initContainers = Array.isArray(spec.initContainers) ? (spec.initContainers as Json[]) : [];
  const initStatuses = Array.isArray(status.initContainerStatuses)
    ? (status.initContainerStatuses as ContainerStatus[])
    : [];
  const statuses = Array.isArray(status.containerStatuses) ? (status.containerStatuses as ContainerStatus[]) : [];
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Json[]) : [];
  const restartable = new Set(initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));

  let restarts = 0;
  let restartableRestarts = 0;
  let total = containers.length + restartable.size;
  let ready = 0;
  let lastRestartDate = 0;
  let lastRestartableDate = 0;
  let reason = String(status.reason || status.phase || '');
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? {};
    restarts += c.restartCount ?? 0;
    lastRestartDate = Math.max(lastRestartDate, lastRestart(c));
    const isRestartable = restartable.has(c.name);
    if (isRestartable) {
      restartableRestarts += c.restartCount ?? 0;
      lastRestartableDate = Math.max(lastRestartableDate, lastRestart(c));
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (isRestartable && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode ?? 0}`;
    } else if (wait?.reason && wait.reason !== 'PodInitializing') {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableRestarts;
    lastRestartDate = lastRestartableDate;
    let hasRunning = false;
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? {};
      restarts += c.restartCount ?? 0;
      lastRestartDate = Math.max(lastRestartDate, lastRestart(c));
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (obj.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (obj.metadata.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed')
    reason = 'Terminating';
  total = Math.max(total, 0);
  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestartDate > 0) restartsStr = `${restarts} (${humanDuration(now - lastRestartDate)} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsStr };
}

function podRow(obj: KObject, now: number): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const { ready, status: st, restarts } = podStatusColumns(obj, now);
  const podIPs = Array.isArray(status.podIPs) ? (status.podIPs as Json[]) : [];
  const ip = String(podIPs[0]?.ip ?? status.podIP ?? '') || '<none>';
  const gates = Array.isArray(spec.readinessGates) ? (spec.readinessGates as Json[]) : [];
  let gatesStr = '<none>';
  if (gates.length) {
    const conds = Array.isArray(status.conditions) ? (status.conditions as Json[]) : [];
    const trueCount = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length;
    gatesStr = `${trueCount}/${gates.length}`;
  }
  return [
    obj.metadata.name ?? '',
    ready,
    st,
    restarts,
    age(obj.metadata.creationTimestamp, now),
    ip,
    String(spec.nodeName ?? '') || '<none>',
    String(status.nominatedNodeName ?? '') || '<none>',
    gatesStr,
  ];
}

// ------------------------------------------------------------------------------------------------ Namespaces
const NS_COLUMNS = [NAME_COL, col('Status', 'string', 'The status of the namespace'), AGE_COL];
function nsRow(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name ?? '', String(asRecord(obj.status)?.phase ?? ''), age(obj.metadata.creationTimestamp, now)];
}

// ------------------------------------------------------------------------------------------------ others
const count = (v: unknown): number => Object.keys(asRecord(v) ?? {}).length;

const SECRET_COLUMNS = [
  NAME_COL,
  col(
    'Type',
    'string',
    'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
  ),
  col(
    'Data',
    'string',
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  ),
  AGE_COL,
];
function secretRow(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name ?? '', String(obj.type ?? ''), count(obj.data), age(obj.metadata.creationTimestamp, now)];
}

const CM_COLUMNS = [
  NAME_COL,
  col(
    'Data',
    'string',
    "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  ),
  AGE_COL,
];
function cmRow(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name ?? '', count(obj.data) + count(obj.binaryData), age(obj.metadata.creationTimestamp, now)];
}

// kube 1.37 dropped the SECRETS column (service accounts no longer get token secrets).
const SA_COLUMNS = [NAME_COL, AGE_COL];
function saRow(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name ?? '', age(obj.metadata.creationTimestamp, now)];
}

const LEASE_COLUMNS = [
  NAME_COL,
  col(
    'Holder',
    'string',
    'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
  ),
  AGE_COL,
];
function leaseRow(obj: KObject, now: number): unknown[] {
  return [
    obj.metadata.name ?? '',
    String(asRecord(obj.spec)?.holderIdentity ?? ''),
    age(obj.metadata.creationTimestamp, now),
  ];
}

const BINDING_COLUMNS = [
  NAME_COL,
  col(
    'Role',
    'string',
    'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.',
  ),
  AGE_COL,
  col('Users', 'string', 'Users in the binding.', 1),
  col('Groups', 'string', 'Groups in the binding.', 1),
  col('ServiceAccounts', 'string', 'ServiceAccounts in the binding.', 1),
];
// A ClusterRoleBinding's descriptions as kube-apiserver 1.37 serves them (its roleRef and subjects doc strings).
const CLUSTER_BINDING_COLUMNS = [
  NAME_COL,
  col(
    'Role',
    'string',
    'roleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  ),
  AGE_COL,
  col('Users', 'string', 'Users in the clusterRoleBinding', 1),
  col('Groups', 'string', 'Groups in the clusterRoleBinding', 1),
  col('ServiceAccounts', 'string', 'ServiceAccounts in the clusterRoleBinding', 1),
];
function bindingRow(obj: KObject, now: number): unknown[] {
  const ref = asRecord(obj.roleRef) ?? {};
  const subjects = Array.isArray(obj.subjects) ? (obj.subjects as Json[]) : [];
  const of = (kind: string): string =>
    subjects
      .filter((s) => s.kind === kind)
      .map((s) =>
        kind === 'ServiceAccount' ? `${String(s.namespace ?? '')}/${String(s.name ?? '')}` : String(s.name ?? ''),
      )
      .join(', ');
  return [
    obj.metadata.name ?? '',
    `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`,
    age(obj.metadata.creationTimestamp, now),
    of('User'),
    of('Group'),
    of('ServiceAccount'),
  ];
}

const TIGERA_COLUMNS = [
  NAME_COL,
  col('Available', 'string', 'Whether the component is running and stable.'),
  col('Progressing', 'string', 'Whether the component is processing changes.'),
  col('Degraded', 'string', 'Whether the component is degraded.'),
  col('Since', 'date', "The time the component's Available status last changed."),
];
function tigeraRow(obj: KObject, now: number): unknown[] {
  const conds = Array.isArray(asRecord(obj.status)?.conditions) ? (asRecord(obj.status)?.conditions as Json[]) : [];
  const st = (t: string): string | null => {
    const v = conds.find((c) => c.type === t)?.status;
    return v === undefined || v === null ? null : String(v);
  };
  return [
    obj.metadata.name ?? '',
    st('Available'),
    st('Progressing'),
    st('Degraded'),
    crdDateCell(conds.find((c) => c.type === 'Available')?.lastTransitionTime, now),
  ];
}

// Admission webhook configurations (NAME WEBHOOKS AGE) and APIServices (NAME SERVICE AVAILABLE AGE), as
// pkg/printers/internalversion prints them; CRDs use the default convertor (NAME CREATED AT).
const WEBHOOK_COLUMNS = [NAME_COL, col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks.'), AGE_COL];
function webhookRow(obj: KObject, now: number): unknown[] {
  const hooks = Array.isArray(obj.webhooks) ? obj.webhooks.length : 0;
  return [obj.metadata.name ?? '', hooks, age(obj.metadata.creationTimestamp, now)];
}
const APISERVICE_COLUMNS = [
  NAME_COL,
  col('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
  col('Available', 'string', 'Whether this service is available.'),
  AGE_COL,
];
function apiServiceRow(obj: KObject, now: number): unknown[] {
  const svc = asRecord(asRecord(obj.spec)?.service);
  const conds = Array.isArray(asRecord(obj.status)?.conditions) ? (asRecord(obj.status)?.conditions as Json[]) : [];
  const available = conds.find((c) => c.type === 'Available');
  const availableText = !available
    ? 'Unknown'
    : available.status === 'True'
      ? 'True'
      : `${String(available.status)} (${String(available.reason ?? '')})`;
  return [
    obj.metadata.name ?? '',
    svc ? `${String(svc.namespace ?? '')}/${String(svc.name ?? '')}` : 'Local',
    availableText,
    age(obj.metadata.creationTimestamp, now),
  ];
}

/**
 * A custom resource's `date` column, as the apiextensions server's table convertor renders it (cellForJSONValue):
 * an age (ConvertToHumanReadableDateType), `<invalid>` for an unparsable time, and null (kubectl shows a blank) when the
 * JSONPath finds nothing — as it does for the other columns.
 */
export function crdDateCell(value: unknown, now: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return '<invalid>';
  return humanDuration(now - t);
}

/** A CRD without additionalPrinterColumns gets Name and Age (type date, .metadata.creationTimestamp). */
const CRD_DEFAULT_COLUMNS = [NAME_COL, col('Age', 'date', AGE_COL.description)];
function crdDefaultRow(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name ?? '', crdDateCell(obj.metadata.creationTimestamp, now)];
}

// ------------------------------------------------------------------------------------------------ PCRs and CTBs
// printPodCertificateRequest has no Age column; the last column is filled on wide output (server Tables are wide).
const PCR_COLUMNS = [
  NAME_COL,
  col('PodName', 'string', 'podName is the name of the pod into which the certificate will be mounted.'),
  col('ServiceAccountName', 'string', 'serviceAccountName is the name of the service account the pod is running as.'),
  col('NodeName', 'string', 'nodeName is the name of the node the pod is assigned to.'),
  col(
    'SignerName',
    'string',
    'signerName indicates the requested signer.\n\nAll signer names beginning with `kubernetes.io` are reserved for use by the Kubernetes project.  There is currently one well-known signer documented by the Kubernetes project, `kubernetes.io/kube-apiserver-client-pod`, which will issue client certificates understood by kube-apiserver.  It is currently unimplemented.',
  ),
  col('State', 'string', 'Is the request Pending, Issued, Denied, or Failed?'),
  col(
    'UnverifiedUserAnnotations',
    'string',
    'unverifiedUserAnnotations allow pod authors to pass additional information to the signer implementation.  Kubernetes does not restrict or validate this metadata in any way.\n\nEntries are subject to the same validation as object metadata annotations, with the addition that all keys must be domain-prefixed. No restrictions are placed on values, except an overall size limitation on the entire field.\n\nSigners should document the keys and values they support.  Signers should deny requests that contain keys they do not recognize.',
  ),
];

/** printPodCertificateRequest: the state is the last Issued / Denied / Failed condition's type, else Pending. */
function pcrRow(obj: KObject): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const conds = Array.isArray(asRecord(obj.status)?.conditions) ? (asRecord(obj.status)?.conditions as Json[]) : [];
  let state = 'Pending';
  for (const c of conds) if (c.type === 'Issued' || c.type === 'Denied' || c.type === 'Failed') state = String(c.type);
  const annotations = Object.entries(asRecord(spec.unverifiedUserAnnotations) ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort();
  return [
    obj.metadata.name ?? '',
    String(spec.podName ?? ''),
    String(spec.serviceAccountName ?? ''),
    String(spec.nodeName ?? ''),
    String(spec.signerName ?? ''),
    state,
    annotations.join(',') || '<none>',
  ];
}

const CTB_COLUMNS = [
  NAME_COL,
  col(
    'SignerName',
    'string',
    "signerName indicates the associated signer, if any.\n\nIn order to create or update a ClusterTrustBundle that sets signerName, you must have the following cluster-scoped permission: group=certificates.k8s.io resource=signers resourceName=<the signer name> verb=attest.\n\nIf signerName is not empty, then the ClusterTrustBundle object must be named with the signer name as a prefix (translating slashes to colons). For example, for the signer name `example.com/foo`, valid ClusterTrustBundle object names include `example.com:foo:abc` and `example.com:foo:v1`.\n\nIf signerName is empty, then the ClusterTrustBundle object's name must not have such a prefix.\n\nList/watch requests for ClusterTrustBundles can filter on this field using a `spec.signerName=NAME` field selector.",
  ),
];

function ctbRow(obj: KObject): unknown[] {
  const signer = asRecord(obj.spec)?.signerName;
  return [obj.metadata.name ?? '', typeof signer === 'string' && signer ? signer : '<none>'];
}

// ------------------------------------------------------------------------------------------------ Nodes
const ADDRESSES_DOC =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
const NODE_COLUMNS = [
  NAME_COL,
  col('Status', 'string', 'The status of the node'),
  col('Roles', 'string', 'The roles of the node'),
  AGE_COL,
  col('Version', 'string', 'Kubelet Version reported by the node.'),
  col('Internal-IP', 'string', ADDRESSES_DOC, 1),
  col('External-IP', 'string', ADDRESSES_DOC, 1),
  col(
    'OS-Image',
    'string',
    'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    1,
  ),
  col(
    'Kernel-Version',
    'string',
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    1,
  ),
  col(
    'Container-Runtime',
    'string',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    1,
  ),
];

/** printNode: Ready / NotReady / Unknown (+ SchedulingDisabled), roles from node-role.kubernetes.io/* labels. */
function nodeRow(obj: KObject, now: number): unknown[] {
  const spec = asRecord(obj.spec) ?? {};
  const status = asRecord(obj.status) ?? {};
  const conds = Array.isArray(status.conditions) ? (status.conditions as Json[]) : [];
  const ready = conds.filter((c) => c.type === 'Ready').at(-1);
  const states = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (spec.unschedulable === true) states.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length)
      roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(String(v));
  }
  const info = asRecord(status.nodeInfo) ?? {};
  const addresses = Array.isArray(status.addresses) ? (status.addresses as Json[]) : [];
  const address = (type: string) => String(addresses.find((a) => a.type === type)?.address ?? '<none>');
  const text = (v: unknown) => (typeof v === 'string' && v ? v : '<unknown>');
  let kernel = text(info.kernelVersion);
  if (typeof info.architecture === 'string' && info.architecture) kernel += ` (${info.architecture})`;
  return [
    obj.metadata.name ?? '',
    states.join(','),
    [...roles].sort().join(',') || '<none>',
    age(obj.metadata.creationTimestamp, now),
    String(info.kubeletVersion ?? ''),
    address('InternalIP'),
    address('ExternalIP'),
    text(info.osImage),
    kernel,
    text(info.containerRuntimeVersion),
  ];
}

// ------------------------------------------------------------------------------------------------ default
// rest.DefaultTableConvertor (RBAC roles): the creation time as RFC 3339 under "Created At", as kubectl shows it.
const DEFAULT_COLUMNS = [NAME_COL, col('Created At', 'date', AGE_COL.description)];
function defaultRow(obj: KObject): unknown[] {
  return [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''];
}

export function tableFor(def: ResourceDef): {
  columns: ColumnDefinition[];
  row: (obj: KObject, now: number) => unknown[];
} {
  switch (def.resource) {
    case 'certificatesigningrequests':
      return { columns: CSR_COLUMNS, row: csrRow };
    case 'pods':
      return { columns: POD_COLUMNS, row: podRow };
    case 'namespaces':
      return { columns: NS_COLUMNS, row: nsRow };
    case 'nodes':
      return { columns: NODE_COLUMNS, row: nodeRow };
    case 'podcertificaterequests':
      return { columns: PCR_COLUMNS, row: pcrRow };
    case 'clustertrustbundles':
      return { columns: CTB_COLUMNS, row: ctbRow };
    case 'secrets':
      return { columns: SECRET_COLUMNS, row: secretRow };
    case 'configmaps':
      return { columns: CM_COLUMNS, row: cmRow };
    case 'serviceaccounts':
      return { columns: SA_COLUMNS, row: saRow };
    case 'leases':
      return { columns: LEASE_COLUMNS, row: leaseRow };
    case 'clusterrolebindings':
      return { columns: CLUSTER_BINDING_COLUMNS, row: bindingRow };
    case 'rolebindings':
      return { columns: BINDING_COLUMNS, row: bindingRow };
    case 'tigerastatuses':
      return { columns: TIGERA_COLUMNS, row: tigeraRow };
    case 'validatingwebhookconfigurations':
    case 'mutatingwebhookconfigurations':
      return { columns: WEBHOOK_COLUMNS, row: webhookRow };
    case 'apiservices':
      return { columns: APISERVICE_COLUMNS, row: apiServiceRow };
    default:
      if (def.optional) return { columns: CRD_DEFAULT_COLUMNS, row: crdDefaultRow };
      return { columns: DEFAULT_COLUMNS, row: defaultRow };
  }
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function tableRow(def: ResourceDef, obj: KObject, json: string, include: IncludeObject, now: number): string {
  const cells = JSON.stringify(tableFor(def).row(obj, now));
  if (include === 'None') return `{"cells":${cells}}`;
  if (include === 'Object') return `{"cells":${cells},"object":${json}}`;
  const meta = JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata });
  return `{"cells":${cells},"object":${meta}}`;
}

/** A Table of the given rows; column definitions omitted when `noHeaders`. */
export function tableJson(def: ResourceDef, rows: string[], listMeta: Json, noHeaders = false): string {
  const columns = noHeaders ? '[]' : JSON.stringify(tableFor(def).columns);
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(listMeta)},"columnDefinitions":${columns},"rows":[${rows.join(',')}]}`;
}

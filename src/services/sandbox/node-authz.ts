// The Node authorizer and the NodeRestriction admission plugin of kube-apiserver (plugin/pkg/auth/authorizer/node,
// plugin/pkg/admission/noderestriction, v1.37), for users `system:node:<name>` in group `system:nodes`. The real
// authorizer keeps a graph of pods, secrets, configmaps, service accounts and PodCertificateRequests and their nodes;
// here the same relationships are read from the store on each decision.
import { type Decision, type PolicyRule, type RequestAttributes, ruleAllows, type UserInfo } from './authz.js';
import { checkRequest, decodeBytes } from './csr.js';
import { ApiError, forbidden } from './errors.js';
import type { KObject } from './store.js';
import { asRecord, type Json } from './strategy.js';

const NODE_PREFIX = 'system:node:';

/** nodeidentifier.NodeIdentity: the node name of a `system:node:<name>` user in `system:nodes`, else undefined. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_PREFIX) || !user.groups.includes('system:nodes')) return undefined;
  return user.name.slice(NODE_PREFIX.length);
}

const r = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });
const READ = ['get', 'list', 'watch'];

/** bootstrappolicy.NodeRules() of 1.37 with its default feature gates (ClusterTrustBundle, PodCertificateRequest on). */
const NODE_RULES: PolicyRule[] = [
  r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  r(READ, [''], ['services']),
  r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  r(['update', 'patch'], [''], ['nodes/status']),
  r(['update', 'patch'], [''], ['nodes']),
  r(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']),
  r(READ, [''], ['pods']),
  r(['create', 'delete'], [''], ['pods']),
  r(['update', 'patch'], [''], ['pods/status']),
  r(['create'], [''], ['pods/eviction']),
  r(READ, [''], ['secrets', 'configmaps']),
  r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  r(['get'], [''], ['endpoints']),
  r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  r(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  r(['get'], ['storage.k8s.io'], ['volumeattachments']),
  r(['create'], [''], ['serviceaccounts/token']),
  r(['get', 'update', 'patch'], [''], ['persistentvolumeclaims/status']),
  r(READ, ['storage.k8s.io'], ['csidrivers']),
  r(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
  r(READ, ['node.k8s.io'], ['runtimeclasses']),
  r(['get'], ['resource.k8s.io'], ['resourceclaims']),
  r(['deletecollection'], ['resource.k8s.io'], ['resourceslices']),
  r(READ, ['certificates.k8s.io'], ['clustertrustbundles']),
  r(['get'], [''], ['serviceaccounts']),
  r(['get', 'list', 'watch', 'create'], ['certificates.k8s.io'], ['podcertificaterequests']),
];

/** What the authorizer reads: the stored objects of a resource (all namespaces when none given). */
export type ObjectSource = (resource: string, namespace?: string) => KObject[];

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function records(v: unknown): Json[] {
  return Array.isArray(v) ? (v.map(asRecord).filter(Boolean) as Json[]) : [];
}

/** The secrets, configmaps and service account a pod references (the graph populator's edges). */
function podReferences(pod: KObject): { secrets: Set<string>; configmaps: Set<string>; serviceAccount: string } {
  const spec = asRecord(pod.spec) ?? {};
  const secrets = new Set<string>();
  const configmaps = new Set<string>();
  for (const s of records(spec.imagePullSecrets)) secrets.add(str(s.name));
  for (const v of records(spec.volumes)) {
    secrets.add(str(asRecord(v.secret)?.secretName));
    configmaps.add(str(asRecord(v.configMap)?.name));
    for (const src of records(asRecord(v.projected)?.sources)) {
      secrets.add(str(asRecord(src.secret)?.name));
      configmaps.add(str(asRecord(src.configMap)?.name));
    }
  }
  for (const c of [
    ...records(spec.containers),
    ...records(spec.initContainers),
    ...records(spec.ephemeralContainers),
  ]) {
    for (const e of records(c.envFrom)) {
      secrets.add(str(asRecord(e.secretRef)?.name));
      configmaps.add(str(asRecord(e.configMapRef)?.name));
    }
    for (const e of records(c.env)) {
      const from = asRecord(e.valueFrom);
      secrets.add(str(asRecord(from?.secretKeyRef)?.name));
      configmaps.add(str(asRecord(from?.configMapKeyRef)?.name));
    }
  }
  secrets.delete('');
  configmaps.delete('');
  return { secrets, configmaps, serviceAccount: str(spec.serviceAccountName) || 'default' };
}

function nodeNameOf(obj: KObject | undefined): string {
  return str(asRecord(obj?.spec)?.nodeName);
}

/** `spec.nodeName=<node>` (or `==`) among the terms of a field selector. */
function selectsNode(selector: string | undefined, field: string, node: string): boolean {
  return (selector ?? '').split(',').some((term) => {
    const m = /^\s*([^=!\s]+)\s*==?\s*(.*?)\s*$/.exec(term);
    return !!m && m[1] === field && m[2] === node;
  });
}

const allow: Decision = { allowed: true, reason: '' };
const noOpinion = (reason = ''): Decision => ({ allowed: false, reason });

/**
 * The Node authorizer's decision for a node user, or undefined for anyone else (no opinion, RBAC decides). A
 * refusal carries the real reason text; the union authorizer prefixes it with `node: `.
 */
export function authorizeNode(a: RequestAttributes, objects: ObjectSource): Decision | undefined {
  const node = nodeIdentity(a.user);
  if (node === undefined) return undefined;
  if (!node) return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);
  const noRelation = noOpinion(`no relationship found between node '${node}' and this object`);
  const podsOnNode = (namespace: string): KObject[] => objects('pods', namespace).filter((p) => nodeNameOf(p) === node);
  const related = (check: () => boolean): Decision => {
    if (!a.name) return noOpinion('No Object name found');
    return check() ? allow : noRelation;
  };
  const readNamespaced = (check: () => boolean): Decision => {
    if (!READ.includes(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return related(check);
  };
  if (a.resourceRequest) {
    const group = a.apiGroup;
    const resource = a.resource ?? '';
    const ns = a.namespace ?? '';
    if (group === '' && (resource === 'secrets' || resource === 'configmaps')) {
      const kind = resource === 'secrets' ? 'secrets' : 'configmaps';
      return readNamespaced(() => podsOnNode(ns).some((p) => podReferences(p)[kind].has(a.name ?? '')));
    }
    if (group === '' && resource === 'serviceaccounts') {
      if (a.verb === 'get' && !a.subresource)
        return readNamespaced(() => podsOnNode(ns).some((p) => podReferences(p).serviceAccount === a.name));
      if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
      if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
      return podsOnNode(ns).some((p) => podReferences(p).serviceAccount === a.name) ? allow : noRelation;
    }
    if (group === 'coordination.k8s.io' && resource === 'leases') {
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb))
        return noOpinion('can only get, create, update, patch, or delete a node lease');
      if (ns !== 'kube-node-lease')
        return noOpinion('can only access leases in the "kube-node-lease" system namespace');
      if (a.verb !== 'create' && a.name !== node)
        return noOpinion('can only access node lease with the same name as the requesting node');
      return allow;
    }
    if (group === '' && resource === 'nodes') {
      if (!a.subresource) {
        if (['create', 'update', 'patch'].includes(a.verb)) return allow;
        if (READ.includes(a.verb)) {
          if (a.name === node) return allow;
          if (!a.name) return noOpinion(`node '${node}' cannot read all nodes, only its own Node object`);
          return noOpinion(`node '${node}' cannot read '${a.name}', only its own Node object`);
        }
      } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return allow;
      return noOpinion();
    }
    if (group === '' && resource === 'pods') {
      if (!a.subresource) {
        if (a.verb === 'get')
          return related(() => nodeNameOf(podsOnNode(ns).find((p) => p.metadata.name === a.name)) === node);
        if (a.verb === 'list' || a.verb === 'watch') {
          if (selectsNode(a.fieldSelector, 'spec.nodeName', node)) return allow;
          if (a.name) return related(() => podsOnNode(ns).some((p) => p.metadata.name === a.name));
          return noOpinion('can only list/watch pods with spec.nodeName field selector');
        }
        if (a.verb === 'create' || a.verb === 'delete') return allow;
      } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return allow;
      else if (a.subresource === 'eviction' && a.verb === 'create') return allow;
      return noOpinion();
    }
    if (group === 'certificates.k8s.io' && resource === 'podcertificaterequests') {
      if (a.subresource) return noOpinion('nodes may not access the status subresource of PodCertificateRequests');
      if (a.verb === 'create') return allow;
      if (a.verb === 'get')
        return related(() => objects(resource, ns).some((o) => o.metadata.name === a.name && nodeNameOf(o) === node));
      if (a.verb === 'list' || a.verb === 'watch') {
        if (selectsNode(a.fieldSelector, 'spec.nodeName', node)) return allow;
        return noOpinion('can only list/watch podcertificaterequests with nodeName field selector');
      }
      return noOpinion(`nodes may not ${a.verb} podcertificaterequests`);
    }
  }
  return NODE_RULES.some((rule) => ruleAllows(a, rule)) ? allow : noOpinion();
}

// ------------------------------------------------------------------------------------------------ NodeRestriction

/** An admission refusal: 403 Forbidden on the object (admission.NewForbidden). */
export function admissionForbidden(resource: string, group: string, name: string, why: string): ApiError {
  return forbidden(resource, group, name || 'Unknown', why);
}

/** A non-Forbidden admission error (informer lag on a real server: "retries may succeed"): 500 with reason Unknown. */
export function admissionInternalError(message: string): ApiError {
  return new ApiError(500, '', message);
}

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);

function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash >= 0 ? key.slice(0, slash) : '';
}

const inDomain = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

/** getForbiddenLabels: node-restriction.kubernetes.io labels, and kubernetes.io / k8s.io labels not the kubelet's. */
function forbiddenLabels(next: Record<string, string>, prev: Record<string, string>): string[] {
  const modified = new Set<string>();
  for (const [k, v] of Object.entries(next)) if (prev[k] !== v) modified.add(k);
  for (const [k, v] of Object.entries(prev)) if (next[k] !== v) modified.add(k);
  return [...modified]
    .filter((key) => {
      const ns = labelNamespace(key);
      if (inDomain(ns, 'node-restriction.kubernetes.io')) return true;
      const kubeLabel = inDomain(ns, 'kubernetes.io') || inDomain(ns, 'k8s.io');
      const kubeletLabel =
        KUBELET_LABELS.has(key) || inDomain(ns, 'kubelet.kubernetes.io') || inDomain(ns, 'node.kubernetes.io');
      return kubeLabel && !kubeletLabel;
    })
    .sort();
}

const labelsOf = (o: KObject | undefined): Record<string, string> =>
  (o?.metadata.labels ?? {}) as Record<string, string>;
/** apiequality.Semantic.DeepEqual on JSON: key order does not matter, absent equals null. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined && x !== null)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sorted(x)]),
    );
  return v;
}
const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(sorted(a ?? null)) === JSON.stringify(sorted(b ?? null));

export interface Admission {
  operation: 'create' | 'update' | 'delete';
  resource: string;
  group: string;
  subresource?: string;
  namespace?: string;
  /** The name on the URL (update, delete) or the new object's name (create). */
  name: string;
  obj?: KObject;
  old?: KObject;
}

/**
 * NodeRestriction, run as the real plugin does: before the object is validated (a mutating admission plugin).
 * `pcr` checks a PodCertificateRequest create (given by the PCR module). Throws the real 403 (or 500) error.
 */
export function admitNodeRequest(user: UserInfo, a: Admission, pcr?: (node: string, a: Admission) => void): void {
  const node = nodeIdentity(user);
  if (node === undefined) return;
  const deny = (why: string) => admissionForbidden(a.resource, a.group, a.name, why);
  if (!node) throw deny(`could not determine node from user ${JSON.stringify(user.name)}`);
  const key = `${a.group}/${a.resource}`;
  if (key === '/pods') {
    if (!a.subresource) {
      if (a.operation === 'create') {
        const annotations = (a.obj?.metadata.annotations ?? {}) as Record<string, string>;
        if (!('kubernetes.io/config.mirror' in annotations))
          throw deny(
            `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`,
          );
        if (nodeNameOf(a.obj) !== node)
          throw deny(`node "${node}" can only create pods with spec.nodeName set to itself`);
        return;
      }
      if (a.operation === 'delete') {
        if (nodeNameOf(a.old) !== node)
          throw deny(`node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw deny(`unexpected operation "UPDATE", node "${node}" can only create and delete mirror pods`);
    }
    if (a.subresource === 'status') {
      if (a.operation !== 'update') throw deny(`unexpected operation "${a.operation.toUpperCase()}"`);
      if (nodeNameOf(a.old) !== node)
        throw deny(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      if (!same(labelsOf(a.old), labelsOf(a.obj))) throw deny(`node "${node}" cannot update labels through pod status`);
      return;
    }
    throw deny(`unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`);
  }
  if (key === '/nodes') {
    if (a.name !== node) throw deny(`node "${node}" is not allowed to modify node "${a.name}"`);
    if (a.operation === 'create') {
      if (asRecord(a.obj?.spec)?.configSource)
        throw deny(`node "${node}" is not allowed to create pods with a non-nil configSource`);
      const bad = forbiddenLabels(labelsOf(a.obj), {});
      if (bad.length) throw deny(`node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
    }
    if (a.operation === 'update') {
      const spec = asRecord(a.obj?.spec) ?? {};
      const oldSpec = asRecord(a.old?.spec) ?? {};
      if (spec.configSource && !same(spec.configSource, oldSpec.configSource))
        throw deny(`node "${node}" is not allowed to update configSource to a new non-nil configSource`);
      if (!same(spec.taints, oldSpec.taints)) throw deny(`node "${node}" is not allowed to modify taints`);
      if (!same(a.obj?.metadata.ownerReferences, a.old?.metadata.ownerReferences))
        throw deny(`node "${node}" is not allowed to modify ownerReferences`);
      const bad = forbiddenLabels(labelsOf(a.obj), labelsOf(a.old));
      if (bad.length) throw deny(`is not allowed to modify labels: ${bad.join(', ')}`);
    }
    return;
  }
  if (key === 'coordination.k8s.io/leases') {
    if (a.namespace !== 'kube-node-lease')
      throw deny('can only access leases in the "kube-node-lease" system namespace');
    if (a.name !== node) throw deny('can only access node lease with the same name as the requesting node');
    return;
  }
  if (key === 'certificates.k8s.io/certificatesigningrequests' && a.operation === 'create') {
    const spec = asRecord(a.obj?.spec) ?? {};
    if (
      spec.signerName !== 'kubernetes.io/kubelet-serving' &&
      spec.signerName !== 'kubernetes.io/kube-apiserver-client-kubelet'
    )
      return;
    let bytes: Buffer | undefined;
    try {
      bytes = decodeBytes(spec.request, 'spec.request');
    } catch {}
    const check = checkRequest(bytes);
    if (check.error) throw deny(`unable to parse csr: ${check.error}`);
    if (check.commonName !== `system:node:${node}`)
      throw deny(`can only create a node CSR with CN=system:node:${node}`);
    return;
  }
  if (key === 'certificates.k8s.io/podcertificaterequests') pcr?.(node, a);
}

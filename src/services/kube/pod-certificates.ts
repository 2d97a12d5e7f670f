// PodCertificateRequests and ClusterTrustBundles (certificates.k8s.io, issue 20): which version of each a cluster
// serves (v1, v1beta1 or none, from discovery), and lists and reads of both. A cluster that serves neither answers
// with empty lists, not an error. Objects are wire JSON as the server sent them; print every string through
// terminalSafe.
import { terminalSafe } from '../text/sanitize.js';
import type { ClusterContext, CsrBinding } from './api-types.js';
import { fail, ok, refused, withRetry } from './errors.js';
import { getIfPresent, listEach } from './list.js';
import { requestJson } from './transport.js';
import type { KubeResult } from './types.js';
import type { WriteHook } from './api-types.js';
import { type BoundObject, boundWrite, hooked, type WriteTarget } from './writes.js';

const GROUP = 'certificates.k8s.io';

interface WireMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface WireCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** certificates.k8s.io/v1 PodCertificateRequest; pkixPublicKey and proofOfPossession exist only in v1beta1. */
export interface WirePcr {
  apiVersion?: string;
  kind?: string;
  metadata?: WireMeta;
  spec?: {
    signerName?: string;
    podName?: string;
    podUID?: string;
    serviceAccountName?: string;
    serviceAccountUID?: string;
    nodeName?: string;
    nodeUID?: string;
    maxExpirationSeconds?: number;
    /** base64 of a DER PKCS#10 request signed with the subject key (v1; v1beta1 has it too). */
    stubPKCS10Request?: string;
    /** v1beta1 only: base64 DER SubjectPublicKeyInfo. */
    pkixPublicKey?: string;
    /** v1beta1 only: base64 signature over the pod UID. */
    proofOfPossession?: string;
    unverifiedUserAnnotations?: Record<string, string>;
  };
  status?: {
    conditions?: WireCondition[];
    certificateChain?: string;
    notBefore?: string;
    beginRefreshAt?: string;
    notAfter?: string;
  };
}

export interface WireCtb {
  apiVersion?: string;
  kind?: string;
  metadata?: WireMeta;
  spec?: { signerName?: string; trustBundle?: string };
}

export type PcrState = 'Pending' | 'Issued' | 'Denied' | 'Failed';

/** Issued, Denied or Failed from the first of those conditions with status True; Pending otherwise. */
export function pcrState(pcr: WirePcr): PcrState {
  for (const c of pcr.status?.conditions ?? []) {
    if (c.status === 'True' && (c.type === 'Issued' || c.type === 'Denied' || c.type === 'Failed')) return c.type;
  }
  return 'Pending';
}

/** The version of certificates.k8s.io that serves each resource (preferred version first), or undefined. */
export interface PodCertificateApis {
  podCertificateRequests?: string;
  clusterTrustBundles?: string;
}

export async function podCertificateApis(ctx: ClusterContext): Promise<KubeResult<PodCertificateApis>> {
  const g = await getIfPresent(ctx, `/apis/${GROUP}`);
  if (!g.ok) return g;
  const doc = g.value as { versions?: { version?: string }[]; preferredVersion?: { version?: string } } | undefined;
  const preferred = doc?.preferredVersion?.version;
  const versions = (doc?.versions ?? []).map((v) => v.version ?? '').filter(Boolean);
  const ordered = preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
  const apis: PodCertificateApis = {};
  for (const version of ordered) {
    const r = await getIfPresent(ctx, `/apis/${GROUP}/${version}`);
    if (!r.ok) return r;
    const names = ((r.value as { resources?: { name?: string }[] } | undefined)?.resources ?? []).map((x) => x.name);
    if (!apis.podCertificateRequests && names.includes('podcertificaterequests')) apis.podCertificateRequests = version;
    if (!apis.clusterTrustBundles && names.includes('clustertrustbundles')) apis.clusterTrustBundles = version;
  }
  return ok(apis);
}

async function listAll<T>(ctx: ClusterContext, path: string, version: string, kind: string): Promise<KubeResult<T[]>> {
  const items: T[] = [];
  const r = await listEach(ctx, path, (page) => {
    for (const item of page) items.push({ apiVersion: `${GROUP}/${version}`, kind, ...item } as T);
  });
  return r.ok ? ok(items) : r;
}

/** PCRs in `namespace`, or in every namespace when it is undefined; [] where the API is not served. */
export async function listPcrs(
  ctx: ClusterContext,
  version: string | undefined,
  namespace?: string,
): Promise<KubeResult<WirePcr[]>> {
  if (!version) return ok([]);
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return listAll(ctx, `/apis/${GROUP}/${version}${ns}/podcertificaterequests`, version, 'PodCertificateRequest');
}

/** Every ClusterTrustBundle; [] where the API is not served. */
export async function listCtbs(ctx: ClusterContext, version: string | undefined): Promise<KubeResult<WireCtb[]>> {
  if (!version) return ok([]);
  return listAll(ctx, `/apis/${GROUP}/${version}/clustertrustbundles`, version, 'ClusterTrustBundle');
}

async function readOne<T>(ctx: ClusterContext, path: string): Promise<KubeResult<T>> {
  return withRetry(() => requestJson<T>(ctx, { path }), { context: ctx.name });
}

export function readPcr(ctx: ClusterContext, version: string, namespace: string, name: string) {
  const path = `/apis/${GROUP}/${version}/namespaces/${encodeURIComponent(namespace)}/podcertificaterequests/`;
  return readOne<WirePcr>(ctx, path + encodeURIComponent(name));
}

export function readCtb(ctx: ClusterContext, version: string, name: string) {
  return readOne<WireCtb>(ctx, `/apis/${GROUP}/${version}/clustertrustbundles/${encodeURIComponent(name)}`);
}

const pcrPath = (version: string, namespace: string, name: string) =>
  `/apis/${GROUP}/${version}/namespaces/${encodeURIComponent(namespace)}/podcertificaterequests/${encodeURIComponent(name)}`;
const ctbPath = (version: string, name: string) =>
  `/apis/${GROUP}/${version}/clustertrustbundles/${encodeURIComponent(name)}`;

/** What a signer writes through /status: Issued with the chain and its times, or Denied / Failed. */
export type PcrStatusChange =
  | {
      type: 'Issued';
      reason: string;
      message: string;
      certificateChain: string;
      notBefore: Date;
      beginRefreshAt: Date;
      notAfter: Date;
    }
  | { type: 'Denied' | 'Failed'; reason: string; message: string };

/** metav1.Time: RFC 3339 in whole seconds. */
const metaTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Issues, denies or fails a PodCertificateRequest through /status, bound to the object checked (uid +
 * resourceVersion: docs/safety.md). A request already Issued, Denied or Failed is never changed (the API makes its
 * status immutable): the same Denied/Failed again is no write (`changed: false`), anything else is refused.
 */
export async function setPcrStatus(
  ctx: ClusterContext,
  version: string,
  namespace: string,
  name: string,
  change: PcrStatusChange,
  options: { bind?: CsrBinding } = {},
): Promise<KubeResult<{ pcr: WirePcr; changed: boolean }>> {
  const what = `PodCertificateRequest "${terminalSafe(`${namespace}/${name}`, { maxLength: 200 })}"`;
  const target: WriteTarget<BoundObject> = {
    read: () => readOne<BoundObject>(ctx, pcrPath(version, namespace, name)),
    putPath: `${pcrPath(version, namespace, name)}/status`,
    what,
  };
  const withKind = (o: BoundObject): WirePcr => ({
    apiVersion: `${GROUP}/${version}`,
    kind: 'PodCertificateRequest',
    ...(o as WirePcr),
  });
  return boundWrite(
    ctx,
    target,
    options.bind,
    (object) => {
      const pcr = withKind(object);
      const state = pcrState(pcr);
      if (state !== 'Pending') {
        if (state === change.type && state !== 'Issued') return { result: ok({ pcr, changed: false }) };
        return {
          result: fail(
            refused(
              `${what} is already ${state}; its status never changes after that (the kubelet asks again with a new request).`,
              `Already${state}`,
              ctx.name,
            ),
          ),
        };
      }
      const condition = {
        type: change.type,
        status: 'True',
        reason: change.reason,
        message: change.message,
        lastTransitionTime: metaTime(new Date()),
      };
      const status =
        change.type === 'Issued'
          ? {
              conditions: [condition],
              certificateChain: change.certificateChain,
              notBefore: metaTime(change.notBefore),
              beginRefreshAt: metaTime(change.beginRefreshAt),
              notAfter: metaTime(change.notAfter),
            }
          : { conditions: [condition] };
      return { put: { ...object, status } };
    },
    (written) => ({ pcr: withKind(written), changed: true }),
  );
}

/** An object the cluster answered with, `null` when it does not exist, or why it could not be read (one line). */
export type Lookup<T> = T | null | string;

async function lookup<T>(ctx: ClusterContext, path: string): Promise<Lookup<T>> {
  const r = await getIfPresent(ctx, path);
  if (!r.ok) return r.error.message;
  return r.value === undefined ? null : (r.value as T);
}

export interface PcrClusterFacts {
  pod: Lookup<{
    metadata?: { uid?: string; deletionTimestamp?: string };
    spec?: { nodeName?: string; serviceAccountName?: string };
    status?: { phase?: string };
  }>;
  node: Lookup<{ metadata?: { uid?: string } }>;
  serviceAccount: Lookup<{ metadata?: { uid?: string } }>;
}

/** The pod, node and service account a PodCertificateRequest names, as the cluster has them now. */
export async function pcrClusterFacts(ctx: ClusterContext, pcr: WirePcr): Promise<PcrClusterFacts> {
  const ns = encodeURIComponent(pcr.metadata?.namespace ?? '');
  const s = pcr.spec ?? {};
  const [pod, node, serviceAccount] = await Promise.all([
    lookup<PcrClusterFacts['pod']>(ctx, `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(s.podName ?? '')}`),
    lookup<{ metadata?: { uid?: string } }>(ctx, `/api/v1/nodes/${encodeURIComponent(s.nodeName ?? '')}`),
    lookup<{ metadata?: { uid?: string } }>(
      ctx,
      `/api/v1/namespaces/${ns}/serviceaccounts/${encodeURIComponent(s.serviceAccountName ?? '')}`,
    ),
  ]);
  return { pod: pod as PcrClusterFacts['pod'], node, serviceAccount };
}

/** The ClusterTrustBundle name of a signer's bundle: the signer with `:` for `/`, then `:` and the name. */
export function trustBundleName(signerName: string, name: string): string {
  return `${signerName.replace('/', ':')}:${name}`;
}

/**
 * Creates the ClusterTrustBundle, or (when `bind` names the object read) replaces its spec bound to that object
 * (uid + resourceVersion): a bundle changed or replaced since it was read is not overwritten.
 */
export async function writeTrustBundle(
  ctx: ClusterContext,
  version: string,
  bundle: { name: string; signerName: string; trustBundle: string },
  bind: CsrBinding | undefined,
  onWrite?: WriteHook,
): Promise<KubeResult<{ ctb: WireCtb; action: 'created' | 'updated' | 'unchanged' }>> {
  const spec = { signerName: bundle.signerName, trustBundle: bundle.trustBundle };
  const path = ctbPath(version, bundle.name);
  if (!bind) {
    const body = {
      apiVersion: `${GROUP}/${version}`,
      kind: 'ClusterTrustBundle',
      metadata: { name: bundle.name },
      spec,
    };
    const created = await hooked(onWrite, { op: 'create', path }, () =>
      withRetry(
        () =>
          requestJson<Record<string, unknown>>(ctx, {
            method: 'POST',
            path: `/apis/${GROUP}/${version}/clustertrustbundles`,
            body,
          }),
        { context: ctx.name, retryable: (e) => e.kind === 'too-many-requests' },
      ),
    );
    return created.ok ? ok({ ctb: created.value as WireCtb, action: 'created' }) : created;
  }
  return boundWrite<BoundObject, { ctb: WireCtb; action: 'created' | 'updated' | 'unchanged' }>(
    ctx,
    {
      read: () => readOne<BoundObject>(ctx, path),
      putPath: path,
      what: `ClusterTrustBundle "${terminalSafe(bundle.name, { maxLength: 200 })}"`,
      ...(onWrite ? { onWrite } : {}),
    },
    bind,
    (object) => {
      const current = (object as WireCtb).spec;
      if (current?.trustBundle === spec.trustBundle && current?.signerName === spec.signerName) {
        return { result: ok({ ctb: object as WireCtb, action: 'unchanged' }) };
      }
      return { put: { ...object, spec } };
    },
    (written) => ({ ctb: written as WireCtb, action: 'updated' }),
  );
}

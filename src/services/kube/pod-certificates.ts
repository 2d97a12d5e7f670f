// PodCertificateRequests and ClusterTrustBundles (certificates.k8s.io, issue 20): which version of each a cluster
// serves (v1, v1beta1 or none, from discovery), and lists and reads of both. A cluster that serves neither answers
// with empty lists, not an error. Objects are wire JSON as the server sent them; print every string through
// terminalSafe.
import type { ClusterContext } from './api-types.js';
import { ok, withRetry } from './errors.js';
import { getIfPresent, listEach } from './list.js';
import { requestJson } from './transport.js';
import type { KubeResult } from './types.js';

const GROUP = 'certificates.k8s.io';

interface WireMeta {
  name?: string;
  namespace?: string;
  uid?: string;
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

// "Can I?" via SelfSubjectAccessReview, and the combined checks for approving and signing for a signer: the
// `approve`/`sign` verb on `signers` (by name, then `<domain>/*`, as the admission plugins check) plus `update` on
// the CSR subresource that carries the write.
import { terminalSafe } from '../text/sanitize.js';
import type { AccessAnswer, AccessQuestion, ClusterContext, SignerCapability } from './api-types.js';
import { ok, withRetry } from './errors.js';
import { requestJson } from './transport.js';
import type { KubeResult } from './types.js';

interface ReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** `approve on signers "example.com/foo"`, `update on certificatesigningrequests/approval in namespace "x"`. */
export function describePermission(q: AccessQuestion): string {
  const resource = q.subresource ? `${q.resource}/${q.subresource}` : q.resource;
  const group = q.group ? `.${q.group}` : '';
  const name = q.name ? ` "${terminalSafe(q.name)}"` : '';
  const ns = q.namespace ? ` in namespace "${terminalSafe(q.namespace)}"` : '';
  return `${q.verb} on ${resource}${group}${name}${ns}`;
}

/** Asks the API server whether the context's user may do this (SelfSubjectAccessReview). */
export async function canI(ctx: ClusterContext, question: AccessQuestion): Promise<KubeResult<AccessAnswer>> {
  const body = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        verb: question.verb,
        group: question.group,
        resource: question.resource,
        ...(question.subresource ? { subresource: question.subresource } : {}),
        ...(question.name ? { name: question.name } : {}),
        ...(question.namespace ? { namespace: question.namespace } : {}),
      },
    },
  };
  const r = await withRetry(
    () =>
      requestJson<ReviewStatus>(ctx, {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body,
      }),
    { context: ctx.name },
  );
  if (!r.ok) return r;
  const status = r.value.status ?? {};
  return ok({
    allowed: status.allowed === true,
    ...(status.reason ? { reason: status.reason } : {}),
    permission: describePermission(question),
  });
}

async function signerCapability(
  ctx: ClusterContext,
  signerName: string,
  verb: 'approve' | 'sign' | 'attest',
  update: AccessQuestion,
): Promise<KubeResult<SignerCapability>> {
  const domain = signerName.split('/')[0] ?? signerName;
  const signers = (name: string): AccessQuestion => ({
    verb,
    group: 'certificates.k8s.io',
    resource: 'signers',
    name,
  });
  const [exact, wildcard, write] = await Promise.all([
    canI(ctx, signers(signerName)),
    canI(ctx, signers(`${domain}/*`)),
    canI(ctx, update),
  ]);
  if (!exact.ok) return exact;
  if (!wildcard.ok) return wildcard;
  if (!write.ok) return write;
  const missing: string[] = [];
  if (!exact.value.allowed && !wildcard.value.allowed) {
    missing.push(
      `${verb} on signers.certificates.k8s.io "${terminalSafe(signerName)}" (or "${terminalSafe(domain)}/*")`,
    );
  }
  if (!write.value.allowed) missing.push(write.value.permission);
  return ok({ allowed: missing.length === 0, missing });
}

/** approve on signers `<signerName>` (or `<domain>/*`) and update on certificatesigningrequests/approval. */
export async function canApprove(ctx: ClusterContext, signerName: string): Promise<KubeResult<SignerCapability>> {
  return signerCapability(ctx, signerName, 'approve', csrUpdate('approval'));
}

/** sign on signers `<signerName>` (or `<domain>/*`) and update on certificatesigningrequests/status. */
export async function canSign(ctx: ClusterContext, signerName: string): Promise<KubeResult<SignerCapability>> {
  return signerCapability(ctx, signerName, 'sign', csrUpdate('status'));
}

const csrUpdate = (subresource: 'approval' | 'status'): AccessQuestion => ({
  verb: 'update',
  group: 'certificates.k8s.io',
  resource: 'certificatesigningrequests',
  subresource,
});

/** sign on signers `<signerName>` (or `<domain>/*`) and update on podcertificaterequests/status (in `namespace`). */
export async function canSignPcr(
  ctx: ClusterContext,
  signerName: string,
  namespace?: string,
): Promise<KubeResult<SignerCapability>> {
  return signerCapability(ctx, signerName, 'sign', {
    verb: 'update',
    group: 'certificates.k8s.io',
    resource: 'podcertificaterequests',
    subresource: 'status',
    ...(namespace ? { namespace } : {}),
  });
}

/** attest on signers `<signerName>` (or `<domain>/*`), which a ClusterTrustBundle naming the signer needs, and
 * `verb` (create or update) on clustertrustbundles. */
export async function canAttest(
  ctx: ClusterContext,
  signerName: string,
  verb: 'create' | 'update' = 'create',
): Promise<KubeResult<SignerCapability>> {
  return signerCapability(ctx, signerName, 'attest', {
    verb,
    group: 'certificates.k8s.io',
    resource: 'clustertrustbundles',
  });
}

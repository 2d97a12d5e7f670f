// Reads and writes of CSRs, Secrets and ConfigMaps with kubectl's rules, each returning a typed KubeResult.
import type { V1CertificateSigningRequest, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type {
  AppliedConfigMap,
  AppliedSecret,
  ApplyOptions,
  ApprovalOptions,
  ClusterContext,
  CsrWriteOutcome,
  UploadOptions,
} from './api-types.js';
import type { KubeResult } from './types.js';

export const CERTDESK_APPROVE_REASON = 'CertdeskApprove';
export const CERTDESK_APPROVE_MESSAGE = 'This CSR was approved by certdesk.';
export const CERTDESK_DENY_REASON = 'CertdeskDeny';
export const CERTDESK_DENY_MESSAGE = 'This CSR was denied by certdesk.';

/** Reads one CSR. */
export async function getCsr(_ctx: ClusterContext, _name: string): Promise<KubeResult<V1CertificateSigningRequest>> {
  throw new Error('TODO');
}

/** Lists CSRs (all pages), optionally for one signer (field selector spec.signerName). */
export async function listCsrs(
  _ctx: ClusterContext,
  _options: { signerName?: string } = {},
): Promise<KubeResult<V1CertificateSigningRequest[]>> {
  throw new Error('TODO');
}

/** Adds Approved through /approval; refuses a Denied CSR; no write when already Approved unless force. */
export async function approveCsr(
  _ctx: ClusterContext,
  _name: string,
  _options: ApprovalOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  throw new Error('TODO');
}

/** Adds Denied through /approval; refuses an Approved CSR; no write when already Denied unless force. */
export async function denyCsr(
  _ctx: ClusterContext,
  _name: string,
  _options: ApprovalOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  throw new Error('TODO');
}

/** Sets status.certificate through /status; refuses if one is there already, re-reads on 409, never overwrites. */
export async function uploadCertificate(
  _ctx: ClusterContext,
  _name: string,
  _certificatePem: string,
  _options: UploadOptions = {},
): Promise<KubeResult<V1CertificateSigningRequest>> {
  throw new Error('TODO');
}

/** Adds Failed (status True) with reason and message through /status, as kube-controller-manager does. */
export async function markFailed(
  _ctx: ClusterContext,
  _name: string,
  _reason: string,
  _message: string,
): Promise<KubeResult<CsrWriteOutcome>> {
  throw new Error('TODO');
}

/** Creates a CSR (metadata.generateName allowed). */
export async function createCsr(
  _ctx: ClusterContext,
  _body: V1CertificateSigningRequest,
): Promise<KubeResult<V1CertificateSigningRequest>> {
  throw new Error('TODO');
}

/** Deletes a CSR. */
export async function deleteCsr(_ctx: ClusterContext, _name: string): Promise<KubeResult<void>> {
  throw new Error('TODO');
}

/** Watches one CSR until `until(csr)` is true (e.g. issued), or the deadline; not-found while waiting is an error. */
export async function waitForCsr(
  _ctx: ClusterContext,
  _name: string,
  _until: (csr: V1CertificateSigningRequest) => boolean,
  _options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<KubeResult<V1CertificateSigningRequest>> {
  throw new Error('TODO');
}

/** Creates the Secret, or replaces it when it exists and overwrite is set; else kind 'already-exists'. */
export async function applySecret(
  _ctx: ClusterContext,
  _namespace: string,
  _secret: V1Secret,
  _options: ApplyOptions = {},
): Promise<KubeResult<AppliedSecret>> {
  throw new Error('TODO');
}

/** Creates the ConfigMap, or replaces it when it exists and overwrite is set; else kind 'already-exists'. */
export async function applyConfigMap(
  _ctx: ClusterContext,
  _namespace: string,
  _configMap: V1ConfigMap,
  _options: ApplyOptions = {},
): Promise<KubeResult<AppliedConfigMap>> {
  throw new Error('TODO');
}

// "Can I?" via SelfSubjectAccessReview, and the combined checks for approving and signing for a signer.
import type { AccessAnswer, AccessQuestion, ClusterContext, SignerCapability } from './api-types.js';
import type { KubeResult } from './types.js';

/** Asks the API server whether the context's user may do this (SelfSubjectAccessReview). */
export async function canI(_ctx: ClusterContext, _question: AccessQuestion): Promise<KubeResult<AccessAnswer>> {
  throw new Error('TODO: canI');
}

/** approve on signers `<signerName>` (or `<domain>/*`) and update on certificatesigningrequests/approval. */
export async function canApprove(_ctx: ClusterContext, _signerName: string): Promise<KubeResult<SignerCapability>> {
  throw new Error('TODO: canApprove');
}

/** sign on signers `<signerName>` (or `<domain>/*`) and update on certificatesigningrequests/status. */
export async function canSign(_ctx: ClusterContext, _signerName: string): Promise<KubeResult<SignerCapability>> {
  throw new Error('TODO: canSign');
}

// certdesk's only door to API servers: kubeconfig contexts, the live per-context store (list+watch informers
// with backoff and 410 relists), typed writes for CSRs, Secrets and ConfigMaps, and access checks.
// Every failure is a KubeResult with a KubeError whose message is one sentence for a person.

export type {
  AccessAnswer,
  AccessQuestion,
  AppliedConfigMap,
  AppliedSecret,
  ApplyOptions,
  ApplyOutcome,
  ApprovalOptions,
  CsrBinding,
  ClusterContext,
  ClusterStore,
  ClusterStoreOptions,
  ContextChange,
  ContextSnapshot,
  CsrWriteOutcome,
  LoadContextsOptions,
  SignerCapability,
  StoreBatch,
  StoreKind,
  TigeraStatus,
  UploadOptions,
  WriteHook,
  PendingWrite,
} from './api-types.js';
export type { ConnectionState, KubeError, KubeErrorKind, KubeResult } from './types.js';

/** loadContexts(opts?): ClusterContext[] — kubectl's merge of the KUBECONFIG list (or --kubeconfig), current
 * context by default; throws KubeConfigError (one sentence) for a missing file or unknown context.
 * loadInClusterContext(): ClusterContext — the pod's service account. */
export { KubeConfigError, loadContexts, loadInClusterContext } from './contexts.js';

/** toKubeError(err, context?): KubeError — maps ApiException, Status bodies, fetch/TLS/socket errors.
 * withRetry(fn, opts?) — capped exponential backoff with jitter for 429/5xx/timeouts. */
export { isRetryable, toKubeError, withRetry } from './errors.js';

/** createClusterStore(contexts, opts?): ClusterStore — informers for CSRs, pods, namespaces, TigeraStatus. */
export { createClusterStore } from './store.js';
// Which objects changed between two snapshots of one kind, without a pass over all of them.
export { changedKeys } from './snapshot-map.js';
export { readPodLog } from './logs.js';

/** Writes and reads, each returning Promise<KubeResult<…>>. */
export {
  applyConfigMap,
  applySecret,
  approveCsr,
  CERTDESK_APPROVE_MESSAGE,
  CERTDESK_APPROVE_REASON,
  CERTDESK_DENY_MESSAGE,
  CERTDESK_DENY_REASON,
  createCsr,
  deleteCsr,
  denyCsr,
  getCsr,
  listCsrs,
  csrReplaced,
  markFailed,
  objectReplaced,
  uploadCertificate,
  waitForCsr,
} from './writes.js';

/** canI(ctx, question) via SelfSubjectAccessReview; canApprove / canSign(ctx, signerName) add the `<domain>/*`
 * fallback and `update` on the subresource. */
export { canApprove, canAttest, canI, canSign, canSignPcr } from './access.js';

/** Pure helpers over CSR conditions (no I/O). */
export { csrCondition, csrState, hasCondition, type CsrState } from './csr-state.js';

/** Page-by-page reads of any collection, one object, and which version of a group serves a resource. */
export { getIfPresent, listEach, type RawObject, servedVersion } from './list.js';

/** PodCertificateRequests and ClusterTrustBundles (issue 20): discovery, reads, the bound /status write, bundles. */
export {
  type Lookup,
  listCtbs,
  listPcrs,
  type PcrClusterFacts,
  type PcrState,
  type PcrStatusChange,
  type PodCertificateApis,
  pcrClusterFacts,
  pcrState,
  podCertificateApis,
  readCtb,
  readPcr,
  setPcrStatus,
  trustBundleName,
  type WireCtb,
  type WirePcr,
  writeTrustBundle,
} from './pod-certificates.js';

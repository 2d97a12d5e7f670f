// The approver's findings and the policy behind them. See docs/policy.md.
export type { ClusterFacts, NodeLike } from './cluster-findings.js';
export { type CsrLike, type EvaluateInput, evaluateCsr, type PodLike } from './findings.js';
export { DNS_IN_FLIGHT, type DnsAnswer, DnsChecks, type DnsChecksOptions } from './dns.js';
export { DEFAULT_POLICY, loadPolicy, type Policy, PolicyError, policyFromObject } from './policy.js';
export { type Finding, type FindingLevel, worstLevel } from './types.js';
export {
  type EvaluatePcrInput,
  evaluatePcr,
  type Looked,
  type PcrLike,
  type PcrPodFacts,
  POD_CERTIFICATE_MAX_SECONDS,
  signerMaxSeconds,
} from './pcr-findings.js';
export {
  auditedRequests,
  indexRequests,
  type RequestIndex,
  RequestIndexCache,
  type RequestLike,
  type SeenRequest,
} from './requests.js';

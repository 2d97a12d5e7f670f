// The PKI core's public face: decode and verify, hold CAs, issue, generate. Other layers import only from here
// (and types.ts). Every function throws only PkiError.
export { createCa, type CreateCaOptions, type LoadCaOptions, loadCaFromPem } from './ca.js';
export {
  chainOrder,
  decodeCertificate,
  decodeCertificates,
  decodeCsr,
  digestsOf,
  type RequestDigests,
  requestDigests,
} from './decode.js';
export { type GenerateKeyAndCsrOptions, generateKeyAndCsr } from './generate.js';
export { certificateTtlSeconds, issueCertificate, validityWindow } from './issue.js';
export { readPrivateKey } from './keys.js';
export {
  DEFAULT_TRUST_DOMAIN,
  type IssuedPodCertificate,
  issuePodCertificate,
  KUBERNETES_SIGNER_MAX_SECONDS,
  POD_CERTIFICATE_KEY_TYPES,
  POD_CERTIFICATE_MIN_SECONDS,
  type PodCertificateIssue,
  type PodCertificateKey,
  type PodCertificateKeySpec,
  podCertificateKey,
  podCertificateLifetimeSeconds,
} from './pod-certificate.js';
export { DEFAULT_PROFILE, listProfiles, loadProfile, parseDuration, profileFromJson } from './profiles.js';
export {
  checkSignerRules,
  KUBE_APISERVER_CLIENT,
  KUBE_APISERVER_CLIENT_KUBELET,
  KUBELET_SERVING,
  LEGACY_UNKNOWN,
} from './signer-rules.js';
export * from './types.js';
export { KNOWN_USAGES, mapUsages, USAGE_TABLE, type UsageMapping } from './usages.js';

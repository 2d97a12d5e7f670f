// The built-in kubernetes.io signers' rules, worded exactly as kube-controller-manager words them
// (pkg/controller/certificates/signer/signer.go and pkg/apis/certificates/helpers.go), so the text can be a
// Failed condition's message.
import type { DecodedCsr } from './types.js';

export const KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN = 'kubernetes.io/legacy-unknown';

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
};

const KUBELET_CLIENT_USAGES = ['client auth', 'digital signature', 'key encipherment'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

const isSystemNodes = (csr: DecodedCsr) =>
  csr.subject.organizations.length === 1 && csr.subject.organizations[0] === 'system:nodes';

function apiServerClient(usages: string[]): string | undefined {
  let hasClientAuth = false;
  for (const u of usages) {
    if (u === 'digital signature' || u === 'key encipherment') continue;
    if (u === 'client auth') hasClientAuth = true;
    else return `invalid usage for client certificate: ${u}`;
  }
  return hasClientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

function kubeletClient(csr: DecodedCsr, usages: string[]): string | undefined {
  if (!isSystemNodes(csr)) return 'subject organization is not system:nodes';
  if (csr.sans.dns.length > 0) return 'DNS subjectAltNames are not allowed';
  if (csr.sans.email.length > 0) return 'Email subjectAltNames are not allowed';
  if (csr.sans.ip.length > 0) return 'IP subjectAltNames are not allowed';
  if (csr.sans.uri.length > 0) return 'URI subjectAltNames are not allowed';
  if (!(csr.subject.commonName ?? '').startsWith('system:node:')) {
    return 'subject common name does not begin with system:node:';
  }
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) {
    return `usages did not match [${[...KUBELET_CLIENT_USAGES].sort().join(' ')}]`;
  }
  return undefined;
}

function kubeletServing(csr: DecodedCsr, usages: string[]): string | undefined {
  if (!isSystemNodes(csr)) return 'subject organization is not system:nodes';
  if (csr.sans.dns.length === 0 && csr.sans.ip.length === 0) return 'DNS or IP subjectAltName is required';
  if (csr.sans.email.length > 0) return 'Email subjectAltNames are not allowed';
  if (csr.sans.uri.length > 0) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) {
    return `usages did not match [${[...KUBELET_SERVING_USAGES].sort().join(' ')}]`;
  }
  if (!(csr.subject.commonName ?? '').startsWith('system:node:')) {
    return 'subject common name does not begin with system:node:';
  }
  return undefined;
}

/**
 * The built-in signer's verdict: undefined when the request is acceptable (or the signer is not one of the built-in
 * ones), otherwise kube-controller-manager's error text, e.g. `invalid usage for client certificate: server auth`.
 */
export function checkSignerRules(signerName: string, csr: DecodedCsr, usages: string[]): string | undefined {
  switch (signerName) {
    case KUBE_APISERVER_CLIENT:
      return apiServerClient(usages);
    case KUBE_APISERVER_CLIENT_KUBELET:
      return kubeletClient(csr, usages);
    case KUBELET_SERVING:
      return kubeletServing(csr, usages);
    case LEGACY_UNKNOWN:
      return 'the kubernetes.io/legacy-unknown signer is not supported by the certificates.k8s.io/v1 API';
    default:
      return undefined;
  }
}

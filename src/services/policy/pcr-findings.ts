// Findings for a PodCertificateRequest (issue 20), in the shape of the CSR findings: does the pod hold the key, is
// the pod (and its node and service account) the one the request names, is the key one the API takes, does the
// signer know every annotation, and how long may the certificate live. Pure: the request, its key and what the
// cluster said about the pod, the node and the service account in; findings out.
import {
  KUBERNETES_SIGNER_MAX_SECONDS,
  POD_CERTIFICATE_KEY_TYPES,
  type PodCertificateKey,
} from '../pki/pod-certificate.js';
import type { WirePcr } from '../kube/pod-certificates.js';
import { humanDurationSeconds } from '../text/duration.js';
import { DEFAULT_POLICY, type Policy } from './policy.js';
import type { Finding, FindingLevel } from './types.js';

/** Non-kubernetes.io signers: kube-apiserver's ceiling for maxExpirationSeconds (91 days). */
export const POD_CERTIFICATE_MAX_SECONDS = 91 * 86_400;

/** The parts of a PodCertificateRequest the findings read (wire JSON). */
export type PcrLike = Pick<WirePcr, 'metadata' | 'spec'>;

/** An object the cluster answered with: its UID (and for a pod, where and as whom it runs). */
export interface PcrPodFacts {
  metadata?: { uid?: string; deletionTimestamp?: string | Date };
  spec?: { nodeName?: string; serviceAccountName?: string };
  status?: { phase?: string };
}

/**
 * What the cluster said: the object, `null` when it does not exist, or a string saying why it could not be read
 * (a 403: the findings say what was not checked).
 */
export type Looked<T> = T | null | string;

export interface EvaluatePcrInput {
  pcr: PcrLike;
  /** The requested key, or why it could not be read. */
  key: PodCertificateKey | { error: string };
  pod: Looked<PcrPodFacts>;
  node: Looked<{ metadata?: { uid?: string } }>;
  serviceAccount: Looked<{ metadata?: { uid?: string } }>;
  policy?: Policy;
}

const finding = (level: FindingLevel, code: string, message: string): Finding => ({ level, code, message });

function keyFindings(key: EvaluatePcrInput['key']): Finding[] {
  if ('error' in key) {
    return [finding('fail', 'decode', `The requested key cannot be read: ${key.error}.`)];
  }
  const out = [
    key.proofOfPossession.verified
      ? finding(
          'ok',
          'proof-of-possession',
          key.source === 'stubPKCS10Request'
            ? 'The stub request is signed by the requested key (proof of possession).'
            : 'proofOfPossession is a signature over the pod UID by the requested key.',
        )
      : finding(
          'fail',
          'proof-of-possession',
          `The ${key.source === 'stubPKCS10Request' ? "stub request's self-signature" : 'proofOfPossession'} does not verify (${key.proofOfPossession.error ?? 'unknown'}): the pod may not hold the key.`,
        ),
    key.supported
      ? finding('ok', 'key-type', `${key.description} is a pod certificate key type.`)
      : finding(
          'fail',
          'key-type',
          `${key.description} is not a pod certificate key type (${POD_CERTIFICATE_KEY_TYPES.join(', ')}).`,
        ),
  ];
  if (key.stubContent) {
    out.push(
      finding(
        'warn',
        'stub-content',
        `The stub request asks for more than a key (${key.stubContent}); the kubelet sends an empty one and the signer ignores it.`,
      ),
    );
  }
  return out;
}

/** The pod exists with that UID, on that node, as that service account; the node and the service account too. */
function identityFindings(input: EvaluatePcrInput): Finding[] {
  const s = input.pcr.spec ?? {};
  const ns = input.pcr.metadata?.namespace ?? '';
  const out: Finding[] = [];
  const { pod, node, serviceAccount } = input;
  const podName = `pod ${ns}/${s.podName ?? ''}`;
  if (typeof pod === 'string') {
    out.push(finding('warn', 'pod-identity', `The ${podName} could not be checked (${pod}).`));
  } else if (pod === null) {
    out.push(finding('fail', 'pod-identity', `The ${podName} does not exist: nothing waits for this certificate.`));
  } else {
    const wrong: string[] = [];
    if (pod.metadata?.uid !== s.podUID) wrong.push(`its UID is ${pod.metadata?.uid ?? 'none'}, not ${s.podUID ?? ''}`);
    if (pod.spec?.nodeName !== s.nodeName)
      wrong.push(`it runs on ${pod.spec?.nodeName || 'no node'}, not ${s.nodeName ?? ''}`);
    const sa = pod.spec?.serviceAccountName || 'default';
    if (sa !== s.serviceAccountName) wrong.push(`it runs as ${sa}, not ${s.serviceAccountName ?? ''}`);
    if (wrong.length) {
      out.push(
        finding('fail', 'pod-identity', `The ${podName} is not the one the request names: ${wrong.join('; ')}.`),
      );
    } else if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      out.push(finding('warn', 'pod-identity', `The ${podName} is finished or being deleted.`));
    } else {
      out.push(
        finding('ok', 'pod-identity', `The ${podName} has that UID, runs on ${s.nodeName} as ${s.serviceAccountName}.`),
      );
    }
  }
  const object = (
    code: string,
    what: string,
    got: Looked<{ metadata?: { uid?: string } }>,
    uid: string | undefined,
  ) => {
    if (typeof got === 'string') out.push(finding('warn', code, `The ${what} could not be checked (${got}).`));
    else if (got === null) out.push(finding('fail', code, `The ${what} does not exist.`));
    else if (got.metadata?.uid !== uid)
      out.push(finding('fail', code, `The ${what} has UID ${got.metadata?.uid ?? 'none'}, not ${uid ?? ''}.`));
    else out.push(finding('ok', code, `The ${what} has the UID the request names.`));
  };
  object('node-identity', `node ${s.nodeName ?? ''}`, node, s.nodeUID);
  object(
    'service-account-identity',
    `service account ${ns}/${s.serviceAccountName ?? ''}`,
    serviceAccount,
    s.serviceAccountUID,
  );
  return out;
}

function annotationFindings(input: EvaluatePcrInput, policy: Policy): Finding[] {
  const keys = Object.keys(input.pcr.spec?.unverifiedUserAnnotations ?? {});
  const known = new Set(policy.podCertificates.knownAnnotations);
  const unknown = keys.filter((k) => !known.has(k));
  if (unknown.length === 0) {
    return keys.length ? [finding('ok', 'annotations', `The signer knows every annotation (${keys.join(', ')}).`)] : [];
  }
  return [
    finding(
      policy.podCertificates.unknownAnnotation,
      'annotations',
      `unverifiedUserAnnotations has keys the signer does not know: ${unknown.join(', ')} (add them to the policy's podCertificates.knownAnnotations if it does).`,
    ),
  ];
}

/** The signer's ceiling for maxExpirationSeconds: 24 h for kubernetes.io/ signers, else 91 days. */
export function signerMaxSeconds(signerName: string): number {
  return signerName.startsWith('kubernetes.io/') ? KUBERNETES_SIGNER_MAX_SECONDS : POD_CERTIFICATE_MAX_SECONDS;
}

function lifetimeFinding(pcr: PcrLike, policy: Policy): Finding {
  const asked = pcr.spec?.maxExpirationSeconds ?? 86_400;
  const signerMax = signerMaxSeconds(pcr.spec?.signerName ?? '');
  const policyMax = policy.podCertificates.maxDurationSeconds;
  if (asked > signerMax) {
    return finding(
      'fail',
      'duration',
      `maxExpirationSeconds ${humanDurationSeconds(asked)} is over the signer's ceiling of ${humanDurationSeconds(signerMax)}.`,
    );
  }
  if (asked > policyMax) {
    return finding(
      'warn',
      'duration',
      `The pod accepts up to ${humanDurationSeconds(asked)}; the policy issues ${humanDurationSeconds(policyMax)} at most.`,
    );
  }
  return finding(
    'ok',
    'duration',
    `Up to ${humanDurationSeconds(asked)}, within the policy's ${humanDurationSeconds(policyMax)}.`,
  );
}

export function evaluatePcr(input: EvaluatePcrInput): Finding[] {
  const policy = input.policy ?? DEFAULT_POLICY;
  return [
    ...keyFindings(input.key),
    ...identityFindings(input),
    ...annotationFindings(input, policy),
    lifetimeFinding(input.pcr, policy),
  ];
}

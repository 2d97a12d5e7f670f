// The approver's two questions (signing-and-approval.md) as findings: does the subject hold the key, and may
// this requestor have these names from this signer? Pure: a CSR object, its decoded request, the policy and
// (optionally) the pods of its cluster and what else the desk knows of it (cluster-findings.ts) in; findings out.
import { checkSignerRules as builtinSignerRules } from '../pki/signer-rules.js';
import { type ClusterFacts, clusterFindings } from './cluster-findings.js';
import type { DecodedCsr } from '../pki/types.js';
import { hasUnsafeCharacters } from '../text/sanitize.js';
import { DEFAULT_POLICY, ipInCidr, type Policy } from './policy.js';
import type { Finding, FindingLevel } from './types.js';

/** The parts of a CertificateSigningRequest the findings read (client-node model or plain JSON). */
export interface CsrLike {
  metadata?: { name?: string; uid?: string; creationTimestamp?: Date | string };
  spec: {
    signerName: string;
    usages?: string[];
    username?: string;
    groups?: string[];
    uid?: string;
    extra?: Record<string, string[]>;
    expirationSeconds?: number;
  };
}

export interface PodLike {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: {
    serviceAccountName?: string;
    nodeName?: string;
    initContainers?: { name: string; image?: string; env?: { name: string; value?: string }[] }[];
  };
  status?: { podIP?: string; podIPs?: { ip?: string }[] };
}

export interface EvaluateInput {
  csr: CsrLike;
  decoded: DecodedCsr;
  policy?: Policy;
  /** Pods of the CSR's cluster, to link a service-account requestor to the pod waiting on the CSR. */
  pods?: Iterable<PodLike>;
  /** The cluster around the request: nodes, every other request the desk has seen (cluster-findings.ts). */
  cluster?: ClusterFacts;
  /** The built-in signers' rules. @default services/pki checkSignerRules */
  checkSignerRules?: (signerName: string, csr: DecodedCsr, usages: string[]) => string | undefined;
}

const SUPPORTED_RSA = new Set([2048, 4096, 8192]);
const SUPPORTED_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const SA_PREFIX = 'system:serviceaccount:';
const NODE_PREFIX = 'system:node:';
const KUBELET_SIGNERS = new Set(['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']);
const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
const POD_UID_KEY = 'authentication.kubernetes.io/pod-uid';
const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?$/i;

function finding(level: FindingLevel, code: string, message: string): Finding {
  return { level, code, message };
}

/** A requested duration as written in a finding: `1 day`, `730 days`, `12 h`, `90 min`, `45 s`. */
function requestedDuration(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? '1 day' : `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function proofOfPossession(decoded: DecodedCsr): Finding {
  return decoded.proofOfPossession.verified
    ? finding('ok', 'proof-of-possession', 'The request is signed by its own key (proof of possession).')
    : finding(
        'fail',
        'proof-of-possession',
        `The request's self-signature does not verify${decoded.proofOfPossession.error ? ` (${decoded.proofOfPossession.error})` : ''}: the requester may not hold the key.`,
      );
}

function goParse(decoded: DecodedCsr): Finding {
  return decoded.goRefusal === undefined
    ? finding('ok', 'go-parse', "Go's crypto/x509 (kube-controller-manager, the API server) reads the request.")
    : finding(
        'fail',
        'go-parse',
        `Go's crypto/x509, which kube-controller-manager and the API server use, refuses the request (${decoded.goRefusal}): no Kubernetes signer can issue it and Go clients could not read the certificate.`,
      );
}

function nameEncoding(decoded: DecodedCsr): Finding {
  return decoded.nameRefusal === undefined
    ? finding('ok', 'name-encoding', 'The subject uses string types Go and openssl read in a certificate.')
    : finding(
        'fail',
        'name-encoding',
        `${decoded.nameRefusal[0]?.toUpperCase()}${decoded.nameRefusal.slice(1)}: Go, openssl and cfssl could not read the certificate.`,
      );
}

function keyStrength(decoded: DecodedCsr, policy: Policy): Finding {
  const key = decoded.publicKey;
  if (key.algorithm === 'RSA') {
    const bits = key.rsaBits ?? 0;
    if (bits < policy.keys.rsaMinBits)
      return finding(
        'fail',
        'key-strength',
        `${key.description} is too weak: RSA keys need at least ${policy.keys.rsaMinBits} bits.`,
      );
    if (SUPPORTED_RSA.has(bits)) return finding('ok', 'key-strength', `${key.description} is on the supported list.`);
    return finding(
      policy.keys.offList,
      'key-strength',
      `${key.description} is not on the supported list (RSA 2048/4096/8192).`,
    );
  }
  if (key.algorithm === 'EC') {
    if (key.curve && SUPPORTED_CURVES.has(key.curve))
      return finding('ok', 'key-strength', `${key.description} is on the supported list.`);
    return finding(
      'fail',
      'key-strength',
      `${key.description} uses a curve certdesk does not accept (P-256, P-384, P-521).`,
    );
  }
  if (key.algorithm === 'Ed25519')
    return finding(
      policy.keys.offList,
      'key-strength',
      'Ed25519 is strong but not on the supported list (RSA, ECDSA).',
    );
  return finding('fail', 'key-strength', `${key.description} keys cannot be signed by certdesk.`);
}

function podLink(
  csr: CsrLike,
  namespace: string,
  serviceAccount: string,
  policy: Policy,
  pods?: Iterable<PodLike>,
): Finding {
  const name = csr.metadata?.name ?? '';
  const parts = name.split(':');
  const calicoStyle = parts.length >= 2;
  const extraPod = csr.spec.extra?.[POD_NAME_KEY]?.[0];
  const extraUid = csr.spec.extra?.[POD_UID_KEY]?.[0];
  if (calicoStyle && parts[0] !== namespace)
    return finding(
      'fail',
      'requestor-subject',
      `The CSR name puts it in namespace "${parts[0]}" but it was requested by service account ${serviceAccount} of namespace "${namespace}".`,
    );
  const namedPod = calicoStyle ? parts[1] : undefined;
  if (namedPod && extraPod && namedPod !== extraPod)
    return finding(
      'fail',
      'requestor-subject',
      `The CSR name names pod "${namedPod}" but it was requested from pod "${extraPod}".`,
    );
  const podName = extraPod ?? namedPod;
  if (!podName)
    return finding(
      policy.unlinkedRequestor === 'fail' ? 'fail' : 'ok',
      'requestor-subject',
      `Requested by service account ${serviceAccount} of namespace ${namespace}; no pod is named to check it against.`,
    );
  if (!pods)
    return finding(
      'ok',
      'requestor-subject',
      `Requested by service account ${serviceAccount} for pod ${namespace}/${podName}.`,
    );
  for (const pod of pods) {
    if (pod.metadata?.namespace !== namespace || pod.metadata?.name !== podName) continue;
    const podSa = pod.spec?.serviceAccountName ?? 'default';
    if (podSa !== serviceAccount)
      return finding(
        'fail',
        'requestor-subject',
        `Pod ${namespace}/${podName} runs as service account ${podSa}, not ${serviceAccount} which requested this CSR.`,
      );
    if (extraUid && pod.metadata?.uid && extraUid !== pod.metadata.uid)
      return finding(
        'fail',
        'requestor-subject',
        `Pod ${namespace}/${podName} has another UID than the pod that requested this CSR.`,
      );
    return finding(
      'ok',
      'requestor-subject',
      `The requestor's pod ${namespace}/${podName} exists and runs as ${serviceAccount}.`,
    );
  }
  return finding(
    policy.unlinkedRequestor,
    'requestor-subject',
    `Pod ${namespace}/${podName}, named by this CSR, does not exist.`,
  );
}

/** Calico's init container that asks for the pod's certificate; its SIGNER is the Installation's signerName. */
const CALICO_PROVISIONER = 'key-cert-provisioner';

/**
 * The service accounts whose Calico provisioner asks `signer` for certificates, read from the pods: every pod with
 * a key-cert-provisioner init container whose SIGNER is `signer` adds its service account. Empty when no Calico
 * pod uses that signer (it is then not known to be Calico's).
 */
export function calicoRequestors(signer: string, pods: Iterable<PodLike>): Set<string> {
  const accounts = new Set<string>();
  for (const pod of pods) {
    for (const c of pod.spec?.initContainers ?? []) {
      if (!c.name.endsWith(CALICO_PROVISIONER) && !(c.image ?? '').includes(`/${CALICO_PROVISIONER}:`)) continue;
      if (c.env?.find((e) => e.name === 'SIGNER')?.value !== signer) continue;
      const ns = pod.metadata?.namespace ?? '';
      accounts.add(`${SA_PREFIX}${ns}:${pod.spec?.serviceAccountName ?? 'default'}`);
    }
  }
  return accounts;
}

function requestorSubject(csr: CsrLike, decoded: DecodedCsr, policy: Policy, pods?: Iterable<PodLike>): Finding {
  const user = csr.spec.username ?? '';
  const cn = decoded.subject.commonName ?? '';
  const signer = csr.spec.signerName;
  const usages = csr.spec.usages ?? [];
  // The Calico signer (the Installation's signerName) issues for Calico's provisioners only: anyone else asking it
  // for a certificate is not "requested by" someone legitimate, however well-formed the request.
  if (pods && !signer.startsWith('kubernetes.io/')) {
    const list = [...pods];
    pods = list;
    const calico = calicoRequestors(signer, list);
    if (calico.size > 0 && !calico.has(user)) {
      const who = [...calico].map((u) => u.slice(SA_PREFIX.length)).join(', ');
      return finding(
        'fail',
        'requestor-subject',
        `"${user}" asks Calico's signer ${signer} for a certificate; only the Calico provisioner's service accounts (${who}) request from it.`,
      );
    }
  }
  if (KUBELET_SIGNERS.has(signer)) {
    if (!user.startsWith(NODE_PREFIX))
      return finding(
        'fail',
        'requestor-subject',
        `Only a node may ask ${signer} for a certificate; this one was requested by "${user}".`,
      );
    if (cn !== user)
      return finding('fail', 'requestor-subject', `Node "${user}" asks for a certificate in the name of "${cn}".`);
    return finding('ok', 'requestor-subject', `Node ${user} asks for its own certificate.`);
  }
  const asksForNode = cn.startsWith(NODE_PREFIX) || decoded.subject.organizations.includes('system:nodes');
  if (asksForNode && cn !== user)
    return finding('fail', 'requestor-subject', `"${user}" asks for a node identity (${decoded.subject.text}).`);
  const masters = (csr.spec.groups ?? []).includes('system:masters');
  // A kube-apiserver-client certificate logs in to the API server as its CN: asked for in another name, by a service
  // account too (whose pod link below says nothing about the name), it is a way to become someone else.
  if (signer === 'kubernetes.io/kube-apiserver-client' && cn !== user && !masters && user.startsWith(SA_PREFIX))
    return finding(
      'fail',
      'requestor-subject',
      `Service account "${user}" asks for a client certificate in the name of "${cn}": the API server would take its holder for "${cn}".`,
    );
  if (user.startsWith(SA_PREFIX)) {
    const [namespace = '', serviceAccount = ''] = user.slice(SA_PREFIX.length).split(':');
    return podLink(csr, namespace, serviceAccount, policy, pods);
  }
  const clientCert = signer === 'kubernetes.io/kube-apiserver-client' || usages.includes('client auth');
  if (clientCert && cn !== user) {
    // A cluster administrator (system:masters may already impersonate anyone) asking on a user's behalf is the
    // documented onboarding flow: worth a look, not a refusal. Anyone else asking for another name is refused.
    if (masters)
      return finding(
        'warn',
        'requestor-subject',
        `Administrator "${user}" (system:masters) asks for a client certificate in the name of "${cn}": onboarding a user? Check that "${cn}" is expected.`,
      );
    const level: FindingLevel = signer === 'kubernetes.io/kube-apiserver-client' ? 'fail' : policy.unlinkedRequestor;
    return finding(level, 'requestor-subject', `"${user}" asks for a client certificate in the name of "${cn}".`);
  }
  if (clientCert)
    return finding('ok', 'requestor-subject', `"${user}" asks for a client certificate in their own name.`);
  return finding('ok', 'requestor-subject', `Requested by "${user}".`);
}

function privilegedGroups(decoded: DecodedCsr, policy: Policy): Finding {
  const bad = decoded.subject.organizations.filter((o) => policy.forbiddenGroups.includes(o));
  return bad.length
    ? finding(
        'fail',
        'privileged-group',
        `The subject asks for group ${bad.map((g) => `O=${g}`).join(', ')}, which grants administrator rights.`,
      )
    : finding('ok', 'privileged-group', 'No privileged group is requested.');
}

function caUsage(csr: CsrLike, decoded: DecodedCsr, policy: Policy): Finding {
  const usages = csr.spec.usages ?? [];
  const bad = usages.filter((u) => policy.forbiddenUsages.includes(u));
  if (decoded.basicConstraints?.ca)
    return finding('fail', 'ca-usage', 'The request asks to be a CA (basicConstraints CA=true).');
  if (decoded.keyUsage?.includes('keyCertSign'))
    return finding('fail', 'ca-usage', 'The request asks for keyCertSign: it could sign other certificates.');
  if (bad.length)
    return finding('fail', 'ca-usage', `The usages ${bad.map((u) => `"${u}"`).join(', ')} are not allowed.`);
  return finding('ok', 'ca-usage', 'No CA or cert-sign usage is requested.');
}

function signerRules(csr: CsrLike, decoded: DecodedCsr, input: EvaluateInput): Finding | undefined {
  if (!csr.spec.signerName.startsWith('kubernetes.io/')) return undefined;
  const error = (input.checkSignerRules ?? builtinSignerRules)(csr.spec.signerName, decoded, csr.spec.usages ?? []);
  return error
    ? finding('fail', 'signer-rules', `${csr.spec.signerName} refuses it: ${error}.`)
    : finding('ok', 'signer-rules', `The request follows the rules of ${csr.spec.signerName}.`);
}

function duration(csr: CsrLike, policy: Policy): Finding {
  const seconds = csr.spec.expirationSeconds;
  if (seconds === undefined) return finding('ok', 'duration', 'No duration requested: the signer default applies.');
  if (seconds > policy.maxDurationSeconds)
    return finding(
      policy.durationOverMax,
      'duration',
      `The request asks for ${requestedDuration(seconds)}, more than the policy's maximum of ${requestedDuration(policy.maxDurationSeconds)}.`,
    );
  return finding('ok', 'duration', `The requested duration of ${requestedDuration(seconds)} is within the policy.`);
}

function sanFindings(decoded: DecodedCsr, policy: Policy): Finding[] {
  const { dns, ip, uri, email, other } = decoded.sans;
  const total = dns.length + ip.length + uri.length + email.length + other.length;
  const out: Finding[] = [];
  if (total > policy.sans.maxCount) {
    out.push(
      finding(
        'fail',
        'san-count',
        `The request names ${total} subject alternative names; the policy allows ${policy.sans.maxCount}.`,
      ),
    );
  }
  const wildcards = dns.filter((d) => d.includes('*'));
  if (wildcards.length)
    out.push(
      finding(
        policy.sans.wildcards,
        'san-wildcard',
        `Wildcard names requested: ${wildcards.slice(0, 3).join(', ')}${wildcards.length > 3 ? ', …' : ''}.`,
      ),
    );
  const malformed = dns.filter((d) => !DNS_NAME.test(d) || d.length > 253);
  if (malformed.length)
    out.push(
      finding(
        'fail',
        'san-syntax',
        `Not valid DNS names: ${malformed
          .slice(0, 3)
          .map((d) => `"${d}"`)
          .join(', ')}.`,
      ),
    );
  if (policy.sans.allowedIpRanges.length) {
    const outside = ip.filter((a) => !policy.sans.allowedIpRanges.some((r) => ipInCidr(a, r)));
    if (outside.length)
      out.push(
        finding('fail', 'san-ip-range', `IP addresses outside the allowed ranges: ${outside.slice(0, 3).join(', ')}.`),
      );
  }
  if (!out.some((f) => f.level !== 'ok'))
    out.push(
      finding(
        'ok',
        'san-count',
        total
          ? `${total} subject alternative name${total > 1 ? 's' : ''}, all well-formed.`
          : 'No subject alternative names.',
      ),
    );
  return out;
}

function invisibleCharacters(decoded: DecodedCsr): Finding {
  const fields = [
    ...decoded.subject.rdns.map((r) => ({ where: `subject ${r.type}`, value: r.value })),
    ...Object.entries(decoded.sans).flatMap(([kind, values]) =>
      (values as string[]).map((value) => ({ where: `SAN ${kind}`, value })),
    ),
  ];
  const bad = fields.filter((f) => hasUnsafeCharacters(f.value));
  return bad.length
    ? finding(
        'fail',
        'invisible-characters',
        `Control, bidi or invisible characters in ${[...new Set(bad.map((b) => b.where))].join(', ')}: names may not be what they look like.`,
      )
    : finding('ok', 'invisible-characters', 'No control or invisible characters in the names.');
}

/** All findings for one CSR, in a stable order (the two questions first). */
export function evaluateCsr(input: EvaluateInput): Finding[] {
  const policy = input.policy ?? DEFAULT_POLICY;
  const { csr, decoded } = input;
  // Read once: a store's pods come as a one-pass iterator, and several findings look at them.
  const pods = input.pods ? [...input.pods] : undefined;
  const findings: Finding[] = [
    proofOfPossession(decoded),
    goParse(decoded),
    nameEncoding(decoded),
    requestorSubject(csr, decoded, policy, pods),
    invisibleCharacters(decoded),
    privilegedGroups(decoded, policy),
    keyStrength(decoded, policy),
    caUsage(csr, decoded, policy),
  ];
  const rules = signerRules(csr, decoded, input);
  if (rules) findings.push(rules);
  findings.push(
    duration(csr, policy),
    ...sanFindings(decoded, policy),
    ...clusterFindings(csr, decoded, policy, pods, input.cluster),
  );
  return findings;
}

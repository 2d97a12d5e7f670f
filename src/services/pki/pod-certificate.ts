// Pod certificates (PodCertificateRequest, KEP-4317): the requested key and its proof of possession, and the
// certificate a signer issues for it. The key comes from the stub PKCS#10 request (v1, v1beta1: its self-signature
// is the proof) or from v1beta1's pkixPublicKey with proofOfPossession, a signature over the pod UID checked as
// kube-apiserver's validation does (Ed25519 over the bytes, ECDSA ASN.1 over SHA-256, RSA-PSS SHA-256). Issuing
// follows the in-tree signer (k8s test/utils/hermeticpodcertificatesigner) and the API's status validation:
// NotBefore two minutes back (kube-apiserver refuses one more than 5 minutes from its clock, so the CSR signer's
// 5-minute backdate would not do), lifetime at most maxExpirationSeconds (24 h for kubernetes.io/ signers) and at
// least an hour, never outside the CA, beginRefreshAt half-way, the chain leaf first.
import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  basicConstraintsExtension,
  buildCertificate,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  publicKeyBitsOf,
  sanExtension,
  skiExtension,
} from './build.js';
import { randomSerial } from './ca.js';
import { decodeCertificate, decodeCsr, rawPartsOf } from './decode.js';
import { ia5, seq } from './der.js';
import { chainPem, issuerOf } from './issue.js';
import { keyDescription, signatureFor } from './keys.js';
import { pemOf } from './cert-writer.js';
import { type DecodedCertificate, type LoadedCa, PkiError } from './types.js';

/** The key types kube-apiserver accepts in a PodCertificateRequest (and a podCertificate volume's keyType). */
export const POD_CERTIFICATE_KEY_TYPES = [
  'RSA 3072',
  'RSA 4096',
  'ECDSA P-256',
  'ECDSA P-384',
  'ECDSA P-521',
  'Ed25519',
] as const;

/** The parts of a PodCertificateRequest's spec that name and prove the key (wire JSON: base64 strings). */
export interface PodCertificateKeySpec {
  podUID?: string;
  stubPKCS10Request?: string;
  pkixPublicKey?: string;
  proofOfPossession?: string;
}

export interface PodCertificateKey {
  source: 'stubPKCS10Request' | 'pkixPublicKey';
  /** DER SubjectPublicKeyInfo: the key the leaf certificate carries. */
  spki: Uint8Array;
  /** `ECDSA P-256`, `RSA 3072`, `Ed25519`, … */
  description: string;
  /** One of POD_CERTIFICATE_KEY_TYPES. */
  supported: boolean;
  proofOfPossession: { verified: boolean; error?: string };
  /** Stub requests only: what the stub asks for beyond the key (signers ignore it; the kubelet sends none). */
  stubContent?: string;
}

const b64 = (s: string) => Buffer.from(s, 'base64');

function proofOverUid(key: KeyObject, podUID: string, signature: Uint8Array): boolean {
  const data = Buffer.from(podUID, 'utf8');
  try {
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        return verify(null, data, key, signature);
      case 'ec':
        return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return verify(
          'sha256',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** The requested key and whether its holder proved possession. Throws PkiError for a key that cannot be read. */
export async function podCertificateKey(spec: PodCertificateKeySpec): Promise<PodCertificateKey> {
  const stub = spec.stubPKCS10Request;
  const pkix = spec.pkixPublicKey;
  if (stub && (pkix || spec.proofOfPossession)) {
    throw new PkiError(
      'unsupported',
      'the request sets both stubPKCS10Request and pkixPublicKey; exactly one is allowed',
    );
  }
  if (stub) {
    const decoded = await decodeCsr(new Uint8Array(b64(stub)));
    const raw = rawPartsOf(decoded);
    if (!raw) throw new PkiError('bad-der', 'the stubPKCS10Request could not be read');
    const pop = decoded.goRefusal
      ? { verified: false, error: `Go's crypto/x509 refuses it: ${decoded.goRefusal}` }
      : decoded.proofOfPossession;
    const extras = [
      ...(decoded.subject.rdns.length ? [`subject ${decoded.subject.text}`] : []),
      ...(decoded.extensions.length ? [`${decoded.extensions.length} extension(s)`] : []),
    ];
    return {
      source: 'stubPKCS10Request',
      spki: raw.spki,
      description: decoded.publicKey.description,
      supported: (POD_CERTIFICATE_KEY_TYPES as readonly string[]).includes(decoded.publicKey.description),
      proofOfPossession: pop,
      ...(extras.length ? { stubContent: extras.join(', ') } : {}),
    };
  }
  if (!pkix) throw new PkiError('not-found', 'the request has neither stubPKCS10Request nor pkixPublicKey');
  const spki = new Uint8Array(b64(pkix));
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new PkiError('bad-der', 'the pkixPublicKey is not a DER SubjectPublicKeyInfo');
  }
  const description = keyDescription(key);
  const signature = spec.proofOfPossession ? b64(spec.proofOfPossession) : undefined;
  const verified = !!signature?.length && proofOverUid(key, spec.podUID ?? '', signature);
  return {
    source: 'pkixPublicKey',
    spki,
    description,
    supported: (POD_CERTIFICATE_KEY_TYPES as readonly string[]).includes(description),
    proofOfPossession: verified
      ? { verified }
      : {
          verified,
          error: signature?.length
            ? `proofOfPossession is not a ${description} signature over the pod UID`
            : 'no proofOfPossession',
        },
  };
}

const MINUTE = 60_000;
/** The in-tree signer's backdate; kube-apiserver accepts a NotBefore within 5 minutes of its own clock. */
export const POD_CERTIFICATE_BACKDATE_MS = 2 * MINUTE;
/** kube-apiserver refuses an issued leaf that lives less than an hour. */
export const POD_CERTIFICATE_MIN_SECONDS = 3600;
/** `kubernetes.io/` signers never issue for more than 24 hours. */
export const KUBERNETES_SIGNER_MAX_SECONDS = 86_400;
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** What the certificate is for: from the PodCertificateRequest (its namespace and spec). */
export interface PodCertificateIssue {
  signerName: string;
  namespace: string;
  serviceAccountName: string;
  maxExpirationSeconds: number;
  /** A shorter lifetime than maxExpirationSeconds (`--duration`, the policy). */
  durationSeconds?: number;
  /** The SPIFFE trust domain of the URI SAN. @default cluster.local */
  trustDomain?: string;
}

export interface IssuedPodCertificate {
  /** The leaf, then the CA when it is an intermediate and the intermediates above it (no root). */
  chainPem: string;
  certificate: DecodedCertificate;
  notBefore: Date;
  beginRefreshAt: Date;
  notAfter: Date;
}

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/** The longest lifetime a signer may give: maxExpirationSeconds, 24 h for kubernetes.io/ signers, `durationSeconds`. */
export function podCertificateLifetimeSeconds(request: PodCertificateIssue): number {
  let seconds = request.maxExpirationSeconds;
  if (request.signerName.startsWith('kubernetes.io/')) seconds = Math.min(seconds, KUBERNETES_SIGNER_MAX_SECONDS);
  if (request.durationSeconds !== undefined) seconds = Math.min(seconds, request.durationSeconds);
  return seconds;
}

/**
 * Issues the leaf for a pod's key with `ca`: empty subject, the critical URI SAN
 * `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`, digitalSignature, server and client auth, CA=false.
 * Throws PkiError 'signer-refused' (no proof of possession, a lifetime under an hour, the CA too close to its end)
 * or 'ca-expired'.
 */
export async function issuePodCertificate(
  key: PodCertificateKey,
  ca: LoadedCa,
  request: PodCertificateIssue,
  now: Date = new Date(),
): Promise<IssuedPodCertificate> {
  if (!key.proofOfPossession.verified) {
    throw new PkiError(
      'signer-refused',
      `the requester did not prove possession of the key (${key.proofOfPossession.error ?? 'unknown'})`,
    );
  }
  const lifetime = podCertificateLifetimeSeconds(request);
  if (lifetime < POD_CERTIFICATE_MIN_SECONDS) {
    throw new PkiError(
      'signer-refused',
      `a pod certificate must live at least 1h (kube-apiserver refuses shorter ones); ${lifetime}s was asked for`,
    );
  }
  const caCert = ca.certificate;
  const nowMs = now.getTime();
  if (nowMs >= caCert.notAfter.getTime() || nowMs < caCert.notBefore.getTime()) {
    throw new PkiError(
      'ca-expired',
      `The CA for ${request.signerName} is not valid now (valid ${caCert.notBefore.toISOString()} to ${caCert.notAfter.toISOString()}); renew or import a valid CA.`,
    );
  }
  const notBefore = Math.max(wholeSecond(nowMs - POD_CERTIFICATE_BACKDATE_MS), caCert.notBefore.getTime());
  const notAfter = Math.min(notBefore + lifetime * 1000, wholeSecond(caCert.notAfter.getTime()));
  if (notAfter - notBefore < POD_CERTIFICATE_MIN_SECONDS * 1000) {
    throw new PkiError(
      'signer-refused',
      `the CA for ${request.signerName} expires at ${caCert.notAfter.toISOString()}, too soon for a certificate of at least 1h; renew the CA`,
    );
  }
  const beginRefreshAt = notBefore + wholeSecond((notAfter - notBefore) / 2);
  const trustDomain = request.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const uri = `spiffe://${trustDomain}/ns/${request.namespace}/sa/${request.serviceAccountName}`;
  const { issuer, akiExtension } = issuerOf(ca);
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer,
      subject: seq(),
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      spki: key.spki,
      extensions: [
        keyUsageExtension(['digitalSignature']),
        extKeyUsageExtension(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']),
        basicConstraintsExtension(false),
        skiExtension(keyIdentifier(publicKeyBitsOf(key.spki))),
        akiExtension,
        // Critical: the subject is empty (RFC 5280 §4.2.1.6).
        sanExtension([ia5(uri, 0x86)], true),
      ],
    },
    ca.key,
    signatureFor(ca.key.publicKey),
  );
  const leafPem = pemOf('CERTIFICATE', der);
  return {
    chainPem: leafPem + chainPem(ca),
    certificate: await decodeCertificate(leafPem),
    notBefore: new Date(notBefore),
    beginRefreshAt: new Date(beginRefreshAt),
    notAfter: new Date(notAfter),
  };
}

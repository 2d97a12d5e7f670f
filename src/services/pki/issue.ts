// Issuing a certificate for a CSR exactly as kube-controller-manager's signer does
// (pkg/controller/certificates/authority): random serial, subject and SANs copied, usages mapped, CA=false,
// backdated NotBefore, TTL rules, never past the CA. Signing runs on libuv's threadpool.
import {
  akiExtension,
  basicConstraintsExtension,
  buildCertificate,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  sanExtension,
  skiExtension,
} from './build.js';
import { randomSerial } from './ca.js';
import { decodeCertificateSync, decodeCsr, fingerprint, hex, rawPartsOf, rememberRawParts } from './decode.js';
import { EKU_NAMES, KEY_USAGE_BITS, OID } from './oids.js';
import { toPem } from './pem.js';
import { signatureFor } from './keys.js';
import { DEFAULT_PROFILE } from './profiles.js';
import { checkSignerRules } from './signer-rules.js';
import {
  type DecodedCertificate,
  type DecodedCsr,
  type ExtensionInfo,
  type IssueRequest,
  type LoadedCa,
  PkiError,
} from './types.js';
import { mapUsages } from './usages.js';

const MINUTE = 60_000;
const BACKDATE_MS = 5 * MINUTE;
const SHORT_MS = 8 * 60 * MINUTE;
const MIN_TTL_SECONDS = 600;

/**
 * The certificate lifetime kube-controller-manager gives: expirationSeconds when set (at most the cap, at least
 * 10 minutes), else the profile's default (at most the cap).
 */
export function certificateTtlSeconds(expirationSeconds: number | undefined, profile = DEFAULT_PROFILE): number {
  const cap = profile.maxDurationSeconds;
  if (expirationSeconds === undefined || expirationSeconds === null)
    return Math.min(profile.defaultDurationSeconds, cap);
  if (expirationSeconds > cap) return cap;
  if (expirationSeconds < MIN_TTL_SECONDS) return MIN_TTL_SECONDS;
  return expirationSeconds;
}

/** NotBefore/NotAfter for a TTL, clipped to the CA's NotAfter. */
export function validityWindow(now: Date, ttlSeconds: number, caNotAfter: Date): { notBefore: Date; notAfter: Date } {
  const t = now.getTime();
  const ttl = ttlSeconds * 1000;
  const notBefore = new Date(t - BACKDATE_MS);
  let notAfter = new Date(ttl < SHORT_MS ? t + ttl : t + ttl - BACKDATE_MS);
  if (notAfter.getTime() >= caNotAfter.getTime()) notAfter = new Date(caNotAfter.getTime());
  return { notBefore, notAfter };
}

interface CaParts {
  subject: Uint8Array;
  keyId: Uint8Array;
}
const caParts = new WeakMap<LoadedCa, CaParts>();

function partsOfCa(ca: LoadedCa): CaParts {
  let p = caParts.get(ca);
  if (!p) {
    const raw = rawPartsOf(ca.certificate) ?? rawPartsOf(decodeCertificateSync(pemToDer(ca.certPem)));
    if (!raw) throw new PkiError('not-a-ca', 'The CA certificate could not be read.');
    p = { subject: raw.subject, keyId: raw.ski ?? keyIdentifier(raw.publicKeyBits) };
    caParts.set(ca, p);
  }
  return p;
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/**
 * Issues a certificate for `csr` with `ca`. Throws PkiError: 'signer-refused' (the built-in signer's rules, the
 * profile's usages, an unverifiable CSR signature), 'ca-expired'.
 */
export async function issueCertificate(
  csr: string | DecodedCsr,
  ca: LoadedCa,
  request: IssueRequest,
  now: Date = new Date(),
): Promise<{ pem: string; certificate: DecodedCertificate }> {
  const decoded = typeof csr === 'string' ? await decodeCsr(csr) : csr;
  const raw = rawPartsOf(decoded) ?? rawPartsOf(await decodeCsr(decoded.pem));
  if (!raw) throw new PkiError('bad-der', 'The certificate request could not be read.');
  if (!decoded.proofOfPossession.verified) {
    throw new PkiError(
      'signer-refused',
      `unable to verify certificate request signature: ${decoded.proofOfPossession.error ?? 'unknown error'}`,
    );
  }
  const profile = request.profile ?? DEFAULT_PROFILE;
  const rule = checkSignerRules(request.signerName, decoded, request.usages);
  if (rule) throw new PkiError('signer-refused', rule);
  const mapped = mapUsages(request.usages);
  if (mapped.unrecognized.length) {
    throw new PkiError(
      'signer-refused',
      `unrecognized usage values: [${mapped.unrecognized.map((u) => JSON.stringify(u)).join(' ')}]`,
    );
  }
  if (profile.allowedUsages.length) {
    const denied = request.usages.filter((u) => !profile.allowedUsages.includes(u));
    if (denied.length) {
      throw new PkiError(
        'signer-refused',
        `the signing profile "${profile.name}" does not allow usage: ${denied.join(', ')}`,
      );
    }
  }
  const caNotAfter = ca.certificate.notAfter;
  if (now.getTime() >= caNotAfter.getTime()) {
    throw new PkiError(
      'ca-expired',
      `The CA for ${request.signerName} expired on ${caNotAfter.toISOString()} and signs nothing; import a renewed CA.`,
    );
  }
  const { notBefore, notAfter } = validityWindow(
    now,
    certificateTtlSeconds(request.expirationSeconds, profile),
    caNotAfter,
  );
  const cap = partsOfCa(ca);
  const extensions: Uint8Array[] = [];
  if (mapped.keyUsage.length) extensions.push(keyUsageExtension(mapped.keyUsage));
  if (mapped.extKeyUsageOids.length) extensions.push(extKeyUsageExtension(mapped.extKeyUsageOids));
  extensions.push(basicConstraintsExtension(false));
  extensions.push(skiExtension(keyIdentifier(raw.publicKeyBits)));
  extensions.push(akiExtension(cap.keyId));
  if (raw.sanElements.length) {
    // Go's order: DNS, email, IP, URI; critical when the subject is empty (RFC 5280 §4.2.1.6).
    const order = [0x82, 0x81, 0x87, 0x86];
    const sorted = [...raw.sanElements].sort((a, b) => order.indexOf(a[0]!) - order.indexOf(b[0]!));
    extensions.push(sanExtension(sorted, decoded.subject.rdns.length === 0));
  }
  const serial = randomSerial();
  const sig = signatureFor(ca.privateKey, profile.rsaHash);
  const der = await buildCertificate(
    { serial, issuer: cap.subject, subject: raw.subject, notBefore, notAfter, spki: raw.spki, extensions },
    ca.privateKey,
    sig,
  );
  // Described from what was just encoded (a test checks it equals decoding the DER), saving a parse per certificate.
  const sans = {
    dns: [...decoded.sans.dns],
    ip: [...decoded.sans.ip],
    uri: [...decoded.sans.uri],
    email: [...decoded.sans.email],
    other: [],
  };
  const keyUsage = KEY_USAGE_BITS.filter((b) => mapped.keyUsage.includes(b));
  const extKeyUsage = mapped.extKeyUsageOids.map((o) => EKU_NAMES[o] ?? o);
  const ski = hex(keyIdentifier(raw.publicKeyBits), ':');
  const aki = hex(cap.keyId, ':');
  const info: ExtensionInfo[] = [];
  if (keyUsage.length) info.push({ oid: OID.keyUsage, name: 'keyUsage', critical: true, value: keyUsage.join(', ') });
  if (extKeyUsage.length)
    info.push({ oid: OID.extKeyUsage, name: 'extKeyUsage', critical: false, value: extKeyUsage.join(', ') });
  info.push({ oid: OID.basicConstraints, name: 'basicConstraints', critical: true, value: 'CA:FALSE' });
  info.push({ oid: OID.subjectKeyIdentifier, name: 'subjectKeyIdentifier', critical: false, value: ski });
  info.push({ oid: OID.authorityKeyIdentifier, name: 'authorityKeyIdentifier', critical: false, value: aki });
  if (raw.sanElements.length) {
    const value = [
      ...sans.dns.map((v) => `DNS:${v}`),
      ...sans.ip.map((v) => `IP Address:${v}`),
      ...sans.email.map((v) => `email:${v}`),
      ...sans.uri.map((v) => `URI:${v}`),
    ].join(', ');
    info.push({ oid: OID.subjectAltName, name: 'subjectAltName', critical: decoded.subject.rdns.length === 0, value });
  }
  const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
  const certificate: DecodedCertificate = {
    pem: toPem('CERTIFICATE', der),
    subject: decoded.subject,
    issuer: ca.certificate.subject,
    serialNumber: hex(serial).replace(/^(00)+(?=.)/, ''),
    notBefore: seconds(notBefore),
    notAfter: seconds(notAfter),
    sans,
    publicKey: decoded.publicKey,
    signatureAlgorithm: sig.name,
    keyUsage,
    extKeyUsage,
    basicConstraints: { ca: false },
    subjectKeyIdentifier: ski,
    authorityKeyIdentifier: aki,
    sha256Fingerprint: fingerprint(der),
    extensions: info,
  };
  rememberRawParts(certificate, {
    der,
    subject: raw.subject,
    spki: raw.spki,
    publicKeyBits: raw.publicKeyBits,
    sanElements: raw.sanElements,
    ski: keyIdentifier(raw.publicKeyBits),
  });
  return { pem: certificate.pem + (profile.includeChain ? chainPem(ca) : ''), certificate };
}

const selfSigned = (c: DecodedCertificate) => c.issuer.text === c.subject.text;

/** The intermediates to append after a leaf: the CA when it is not a root, then its chain without the root. */
function chainPem(ca: LoadedCa): string {
  if (selfSigned(ca.certificate)) return '';
  return [ca.certificate, ...ca.chain.filter((c) => !selfSigned(c))].map((c) => c.pem).join('');
}

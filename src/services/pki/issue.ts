// Issuing a certificate for a CSR exactly as kube-controller-manager's signer does
// (pkg/controller/certificates/authority): random serial, subject and SANs copied, usages mapped, CA=false,
// backdated NotBefore, TTL rules, never past the CA. Signing runs on libuv's threadpool. Everything derivable from the
// CA or from a usage list is worked out once and cached; per certificate only the TBS is written (one buffer), hashed
// for the SKI and fingerprint, and signed.
import * as nodeCrypto from 'node:crypto';
import { createHash, type KeyObject, sign as signSync } from 'node:crypto';
import {
  akiExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
} from './build.js';
import { extensionDer, finishCertificate, hexOf, nextSerial, pemOf, serialMagnitude, writeTbs } from './cert-writer.js';
import { decodeCertificateSync, decodeCsr, rawPartsOf } from './decode.js';
import { oid } from './der.js';
import { type SignatureChoice, signAsync, signatureFor } from './keys.js';
import { EKU_NAMES, KEY_USAGE_BITS, OID } from './oids.js';
import { DEFAULT_PROFILE } from './profiles.js';
import { checkSignerRules } from './signer-rules.js';
import {
  type DecodedCertificate,
  type DecodedCsr,
  type ExtensionInfo,
  type IssueRequest,
  type LoadedCa,
  PkiError,
  type SigningProfile,
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

/** Everything issuing needs from a CA that does not change per certificate, worked out once per LoadedCa. */
interface CaCache {
  issuer: Uint8Array;
  notAfterMs: number;
  akiExtension: Uint8Array;
  akiInfo: ExtensionInfo;
  /** Signature choice per RSA hash (one entry for ECDSA). */
  signatures: Map<string, SignatureChoice>;
  chainPem: string;
}
const caCaches = new WeakMap<LoadedCa, CaCache>();

function cacheOfCa(ca: LoadedCa): CaCache {
  let c = caCaches.get(ca);
  if (!c) {
    const raw = rawPartsOf(ca.certificate) ?? rawPartsOf(decodeCertificateSync(pemToDer(ca.certPem)));
    if (!raw) throw new PkiError('not-a-ca', 'The CA certificate could not be read.');
    const keyId = raw.ski ?? keyIdentifier(raw.publicKeyBits);
    c = {
      issuer: raw.subject,
      notAfterMs: ca.certificate.notAfter.getTime(),
      akiExtension: akiExtension(keyId),
      akiInfo: frozenInfo(OID.authorityKeyIdentifier, 'authorityKeyIdentifier', false, hexOf(keyId, ':')),
      signatures: new Map(),
      chainPem: chainPem(ca),
    };
    caCaches.set(ca, c);
  }
  return c;
}

function signatureOf(ca: LoadedCa, cache: CaCache, rsaHash: SigningProfile['rsaHash']): SignatureChoice {
  const key = rsaHash ?? 'SHA-256';
  let sig = cache.signatures.get(key);
  if (!sig) {
    sig = signatureFor(ca.privateKey, rsaHash);
    cache.signatures.set(key, sig);
  }
  return sig;
}

const frozenInfo = (oid: string, name: string, critical: boolean, value: string): ExtensionInfo =>
  Object.freeze({ oid, name, critical, value });

/** What a list of usages becomes, worked out once per distinct list: the extensions' DER and their description. */
interface UsageCache {
  unrecognized: string[];
  /** keyUsage, extKeyUsage and basicConstraints Extension elements. */
  extensions: Uint8Array[];
  keyUsage: string[];
  extKeyUsage: string[];
  info: ExtensionInfo[];
}
const usageCaches = new Map<string, UsageCache>();
const BASIC_CONSTRAINTS_LEAF = basicConstraintsExtension(false);
const BASIC_CONSTRAINTS_INFO = frozenInfo(OID.basicConstraints, 'basicConstraints', true, 'CA:FALSE');

function cacheOfUsages(usages: readonly string[]): UsageCache {
  const k = usages.join('\n');
  let u = usageCaches.get(k);
  if (!u) {
    const mapped = mapUsages(usages);
    const keyUsage = KEY_USAGE_BITS.filter((b) => mapped.keyUsage.includes(b));
    const extKeyUsage = mapped.extKeyUsageOids.map((o) => EKU_NAMES[o] ?? o);
    const extensions: Uint8Array[] = [];
    const info: ExtensionInfo[] = [];
    if (mapped.keyUsage.length) {
      extensions.push(keyUsageExtension(mapped.keyUsage));
      info.push(frozenInfo(OID.keyUsage, 'keyUsage', true, keyUsage.join(', ')));
    }
    if (mapped.extKeyUsageOids.length) {
      extensions.push(extKeyUsageExtension(mapped.extKeyUsageOids));
      info.push(frozenInfo(OID.extKeyUsage, 'extKeyUsage', false, extKeyUsage.join(', ')));
    }
    extensions.push(BASIC_CONSTRAINTS_LEAF);
    info.push(BASIC_CONSTRAINTS_INFO);
    u = { unrecognized: mapped.unrecognized, extensions, keyUsage, extKeyUsage, info };
    // Requests use a handful of usage lists; bound the cache anyway.
    if (usageCaches.size >= 256) usageCaches.clear();
    usageCaches.set(k, u);
  }
  return u;
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

const SKI_OID = oid(OID.subjectKeyIdentifier);
const SAN_OID = oid(OID.subjectAltName);
/** Go's SAN order: DNS, email, IP, URI. */
const SAN_ORDER = [0x82, 0x81, 0x87, 0x86];

function sortedSans(elements: readonly Uint8Array[]): readonly Uint8Array[] {
  let rank = 0;
  let sorted = true;
  for (const e of elements) {
    const r = SAN_ORDER.indexOf(e[0]!);
    if (r < rank) {
      sorted = false;
      break;
    }
    rank = r;
  }
  if (sorted) return elements;
  const out: Uint8Array[] = [];
  for (const tag of SAN_ORDER) for (const e of elements) if (e[0] === tag) out.push(e);
  return out;
}

// crypto.hash (Node ≥ 20.12): a one-shot digest without a Hash object, else createHash.
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
const digest = (algorithm: string, data: Uint8Array): Uint8Array =>
  oneShot ? oneShot(algorithm, data, 'buffer') : createHash(algorithm).update(data).digest();

const wholeSeconds = (ms: number) => new Date(ms - (((ms % 1000) + 1000) % 1000));

/**
 * Issues a certificate for `csr` with `ca`. Throws PkiError: 'signer-refused' (the built-in signer's rules, the
 * profile's usages, an unverifiable CSR signature), 'ca-expired'. Given a DecodedCsr (from decodeCsr), the request is
 * not decoded again.
 */
export function issueCertificate(
  csr: string | DecodedCsr,
  ca: LoadedCa,
  request: IssueRequest,
  now: Date = new Date(),
): Promise<{ pem: string; certificate: DecodedCertificate }> {
  return issue(csr, ca, request, now, false);
}

/**
 * issueCertificate for the issuer pool's worker threads: the signature is made in the calling thread (the workers
 * are the parallelism; a hop to the threadpool and back would only add wake-ups). Never call it on the main thread.
 */
export function issueCertificateInThisThread(
  csr: string | DecodedCsr,
  ca: LoadedCa,
  request: IssueRequest,
  now: Date,
): Promise<{ pem: string; certificate: DecodedCertificate }> {
  return issue(csr, ca, request, now, true);
}

function signHere(hash: string | null, data: Uint8Array, key: KeyObject): Uint8Array {
  try {
    return signSync(hash, data, key);
  } catch {
    throw new PkiError('bad-key', 'The CA key failed to sign; check that it is intact.');
  }
}

async function issue(
  csr: string | DecodedCsr,
  ca: LoadedCa,
  request: IssueRequest,
  now: Date,
  inThisThread: boolean,
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
  const usage = cacheOfUsages(request.usages);
  if (usage.unrecognized.length) {
    throw new PkiError(
      'signer-refused',
      `unrecognized usage values: [${usage.unrecognized.map((u) => JSON.stringify(u)).join(' ')}]`,
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
  const cache = cacheOfCa(ca);
  if (now.getTime() >= cache.notAfterMs) {
    throw new PkiError(
      'ca-expired',
      `The CA for ${request.signerName} expired on ${new Date(cache.notAfterMs).toISOString()} and signs nothing; import a renewed CA.`,
    );
  }
  const { notBefore, notAfter } = validityWindow(
    now,
    certificateTtlSeconds(request.expirationSeconds, profile),
    ca.certificate.notAfter,
  );
  // RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
  const skiBytes = digest('sha1', raw.publicKeyBits);
  const emptySubject = decoded.subject.rdns.length === 0;
  const extensions = [...usage.extensions, extensionDer(SKI_OID, false, [skiBytes], 0x04), cache.akiExtension];
  // SANs critical when the subject is empty (RFC 5280 §4.2.1.6).
  if (raw.sanElements.length) extensions.push(extensionDer(SAN_OID, emptySubject, sortedSans(raw.sanElements), 0x30));
  const serial = nextSerial();
  const sig = signatureOf(ca, cache, profile.rsaHash);
  const tbs = writeTbs({
    serial,
    algorithmIdentifier: sig.algorithmIdentifier,
    issuer: cache.issuer,
    notBefore,
    notAfter,
    subject: raw.subject,
    spki: raw.spki,
    extensions,
  });
  const tbsDer = tbs.buf.subarray(tbs.start, tbs.end);
  const signature = inThisThread
    ? signHere(sig.hash, tbsDer, ca.privateKey)
    : await signAsync(sig.hash, tbsDer, ca.privateKey);
  const der = finishCertificate(tbs, sig.algorithmIdentifier, signature);
  // Described from what was just encoded (a test checks it equals decoding the DER), saving a parse per certificate.
  const sans = {
    dns: decoded.sans.dns.slice(),
    ip: decoded.sans.ip.slice(),
    uri: decoded.sans.uri.slice(),
    email: decoded.sans.email.slice(),
    other: [],
  };
  const ski = hexOf(skiBytes, ':');
  const info = usage.info.slice();
  info.push(frozenInfo(OID.subjectKeyIdentifier, 'subjectKeyIdentifier', false, ski), cache.akiInfo);
  if (raw.sanElements.length) {
    const parts: string[] = [];
    for (const v of sans.dns) parts.push(`DNS:${v}`);
    for (const v of sans.ip) parts.push(`IP Address:${v}`);
    for (const v of sans.email) parts.push(`email:${v}`);
    for (const v of sans.uri) parts.push(`URI:${v}`);
    info.push(frozenInfo(OID.subjectAltName, 'subjectAltName', emptySubject, parts.join(', ')));
  }
  const pem = pemOf('CERTIFICATE', der);
  const certificate: DecodedCertificate = {
    pem,
    subject: decoded.subject,
    issuer: ca.certificate.subject,
    serialNumber: hexOf(serialMagnitude(serial)),
    notBefore: wholeSeconds(notBefore.getTime()),
    notAfter: wholeSeconds(notAfter.getTime()),
    sans,
    publicKey: decoded.publicKey,
    signatureAlgorithm: sig.name,
    keyUsage: usage.keyUsage.slice(),
    extKeyUsage: usage.extKeyUsage.slice(),
    basicConstraints: { ca: false },
    subjectKeyIdentifier: ski,
    authorityKeyIdentifier: cache.akiInfo.value,
    sha256Fingerprint: hexOf(digest('sha256', der), ':'),
    extensions: info,
  };
  return { pem: profile.includeChain ? pem + cache.chainPem : pem, certificate };
}

const selfSigned = (c: DecodedCertificate) => c.issuer.text === c.subject.text;

/** The intermediates to append after a leaf: the CA when it is not a root, then its chain without the root. */
function chainPem(ca: LoadedCa): string {
  if (selfSigned(ca.certificate)) return '';
  return [ca.certificate, ...ca.chain.filter((c) => !selfSigned(c))].map((c) => c.pem).join('');
}

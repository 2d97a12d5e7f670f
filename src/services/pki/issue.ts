// Issuing a certificate for a CSR exactly as kube-controller-manager's signer does
// (pkg/controller/certificates/authority): random serial, subject and SANs copied, usages mapped, CA=false,
// backdated NotBefore, TTL rules, never past the CA. Signing runs on libuv's threadpool (node:crypto's callback form),
// so concurrent calls sign on several cores. Everything derivable from the CA or from a usage list is worked out once and cached; per
// certificate only the TBS is written (one buffer), a SHA-1 taken for the SKI, and the TBS signed; the description
// (with its SHA-256 fingerprint) is built when first asked for.
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  akiExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
} from './build.js';
import {
  certificateStart,
  finishLeaf,
  hexOf,
  hexOfBinary,
  type LeafIssuer,
  type LeafRequest,
  newLeafBuffer,
  pemOf,
  serialMagnitude,
  TBS_AT,
  writeLeafTbs,
} from './cert-writer.js';
import { decodeCertificateSync, decodeCsr, type RawParts, rawPartsOf } from './decode.js';
import { type SignatureChoice, signatureFor } from './keys.js';
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
  return { notBefore: new Date(t - BACKDATE_MS), notAfter: new Date(notAfterMs(t, ttlSeconds, caNotAfter.getTime())) };
}

/** validityWindow's NotAfter in ms (its NotBefore is now − BACKDATE_MS). */
function notAfterMs(nowMs: number, ttlSeconds: number, caNotAfterMs: number): number {
  const ttl = ttlSeconds * 1000;
  const notAfter = ttl < SHORT_MS ? nowMs + ttl : nowMs + ttl - BACKDATE_MS;
  return notAfter >= caNotAfterMs ? caNotAfterMs : notAfter;
}

/** Everything issuing needs from a CA that does not change per certificate, worked out once per LoadedCa. */
interface CaCache {
  issuer: Uint8Array;
  notAfterMs: number;
  akiExtension: Uint8Array;
  akiInfo: ExtensionInfo;
  /** Signature choice per RSA hash (one entry for ECDSA), with what a leaf's TBS takes from the CA. */
  signatures: Map<string, CaSigner>;
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

/** A signature choice of a CA with the issuer name and AKI extension every leaf's TBS carries. */
type CaSigner = SignatureChoice & LeafIssuer;

function signatureOf(ca: LoadedCa, cache: CaCache, rsaHash: SigningProfile['rsaHash']): CaSigner {
  const key = rsaHash ?? 'SHA-256';
  let sig = cache.signatures.get(key);
  if (!sig) {
    sig = { ...signatureFor(ca.key.publicKey, rsaHash), issuer: cache.issuer, akiExtension: cache.akiExtension };
    cache.signatures.set(key, sig);
  }
  return sig;
}

const frozenInfo = (oid: string, name: string, critical: boolean, value: string): ExtensionInfo =>
  Object.freeze({ oid, name, critical, value });

/** What a list of usages becomes, worked out once per distinct list: the extensions' DER and their description. */
interface UsageCache {
  unrecognized: string[];
  /** keyUsage, extKeyUsage and basicConstraints Extension elements, concatenated. */
  extensions: Uint8Array;
  keyUsage: string[];
  extKeyUsage: string[];
  info: ExtensionInfo[];
}
const usageCaches = new Map<string, UsageCache>();
const BASIC_CONSTRAINTS_LEAF = basicConstraintsExtension(false);
const BASIC_CONSTRAINTS_INFO = frozenInfo(OID.basicConstraints, 'basicConstraints', true, 'CA:FALSE');

// The last list asked for, compared by content first: requests mostly repeat one usage list (no key string to build).
let lastUsages: readonly string[] = [];
let lastUsageCache: UsageCache | undefined;

function cacheOfUsages(usages: readonly string[]): UsageCache {
  if (lastUsageCache && usages.length === lastUsages.length) {
    let same = true;
    for (let i = 0; i < usages.length && same; i++) same = usages[i] === lastUsages[i];
    if (same) return lastUsageCache;
  }
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
    u = { unrecognized: mapped.unrecognized, extensions: Buffer.concat(extensions), keyUsage, extKeyUsage, info };
    // Requests use a handful of usage lists; bound the cache anyway.
    if (usageCaches.size >= 256) usageCaches.clear();
    usageCaches.set(k, u);
  }
  lastUsages = usages.slice();
  lastUsageCache = u;
  return u;
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** The DER of a PEM this module wrote (one block; node's base64 decoder skips the line breaks). */
function derOfPem(pem: string): Uint8Array {
  const start = pem.indexOf('\n') + 1;
  return Buffer.from(pem.slice(start, pem.indexOf('-----END', start)), 'base64');
}

/** Go's SAN order: DNS, email, IP, URI. */
const SAN_ORDER = [0x82, 0x81, 0x87, 0x86];
const NO_SANS = new Uint8Array(0);

/** The SAN elements in Go's order (the CSR's own array when already in order). */
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

/** SAN elements concatenated: a view of the CSR's DER when they lie there one after the other. */
function concatenated(elements: readonly Uint8Array[]): Uint8Array {
  if (elements.length === 0) return NO_SANS;
  const first = elements[0]!;
  let length = first.length;
  let adjacent = true;
  for (let i = 1; i < elements.length; i++) {
    const prev = elements[i - 1]!;
    const e = elements[i]!;
    if (prev.buffer !== e.buffer || prev.byteOffset + prev.length !== e.byteOffset) adjacent = false;
    length += e.length;
  }
  if (adjacent) return new Uint8Array(first.buffer, first.byteOffset, length);
  const out = new Uint8Array(length);
  let p = 0;
  for (const e of elements) {
    out.set(e, p);
    p += e.length;
  }
  return out;
}

// crypto.hash (Node ≥ 20.12): a one-shot digest without a Hash object, else createHash; as a latin1 ('binary')
// string, which costs far less than a Buffer.
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string }).hash;
const digestBinary = (algorithm: string, data: Uint8Array): string =>
  oneShot ? oneShot(algorithm, data, 'binary') : createHash(algorithm).update(data).digest('binary');

const wholeSeconds = (ms: number) => new Date(ms - (((ms % 1000) + 1000) % 1000));

/**
 * A request that passed every check, with everything needed to write its certificate (it is the leaf writer's
 * LeafRequest itself) and to describe it.
 */
interface IssuePlan extends LeafRequest {
  decoded: DecodedCsr;
  raw: RawParts;
  ca: LoadedCa;
  cache: CaCache;
  usage: UsageCache;
  sig: CaSigner;
  /** 0 = SHA-256, 1 = SHA-384, 2 = SHA-512: the RSA hash (ECDSA CAs ignore it). */
  hashIndex: number;
  /** The SAN elements in Go's order (DNS, email, IP, URI), concatenated (a view of the CSR when already so). */
  sans: Uint8Array;
  includeChain: boolean;
}

const RSA_HASHES = ['SHA-256', 'SHA-384', 'SHA-512'] as const;

/**
 * kube-controller-manager's checks and the certificate's parameters for a decoded request: proof of possession, the
 * built-in signer's rules, the usages (known, allowed by the profile), the CA's validity, the lifetime. Throws
 * PkiError 'signer-refused' or 'ca-expired'. Synchronous and cheap: everything per CA and per usage list is cached.
 */
function planIssue(
  decoded: DecodedCsr,
  raw: RawParts,
  ca: LoadedCa,
  request: IssueRequest,
  now: Date | number,
): IssuePlan {
  if (!decoded.proofOfPossession.verified) {
    throw new PkiError(
      'signer-refused',
      `unable to verify certificate request signature: ${decoded.proofOfPossession.error ?? 'unknown error'}`,
    );
  }
  if (decoded.goRefusal !== undefined) {
    throw new PkiError('signer-refused', `Go's crypto/x509 cannot parse the request: ${decoded.goRefusal}`);
  }
  if (decoded.nameRefusal !== undefined) {
    throw new PkiError('signer-refused', `${decoded.nameRefusal}: Go and openssl could not read the certificate`);
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
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (nowMs >= cache.notAfterMs) {
    throw new PkiError(
      'ca-expired',
      `The CA for ${request.signerName} expired on ${new Date(cache.notAfterMs).toISOString()} and signs nothing; import a renewed CA.`,
    );
  }

  const hashIndex = profile.rsaHash ? RSA_HASHES.indexOf(profile.rsaHash) : 0;
  return {
    decoded,
    raw,
    ca,
    cache,
    usage,
    sig: signatureOf(ca, cache, RSA_HASHES[hashIndex]),
    hashIndex,
    notBeforeMs: nowMs - BACKDATE_MS,
    notAfterMs: notAfterMs(nowMs, certificateTtlSeconds(request.expirationSeconds, profile), cache.notAfterMs),
    subject: raw.subject,
    spki: raw.spki,
    publicKeyBits: raw.publicKeyBits,
    sans: raw.sanRun ?? concatenated(sortedSans(raw.sanElements)),
    // SANs are critical when the subject is empty (RFC 5280 §4.2.1.6).
    sanCritical: decoded.subject.rdns.length === 0,
    includeChain: profile.includeChain === true,
  };
}

/**
 * The result of issuing: the PEM (with the chain when the profile appends it) and the certificate's description,
 * built on first use from the plan (what was just encoded: a test checks it equals decoding the DER) — most bulk
 * callers want only the PEM, and the description costs a SHA-256 of the DER and a dozen objects. `certificate` is a
 * getter on the prototype (spreading the result drops it): an object literal with a getter per certificate made V8
 * promote every result to the old generation (4× the GC time).
 */
/** Bytes of a certificate's ids as writeLeafTbs hands them over: the 16 serial bytes, then the 20 SKI bytes. */
const IDS_BYTES = 36;

/** An issued certificate: its PEM now, its description on first access (then kept). */
class Issued {
  readonly pem: string;
  #plan: IssuePlan;
  #leafPem: string;
  /** The serial's 16 bytes, then the SKI's 20. */
  #ids: Uint8Array;
  #described: DecodedCertificate | undefined;
  constructor(plan: IssuePlan, leafPem: string, ids: Uint8Array) {
    this.pem = plan.includeChain ? leafPem + plan.cache.chainPem : leafPem;
    this.#plan = plan;
    this.#leafPem = leafPem;
    this.#ids = ids;
  }
  get certificate(): DecodedCertificate {
    this.#described ??= describe(
      this.#plan,
      this.#leafPem,
      this.#ids.subarray(0, 16),
      this.#ids.subarray(16, IDS_BYTES),
    );
    return this.#described;
  }
}

function describe(plan: IssuePlan, pem: string, serial: Uint8Array, skiBytes: Uint8Array): DecodedCertificate {
  const { decoded, usage, cache } = plan;
  const der = derOfPem(pem);
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
  if (plan.sans.length) {
    const parts: string[] = [];
    for (const v of sans.dns) parts.push(`DNS:${v}`);
    for (const v of sans.ip) parts.push(`IP Address:${v}`);
    for (const v of sans.email) parts.push(`email:${v}`);
    for (const v of sans.uri) parts.push(`URI:${v}`);
    info.push(frozenInfo(OID.subjectAltName, 'subjectAltName', plan.sanCritical, parts.join(', ')));
  }
  return {
    pem,
    subject: decoded.subject,
    issuer: plan.ca.certificate.subject,
    serialNumber: hexOf(serialMagnitude(serial)),
    notBefore: wholeSeconds(plan.notBeforeMs),
    notAfter: wholeSeconds(plan.notAfterMs),
    sans,
    publicKey: decoded.publicKey,
    signatureAlgorithm: plan.sig.name,
    keyUsage: usage.keyUsage.slice(),
    extKeyUsage: usage.extKeyUsage.slice(),
    basicConstraints: { ca: false },
    subjectKeyIdentifier: ski,
    authorityKeyIdentifier: cache.akiInfo.value,
    sha256Fingerprint: hexOfBinary(digestBinary('sha256', der), ':'),
    extensions: info,
  };
}

/**
 * Issues a certificate for `csr` with `ca`. Throws PkiError: 'signer-refused' (the built-in signer's rules, the
 * profile's usages, an unverifiable CSR signature), 'ca-expired'. Given a DecodedCsr (from decodeCsr), the request is
 * not decoded again. The signature is made by node:crypto on libuv's threadpool, so calls made at once sign on
 * several cores; `certificate` is described on first access.
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
  const plan = planIssue(decoded, raw, ca, request, now);
  const leaf = newLeafBuffer();
  const ids = new Uint8Array(IDS_BYTES);
  const tbsEnd = writeLeafTbs(leaf, plan.sig, plan.usage.extensions, plan, ids, 0);
  const signature = await ca.key.sign(plan.sig.hash, leaf.buf.subarray(TBS_AT, tbsEnd));
  const end = finishLeaf(leaf, tbsEnd, plan.sig.algorithmIdentifier, signature);
  return new Issued(plan, pemOf('CERTIFICATE', leaf.buf.subarray(certificateStart(end), end)), ids);
}

/** The issuer Name and the authorityKeyIdentifier extension of every certificate `ca` signs. */
export function issuerOf(ca: LoadedCa): { issuer: Uint8Array; akiExtension: Uint8Array } {
  const c = cacheOfCa(ca);
  return { issuer: c.issuer, akiExtension: c.akiExtension };
}

const selfSigned = (c: DecodedCertificate) => c.issuer.text === c.subject.text;

/** The intermediates to append after a leaf: the CA when it is not a root, then its chain without the root. */
export function chainPem(ca: LoadedCa): string {
  if (selfSigned(ca.certificate)) return '';
  return [ca.certificate, ...ca.chain.filter((c) => !selfSigned(c))].map((c) => c.pem).join('');
}

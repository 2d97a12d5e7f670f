// Decoding of CSRs and certificates into the shapes of types.ts, with our own bounded DER reader so that
// any input ends either in a value or in a PkiError. Raw pieces needed to issue are kept aside in a WeakMap.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  children,
  content,
  expectTag,
  raw,
  readBitString,
  readBoolean,
  readOid,
  readOidContent,
  leading,
  readRoot,
  readSmallInt,
  readTlv,
  readTime,
  TAG,
  type Tlv,
} from './der.js';
import {
  ATTRIBUTE_NAMES,
  CURVE_NAMES,
  EKU_NAMES,
  EXTENSION_NAMES,
  HASH_OIDS,
  KEY_USAGE_BITS,
  OID,
  SIGNATURE_HASH,
  SIGNATURE_NAMES,
} from './oids.js';
import { goRefusal, rightAlign } from './go-x509.js';
import { inputBlocks, type PemBlock, toPem } from './pem.js';
import {
  type DecodedCertificate,
  type DecodedCsr,
  type DistinguishedName,
  type ExtensionInfo,
  PkiError,
  type PublicKeyInfo,
  type RelativeDistinguishedName,
  type SubjectAltNames,
} from './types.js';

/** Raw DER pieces of a decoded CSR or certificate (for issuing and matching keys). */
export interface RawParts {
  der: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  /** The subjectPublicKey BIT STRING's bytes (what a key identifier hashes). */
  publicKeyBits: Uint8Array;
  /** SAN GeneralName elements kube-controller-manager copies: DNS, email, IP, URI (raw TLVs by tag). */
  sanElements: Uint8Array[];
  /**
   * sanElements concatenated, when the subjectAltName holds exactly those, already in Go's order (DNS, email, IP,
   * URI): a view of the DER that a certificate copies as it is. Undefined otherwise (and without a subjectAltName).
   */
  sanRun: Uint8Array | undefined;
  /** Certificates only: the subjectKeyIdentifier value. */
  ski?: Uint8Array;
  /** Certificates only: what a signature check needs (the signed TBS bytes, the signature, its algorithm). */
  signed?: { tbs: Uint8Array; signature: Uint8Array; algorithm: SignatureAlgorithm };
}

const rawParts = new WeakMap<object, RawParts>();
export function rememberRawParts(decoded: DecodedCertificate, parts: RawParts): void {
  rawParts.set(decoded, parts);
}
export function rawPartsOf(decoded: DecodedCsr | DecodedCertificate): RawParts | undefined {
  return rawParts.get(decoded);
}

// Buffer's decoders: true ISO-8859-1 (TextDecoder's 'latin1' is windows-1252) and much cheaper per call.
const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const utf8 = { decode: (b: Uint8Array) => asBuffer(b).toString('utf8') };
const latin1 = { decode: (b: Uint8Array) => asBuffer(b).toString('latin1') };

export function hex(b: Uint8Array, sep = ''): string {
  const h = asBuffer(b).toString('hex').toUpperCase();
  return sep ? (h.match(/../g) ?? []).join(sep) : h;
}

function decodeString(t: Tlv): string {
  const c = content(t);
  switch (t.tag) {
    case TAG.UTF8String:
      return utf8.decode(c);
    case 0x12: // NumericString
    case TAG.PrintableString:
    case 0x14: // T61String (treated as latin1, as openssl does)
    case TAG.IA5String:
    case 0x1a: // VisibleString
      return latin1.decode(c);
    case 0x1e: {
      // BMPString: UTF-16BE
      let s = '';
      for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode((c[i]! << 8) | c[i + 1]!);
      return s;
    }
    case 0x1c: {
      // UniversalString: UTF-32BE
      let s = '';
      for (let i = 0; i + 3 < c.length; i += 4) {
        const cp = ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\u{fffd}';
      }
      return c.length % 4 ? `${s}\u{fffd}` : s;
    }
    default:
      return `#${hex(raw(t)).toLowerCase()}`;
  }
}

function escapeDnValue(v: string): string {
  let s = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

export function decodeName(t: Tlv): DistinguishedName {
  expectTag(t, TAG.SEQUENCE, 'name');
  const rdns: RelativeDistinguishedName[] = [];
  const groups: string[] = [];
  for (const rdnSet of children(t)) {
    expectTag(rdnSet, TAG.SET, 'relative distinguished name');
    const parts: string[] = [];
    for (const atv of children(rdnSet)) {
      const [typeT, valueT] = leading(expectTag(atv, TAG.SEQUENCE, 'attribute'), 2);
      const oid = readOid(expectTag(typeT, TAG.OID, 'attribute type'));
      if (!valueT) throw new PkiError('bad-der', 'The ASN.1 structure is malformed (attribute without a value).');
      const type = ATTRIBUTE_NAMES[oid] ?? oid;
      const value = decodeString(valueT);
      rdns.push({ type, oid, value });
      parts.push(`${type}=${escapeDnValue(value)}`);
    }
    groups.push(parts.join('+'));
  }
  const cn = rdns.filter((r) => r.oid === OID.commonName).pop()?.value;
  return {
    rdns,
    text: groups.reverse().join(','),
    ...(cn !== undefined ? { commonName: cn } : {}),
    organizations: rdns.filter((r) => r.oid === OID.organization).map((r) => r.value),
  };
}

/** The string types Go's certificate parser (parseASN1String) and openssl read in a name. */
const NAME_STRING_TYPES = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1e]);

/** Why Go and openssl could not read a certificate with this subject (see DecodedCsr.nameRefusal), or undefined. */
function nameRefusal(nameT: Tlv): string | undefined {
  for (const rdn of children(nameT)) {
    for (const atv of children(rdn)) {
      const [typeT, valueT] = leading(atv, 2);
      if (typeT && valueT && !NAME_STRING_TYPES.has(valueT.tag)) {
        const oid = readOid(typeT);
        return `the subject's ${ATTRIBUTE_NAMES[oid] ?? oid} is of ASN.1 type 0x${valueT.tag.toString(16)}, not a string type certificates allow`;
      }
    }
  }
  return undefined;
}

export function formatIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) return undefined;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // IPv4-mapped addresses print as IPv4, as Go does.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return Array.from(b.subarray(12)).join('.');
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const fmt = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return fmt(words);
  return `${fmt(words.slice(0, bestStart))}::${fmt(words.slice(bestStart + bestLen))}`;
}

function emptySans(): SubjectAltNames {
  return { dns: [], ip: [], uri: [], email: [], other: [] };
}

/** Go's SAN order (DNS, email, IP, URI): a primitive GeneralName's rank by tag, -1 for others. */
const sanRank = (tag: number) => (tag === 0x82 ? 0 : tag === 0x81 ? 1 : tag === 0x87 ? 2 : tag === 0x86 ? 3 : -1);

/**
 * Reads a subjectAltName into `sans` (every name, described) and `keep` (the elements a certificate copies). Returns
 * the SEQUENCE's content when `keep` is all of it, in Go's order (see RawParts.sanRun).
 */
function decodeSans(extValue: Uint8Array, sans: SubjectAltNames, keep: Uint8Array[]): Uint8Array | undefined {
  // Like Go, only the first element counts: bytes after the SEQUENCE are ignored.
  const seqT = readTlv(extValue, 0, extValue.length);
  const names = children(expectTag(seqT, TAG.SEQUENCE, 'subjectAltName'));
  const kept = keep.length;
  let inOrder = true;
  let rank = 0;
  for (const gn of names) {
    const r = sanRank(gn.tag);
    if (r < rank) inOrder = false;
    else rank = r;
    const n = gn.tag & 0x1f;
    const cls = gn.tag & 0xc0;
    if (cls !== 0x80) {
      sans.other.push(`unknown name (tag 0x${gn.tag.toString(16)})`);
      continue;
    }
    const c = content(gn);
    switch (n) {
      case 1:
        sans.email.push(latin1.decode(c));
        keep.push(raw(gn));
        break;
      case 2:
        sans.dns.push(latin1.decode(c));
        keep.push(raw(gn));
        break;
      case 6:
        sans.uri.push(latin1.decode(c));
        keep.push(raw(gn));
        break;
      case 7: {
        const ip = formatIp(c);
        if (ip) {
          sans.ip.push(ip);
          keep.push(raw(gn));
        } else sans.other.push(`IP Address of ${c.length} bytes: ${hex(c, ':')}`);
        break;
      }
      case 0: {
        let what = 'otherName';
        try {
          const [typeT] = children(gn);
          if (typeT) what = `otherName ${readOid(typeT)}`;
        } catch {
          // described without its type
        }
        sans.other.push(what);
        break;
      }
      case 4:
        try {
          const [nameT] = children(gn);
          sans.other.push(`DirName:${nameT ? decodeName(nameT).text : ''}`);
        } catch {
          sans.other.push('DirName (malformed)');
        }
        break;
      case 8:
        try {
          sans.other.push(`Registered ID:${readOidContent(c)}`);
        } catch {
          sans.other.push('Registered ID (malformed)');
        }
        break;
      default:
        sans.other.push(`GeneralName [${n}]`);
    }
  }
  // A second subjectAltName (kept is not 0) leaves no run: sanElements then holds both.
  return kept === 0 && inOrder && keep.length === names.length ? content(seqT) : undefined;
}

function decodeKeyUsage(extValue: Uint8Array): string[] {
  const { bytes } = readBitString(readRoot(extValue));
  const out: string[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bytes[i >> 3];
    if (byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0) out.push(name);
  });
  return out;
}

function decodeEku(extValue: Uint8Array): string[] {
  return children(expectTag(readRoot(extValue), TAG.SEQUENCE, 'extKeyUsage')).map((t) => {
    const o = readOid(t);
    return EKU_NAMES[o] ?? o;
  });
}

function decodeBasicConstraints(extValue: Uint8Array): { ca: boolean; pathLength?: number } {
  const items = children(expectTag(readRoot(extValue), TAG.SEQUENCE, 'basicConstraints'));
  let ca = false;
  let pathLength: number | undefined;
  for (const it of items) {
    if (it.tag === TAG.BOOLEAN) ca = readBoolean(it);
    else if (it.tag === TAG.INTEGER) pathLength = readSmallInt(it);
  }
  return pathLength === undefined ? { ca } : { ca, pathLength };
}

interface ParsedExtensions {
  list: ExtensionInfo[];
  sans: SubjectAltNames;
  sanElements: Uint8Array[];
  sanRun?: Uint8Array;
  keyUsage?: string[];
  extKeyUsage?: string[];
  basicConstraints?: { ca: boolean; pathLength?: number };
  ski?: Uint8Array;
  aki?: Uint8Array;
}

/**
 * Reads an Extensions SEQUENCE into `out`. `requested` (a CSR's extensionRequest): an extension other than the
 * subjectAltName that does not decode is described as malformed, not refused (Go does not read them in a request,
 * and kube-controller-manager copies none of them).
 */
function parseExtensions(
  seqT: Tlv,
  out: ParsedExtensions = { list: [], sans: emptySans(), sanElements: [] },
  requested = false,
): ParsedExtensions {
  for (const extT of children(expectTag(seqT, TAG.SEQUENCE, 'extensions'))) {
    const parts = leading(expectTag(extT, TAG.SEQUENCE, 'extension'), 3);
    const oid = readOid(expectTag(parts[0], TAG.OID, 'extension id'));
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === TAG.BOOLEAN) {
      critical = readBoolean(valueT);
      valueT = parts[2];
    }
    const value = content(expectTag(valueT, TAG.OCTET_STRING, 'extension value'));
    let text: string;
    try {
      switch (oid) {
        case OID.subjectAltName: {
          out.sanRun = decodeSans(value, out.sans, out.sanElements);
          const s = out.sans;
          text = [
            ...s.dns.map((v) => `DNS:${v}`),
            ...s.ip.map((v) => `IP Address:${v}`),
            ...s.email.map((v) => `email:${v}`),
            ...s.uri.map((v) => `URI:${v}`),
            ...s.other,
          ].join(', ');
          break;
        }
        case OID.keyUsage:
          out.keyUsage = decodeKeyUsage(value);
          text = out.keyUsage.join(', ');
          break;
        case OID.extKeyUsage:
          out.extKeyUsage = decodeEku(value);
          text = out.extKeyUsage.join(', ');
          break;
        case OID.basicConstraints: {
          const bc = decodeBasicConstraints(value);
          out.basicConstraints = bc;
          text = `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength !== undefined ? `, pathlen:${bc.pathLength}` : ''}`;
          break;
        }
        case OID.subjectKeyIdentifier:
          out.ski = content(expectTag(readRoot(value), TAG.OCTET_STRING, 'subjectKeyIdentifier'));
          text = hex(out.ski, ':');
          break;
        case OID.authorityKeyIdentifier: {
          const kid = children(expectTag(readRoot(value), TAG.SEQUENCE, 'authorityKeyIdentifier')).find(
            (t) => t.tag === 0x80,
          );
          if (kid) out.aki = content(kid);
          text = kid ? hex(content(kid), ':') : '(no key identifier)';
          break;
        }
        default:
          text = value.length > 64 ? `${hex(value.subarray(0, 64), ':')}… (${value.length} bytes)` : hex(value, ':');
      }
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
      if (!requested || oid === OID.subjectAltName)
        throw new PkiError('bad-der', `The ${EXTENSION_NAMES[oid] ?? oid} extension is malformed.`);
      text = `(malformed) ${hex(value.subarray(0, 64), ':')}`;
    }
    const name = EXTENSION_NAMES[oid];
    out.list.push({ oid, ...(name ? { name } : {}), critical, value: text });
  }
  return out;
}

function rsaModulusBits(pubKeyBytes: Uint8Array): number {
  const [modT] = leading(expectTag(readTlv(pubKeyBytes), TAG.SEQUENCE, 'RSA public key'), 1);
  const m = content(expectTag(modT, TAG.INTEGER, 'RSA modulus'));
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  if (i === m.length) return 0;
  return (m.length - i - 1) * 8 + (32 - Math.clz32(m[i]!));
}

const SUPPORTED_RSA = new Set([2048, 4096, 8192]);
const SUPPORTED_CURVES = new Set(['P-256', 'P-384', 'P-521']);

function decodeSpki(spkiT: Tlv): { info: PublicKeyInfo; bits: Uint8Array } {
  const [algT, keyT] = leading(expectTag(spkiT, TAG.SEQUENCE, 'public key info'), 2);
  const algParts = leading(expectTag(algT, TAG.SEQUENCE, 'public key algorithm'), 2);
  const algOid = readOid(expectTag(algParts[0], TAG.OID, 'public key algorithm'));
  const { bytes } = readBitString(expectTag(keyT, TAG.BIT_STRING, 'public key'));
  switch (algOid) {
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      const rsaBits = rsaModulusBits(bytes);
      const pss = algOid === OID.rsassaPss ? ' (RSA-PSS)' : '';
      return {
        info: { algorithm: 'RSA', rsaBits, supported: SUPPORTED_RSA.has(rsaBits), description: `RSA ${rsaBits}${pss}` },
        bits: bytes,
      };
    }
    case OID.ecPublicKey: {
      const param = algParts[1];
      const curveOid = param?.tag === TAG.OID ? readOid(param) : 'explicit parameters';
      const curve = CURVE_NAMES[curveOid] ?? curveOid;
      return {
        info: { algorithm: 'EC', curve, supported: SUPPORTED_CURVES.has(curve), description: `ECDSA ${curve}` },
        bits: bytes,
      };
    }
    case OID.ed25519:
      return { info: { algorithm: 'Ed25519', supported: false, description: 'Ed25519' }, bits: bytes };
    case OID.ed448:
      return { info: { algorithm: 'Ed448', supported: false, description: 'Ed448 (unsupported)' }, bits: bytes };
    default:
      return {
        info: { algorithm: 'unknown', supported: false, description: `unsupported key algorithm ${algOid}` },
        bits: bytes,
      };
  }
}

interface SignatureAlgorithm {
  oid: string;
  name: string;
  /** For RSA-PSS: hash and salt length. */
  pss?: { hash: string; saltLength: number };
}

function decodeSigAlg(t: Tlv): SignatureAlgorithm {
  const parts = leading(expectTag(t, TAG.SEQUENCE, 'signature algorithm'), 2);
  const oid = readOid(expectTag(parts[0], TAG.OID, 'signature algorithm'));
  const name = SIGNATURE_NAMES[oid] ?? oid;
  if (oid !== OID.rsassaPss) return { oid, name };
  // RSASSA-PSS-params: [0] hash, [1] mgf, [2] saltLength, [3] trailer; defaults SHA-1 and 20.
  let hash = 'sha1';
  let saltLength = 20;
  const params = parts[1];
  if (params?.tag === TAG.SEQUENCE) {
    for (const p of children(params)) {
      const [inner] = children(p);
      if (!inner) continue;
      if (p.tag === 0xa0) hash = HASH_OIDS[readOid(children(inner)[0] ?? inner)] ?? 'unknown';
      if (p.tag === 0xa2) saltLength = readSmallInt(inner);
    }
  }
  return { oid, name: `rsassaPss (${hash.toUpperCase()})`, pss: { hash, saltLength } };
}

function verifyAsync(
  alg: string | null,
  data: Uint8Array,
  key: KeyObject | { key: KeyObject; padding: number; saltLength: number },
  sig: Uint8Array,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    verify(alg, data, key, sig, (err, ok) => (err ? reject(err) : resolve(ok)));
  });
}

const RSA_PKCS1_PSS_PADDING = 6;

/** The verify call a signature algorithm needs with this key: its hash and key options, or why it cannot be made. */
function verifyArgs(
  key: KeyObject,
  sigAlg: SignatureAlgorithm,
):
  | { hash: string | null; key: KeyObject | { key: KeyObject; padding: number; saltLength: number } }
  | { error: string } {
  if (sigAlg.pss) {
    if (sigAlg.pss.hash === 'unknown') return { error: 'unsupported RSA-PSS hash' };
    return { hash: sigAlg.pss.hash, key: { key, padding: RSA_PKCS1_PSS_PADDING, saltLength: sigAlg.pss.saltLength } };
  }
  const hash = SIGNATURE_HASH[sigAlg.oid];
  if (hash === undefined) return { error: `unsupported signature algorithm ${sigAlg.name}` };
  const type = key.asymmetricKeyType;
  const family = sigAlg.oid.startsWith('1.2.840.10045.4')
    ? 'ec'
    : sigAlg.oid.startsWith('1.2.840.113549')
      ? 'rsa'
      : sigAlg.oid === OID.ed25519
        ? 'ed25519'
        : 'ed448';
  if (type !== family) return { error: `signature algorithm ${sigAlg.name} does not fit a ${type} key` };
  return { hash, key };
}

async function checkSignature(
  spki: Uint8Array,
  sigAlg: SignatureAlgorithm,
  tbs: Uint8Array,
  signature: Uint8Array,
): Promise<{ verified: boolean; error?: string }> {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return { verified: false, error: 'the public key could not be read' };
  }
  try {
    const args = verifyArgs(key, sigAlg);
    if ('error' in args) return { verified: false, error: args.error };
    const ok = await verifyAsync(args.hash, tbs, args.key, signature);
    return ok ? { verified: true } : { verified: false, error: 'the signature does not match the public key' };
  } catch {
    return { verified: false, error: 'the signature could not be checked' };
  }
}

/**
 * The public key of a PKCS#10 request and whether its self-signature verifies, synchronously (a PodCertificateRequest's
 * stubPKCS10Request shown in the TUI). Throws a PkiError when the DER is not a request.
 */
export function csrKeyAndProof(der: Uint8Array): { key: KeyObject; verified: boolean } {
  const [infoT, sigAlgT, sigT] = leading(expectTag(readRoot(der), TAG.SEQUENCE, 'certificate request'), 3);
  const [, , spkiT] = leading(expectTag(infoT, TAG.SEQUENCE, 'certificationRequestInfo'), 3);
  const key = createPublicKey({
    key: Buffer.from(raw(expectTag(spkiT, TAG.SEQUENCE, 'public key info'))),
    format: 'der',
    type: 'spki',
  });
  const bits = readBitString(expectTag(sigT, TAG.BIT_STRING, 'signature'));
  const signature = rightAlign({ bytes: bits.bytes, bitLength: bits.bytes.length * 8 - bits.unused });
  const args = verifyArgs(key, decodeSigAlg(expectTag(sigAlgT, TAG.SEQUENCE, 'signature algorithm')));
  try {
    return { key, verified: !('error' in args) && verify(args.hash, raw(infoT!), args.key, signature) };
  } catch {
    return { key, verified: false };
  }
}

/**
 * Whether `issuerKey` made the signature of `cert` (synchronous: the renewal radar checks thousands of chains in
 * time slices). False when the signature does not verify or cannot be checked.
 */
export function certificateSignedBy(cert: DecodedCertificate, issuerKey: KeyObject): boolean {
  return signatureVerifies(rawParts.get(cert)?.signed, issuerKey);
}

/** certificateSignedBy over the signed parts alone (RawParts.signed), for callers that keep only those. */
export function signatureVerifies(signed: RawParts['signed'], issuerKey: KeyObject): boolean {
  if (!signed) return false;
  try {
    const args = verifyArgs(issuerKey, signed.algorithm);
    return !('error' in args) && verify(args.hash, signed.tbs, args.key, signed.signature);
  } catch {
    return false;
  }
}

/** The Extensions SEQUENCEs of a CSR's extensionRequest attributes (`attrsT`: the [0] attributes, if any). */
function extensionRequests(attrsT: Tlv | undefined): Tlv[] {
  if (!attrsT) return [];
  if (attrsT.tag !== 0xa0) throw new PkiError('bad-der', 'The ASN.1 structure is malformed (attributes).');
  const out: Tlv[] = [];
  for (const attr of children(attrsT)) {
    // As Go: an attribute that does not parse is ignored; the extensions of every extensionRequest count.
    try {
      const [typeT, valuesT] = leading(expectTag(attr, TAG.SEQUENCE, 'attribute'), 2);
      if (readOid(expectTag(typeT, TAG.OID, 'attribute type')) !== OID.extensionRequest) continue;
      const [extsT] = children(expectTag(valuesT, TAG.SET, 'attribute values'));
      if (extsT) out.push(extsT);
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
    }
  }
  return out;
}

/** The SAN elements a certificate copies (DNS, email, IP, URI), read from a CSR's attributes without the rest. */
function requestedSanElements(attrsT: Tlv | undefined): Uint8Array[] {
  const keep: Uint8Array[] = [];
  for (const extsT of extensionRequests(attrsT))
    for (const extT of children(expectTag(extsT, TAG.SEQUENCE, 'extensions'))) {
      const parts = leading(expectTag(extT, TAG.SEQUENCE, 'extension'), 3);
      if (readOid(expectTag(parts[0], TAG.OID, 'extension id')) !== OID.subjectAltName) continue;
      const value = content(expectTag(parts[1]?.tag === TAG.BOOLEAN ? parts[2] : parts[1], TAG.OCTET_STRING, 'SAN'));
      for (const gn of children(expectTag(readTlv(value, 0, value.length), TAG.SEQUENCE, 'subjectAltName')))
        if (sanRank(gn.tag) >= 0) keep.push(raw(gn));
    }
  return keep;
}

/**
 * What a request asks a certificate for: SHA-256 over the subject's DER and the copied SAN elements in a sorted
 * order, so that requests differing only in their key or the order of their names are for the same identity.
 */
function namesDigest(subject: Uint8Array, sanElements: readonly Uint8Array[]): string {
  const hash = createHash('sha256').update(subject);
  for (const e of sanElements.length > 1 ? [...sanElements].sort(Buffer.compare) : sanElements) hash.update(e);
  return hash.digest('base64');
}

export function fingerprint(der: Uint8Array): string {
  return hex(createHash('sha256').update(der).digest(), ':');
}

/** Digests of a request's public key and subject: what identifies the key and whom it is for. */
export interface RequestDigests {
  /** SHA-256 of the SubjectPublicKeyInfo, hex with colons (as certificate fingerprints). */
  key: string;
  /** SHA-256 of the subject's DER. */
  subject: string;
  /** SHA-256 (base64) of the subject and the SANs (namesDigest): whom the certificate would be for. */
  names: string;
}

/**
 * RequestDigests from spec.request's base64 of PEM, PEM or DER, without decoding the rest (cheap enough for every
 * request of a large cluster); undefined when it cannot be read.
 */
export function requestDigests(input: string | Uint8Array): RequestDigests | undefined {
  try {
    const der = inputBlocks(input, 'certificate request')[0]?.der;
    if (!der) return undefined;
    const [infoT] = leading(readRoot(der), 1);
    const [, subjectT, spkiT, attrsT] = infoT ? leading(infoT, 4) : [];
    if (!subjectT || !spkiT) return undefined;
    const subject = raw(subjectT);
    return {
      key: fingerprint(raw(spkiT)),
      subject: fingerprint(subject),
      names: namesDigest(subject, requestedSanElements(attrsT)),
    };
  } catch {
    return undefined;
  }
}

/** requestDigests of a decoded request. */
export function digestsOf(decoded: DecodedCsr): RequestDigests | undefined {
  const parts = rawPartsOf(decoded);
  return parts
    ? {
        key: fingerprint(parts.spki),
        subject: fingerprint(parts.subject),
        names: namesDigest(parts.subject, parts.sanElements),
      }
    : undefined;
}

function pickBlock(blocks: PemBlock[], wanted: string, what: string): PemBlock {
  const good = blocks.find(
    (b) =>
      b.label === '' ||
      b.label === wanted ||
      (wanted === 'CERTIFICATE REQUEST' && b.label === 'NEW CERTIFICATE REQUEST'),
  );
  if (good) return good;
  throw new PkiError(
    'wrong-pem-type',
    `Expected a ${what} (PEM "${wanted}") but found "${blocks[0]?.label ?? '?'}"; pass the ${what} file instead.`,
  );
}

/** Runs `fn`, turning anything unexpected into a PkiError so callers only ever see PkiError. */
async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PkiError) throw err;
    throw new PkiError(
      'bad-der',
      `The ${what} could not be decoded: ${err instanceof Error ? err.message : String(err)}.`,
    );
  }
}

export function decodeCsr(input: string | Uint8Array): Promise<DecodedCsr> {
  return guarded('certificate request', async () => {
    const block = pickBlock(inputBlocks(input, 'certificate request'), 'CERTIFICATE REQUEST', 'certificate request');
    return decodeCsrDer(block.der);
  });
}

/**
 * Decodes a CSR's DER whose self-signature was already checked elsewhere (the issuer pool's workers get requests the
 * calling thread decoded): `proofOfPossession` is taken as given instead of verifying the signature again.
 */
export function decodeCsrDerChecked(
  der: Uint8Array,
  proofOfPossession: DecodedCsr['proofOfPossession'],
): Promise<DecodedCsr> {
  return guarded('certificate request', () => decodeCsrDer(der, proofOfPossession));
}

async function decodeCsrDer(der: Uint8Array, knownProof?: DecodedCsr['proofOfPossession']): Promise<DecodedCsr> {
  const root = readRoot(der);
  const [infoT, sigAlgT, sigT] = leading(expectTag(root, TAG.SEQUENCE, 'certificate request'), 3);
  const info = leading(expectTag(infoT, TAG.SEQUENCE, 'certificationRequestInfo'), 4);
  const [versionT, subjectT, spkiT, attrsT] = info;
  if (versionT?.tag === 0xa0) {
    throw new PkiError('wrong-pem-type', 'This is a certificate, not a certificate request; pass the CSR instead.');
  }
  expectTag(versionT, TAG.INTEGER, 'version');
  const subject = decodeName(expectTag(subjectT, TAG.SEQUENCE, 'subject'));
  const { info: publicKey, bits } = decodeSpki(expectTag(spkiT, TAG.SEQUENCE, 'public key info'));
  const ext: ParsedExtensions = { list: [], sans: emptySans(), sanElements: [] };
  for (const extsT of extensionRequests(attrsT)) parseExtensions(extsT, ext, true);
  const sigAlg = decodeSigAlg(expectTag(sigAlgT, TAG.SEQUENCE, 'signature algorithm'));
  const sigBits = readBitString(expectTag(sigT, TAG.BIT_STRING, 'signature'));
  // The signature as Go reads it (padding bits moved to the front), so that both verify the same bytes.
  const signature = rightAlign({ bytes: sigBits.bytes, bitLength: sigBits.bytes.length * 8 - sigBits.unused });
  const pem = toPem('CERTIFICATE REQUEST', der);
  const proofOfPossession = knownProof ?? (await checkSignature(raw(spkiT!), sigAlg, raw(infoT!), signature));
  const goSays = goRefusal(der);
  const nameSays = nameRefusal(subjectT!);
  const csr: DecodedCsr = {
    pem,
    subject,
    sans: ext.sans,
    publicKey,
    signatureAlgorithm: sigAlg.name,
    extensions: ext.list,
    ...(ext.basicConstraints ? { basicConstraints: ext.basicConstraints } : {}),
    ...(ext.keyUsage ? { keyUsage: ext.keyUsage } : {}),
    ...(ext.extKeyUsage ? { extKeyUsage: ext.extKeyUsage } : {}),
    proofOfPossession,
    ...(goSays !== undefined ? { goRefusal: goSays } : {}),
    ...(nameSays !== undefined ? { nameRefusal: nameSays } : {}),
  };
  rawParts.set(csr, {
    der,
    subject: raw(subjectT!),
    spki: raw(spkiT!),
    publicKeyBits: bits,
    sanElements: ext.sanElements,
    sanRun: ext.sanRun,
  });
  return csr;
}

function signedParts(tbsT: Tlv, algorithm: SignatureAlgorithm, sigT: Tlv): NonNullable<RawParts['signed']> {
  const bits = readBitString(sigT);
  // As for a CSR: the signature as Go reads it (padding bits moved to the front).
  const signature = rightAlign({ bytes: bits.bytes, bitLength: bits.bytes.length * 8 - bits.unused });
  return { tbs: raw(tbsT), signature, algorithm };
}

function decodeCertificateDer(der: Uint8Array): DecodedCertificate {
  const root = readRoot(der);
  const [tbsT, sigAlgT, sigT] = children(expectTag(root, TAG.SEQUENCE, 'certificate'));
  const tbs = children(expectTag(tbsT, TAG.SEQUENCE, 'tbsCertificate'));
  let i = 0;
  if (tbs[0]?.tag === 0xa0) i++;
  else if (tbs[0]?.tag === TAG.INTEGER && tbs[1]?.tag === TAG.SEQUENCE && tbs[2]?.tag === TAG.SEQUENCE) {
    // could be a CSR: INTEGER version, Name, SPKI — a certificate has serial, AlgorithmIdentifier, Name.
    const second = children(tbs[1]);
    if (second[0]?.tag === TAG.SET || second.length === 0) {
      throw new PkiError(
        'wrong-pem-type',
        'This is a certificate request, not a certificate; pass the certificate instead.',
      );
    }
  }
  const serialT = expectTag(tbs[i++], TAG.INTEGER, 'serial number');
  i++; // signature algorithm inside TBS
  const issuer = decodeName(expectTag(tbs[i++], TAG.SEQUENCE, 'issuer'));
  const validity = children(expectTag(tbs[i++], TAG.SEQUENCE, 'validity'));
  if (!validity[0] || !validity[1]) throw new PkiError('bad-der', 'The ASN.1 structure is malformed (validity).');
  const notBefore = readTime(validity[0]);
  const notAfter = readTime(validity[1]);
  const subjectT = expectTag(tbs[i++], TAG.SEQUENCE, 'subject');
  const subject = decodeName(subjectT);
  const spkiT = expectTag(tbs[i++], TAG.SEQUENCE, 'public key info');
  const { info: publicKey, bits } = decodeSpki(spkiT);
  let ext: ParsedExtensions = { list: [], sans: emptySans(), sanElements: [] };
  for (; i < tbs.length; i++) {
    const t = tbs[i]!;
    if (t.tag === 0xa3) {
      const [extsT] = children(t);
      if (extsT) ext = parseExtensions(extsT);
    }
  }
  const sigAlg = decodeSigAlg(expectTag(sigAlgT, TAG.SEQUENCE, 'signature algorithm'));
  let serial = hex(content(serialT));
  serial = serial.replace(/^(00)+(?=.)/, '');
  const cert: DecodedCertificate = {
    pem: toPem('CERTIFICATE', der),
    subject,
    issuer,
    serialNumber: serial,
    notBefore,
    notAfter,
    sans: ext.sans,
    publicKey,
    signatureAlgorithm: sigAlg.name,
    keyUsage: ext.keyUsage ?? [],
    extKeyUsage: ext.extKeyUsage ?? [],
    ...(ext.basicConstraints ? { basicConstraints: ext.basicConstraints } : {}),
    ...(ext.ski ? { subjectKeyIdentifier: hex(ext.ski, ':') } : {}),
    ...(ext.aki ? { authorityKeyIdentifier: hex(ext.aki, ':') } : {}),
    sha256Fingerprint: fingerprint(der),
    extensions: ext.list,
  };
  rawParts.set(cert, {
    der,
    subject: raw(subjectT),
    spki: raw(spkiT),
    publicKeyBits: bits,
    sanElements: ext.sanElements,
    sanRun: ext.sanRun,
    ...(ext.ski ? { ski: ext.ski } : {}),
    ...(sigT?.tag === TAG.BIT_STRING ? { signed: signedParts(tbsT!, sigAlg, sigT) } : {}),
  });
  return cert;
}

/** Decodes the first certificate of PEM (or DER, or base64 of PEM) input. */
export function decodeCertificate(input: string | Uint8Array): Promise<DecodedCertificate> {
  return guarded('certificate', async () => {
    const block = pickBlock(inputBlocks(input, 'certificate'), 'CERTIFICATE', 'certificate');
    return decodeCertificateDer(block.der);
  });
}

/** Synchronous twin of decodeCertificate for hot paths (issuing). */
export function decodeCertificateSync(der: Uint8Array): DecodedCertificate {
  try {
    return decodeCertificateDer(der);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    throw new PkiError('bad-der', 'The certificate could not be decoded.');
  }
}

/**
 * Decodes every certificate of a bundle, ordered as a chain: leaf first, then each issuer (matched by name and key
 * identifier); certificates that fit nowhere keep their input order at the end.
 */
export function decodeCertificates(input: string | Uint8Array): Promise<DecodedCertificate[]> {
  return guarded('certificate bundle', async () => {
    const blocks = inputBlocks(input, 'certificate bundle').filter((b) => b.label === 'CERTIFICATE' || b.label === '');
    if (blocks.length === 0) throw new PkiError('wrong-pem-type', 'The input holds no CERTIFICATE block.');
    const certs = blocks.map((b) => decodeCertificateDer(b.der));
    return chainOrder(certs);
  });
}

function issuedBy(child: DecodedCertificate, parent: DecodedCertificate): boolean {
  if (child === parent || child.issuer.text !== parent.subject.text) return false;
  if (child.authorityKeyIdentifier && parent.subjectKeyIdentifier) {
    return child.authorityKeyIdentifier === parent.subjectKeyIdentifier;
  }
  return true;
}

export function chainOrder(certs: DecodedCertificate[]): DecodedCertificate[] {
  if (certs.length < 2) return certs;
  // The leaf is a certificate that issued none of the others.
  const leaf = certs.find((c) => !certs.some((o) => issuedBy(o, c))) ?? certs[0]!;
  const ordered = [leaf];
  const used = new Set([leaf]);
  let cur = leaf;
  for (;;) {
    const parent = certs.find((c) => !used.has(c) && issuedBy(cur, c));
    if (!parent) break;
    ordered.push(parent);
    used.add(parent);
    cur = parent;
  }
  return [...ordered, ...certs.filter((c) => !used.has(c))];
}

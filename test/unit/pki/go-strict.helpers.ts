// Hand-built certificate requests for the comparisons with Go's crypto/x509: any subject, key, attributes,
// extensions and signature algorithm, signed for real (so that only the part under test can make Go refuse it).
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { spkiOf } from '../../../src/services/pki/build.js';
import { bits, ctx, nul, octets, oid, seq, set, smallInt, tlv } from '../../../src/services/pki/der.js';
import { decodeCsr, PkiError } from '../../../src/services/pki/index.js';

type KeyName = 'p256' | 'p224' | 'rsa' | 'rsa512' | 'ed25519' | 'ed448' | 'brainpool' | 'secp256k1' | 'x25519';
type KeyName2 = KeyName | 'rsaPss' | 'dsa';
const made = new Map<string, KeyObject>();

/** A test key, made once per process. */
export function key(name: KeyName2): KeyObject {
  let k = made.get(name);
  if (!k) {
    const pair = (() => {
      switch (name) {
        case 'p256':
          return generateKeyPairSync('ec', { namedCurve: 'P-256' });
        case 'p224':
          return generateKeyPairSync('ec', { namedCurve: 'P-224' });
        case 'brainpool':
          return generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
        case 'secp256k1':
          return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
        case 'rsa':
          return generateKeyPairSync('rsa', { modulusLength: 2048 });
        case 'rsa512':
          return generateKeyPairSync('rsa', { modulusLength: 512 });
        case 'rsaPss':
          return generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
        case 'dsa':
          return generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
        case 'ed25519':
          return generateKeyPairSync('ed25519');
        case 'ed448':
          return generateKeyPairSync('ed448');
        case 'x25519':
          return generateKeyPairSync('x25519');
      }
    })();
    k = pair.privateKey;
    made.set(name, k);
  }
  return k;
}

const b = (x: string | number[]) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : Uint8Array.from(x));
/** A string element: tag and content (text as UTF-8, or bytes). */
export const str = (tag: number, x: string | number[]): Uint8Array => tlv(tag, b(x));
export const atv = (type: string, value: Uint8Array): Uint8Array => seq(oid(type), value);
/** A Name of one RDN per attribute. */
export const name = (...atvs: Uint8Array[]): Uint8Array => seq(...atvs.map((a) => set(a)));
export const cn = (value: Uint8Array): Uint8Array => name(atv('2.5.4.3', value));
export const extension = (id: string, value: Uint8Array, critical?: Uint8Array): Uint8Array =>
  seq(oid(id), ...(critical ? [critical] : []), octets(value));
export const san = (...names: Uint8Array[]): Uint8Array => extension('2.5.29.17', seq(...names));
export const dns = (x: string | number[]) => tlv(0x82, b(x));
export const uri = (x: string | number[]) => tlv(0x86, b(x));
export const email = (x: string | number[]) => tlv(0x81, b(x));
export const ip = (x: number[]) => tlv(0x87, Uint8Array.from(x));
export const extensionRequest = (...exts: Uint8Array[]): Uint8Array =>
  seq(oid('1.2.840.113549.1.9.14'), set(seq(...exts)));

export interface CsrParts {
  key?: KeyName2;
  subject?: Uint8Array;
  /** The SubjectPublicKeyInfo (default: the key's). */
  spki?: Uint8Array;
  /** Requested extensions (one extensionRequest attribute). */
  extensions?: Uint8Array[];
  /** The attributes' elements instead (extensions is then ignored). */
  attributes?: Uint8Array[];
  /** The whole [0] attributes element instead (an empty array: none at all). */
  attributesElement?: Uint8Array[];
  version?: Uint8Array;
  /** Elements after the attributes inside CertificationRequestInfo. */
  infoTail?: Uint8Array[];
  /** Signature algorithm (AlgorithmIdentifier) and how to sign; default: the key's usual one. */
  signature?: { algorithm: Uint8Array; sign: (info: Uint8Array) => Uint8Array };
  /** The signature BIT STRING instead. */
  signatureBits?: (sig: Uint8Array) => Uint8Array;
  /** Bytes after the request. */
  trailing?: number[];
}

/** The usual signature of a key: ECDSA with SHA-256, SHA-256 with RSA, pure EdDSA, DSA with SHA-256. */
export function usualSignature(k: KeyObject): { algorithm: Uint8Array; sign: (info: Uint8Array) => Uint8Array } {
  switch (k.asymmetricKeyType) {
    case 'ec':
      return { algorithm: seq(oid('1.2.840.10045.4.3.2')), sign: (i) => sign('sha256', i, k) };
    case 'rsa':
      return { algorithm: seq(oid('1.2.840.113549.1.1.11'), nul()), sign: (i) => sign('sha256', i, k) };
    case 'ed25519':
      return { algorithm: seq(oid('1.3.101.112')), sign: (i) => sign(null, i, k) };
    case 'ed448':
      return { algorithm: seq(oid('1.3.101.113')), sign: (i) => sign(null, i, k) };
    case 'dsa':
      return { algorithm: seq(oid('2.16.840.1.101.3.4.3.2')), sign: (i) => sign('sha256', i, k) };
    case 'rsa-pss':
      return { algorithm: pssAlgorithm(32), sign: (i) => pssSign(k, i, 32) };
    default:
      // X25519 cannot sign: a signature of the right shape that verifies nowhere.
      return { algorithm: seq(oid('1.3.101.112')), sign: () => new Uint8Array(64).fill(7) };
  }
}

export function pssAlgorithm(salt: number, hashOid = '2.16.840.1.101.3.4.2.1'): Uint8Array {
  const hash = seq(oid(hashOid), nul());
  return seq(
    oid('1.2.840.113549.1.1.10'),
    seq(ctx(0, true, hash), ctx(1, true, seq(oid('1.2.840.113549.1.1.8'), hash)), ctx(2, true, smallInt(salt))),
  );
}

export const pssSign = (k: KeyObject, info: Uint8Array, saltLength: number): Uint8Array =>
  sign('sha256', info, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

/** A signed DER certificate request from parts (defaults: P-256, CN=go-strict, no extensions). */
export function csrDer(p: CsrParts = {}): Uint8Array {
  const k = key(p.key ?? 'p256');
  const attrs = p.attributes ?? (p.extensions?.length ? [extensionRequest(...p.extensions)] : ([] as Uint8Array[]));
  const info = seq(
    p.version ?? smallInt(0),
    p.subject ?? cn(str(0x0c, 'go-strict')),
    p.spki ?? spkiOf(k),
    ...(p.attributesElement ?? [ctx(0, true, ...attrs)]),
    ...(p.infoTail ?? []),
  );
  const s = p.signature ?? usualSignature(k);
  const sig = s.sign(info);
  const der = seq(info, s.algorithm, p.signatureBits ? p.signatureBits(sig) : bits(sig));
  return p.trailing ? Buffer.concat([der, Uint8Array.from(p.trailing)]) : der;
}

/** certdesk's verdict: accepted when it decodes, Go would take it, and the self-signature verifies. */
export async function ourVerdict(der: Uint8Array): Promise<{ accepted: boolean; why?: string }> {
  try {
    const d = await decodeCsr(der);
    if (d.goRefusal !== undefined) return { accepted: false, why: d.goRefusal };
    if (!d.proofOfPossession.verified) return { accepted: false, why: d.proofOfPossession.error ?? 'signature' };
    return { accepted: true };
  } catch (err) {
    if (err instanceof PkiError) return { accepted: false, why: err.message };
    throw err;
  }
}

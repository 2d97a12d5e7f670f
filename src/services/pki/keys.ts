// Private keys: reading PKCS#1, PKCS#8, SEC1 and encrypted PKCS#8 (through node:crypto), generating key pairs,
// choosing the signature algorithm for a key, and signing on libuv's threadpool so the event loop stays free.
import {
  createCipheriv,
  createPrivateKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  scryptSync,
  sign as signCb,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  children,
  content,
  expectTag,
  leading,
  nul,
  octets,
  oid,
  readBitString,
  readOid,
  readRoot,
  seq,
  smallInt,
  TAG,
} from './der.js';
import { OID } from './oids.js';
import { type PemBlock, parsePemBlocks, toPem } from './pem.js';
import { type KeyAlgorithmName, PkiError } from './types.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export type KeySpec = { algo: 'rsa'; size: number } | { algo: 'ecdsa'; size: number };

const CURVE_BY_SIZE: Record<number, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const RSA_SIZES = new Set([2048, 3072, 4096, 8192]);

export function keySpecFromAlgorithm(name: KeyAlgorithmName): KeySpec {
  const m = /^(RSAWithSize|ECDSAWithCurve)(\d+)$/.exec(name);
  if (!m) throw new PkiError('unsupported', `Unknown key algorithm "${name}".`);
  return { algo: m[1] === 'RSAWithSize' ? 'rsa' : 'ecdsa', size: Number(m[2]) };
}

export async function generateKey(spec: KeySpec): Promise<KeyObject> {
  if (spec.algo === 'rsa') {
    if (!RSA_SIZES.has(spec.size)) {
      throw new PkiError(
        'unsupported',
        `RSA keys of ${spec.size} bits are not supported; use 2048, 3072, 4096 or 8192.`,
      );
    }
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: spec.size, publicExponent: 65537 });
    return privateKey;
  }
  if (spec.algo === 'ecdsa') {
    const namedCurve = CURVE_BY_SIZE[spec.size];
    if (!namedCurve)
      throw new PkiError('unsupported', `ECDSA keys of ${spec.size} bits are not supported; use 256, 384 or 521.`);
    const { privateKey } = await generateKeyPairAsync('ec', { namedCurve });
    return privateKey;
  }
  throw new PkiError('unsupported', `Unknown key algorithm "${(spec as { algo: string }).algo}"; use rsa or ecdsa.`);
}

/** The key as PEM, in the format cfssl writes: PKCS#1 for RSA, SEC1 for EC (PKCS#8 for anything else). */
export function exportKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (type === 'ec') return key.export({ type: 'sec1', format: 'pem' }) as string;
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Reads a private key (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8 or legacy encrypted PEM). */
export function readPrivateKey(pem: string | Uint8Array, passphrase?: string): KeyObject {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  if (!text.includes('PRIVATE KEY-----')) {
    throw new PkiError('bad-key', 'The key file holds no PEM private key (expected "BEGIN … PRIVATE KEY").');
  }
  const encrypted = text.includes('ENCRYPTED PRIVATE KEY') || text.includes('Proc-Type: 4,ENCRYPTED');
  if (encrypted && !passphrase) {
    throw new PkiError(
      'bad-key',
      'The private key is encrypted; give its passphrase (for example with --passphrase-env VAR).',
    );
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch {
    throw new PkiError(
      'bad-key',
      encrypted
        ? 'The private key could not be decrypted; check the passphrase.'
        : 'The private key could not be read; expected PKCS#1, PKCS#8 or SEC1 PEM.',
    );
  }
}

export interface SignatureChoice {
  /** node:crypto digest name, or null for EdDSA. */
  hash: string | null;
  /** DER AlgorithmIdentifier. */
  algorithmIdentifier: Uint8Array;
  name: string;
}

const RSA_SIG_OIDS: Record<string, string> = {
  sha256: OID.sha256WithRSA,
  sha384: OID.sha384WithRSA,
  sha512: OID.sha512WithRSA,
};
const EC_SIG: Record<string, { hash: string; oid: string }> = {
  secp224r1: { hash: 'sha256', oid: OID.ecdsaWithSHA256 },
  prime256v1: { hash: 'sha256', oid: OID.ecdsaWithSHA256 },
  secp384r1: { hash: 'sha384', oid: OID.ecdsaWithSHA384 },
  secp521r1: { hash: 'sha512', oid: OID.ecdsaWithSHA512 },
};

/** Signature algorithm for a signing key: RSA with the chosen hash; ECDSA with the hash that matches the curve. */
export function signatureFor(key: KeyObject, rsaHash: 'SHA-256' | 'SHA-384' | 'SHA-512' = 'SHA-256'): SignatureChoice {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const hash = rsaHash.replace('-', '').toLowerCase();
    const o = RSA_SIG_OIDS[hash]!;
    return { hash, algorithmIdentifier: seq(oid(o), nul()), name: `${hash}WithRSAEncryption` };
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const s = EC_SIG[curve];
    if (!s)
      throw new PkiError('unsupported', `ECDSA keys on curve ${curve} cannot sign here; use P-256, P-384 or P-521.`);
    return { hash: s.hash, algorithmIdentifier: seq(oid(s.oid)), name: `ecdsa-with-${s.hash.toUpperCase()}` };
  }
  throw new PkiError('unsupported', `${type ?? 'This'} keys cannot sign certificates here; use an RSA or ECDSA key.`);
}

const CURVE_NAMES: Record<string, string> = {
  secp224r1: 'P-224',
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** The key as a person names it: `RSA 2048`, `ECDSA P-256`, `ECDSA secp256k1`, `Ed25519`, `RSA-PSS 2048`… */
export function keyDescription(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return `RSA ${d?.modulusLength ?? '?'}`;
    case 'rsa-pss':
      return `RSA-PSS ${d?.modulusLength ?? '?'}`;
    case 'ec':
      return `ECDSA ${CURVE_NAMES[d?.namedCurve ?? ''] ?? d?.namedCurve ?? '?'}`;
    default:
      return (key.asymmetricKeyType ?? 'unknown').replace(/^ed/, 'Ed').replace(/^x/, 'X').replace(/^dsa$/, 'DSA');
  }
}

/**
 * Why certdesk cannot sign with this CA key, or why Go (kube-controller-manager, the API server, every Go client)
 * would not accept what it signs; undefined for RSA of 1024 bits or more and ECDSA on P-224, P-256, P-384, P-521.
 */
export function caKeyRefusal(key: KeyObject): string | undefined {
  const head = `The CA key (${keyDescription(key)}) cannot sign`;
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits < 1024 ? `${head}: Go refuses RSA keys under 1024 bits; use RSA 2048 or more` : undefined;
  }
  if (type === 'ec') {
    return EC_SIG[key.asymmetricKeyDetails?.namedCurve ?? '']
      ? undefined
      : `${head}: Go accepts ECDSA on P-224, P-256, P-384 and P-521 only; use P-256`;
  }
  if (type === 'rsa-pss')
    return `${head}: Go does not read RSA-PSS (id-RSASSA-PSS) keys; use a plain RSA or an ECDSA key`;
  return `${head}: certdesk signs with RSA and ECDSA CA keys; use RSA 2048 or ECDSA P-256`;
}

/** Why this CA key is weak (RSA under 2048 bits, P-224), or undefined. */
export function caKeyWeakness(key: KeyObject): string | undefined {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType === 'rsa' && bits < 2048) return `${keyDescription(key)}, under 2048 bits`;
  if (key.asymmetricKeyDetails?.namedCurve === 'secp224r1') return 'ECDSA P-224, 112-bit security';
  return undefined;
}

/** cfssl's default signature algorithm for a key (RSA ≥4096 → SHA-512, ≥3072 → SHA-384, else SHA-256). */
export function defaultSignatureFor(key: KeyObject): SignatureChoice {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
    return signatureFor(key, bits >= 4096 ? 'SHA-512' : bits >= 3072 ? 'SHA-384' : 'SHA-256');
  }
  return signatureFor(key);
}

/** Signs on libuv's threadpool (node:crypto's callback form), so several signatures run in parallel. */
export function signAsync(hash: string | null, data: Uint8Array, key: KeyObject): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    signCb(hash, data, key, (err, sig) =>
      err ? reject(new PkiError('bad-key', 'The CA key failed to sign; check that it is intact.')) : resolve(sig),
    );
  });
}

/** The public half stored inside a private key's DER: an RSA modulus + exponent, or an EC point. */
type PublicHalf = { rsa: [Uint8Array, Uint8Array] } | { point: Uint8Array };

function rsaHalf(pkcs1: Uint8Array): PublicHalf {
  const [, n, e] = leading(expectTag(readRoot(pkcs1), TAG.SEQUENCE, 'RSA key'), 3);
  return { rsa: [content(expectTag(n, TAG.INTEGER, 'modulus')), content(expectTag(e, TAG.INTEGER, 'exponent'))] };
}

function ecHalf(sec1: Uint8Array): PublicHalf | undefined {
  const pub = children(expectTag(readRoot(sec1), TAG.SEQUENCE, 'EC key')).find((t) => t.tag === 0xa1);
  const [bitsT] = pub ? children(pub) : [];
  return bitsT ? { point: readBitString(expectTag(bitsT, TAG.BIT_STRING, 'EC public key')).bytes } : undefined;
}

function publicHalf(block: PemBlock): PublicHalf | undefined {
  if (block.label === 'RSA PRIVATE KEY') return rsaHalf(block.der);
  if (block.label === 'EC PRIVATE KEY') return ecHalf(block.der);
  if (block.label !== 'PRIVATE KEY') return undefined;
  const [, algT, keyT] = leading(expectTag(readRoot(block.der), TAG.SEQUENCE, 'PKCS#8 key'), 3);
  const [oidT] = children(expectTag(algT, TAG.SEQUENCE, 'key algorithm'));
  const inner = content(expectTag(keyT, TAG.OCTET_STRING, 'private key'));
  const oid = readOid(expectTag(oidT, TAG.OID, 'key algorithm'));
  if (oid === OID.rsaEncryption) return rsaHalf(inner);
  return oid === OID.ecPublicKey ? ecHalf(inner) : undefined;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * Whether the private key in `pem` is the key of the certificate whose SubjectPublicKeyInfo is `spki`, read from
 * the public half the key's DER stores (PKCS#1, SEC1 with its public key, PKCS#8 of either), as
 * `openssl rsa -modulus` comparisons do: no key object is made (OpenSSL 3's decoders took ~1 ms a key, most of the
 * renewal radar's time). Undefined when the key is in another form (Ed25519, EC without its public key, encrypted,
 * malformed): the caller then asks node:crypto.
 */
export function privateKeyMatchesSpki(pem: string, spki: Uint8Array): boolean | undefined {
  try {
    const blocks = parsePemBlocks(pem).filter((b) => b.label.endsWith('PRIVATE KEY'));
    const half = blocks.length === 1 ? publicHalf(blocks[0]!) : undefined;
    if (!half) return undefined;
    const [algT, bitsT] = leading(expectTag(readRoot(spki), TAG.SEQUENCE, 'public key info'), 2);
    const keyOid = readOid(expectTag(children(expectTag(algT, TAG.SEQUENCE, 'algorithm'))[0], TAG.OID, 'algorithm'));
    const bits = readBitString(expectTag(bitsT, TAG.BIT_STRING, 'public key')).bytes;
    if ('point' in half) return keyOid === OID.ecPublicKey && same(half.point, bits);
    if (keyOid !== OID.rsaEncryption) return false;
    const [n, e] = leading(expectTag(readRoot(bits), TAG.SEQUENCE, 'RSA public key'), 2);
    return (
      same(content(expectTag(n, TAG.INTEGER, 'modulus')), half.rsa[0]) &&
      same(content(expectTag(e, TAG.INTEGER, 'exponent')), half.rsa[1])
    );
  } catch {
    return undefined;
  }
}

/** scrypt's cost for encrypted CA key files: openssl's own default for `pkcs8 -scrypt` (16 MiB, ~50 ms). */
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };

/**
 * The key as an encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`): PBES2 with scrypt (RFC 7914 §7) and AES-256-CBC,
 * as `openssl pkcs8 -topk8 -scrypt` writes it; openssl and node:crypto read it with the passphrase.
 */
export function encryptKeyPem(key: KeyObject, passphrase: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const derived = scryptSync(passphrase, salt, 32, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  const cipher = createCipheriv('aes-256-cbc', derived, iv);
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const der = seq(
    seq(
      oid(OID.pbes2),
      seq(
        seq(
          oid(OID.scrypt),
          seq(octets(salt), smallInt(SCRYPT.N), smallInt(SCRYPT.r), smallInt(SCRYPT.p), smallInt(32)),
        ),
        seq(oid(OID.aes256Cbc), octets(iv)),
      ),
    ),
    octets(encrypted),
  );
  return toPem('ENCRYPTED PRIVATE KEY', der);
}

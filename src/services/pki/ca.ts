// Certificate authorities held on the workstation: creating a self-signed CA (as `cfssl gencert -initca`)
// and loading one from PEM with the checks a signer needs before it signs anything.
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import {
  basicConstraintsExtension,
  buildCertificate,
  encodeName,
  keyIdentifier,
  keyUsageExtension,
  publicKeyBitsOf,
  skiExtension,
  spkiOf,
  akiExtension,
} from './build.js';
import { type CaKey, memoryCaKey } from './ca-key.js';
import { decodeCertificate, decodeCertificates, rawPartsOf } from './decode.js';
import { goKeyRefusal } from './go-x509.js';
import {
  caKeyRefusal,
  defaultSignatureFor,
  exportKeyPem,
  generateKey,
  keySpecFromAlgorithm,
  readPrivateKey,
} from './keys.js';
import { toPem } from './pem.js';
import { type CaCertificates, type KeyAlgorithmName, type LoadedCa, PkiError } from './types.js';

export interface CreateCaOptions {
  cn: string;
  /** @default 'ECDSAWithCurve256' (cfssl's default) */
  keyAlgorithm?: KeyAlgorithmName;
  /** @default 1825 (5 years, cfssl's default) */
  days?: number;
  /** Extra subject fields. */
  names?: Array<{ O?: string; OU?: string; C?: string; ST?: string; L?: string }>;
  now?: Date;
}

export function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  if (serial.every((b) => b === 0)) serial[15] = 1;
  return serial;
}

/** Creates a self-signed CA: CA=true (critical), keyCertSign + cRLSign (critical), SKI and AKI. */
export async function createCa(opts: CreateCaOptions): Promise<{ certPem: string; keyPem: string }> {
  checkCaOptions(opts);
  const key = await generateKey(keySpecFromAlgorithm(opts.keyAlgorithm ?? 'ECDSAWithCurve256'));
  return { certPem: await createCaWithKey(opts, memoryCaKey(key)), keyPem: exportKeyPem(key) };
}

function checkCaOptions(opts: CreateCaOptions): void {
  if (!opts.cn) throw new PkiError('unsupported', 'A CA needs a common name (--cn).');
  const days = opts.days ?? 1825;
  if (!Number.isFinite(days) || days < 1 || days > 36500) {
    throw new PkiError('unsupported', `A CA lifetime of ${days} days is out of range; use 1 to 36500.`);
  }
}

/** The self-signed CA certificate (PEM) for a key that is already there (a token's); the options as createCa's. */
export async function createCaWithKey(opts: CreateCaOptions, key: CaKey): Promise<string> {
  checkCaOptions(opts);
  const days = opts.days ?? 1825;
  const refusal = caKeyRefusal(key.publicKey);
  if (refusal) throw new PkiError('unsupported', `${refusal}.`);
  const spki = spkiOf(key.publicKey);
  const ski = keyIdentifier(publicKeyBitsOf(spki));
  const name = encodeName(opts.names ?? [], opts.cn);
  const now = opts.now ?? new Date();
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + days * 86_400_000),
      spki,
      extensions: [
        keyUsageExtension(['digitalSignature', 'keyCertSign', 'cRLSign']),
        basicConstraintsExtension(true),
        skiExtension(ski),
        akiExtension(ski),
      ],
    },
    key,
    defaultSignatureFor(key.publicKey),
  );
  return toPem('CERTIFICATE', der);
}

export interface LoadCaOptions {
  passphrase?: string;
  /** Where the key was read from (for `ca show` and error messages). */
  keyPath?: string;
  /** PEM of the certificates above this CA (intermediates, optionally the root). */
  chainPem?: string;
  /** @default new Date() */
  now?: Date;
}

/**
 * Loads a CA for signing from PEM files. Refuses (PkiError) a key that does not match the certificate ('bad-key'), a
 * certificate that is not a CA or lacks keyCertSign ('not-a-ca'), and one outside its validity ('ca-expired').
 */
export async function loadCaFromPem(certPem: string, keyPem: string, opts: LoadCaOptions = {}): Promise<LoadedCa> {
  const privateKey = readPrivateKey(keyPem, opts.passphrase);
  const encrypted = keyPem.includes('ENCRYPTED');
  const where = opts.keyPath !== undefined ? { path: opts.keyPath } : {};
  return loadCaWithKey(
    certPem,
    memoryCaKey(privateKey, { kind: encrypted ? 'encrypted-file' : 'file', ...where }),
    opts,
  );
}

/** The CA certificate's public key (a token key is opened against it). */
export async function caCertificateKey(certPem: string): Promise<KeyObject> {
  const parts = rawPartsOf(await decodeCertificate(certPem))!;
  try {
    return createPublicKey({ key: Buffer.from(parts.spki), format: 'der', type: 'spki' });
  } catch {
    throw new PkiError('unsupported', "The CA certificate's key cannot be used here.");
  }
}

/** As loadCaFromPem, with the key already open (a file's, or a token's). */
export async function loadCaWithKey(certPem: string, key: CaKey, opts: LoadCaOptions = {}): Promise<LoadedCa> {
  const { certificate, chain } = await caCertificatesOf(certPem, opts.chainPem);
  const refusal = caKeyRefusal(key.publicKey);
  if (refusal) throw new PkiError('unsupported', `${refusal}.`);
  const parts = rawPartsOf(certificate)!;
  const goSays = goKeyRefusal(parts.spki);
  if (goSays) {
    throw new PkiError(
      'unsupported',
      `Go cannot read the CA certificate's ${certificate.publicKey.description} key (${goSays}); reissue the CA certificate.`,
    );
  }
  let certKey: ReturnType<typeof createPublicKey>;
  try {
    certKey = createPublicKey({ key: Buffer.from(parts.spki), format: 'der', type: 'spki' });
  } catch {
    throw new PkiError(
      'unsupported',
      `The CA certificate's ${certificate.publicKey.description} key cannot be used here.`,
    );
  }
  // Both exported by node:crypto, so encoded alike (KeyObject.equals on keys of two types leaves an OpenSSL error
  // queued that fails the next key read).
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!der(certKey).equals(der(key.publicKey))) {
    throw new PkiError('bad-key', 'The private key does not belong to the CA certificate; pass the matching key file.');
  }
  if (!certificate.basicConstraints?.ca) {
    throw new PkiError(
      'not-a-ca',
      'The certificate is not a CA (basicConstraints CA:TRUE is missing); import a CA certificate.',
    );
  }
  if (!certificate.keyUsage.includes('keyCertSign')) {
    throw new PkiError(
      'not-a-ca',
      'The CA certificate does not allow certificate signing (keyUsage keyCertSign is missing).',
    );
  }
  const now = opts.now ?? new Date();
  if (now.getTime() >= certificate.notAfter.getTime()) {
    throw new PkiError(
      'ca-expired',
      `The CA certificate expired on ${certificate.notAfter.toISOString()}; renew it or import a new CA.`,
    );
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw new PkiError(
      'ca-expired',
      `The CA certificate is not valid before ${certificate.notBefore.toISOString()}; check the clock.`,
    );
  }
  return { certificate, certPem: certificate.pem, chain, key };
}

/**
 * A CA's certificate (the first in its file) and the certificates above it: those after the first in the file, then
 * the chain file's, each once. No key is read.
 */
export async function caCertificatesOf(certPem: string, chainPem?: string): Promise<CaCertificates> {
  const certs = await decodeCertificates(certPem);
  const certificate = await decodeCertificate(certPem);
  const extra = certs.filter((c) => c.sha256Fingerprint !== certificate.sha256Fingerprint);
  const chainCerts = chainPem ? [...extra, ...(await decodeCertificates(chainPem))] : extra;
  const seen = new Set<string>();
  const chain = chainCerts.filter((c) => !seen.has(c.sha256Fingerprint) && seen.add(c.sha256Fingerprint));
  return { certificate, certPem: certificate.pem, chain };
}

// The one signing abstraction every issuing path calls: a CA key that signs bytes, wherever it lives — a key file
// (plain or encrypted PKCS#8, held as a node:crypto KeyObject) or a PKCS#11 token (pkcs11.ts; the key never leaves
// it). issueCertificate, createCa, the TUI, `sign`, `issue` and the controller sign only through CaKey.sign.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { signAsync } from './keys.js';

/** Where a CA key lives, as `ca list` / `ca show` say it. */
export type CaKeyLocation =
  | { kind: 'file'; path?: string }
  | { kind: 'encrypted-file'; path?: string }
  | { kind: 'pkcs11'; uri: string };

export interface CaKey {
  /** The key's public half (node:crypto): its type and curve choose the signature algorithm. */
  readonly publicKey: KeyObject;
  readonly location: CaKeyLocation;
  /**
   * Signs `data` hashed with `hash` (node:crypto's name: sha256, sha384, sha512): the signature as X.509 carries it
   * (RSA PKCS#1 v1.5; ECDSA as a DER SEQUENCE of r and s). Throws PkiError.
   */
  sign(hash: string | null, data: Uint8Array): Promise<Uint8Array>;
}

/** A CA key held in memory (read from a file): signs with node:crypto on libuv's threadpool. */
export function memoryCaKey(privateKey: KeyObject, location: CaKeyLocation = { kind: 'file' }): CaKey {
  const publicKey = createPublicKey(privateKey);
  return {
    publicKey,
    location,
    sign: (hash, data) => signAsync(hash, data, privateKey),
  };
}

/** How a person reads a key's location: `file /p/ca-key.pem`, `encrypted file /p/ca-key.pem`, `pkcs11:…`. */
export function describeLocation(location: CaKeyLocation): string {
  switch (location.kind) {
    case 'pkcs11':
      return location.uri;
    case 'encrypted-file':
      return `encrypted file${location.path ? ` ${location.path}` : ''}`;
    default:
      return `file${location.path ? ` ${location.path}` : ''}`;
  }
}

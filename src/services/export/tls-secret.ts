// The kubernetes.io/tls Secret of the "Manage TLS Certificates in a Cluster" document (`kubectl create secret tls`),
// built from the issued certificate and the requester's key, refusing a key that does not match the certificate.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** The first certificate's PEM block (the leaf) of a PEM bundle. */
export function firstCertificatePem(pem: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new ExportError('the certificate is not PEM (no "BEGIN CERTIFICATE" block)');
  return `${m[0]}\n`;
}

/**
 * True when the private key (PEM: PKCS#1, PKCS#8 or SEC1) belongs to the certificate's public key.
 * Throws ExportError for an unreadable key or certificate, or an encrypted key without its passphrase.
 */
export function keyMatchesCertificate(keyPem: string, certPem: string, passphrase?: string): boolean {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(firstCertificatePem(certPem));
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError('the certificate could not be parsed; pass the PEM issued for this CSR');
  }
  if (
    passphrase === undefined &&
    /-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z ]+PRIVATE KEY-----\s+Proc-Type: 4,ENCRYPTED)/.test(keyPem)
  ) {
    throw new ExportError('the private key is encrypted; give its passphrase');
  }
  let keySpki: Buffer;
  try {
    const key = createPrivateKey(passphrase === undefined ? keyPem : { key: keyPem, passphrase });
    keySpki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (passphrase !== undefined || /PASSPHRASE|BAD_DECRYPT|bad decrypt/i.test(`${code} ${(err as Error).message}`)) {
      throw new ExportError('the private key is encrypted and the passphrase is missing or wrong');
    }
    throw new ExportError('the private key could not be read; pass the PEM key file made with the CSR');
  }
  const certSpki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return certSpki.equals(keySpki);
}

export interface TlsSecretInput {
  name: string;
  namespace: string;
  /** The issued certificate (PEM; may carry a chain). */
  certificatePem: string;
  /** The requester's private key (PEM, unencrypted: the Secret stores it as is). */
  keyPem: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A kubernetes.io/tls Secret with tls.crt and tls.key; throws ExportError when the key is not the certificate's. */
export function buildTlsSecret(input: TlsSecretInput): V1Secret {
  if (!keyMatchesCertificate(input.keyPem, input.certificatePem)) {
    throw new ExportError('the private key does not match the issued certificate; pass the key made with this CSR');
  }
  const metadata: V1Secret['metadata'] = { name: input.name, namespace: input.namespace };
  if (input.labels) metadata.labels = input.labels;
  if (input.annotations) metadata.annotations = input.annotations;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(input.certificatePem).toString('base64'),
      'tls.key': Buffer.from(input.keyPem).toString('base64'),
    },
  };
}

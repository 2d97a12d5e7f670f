// Helpers of the RBAC and PATCH integration tests: CSR bodies, a certificate to put in /status, polling.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let keysPromise: Promise<CryptoKeyPair> | undefined;
function keys(): Promise<CryptoKeyPair> {
  keysPromise ??= webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  return keysPromise;
}

/** base64 of a PEM PKCS#10 request for CN=`cn` (the form of spec.request). */
export async function csrRequest(cn: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys: await keys(),
    signingAlgorithm: EC,
  });
  return Buffer.from(csr.toString('pem')).toString('base64');
}

export async function csrBody(name: string, signerName: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name, labels },
    spec: {
      request: await csrRequest(name),
      signerName,
      usages: ['digital signature', 'key encipherment', 'server auth'],
    },
  };
}

/** A self-signed certificate as PEM (valid CERTIFICATE PEM for status.certificate). */
export async function certificatePem(cn: string): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}`,
    keys: await keys(),
    signingAlgorithm: EC,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
  });
  return cert.toString('pem');
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The HTTP status of a rejected client-node call (ApiException.code), or undefined when it succeeded. */
export async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw e;
  }
}

/** The parsed Status body of a rejected client-node call. */
export async function errorBody(p: Promise<unknown>): Promise<{ code?: number; message?: string; reason?: string }> {
  try {
    await p;
  } catch (e) {
    const body = (e as { body?: unknown }).body;
    if (typeof body === 'string') return JSON.parse(body) as { code?: number; message?: string; reason?: string };
    if (body && typeof body === 'object') return body as { code?: number; message?: string; reason?: string };
    throw e;
  }
  throw new Error('The call succeeded; an error was expected.');
}

// Test helpers around the sandbox: start one (always stopped by the test), clients for any identity, real PKCS#10
// requests made with node:crypto, and waiting for a condition with a deadline.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { request } from 'node:https';
import type { TestContext } from 'node:test';
import { CertificatesV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { bitString, explicit, integer, name, OID, oid, sanNames, seq, tlv } from '../../src/services/sandbox/der.js';
import {
  type Sandbox,
  type SandboxCluster,
  type SandboxOptions,
  startSandbox,
} from '../../src/services/sandbox/index.js';

export type { Sandbox } from '../../src/services/sandbox/index.js';

/** Starts a sandbox (no built-in signers unless asked) and stops it when the test ends. */
export async function startTestSandbox(t: TestContext | undefined, options: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({ builtinSigners: false, ...options });
  t?.after(() => sb.stop());
  return sb;
}

export function clients(kc: KubeConfig): { certs: CertificatesV1Api; core: CoreV1Api } {
  return { certs: kc.makeApiClient(CertificatesV1Api), core: kc.makeApiClient(CoreV1Api) };
}

export interface CsrPemOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  /** 'ec' (P-256, default), 'rsa' (2048 unless rsaBits), 'ed25519'. */
  keyType?: 'ec' | 'rsa' | 'ed25519';
  rsaBits?: number;
  /** Corrupt the self-signature. */
  badSignature?: boolean;
}

/** A real PEM CERTIFICATE REQUEST and its private key. */
export function makeCsrPem(options: CsrPemOptions): { pem: string; key: KeyObject } {
  const type = options.keyType ?? 'ec';
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: options.rsaBits ?? 2048 })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const attributes: Buffer[] = [];
  if (options.dnsNames?.length) {
    // extensionRequest (1.2.840.113549.1.9.14) with subjectAltName
    const ext = seq(oid(OID.subjectAltName), tlv(0x04, sanNames(options.dnsNames)));
    attributes.push(seq(oid('1.2.840.113549.1.9.14'), tlv(0x31, seq(ext))));
  }
  const info = seq(integer(0), name(options.commonName, options.organizations ?? []), spki, explicit(0, ...attributes));
  const algOid = type === 'rsa' ? '1.2.840.113549.1.1.11' : type === 'ed25519' ? '1.3.101.112' : OID.ecdsaWithSha256;
  const alg = type === 'rsa' ? seq(oid(algOid), tlv(0x05)) : seq(oid(algOid));
  const signature = sign(type === 'ed25519' ? null : 'sha256', info, pair.privateKey);
  if (options.badSignature) signature[signature.length - 5] = (signature[signature.length - 5] ?? 0) ^ 0xff;
  const der = seq(info, alg, bitString(signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    pem: `-----BEGIN CERTIFICATE REQUEST-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE REQUEST-----\n`,
    key: pair.privateKey,
  };
}

/** A CertificateSigningRequest object for client-node (request is base64 of the PEM). */
export function csrObject(
  csrName: string,
  pem: string,
  signerName = 'example.com/serving',
  usages: string[] = ['digital signature', 'key encipherment', 'server auth'],
  expirationSeconds?: number,
): {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { request: string; signerName: string; usages: string[]; expirationSeconds?: number };
} {
  const spec: { request: string; signerName: string; usages: string[]; expirationSeconds?: number } = {
    request: Buffer.from(pem).toString('base64'),
    signerName,
    usages,
  };
  if (expirationSeconds !== undefined) spec.expirationSeconds = expirationSeconds;
  return { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: csrName }, spec };
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The HTTP status and Status body of a failed client-node call. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body =
      typeof e.body === 'string'
        ? (JSON.parse(e.body) as Record<string, unknown>)
        : ((e.body ?? {}) as Record<string, unknown>);
    return { code: e.code ?? 0, body };
  }
  throw new Error('expected the call to fail');
}

/** A server-side Table (as kubectl asks for it) of `path`, fetched as admin over HTTPS. */
export function getTable<T = { columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[] }[] }>(
  cluster: Pick<SandboxCluster, 'clientCert' | 'port' | 'caCertPem'>,
  path: string,
): Promise<T> {
  const cert = cluster.clientCert('admin', ['system:masters']);
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port: cluster.port,
        path,
        ca: cluster.caCertPem,
        cert: cert.certPem,
        key: cert.keyPem,
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text) as T));
      },
    )
      .on('error', reject)
      .end();
  });
}

const INSTALLATION = '/apis/operator.tigera.io/v1/installations/default';

/**
 * Makes the calico-rollout Installation trust `caPem` (spec.certificateManagement.caCert), as seed 000 has the admin
 * do with the CA they hold: certdesk refuses to sign Calico's requests with a CA the Installation does not trust.
 */
export async function trustInInstallation(cluster: Pick<SandboxCluster, 'requestAs'>, caPem: string): Promise<void> {
  const admin = { name: 'admin', groups: ['system:masters'] };
  const read = await cluster.requestAs(admin, 'GET', INSTALLATION);
  if (read.code !== 200) throw new Error(`GET Installation default: ${read.code} ${read.body}`);
  const installation = JSON.parse(read.body) as { spec: { certificateManagement: Record<string, unknown> } };
  installation.spec.certificateManagement.caCert = caPem;
  const put = await cluster.requestAs(admin, 'PUT', INSTALLATION, installation);
  if (put.code !== 200) throw new Error(`PUT Installation default: ${put.code} ${put.body}`);
}

/** Creates or replaces the ClusterTrustBundle `name` of `signer` holding `pem`, as an admin would. */
export async function putTrustBundle(
  cluster: Pick<SandboxCluster, 'requestAs'>,
  signer: string,
  name: string,
  pem: string,
): Promise<void> {
  const admin = { name: 'admin', groups: ['system:masters'] };
  const path = '/apis/certificates.k8s.io/v1/clustertrustbundles';
  const body = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'ClusterTrustBundle',
    metadata: { name },
    spec: { signerName: signer, trustBundle: pem },
  };
  const read = await cluster.requestAs(admin, 'GET', `${path}/${name}`);
  const r =
    read.code === 404
      ? await cluster.requestAs(admin, 'POST', path, body)
      : await cluster.requestAs(admin, 'PUT', `${path}/${name}`, { ...body, metadata: JSON.parse(read.body).metadata });
  if (r.code >= 300) throw new Error(`ClusterTrustBundle ${name}: ${r.code} ${r.body}`);
}

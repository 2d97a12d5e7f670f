// The requester's side of "Manage TLS Certificates in a Cluster" in one call: a key and a CSR (or a CSR made
// elsewhere, e.g. by cfssl), the CertificateSigningRequest object, then optionally waiting until it is issued
// (Denied or Failed end it with their reason) and saving the certificate.
import { constants, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  type ClusterContext,
  createCsr,
  csrCondition,
  getCsr,
  hasCondition,
  type KubeError,
  type KubeResult,
  waitForCsr,
} from '../kube/index.js';
import { decodeCsr, generateKeyAndCsr, type KeyAlgorithmName } from '../pki/index.js';
import { makePrivateDir } from '../config/paths.js';
import { FileExistsError, writeFileSafely } from '../export/index.js';
import { type ActionContextOptions, auditedWrites, auditSink } from './audit-helpers.js';

/** What a request writes, read back by the reconciliation: the CSR with that request for that signer. */
const CSR_FIELDS = ['spec.request', 'spec.signerName'];

export interface RequestCertificateOptions extends ActionContextOptions {
  /** Subject CN (when generating). */
  cn?: string;
  /** DNS names and IPs (when generating). */
  hosts?: string[];
  organizations?: string[];
  /** @default ECDSAWithCurve256 */
  keyAlgorithm?: KeyAlgorithmName;
  /** A PKCS#10 PEM made elsewhere; then no key is generated. */
  csrPem?: string;
  signerName: string;
  /** @default per signer: client auth for kube-apiserver-client, server auth otherwise (as the document). */
  usages?: string[];
  expirationSeconds?: number;
  /** Object name; default: generateName from the CN. */
  name?: string;
  /** Where `<prefix>-key.pem`, `<prefix>.csr` and `<prefix>.crt` go. */
  outDir: string;
  /** @default 'server' (the document's file names) */
  filePrefix?: string;
  /** Wait for the certificate. */
  wait?: boolean;
  /** @default 300000 */
  timeoutMs?: number;
  /** Make the key and CSR files and return the object without creating it (kubectl's --dry-run=client). */
  dryRun?: boolean;
  /** Called once the CSR object exists (e.g. to print its name before waiting). */
  onCreated?: (csr: V1CertificateSigningRequest) => void;
  /** Replace an existing `<prefix>.csr` / `<prefix>.crt` (the key is never replaced). */
  force?: boolean;
}

export interface RequestCertificateResult {
  csr: V1CertificateSigningRequest;
  name: string;
  keyFile?: string;
  csrFile?: string;
  /** Set when the certificate was issued and saved. */
  certificateFile?: string;
}

/** The usages the document asks for: server certificates, or client ones for kube-apiserver-client signers. */
export function defaultUsages(signerName: string): string[] {
  if (
    signerName === 'kubernetes.io/kube-apiserver-client' ||
    signerName === 'kubernetes.io/kube-apiserver-client-kubelet'
  )
    return ['digital signature', 'key encipherment', 'client auth'];
  return ['digital signature', 'key encipherment', 'server auth'];
}

function keySpec(name: KeyAlgorithmName): { algo: 'rsa' | 'ecdsa'; size: number } {
  const m = /^(RSAWithSize|ECDSAWithCurve)(\d+)$/.exec(name);
  return { algo: m?.[1] === 'RSAWithSize' ? 'rsa' : 'ecdsa', size: Number(m?.[2] ?? 256) };
}

/** A DNS-1123-ish prefix for generateName from a CN. */
export function generateNameFrom(cn: string | undefined): string {
  const base = (cn ?? 'csr')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 50);
  return `${base || 'csr'}-`;
}

function refusal(message: string, reason: string, context: string): KubeError {
  return { kind: 'refused', message, reason, context };
}

function localError(message: string, context: string): KubeError {
  return { kind: 'unknown', message, context };
}

async function writeNew(path: string, data: string, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function requestCertificate(
  ctx: ClusterContext,
  options: RequestCertificateOptions,
): Promise<KubeResult<RequestCertificateResult>> {
  const prefix = options.filePrefix ?? 'server';
  const keyFile = join(options.outDir, `${prefix}-key.pem`);
  const csrFile = join(options.outDir, `${prefix}.csr`);
  const certFile = join(options.outDir, `${prefix}.crt`);
  let csrPem = options.csrPem;
  let cn = options.cn;
  const written: { keyFile?: string; csrFile?: string } = {};

  // Refuse before anything is made: an existing file of ours is replaced only with force (never the key).
  if (!options.force) {
    for (const file of [...(csrPem ? [] : [csrFile]), ...(options.wait ? [certFile] : [])]) {
      if (existsSync(file)) return { ok: false, error: localError(new FileExistsError(file).message, ctx.name) };
    }
  }

  if (csrPem) {
    try {
      const decoded = await decodeCsr(csrPem);
      cn ??= decoded.subject.commonName;
      if (!decoded.proofOfPossession.verified) {
        return {
          ok: false,
          error: refusal(
            'The CSR file’s self-signature does not verify; make it again with its key.',
            'BadRequest',
            ctx.name,
          ),
        };
      }
    } catch (err) {
      return {
        ok: false,
        error: refusal(`The CSR file cannot be read: ${(err as Error).message}`, 'BadRequest', ctx.name),
      };
    }
  } else {
    if (!options.cn && !options.hosts?.length) {
      return {
        ok: false,
        error: refusal('Give --cn and/or --host (or --csr FILE) for the request.', 'NoSubject', ctx.name),
      };
    }
    try {
      makePrivateDir(options.outDir); // it holds the key: 0700 whatever the umask
      const made = await generateKeyAndCsr({
        cn: options.cn ?? '',
        hosts: options.hosts ?? [],
        ...(options.organizations?.length ? { names: options.organizations.map((O) => ({ O })) } : {}),
        key: keySpec(options.keyAlgorithm ?? 'ECDSAWithCurve256'),
      });
      csrPem = made.csrPem;
      await writeNew(keyFile, made.keyPem, 0o600);
      written.keyFile = keyFile;
      await writeFileSafely(csrFile, made.csrPem, 0o644, options.force);
      written.csrFile = csrFile;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const message =
        e.code === 'EEXIST'
          ? `${keyFile} already exists; a key is never overwritten: pick another --out-dir or --file-prefix.`
          : `Could not make the key and CSR in ${options.outDir}: ${e.message}`;
      return { ok: false, error: localError(message, ctx.name) };
    }
  }

  const body: V1CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: options.name ? { name: options.name } : { generateName: generateNameFrom(cn) },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: options.signerName,
      usages: options.usages?.length ? options.usages : defaultUsages(options.signerName),
      ...(options.expirationSeconds !== undefined ? { expirationSeconds: options.expirationSeconds } : {}),
    },
  };
  if (options.dryRun) return { ok: true, value: { csr: body, name: options.name ?? '', ...written } };
  const entry = { context: ctx.name, action: 'request' as const, signer: options.signerName };
  const { onWrite } = auditedWrites(
    auditSink(options),
    { ...entry, ...(options.name ? { csrName: options.name } : {}) },
    body,
    CSR_FIELDS,
  );
  const created = await createCsr(ctx, body, { onWrite });
  if (!created.ok) return created;
  const name = created.value.metadata?.name ?? options.name ?? '';
  options.onCreated?.(created.value);
  const result: RequestCertificateResult = { csr: created.value, name, ...written };
  if (!options.wait) return { ok: true, value: result };

  const timeoutMs = options.timeoutMs ?? 300_000;
  const done = (c: V1CertificateSigningRequest) =>
    !!c.status?.certificate || hasCondition(c, 'Denied') || hasCondition(c, 'Failed');
  const waited = await waitForCsr(ctx, name, done, { timeoutMs });
  let csr: V1CertificateSigningRequest;
  if (waited.ok) csr = waited.value;
  else {
    if (waited.error.kind !== 'timeout') return waited;
    const now = await getCsr(ctx, name);
    const state = now.ok ? csrCondition(now.value) : 'unknown';
    return {
      ok: false,
      error: {
        kind: 'timeout',
        message: `CSR "${name}" was not issued within ${Math.round(timeoutMs / 1000)}s (it is ${state}); ${
          state.startsWith('Approved') ? 'its signer has not signed it yet' : 'ask an approver to approve it'
        }, or wait longer with --timeout.`,
        context: ctx.name,
      },
    };
  }
  for (const type of ['Denied', 'Failed'] as const) {
    const c = (csr.status?.conditions ?? []).find((x) => x.type === type);
    if (c) {
      const why = [c.reason, c.message].filter(Boolean).join(': ');
      return {
        ok: false,
        error: refusal(
          `CSR "${name}" was ${type === 'Denied' ? 'denied' : 'marked Failed'}${why ? ` (${why})` : ''}.`,
          type,
          ctx.name,
        ),
      };
    }
  }
  const pem = Buffer.from(csr.status?.certificate ?? '', 'base64').toString('utf8');
  try {
    await writeFileSafely(certFile, pem, 0o644, options.force);
  } catch (err) {
    return {
      ok: false,
      error: localError(`Could not save the certificate to ${certFile}: ${(err as Error).message}`, ctx.name),
    };
  }
  return { ok: true, value: { ...result, csr, certificateFile: certFile } };
}

// Test helpers for the scenario and cluster-signer tests: polling with a deadline, temp dirs, openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificatesV1Api, V1CertificateSigningRequest } from '@kubernetes/client-node';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 8000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs openssl with the PEM written to a temp file; returns stdout. */
export function openssl(args: string[], files: Record<string, string> = {}): string {
  const dir = tempDir('certdesk-openssl-');
  try {
    const resolved = args.map((a) => (a.startsWith('@') ? join(dir.path, a.slice(1)) : a));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir.path, name), text);
    return execFileSync('openssl', resolved, { encoding: 'utf8' });
  } finally {
    dir.cleanup();
  }
}

export function condition(csr: V1CertificateSigningRequest, type: string) {
  return csr.status?.conditions?.find((c) => c.type === type);
}

/** Approves as kubectl does (through /approval). */
export async function approve(certs: CertificatesV1Api, name: string): Promise<void> {
  const csr = await certs.readCertificateSigningRequest({ name });
  csr.status = {
    ...csr.status,
    conditions: [
      ...(csr.status?.conditions ?? []),
      {
        type: 'Approved',
        status: 'True',
        reason: 'KubectlApprove',
        message: 'This CSR was approved by kubectl certificate approve.',
        lastUpdateTime: new Date(),
      },
    ],
  };
  await certs.replaceCertificateSigningRequestApproval({ name, body: csr });
}

export async function deny(certs: CertificatesV1Api, name: string): Promise<void> {
  const csr = await certs.readCertificateSigningRequest({ name });
  csr.status = {
    ...csr.status,
    conditions: [
      ...(csr.status?.conditions ?? []),
      {
        type: 'Denied',
        status: 'True',
        reason: 'KubectlDeny',
        message: 'This CSR was denied by kubectl certificate deny.',
        lastUpdateTime: new Date(),
      },
    ],
  };
  await certs.replaceCertificateSigningRequestApproval({ name, body: csr });
}

export function csrBody(
  name: string,
  csrPem: string,
  signerName: string,
  usages: string[],
  expirationSeconds?: number,
): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName, usages, expirationSeconds },
  };
}

// Helpers for the kube integration tests: CSR and certificate PEMs made by openssl, a deadline-bound waitFor,
// and a batch recorder that counts how often each key was announced.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { ClusterStore, StoreBatch, StoreKind } from '../../../src/services/kube/index.js';

/** A PKCS#10 request (PEM) with a fresh P-256 key, made by openssl. */
export function makeCsrPem(commonName: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kube-test-csr-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'csr.pem'),
        '-subj',
        `/CN=${commonName}`,
      ],
      { stdio: 'pipe' },
    );
    return readFileSync(join(dir, 'csr.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed certificate (PEM), good enough for status.certificate validation. */
export function makeCertPem(commonName: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kube-test-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        `/CN=${commonName}`,
      ],
      { stdio: 'pipe' },
    );
    return readFileSync(join(dir, 'cert.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** openssl's view of a PEM certificate's subject. */
export function opensslSubject(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-subject'], { input: pem }).toString().trim();
}

let counter = 0;
let sharedCsr: string | undefined;

/** A CSR body for the API (one openssl key reused across calls: the tests only need valid requests). */
export function csrBody(name: string, signerName = 'example.com/test'): V1CertificateSigningRequest {
  sharedCsr ??= makeCsrPem('kube-test');
  return {
    metadata: { name },
    spec: {
      request: Buffer.from(sharedCsr).toString('base64'),
      signerName,
      usages: ['digital signature', 'client auth'],
    },
  };
}

export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Polls `check` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records batches of a store: per context and kind, how many times each key was upserted / deleted. */
export class BatchRecorder {
  readonly upserts = new Map<string, number>();
  readonly deletes = new Map<string, number>();
  readonly batches: StoreBatch[] = [];
  readonly unsubscribe: () => void;

  constructor(store: ClusterStore) {
    this.unsubscribe = store.subscribe((batch) => {
      this.batches.push(batch);
      for (const change of batch.changes) {
        for (const [kind, keys] of Object.entries(change.upserted)) {
          for (const key of keys ?? []) this.bump(this.upserts, change.context, kind as StoreKind, key);
        }
        for (const [kind, keys] of Object.entries(change.deleted)) {
          for (const key of keys ?? []) this.bump(this.deletes, change.context, kind as StoreKind, key);
        }
      }
    });
  }

  private bump(map: Map<string, number>, context: string, kind: StoreKind, key: string) {
    const k = `${context}|${kind}|${key}`;
    map.set(k, (map.get(k) ?? 0) + 1);
  }

  upsertCount(context: string, kind: StoreKind, key: string): number {
    return this.upserts.get(`${context}|${kind}|${key}`) ?? 0;
  }

  deleteCount(context: string, kind: StoreKind, key: string): number {
    return this.deletes.get(`${context}|${kind}|${key}`) ?? 0;
  }
}

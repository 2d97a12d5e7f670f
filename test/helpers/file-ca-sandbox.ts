// One sandbox cluster (east) with its context, a temp directory holding CERTDESK_STATE_DIR (so the audit log is the
// test's own) and a file CA (ECDSA P-256, key 0600): made before a test file's tests, removed after them, with
// CERTDESK_STATE_DIR put back. Read the fields inside tests (they are set in the `before` hook).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { AuditEntry } from '../../src/services/config/audit.js';
import { type ClusterContext, loadContexts } from '../../src/services/kube/index.js';
import { createCa } from '../../src/services/pki/index.js';
import type { SandboxCluster } from '../../src/services/sandbox/index.js';
import { type Sandbox, startTestSandbox } from './sandbox.js';

export interface FileCaSandbox {
  sandbox: Sandbox;
  cluster: SandboxCluster;
  ctx: ClusterContext;
  dir: string;
  caCert: string;
  caKey: string;
  /** The kubeconfig options of a headless command acting on east. */
  kube(): { kubeconfig: string; context: string[] };
  /** Every entry of the audit log so far (CERTDESK_STATE_DIR/audit.jsonl). */
  audit(): AuditEntry[];
}

export function fileCaSandbox(name: string): FileCaSandbox {
  const f = {
    kube: () => ({ kubeconfig: f.sandbox.kubeconfigPath, context: ['east'] }),
    audit: () =>
      readFileSync(join(f.dir, 'state', 'audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEntry),
  } as FileCaSandbox;
  const savedStateDir = process.env.CERTDESK_STATE_DIR;
  before(async () => {
    f.sandbox = await startTestSandbox(undefined);
    f.cluster = f.sandbox.cluster('east');
    [f.ctx] = loadContexts({ kubeconfig: f.sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
    f.dir = mkdtempSync(join(tmpdir(), `certdesk-${name}-`));
    process.env.CERTDESK_STATE_DIR = join(f.dir, 'state');
    const made = await createCa({ cn: `${name} test CA`, keyAlgorithm: 'ECDSAWithCurve256' });
    f.caCert = join(f.dir, 'ca.crt');
    f.caKey = join(f.dir, 'ca.key');
    writeFileSync(f.caCert, made.certPem);
    writeFileSync(f.caKey, made.keyPem, { mode: 0o600 });
  });
  after(async () => {
    await f.sandbox?.stop();
    if (savedStateDir === undefined) delete process.env.CERTDESK_STATE_DIR;
    else process.env.CERTDESK_STATE_DIR = savedStateDir;
    if (f.dir) rmSync(f.dir, { recursive: true, force: true });
  });
  return f;
}

// The shared actions against a sandbox over HTTPS: request → approve → sign → exports, refusals, Failed marking,
// and the audit lines each writes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  approveWithAudit,
  buildKubeconfigForCsr,
  denyWithAudit,
  exportCaConfigMap,
  exportFiles,
  exportTlsSecret,
  requestCertificate,
  signCsr,
} from '../../../src/services/actions/index.js';
import type { AuditInput } from '../../../src/services/config/audit.js';
import { type ClusterContext, loadContexts } from '../../../src/services/kube/index.js';
import { createCa, type LoadedCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';

const SIGNER = 'example.com/serving';
let sandbox: Sandbox;
let ctx: ClusterContext;
let viewer: ClusterContext;
let ca: LoadedCa;
let caPem = '';
let dir = '';
const entries: AuditInput[] = [];
const audit = async (e: AuditInput) => {
  entries.push(e);
};

before(async () => {
  sandbox = await startSandbox({ clusters: ['east'], builtinSigners: false });
  [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  [viewer] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east-viewer'] }) as [ClusterContext];
  const made = await createCa({ cn: 'My Example Signer', keyAlgorithm: 'RSAWithSize2048' });
  caPem = made.certPem;
  ca = await loadCaFromPem(made.certPem, made.keyPem);
  dir = mkdtempSync(join(tmpdir(), 'certdesk-actions-'));
});

after(async () => {
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('request → approve → sign → export secret, configmap and files', async () => {
  const out = join(dir, 'flow');
  const req = await requestCertificate(ctx, {
    cn: 'my-pod.my-namespace.pod.cluster.local',
    hosts: ['my-svc.my-namespace.svc.cluster.local', '192.0.2.24'],
    signerName: SIGNER,
    name: 'my-svc.my-namespace',
    outDir: out,
  });
  assert.ok(req.ok, !req.ok ? req.error.message : '');
  assert.equal(statSync(join(out, 'server-key.pem')).mode & 0o777, 0o600);

  const unapproved = await signCsr(ctx, 'my-svc.my-namespace', { ca, audit });
  assert.ok(!unapproved.ok && unapproved.error.reason === 'NotApproved');

  const approved = await approveWithAudit(ctx, 'my-svc.my-namespace', { audit });
  assert.ok(approved.ok && approved.value.changed);

  const signed = await signCsr(ctx, 'my-svc.my-namespace', { ca, signerName: SIGNER, audit });
  assert.ok(signed.ok, !signed.ok ? signed.error.message : '');
  assert.equal(signed.value.kind, 'issued');
  const signEntry = entries.find((e) => e.action === 'sign' && e.outcome === 'ok');
  assert.ok(signEntry?.serial && signEntry.sha256Fingerprint && signEntry.csrUid);

  const again = await signCsr(ctx, 'my-svc.my-namespace', { ca, audit });
  assert.ok(!again.ok && again.error.reason === 'AlreadyIssued');
  const denied = await denyWithAudit(ctx, 'my-svc.my-namespace', { audit });
  assert.ok(!denied.ok);

  const keyPem = readFileSync(join(out, 'server-key.pem'), 'utf8');
  const secret = await exportTlsSecret(ctx, {
    name: 'server',
    namespace: 'default',
    csrName: 'my-svc.my-namespace',
    keyPem,
    audit,
  });
  assert.ok(secret.ok, !secret.ok ? secret.error.message : '');
  const cm = await exportCaConfigMap(ctx, {
    name: 'example-serving-ca',
    namespace: 'default',
    caPem,
    audit,
    signer: SIGNER,
  });
  assert.ok(cm.ok, !cm.ok ? cm.error.message : '');
  const core = ctx.kubeConfig.makeApiClient(CoreV1Api);
  const s = await core.readNamespacedSecret({ name: 'server', namespace: 'default' });
  assert.equal(s.type, 'kubernetes.io/tls');
  const c = await core.readNamespacedConfigMap({ name: 'example-serving-ca', namespace: 'default' });
  assert.equal(c.data?.['ca.crt'], caPem);

  const again2 = await exportTlsSecret(ctx, {
    name: 'server',
    namespace: 'default',
    csrName: 'my-svc.my-namespace',
    keyPem,
    audit,
  });
  assert.ok(!again2.ok && again2.error.kind === 'already-exists');

  const files = await exportFiles(ctx, { csrName: 'my-svc.my-namespace', outDir: join(dir, 'files'), caPem, audit });
  assert.ok(files.ok);
  const verify = execFileSync(
    'openssl',
    ['verify', '-CAfile', join(dir, 'files', 'ca.crt'), join(dir, 'files', 'server.crt')],
    {
      encoding: 'utf8',
    },
  );
  assert.match(verify, /OK/);

  const wrongKey = join(dir, 'other.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', wrongKey]);
  const mismatch = await exportTlsSecret(ctx, {
    name: 'server2',
    namespace: 'default',
    csrName: 'my-svc.my-namespace',
    keyPem: readFileSync(wrongKey, 'utf8'),
    audit,
  });
  assert.ok(!mismatch.ok && /does not match/.test(mismatch.error.message));
  assert.ok(entries.some((e) => e.action === 'export-secret' && e.outcome === 'refused'));
});

test('a kube-apiserver-client request for server auth is marked Failed', async () => {
  const req = await requestCertificate(ctx, {
    cn: 'bob',
    signerName: 'kubernetes.io/kube-apiserver-client',
    usages: ['digital signature', 'server auth'],
    name: 'bob-bad',
    outDir: join(dir, 'bob'),
  });
  assert.ok(req.ok);
  // The signer's rules are a failing finding: approving it needs the override (docs/safety.md).
  const refused = await approveWithAudit(ctx, 'bob-bad', { audit });
  assert.ok(!refused.ok && refused.error.reason === 'FindingsFail');
  assert.ok((await approveWithAudit(ctx, 'bob-bad', { audit, overrides: ['requestor-subject', 'signer-rules'] })).ok);
  const signed = await signCsr(ctx, 'bob-bad', { ca, audit });
  assert.ok(signed.ok);
  assert.equal(signed.value.kind, 'marked-failed');
  assert.match(
    signed.value.kind === 'marked-failed' ? signed.value.message : '',
    /invalid usage for client certificate: server auth/,
  );
  const failedCond = signed.value.csr.status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(failedCond?.reason, 'SignerValidationFailure');
  const again = await signCsr(ctx, 'bob-bad', { ca, audit });
  assert.ok(!again.ok && again.error.reason === 'Failed');
});

test('refusals: unknown CSR, forbidden viewer, wrong signer, expired CA', async () => {
  const unknown = await signCsr(ctx, 'nope', { ca, audit });
  assert.equal(unknown.ok ? 'ok' : unknown.error.kind, 'not-found');
  const req = await requestCertificate(ctx, { cn: 'x', signerName: SIGNER, name: 'x1', outDir: join(dir, 'x1') });
  assert.ok(req.ok);
  const forbidden = await approveWithAudit(viewer, 'x1', { audit });
  assert.equal(forbidden.ok ? 'ok' : forbidden.error.kind, 'forbidden', JSON.stringify(forbidden));
  assert.match(forbidden.ok ? '' : forbidden.error.message, /viewer|forbidden|not permitted|cannot/i);
  assert.ok((await approveWithAudit(ctx, 'x1', { audit })).ok);
  const wrong = await signCsr(ctx, 'x1', { ca, signerName: 'example.com/other', audit });
  assert.equal(wrong.ok ? 'ok' : wrong.error.reason, 'WrongSigner');
  const later = new Date(Date.now() + 6 * 365 * 86400_000);
  const expired = await signCsr(ctx, 'x1', { ca, audit, now: later });
  assert.equal(expired.ok ? 'ok' : expired.error.reason, 'CaExpired');
});

test('request --wait reports a denial with its reason; kubeconfig needs an issued certificate', async () => {
  const pending = requestCertificate(ctx, {
    cn: 'carol',
    signerName: SIGNER,
    name: 'carol',
    outDir: join(dir, 'carol'),
    wait: true,
    timeoutMs: 10_000,
  });
  // Deny as soon as the CSR exists.
  const deadline = Date.now() + 5000;
  let denied = false;
  while (!denied && Date.now() < deadline) {
    const r = await denyWithAudit(ctx, 'carol', { audit, reason: 'NotOurs', message: 'carol is not on the team' });
    denied = r.ok;
    if (!denied) await new Promise((r2) => setTimeout(r2, 50));
  }
  const result = await pending;
  assert.ok(!result.ok);
  assert.match(result.error.message, /denied \(NotOurs: carol is not on the team\)/);

  writeFileSync(join(dir, 'k.pem'), readFileSync(join(dir, 'carol', 'server-key.pem')));
  const kc = await buildKubeconfigForCsr(ctx, {
    csrName: 'carol',
    keyPem: readFileSync(join(dir, 'k.pem'), 'utf8'),
    audit,
  });
  assert.ok(!kc.ok && kc.error.reason === 'NotIssued');
});

test('request with dryRun writes key and CSR and creates nothing', async () => {
  const out = join(dir, 'dry');
  const r = await requestCertificate(ctx, {
    cn: 'dry.example',
    signerName: SIGNER,
    name: 'dry-1',
    outDir: out,
    dryRun: true,
  });
  assert.ok(r.ok);
  assert.equal(r.value.csr.spec?.signerName, SIGNER);
  assert.match(Buffer.from(r.value.csr.spec?.request ?? '', 'base64').toString(), /BEGIN CERTIFICATE REQUEST/);
  assert.equal(statSync(join(out, 'server-key.pem')).mode & 0o777, 0o600);
  const signed = await signCsr(ctx, 'dry-1', { ca, audit });
  assert.equal(signed.ok ? 'ok' : signed.error.kind, 'not-found');
});

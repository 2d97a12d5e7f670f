// docs/safety.md for the writes that are not CSR decisions, over HTTPS against a sandbox: `export secret`,
// `export ca-configmap` and `request` write an audit intent naming the object (for an update the uid and
// resourceVersion it replaces, and the SHA-256 of what will be written) before the API write and the outcome after;
// an intent left open is reconciled by reading the object back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  approveWithAudit,
  exportCaConfigMap,
  exportTlsSecret,
  requestCertificate,
  signCsr,
} from '../../../src/services/actions/index.js';
import { fieldsSha256 } from '../../../src/services/actions/audit-helpers.js';
import { reconcileAudit } from '../../../src/services/actions/reconcile.js';
import { type AuditEntry, type AuditInput, appendAudit, readAudit } from '../../../src/services/config/audit.js';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { type ClusterContext, loadContexts } from '../../../src/services/kube/index.js';
import { createCa, decodeCertificate, type LoadedCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

const SIGNER = 'example.com/serving';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const SECRETS = '/api/v1/namespaces/default/secrets';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
let sandbox: Sandbox;
let cluster: SandboxCluster;
let ctx: ClusterContext;
let ca: LoadedCa;
let caPem = '';
let dir = '';

before(async () => {
  sandbox = await startTestSandbox(undefined);
  cluster = sandbox.cluster('east');
  [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  const made = await createCa({ cn: 'Audit Test CA', keyAlgorithm: 'ECDSAWithCurve256' });
  caPem = made.certPem;
  ca = await loadCaFromPem(made.certPem, made.keyPem);
  dir = mkdtempSync(join(tmpdir(), 'certdesk-audit-writes-'));
});

after(async () => {
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const quiet = async () => {};

/** An issued CSR and its key (PEM). */
async function issued(name: string): Promise<string> {
  const { pem, key } = makeCsrPem({ commonName: `${name}.example.com`, dnsNames: [`${name}.example.com`] });
  await cluster.createAs(ADMIN, CSRS, csrObject(name, pem, SIGNER));
  assert.ok((await approveWithAudit(ctx, name, { audit: quiet })).ok);
  const signed = await signCsr(ctx, name, { ca, signerName: SIGNER, audit: quiet });
  assert.ok(signed.ok, signed.ok ? '' : signed.error.message);
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function read(path: string): Promise<Record<string, unknown> | undefined> {
  const r = await cluster.requestAs(ADMIN, 'GET', path);
  return r.code === 404 ? undefined : (JSON.parse(r.body) as Record<string, unknown>);
}

const metaOf = (o: Record<string, unknown> | undefined) =>
  (o?.metadata ?? {}) as { uid?: string; resourceVersion?: string; name?: string };

/** A sink that keeps the lines, and for each intent whether its object existed when the intent was written. */
function recorder() {
  const lines: AuditInput[] = [];
  const existedAtIntent: boolean[] = [];
  return {
    lines,
    existedAtIntent,
    audit: async (entry: AuditInput) => {
      lines.push(entry);
      if (entry.phase === 'intent' && entry.target?.name) existedAtIntent.push(!!(await read(entry.target.path)));
    },
  };
}

test('export secret: the intent names the Secret and what will be written before it exists; the outcome follows', async () => {
  const keyPem = await issued('web');
  const r = recorder();
  const done = await exportTlsSecret(ctx, { name: 'web-tls', namespace: 'default', csrName: 'web', keyPem, ...r });
  assert.ok(done.ok, done.ok ? '' : done.error.message);
  assert.deepEqual(
    r.lines.map((l) => [l.phase, l.outcome]),
    [
      ['intent', undefined],
      ['outcome', 'ok'],
    ],
  );
  assert.deepEqual(r.existedAtIntent, [false], 'the intent is written before the Secret exists');
  const [intent, outcome] = r.lines as [AuditInput, AuditInput];
  assert.equal(intent.id, outcome.id);
  assert.equal(intent.action, 'export-secret');
  assert.equal(intent.csrName, 'web');
  const t = intent.target;
  assert.ok(t);
  assert.deepEqual(
    { kind: t.kind, namespace: t.namespace, name: t.name, path: t.path, fields: t.fields, uid: t.uid },
    {
      kind: 'Secret',
      namespace: 'default',
      name: 'web-tls',
      path: `${SECRETS}/web-tls`,
      fields: ['type', 'data'],
      uid: undefined,
    },
  );
  const written = await read(`${SECRETS}/web-tls`);
  assert.equal(fieldsSha256(written, t.fields), t.sha256, 'the Secret holds what the intent said');
  const cert = await decodeCertificate(
    Buffer.from(((written?.data ?? {}) as Record<string, string>)['tls.crt'] ?? '', 'base64').toString(),
  );
  assert.equal(intent.sha256Fingerprint, cert.sha256Fingerprint);
  assert.match(outcome.detail ?? '', new RegExp(`^secret default/web-tls created \\(uid ${metaOf(written).uid}\\)$`));

  // Without --overwrite an existing Secret is refused: the create was tried, so it has its intent and outcome.
  const r2 = recorder();
  const refused = await exportTlsSecret(ctx, { name: 'web-tls', namespace: 'default', csrName: 'web', keyPem, ...r2 });
  assert.ok(!refused.ok && refused.error.kind === 'already-exists');
  assert.deepEqual(
    r2.lines.map((l) => [l.phase, l.outcome]),
    [
      ['intent', undefined],
      ['outcome', 'refused'],
    ],
  );
});

test('export secret --overwrite: the PUT names the uid and resourceVersion replaced; a Secret swapped in between is decided again', async () => {
  const keyPem = await issued('api');
  assert.ok(
    (await exportTlsSecret(ctx, { name: 'api-tls', namespace: 'default', csrName: 'api', keyPem, audit: quiet })).ok,
  );
  const before = metaOf(await read(`${SECRETS}/api-tls`));
  // Just before the PUT, someone deletes the Secret and makes another under its name.
  let swappedUid = '';
  cluster.api.beforeServe.push(async (req) => {
    if (req.method !== 'PUT' || req.resource !== 'secrets' || req.name !== 'api-tls') return false;
    await cluster.requestAs(ADMIN, 'DELETE', `${SECRETS}/api-tls`);
    const other = await cluster.createAs(ADMIN, SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-tls' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'b3RoZXI=', 'tls.key': 'b3RoZXI=' },
    });
    swappedUid = other.metadata.uid ?? '';
    return true;
  });
  const r = recorder();
  const replaced = await exportTlsSecret(ctx, {
    name: 'api-tls',
    namespace: 'default',
    csrName: 'api',
    keyPem,
    overwrite: true,
    ...r,
  });
  assert.ok(replaced.ok && replaced.value.action === 'updated', replaced.ok ? '' : replaced.error.message);
  const intents = r.lines.filter((l) => l.phase === 'intent');
  const outcomes = r.lines.filter((l) => l.phase === 'outcome');
  assert.equal(intents.length, 2, 'one intent per PUT');
  assert.deepEqual(
    [intents[0]?.target?.uid, intents[0]?.target?.resourceVersion],
    [before.uid, before.resourceVersion],
  );
  assert.equal(outcomes[0]?.outcome, 'error');
  assert.match(outcomes[0]?.detail ?? '', /changed while certdesk was writing it/);
  assert.ok(swappedUid && swappedUid !== before.uid);
  assert.equal(intents[1]?.target?.uid, swappedUid, 'the second PUT names the object read again');
  assert.equal(outcomes[1]?.outcome, 'ok');
  assert.match(outcomes[1]?.detail ?? '', /^secret default\/api-tls updated/);
  const now = await read(`${SECRETS}/api-tls`);
  assert.equal(metaOf(now).uid, swappedUid);
  assert.equal(fieldsSha256(now, ['type', 'data']), intents[1]?.target?.sha256);
});

test('export ca-configmap: intent before (create, then update naming what it replaces), outcome after', async () => {
  const r = recorder();
  const created = await exportCaConfigMap(ctx, {
    name: 'serving-ca',
    namespace: 'default',
    caPem,
    signer: SIGNER,
    ...r,
  });
  assert.ok(created.ok);
  const updated = await exportCaConfigMap(ctx, {
    name: 'serving-ca',
    namespace: 'default',
    caPem,
    key: 'other.crt',
    overwrite: true,
    ...r,
  });
  assert.ok(updated.ok && updated.value.action === 'updated');
  assert.deepEqual(r.existedAtIntent, [false, true]);
  const [i1, o1, i2, o2] = r.lines;
  assert.deepEqual([i1?.phase, o1?.outcome, i2?.phase, o2?.outcome], ['intent', 'ok', 'intent', 'ok']);
  assert.equal(i1?.target?.path, `${CONFIGMAPS}/serving-ca`);
  assert.equal(i1?.target?.uid, undefined);
  assert.equal(i2?.target?.uid, metaOf(created.ok ? (created.value.object as Record<string, unknown>) : undefined).uid);
  assert.ok(i2?.target?.resourceVersion);
  assert.notEqual(i1?.target?.sha256, i2?.target?.sha256, 'another key is other content');
  const now = await read(`${CONFIGMAPS}/serving-ca`);
  assert.equal(fieldsSha256(now, i2?.target?.fields ?? []), i2?.target?.sha256);
  assert.equal(i1?.sha256Fingerprint, (await decodeCertificate(caPem)).sha256Fingerprint);
});

test('request: the intent names the CSR (or the generateName) and its request before it exists; the outcome names the CSR', async () => {
  const r = recorder();
  const named = await requestCertificate(ctx, {
    cn: 'named.example.com',
    signerName: SIGNER,
    name: 'named',
    outDir: join(dir, 'named'),
    ...r,
  });
  assert.ok(named.ok, named.ok ? '' : named.error.message);
  const generated = await requestCertificate(ctx, {
    cn: 'gen.example.com',
    signerName: SIGNER,
    outDir: join(dir, 'gen'),
    ...r,
  });
  assert.ok(generated.ok);
  assert.deepEqual(r.existedAtIntent, [false], 'the named CSR did not exist at its intent');
  const [i1, o1, i2, o2] = r.lines;
  assert.deepEqual(
    [i1?.action, i1?.csrName, i1?.target?.kind, i1?.target?.path, i1?.target?.fields],
    ['request', 'named', 'CertificateSigningRequest', `${CSRS}/named`, ['spec.request', 'spec.signerName']],
  );
  assert.equal(fieldsSha256(await read(`${CSRS}/named`), i1?.target?.fields ?? []), i1?.target?.sha256);
  assert.deepEqual([o1?.outcome, o1?.csrName, o1?.csrUid], ['ok', 'named', named.value.csr.metadata?.uid]);
  assert.deepEqual(
    [i2?.csrName, i2?.target?.name, i2?.target?.generateName, i2?.target?.path],
    [undefined, undefined, 'gen.example.com-', CSRS],
  );
  assert.deepEqual([o2?.outcome, o2?.csrName], ['ok', generated.value.name]);
});

test('reconcile: an export or request intent left open is settled by reading its object back', async () => {
  const file = join(dir, 'reconcile.jsonl');
  // Killed after the write: the intent is on disk, the outcome never came.
  const noOutcome = async (e: AuditInput) => {
    if (e.phase !== 'outcome') await appendAudit(e, file);
  };
  // Killed before the write: the intent is on disk, then nothing.
  const crash = async (e: AuditInput) => {
    await appendAudit(e, file);
    if (e.phase === 'intent') throw new Error('killed');
  };
  const keyPem = await issued('rec');
  assert.ok(
    (await exportTlsSecret(ctx, { name: 'rec-tls', namespace: 'default', csrName: 'rec', keyPem, audit: noOutcome }))
      .ok,
  );
  await assert.rejects(
    exportTlsSecret(ctx, { name: 'rec-tls-2', namespace: 'default', csrName: 'rec', keyPem, audit: crash }),
  );
  assert.ok((await exportCaConfigMap(ctx, { name: 'rec-ca', namespace: 'default', caPem, audit: quiet })).ok);
  assert.ok(
    (
      await exportCaConfigMap(ctx, {
        name: 'rec-ca',
        namespace: 'default',
        caPem,
        key: 'x.crt',
        overwrite: true,
        audit: noOutcome,
      })
    ).ok,
  );
  assert.ok(
    (
      await requestCertificate(ctx, {
        cn: 'rec-gen.example.com',
        signerName: SIGNER,
        outDir: join(dir, 'rg'),
        audit: noOutcome,
      })
    ).ok,
  );
  await assert.rejects(
    requestCertificate(ctx, {
      cn: 'rec-named.example.com',
      signerName: SIGNER,
      name: 'rec-named',
      outDir: join(dir, 'rn'),
      audit: crash,
    }),
  );
  assert.equal(await read(`${SECRETS}/rec-tls-2`), undefined);
  assert.equal(await read(`${CSRS}/rec-named`), undefined);

  const said = await reconcileAudit((name) => (name === 'east' ? ctx : undefined), { file });
  assert.deepEqual(
    said.map((s) => s.replace(/ in east from \S+/, '')),
    [
      'reconciled on start: export-secret of Secret default/rec-tls was done',
      'reconciled on start: export-secret of Secret default/rec-tls-2 was not done (it does not hold what was to be written)',
      'reconciled on start: export-configmap of ConfigMap default/rec-ca was done',
      'reconciled on start: request of CertificateSigningRequest rec-gen.example.com-… was done',
      'reconciled on start: request of CertificateSigningRequest rec-named was not done (it does not hold what was to be written)',
    ],
  );
  const lines: AuditEntry[] = await readAudit({ file });
  const outcomes = lines.filter((l) => l.phase === 'outcome');
  assert.equal(outcomes.length, 5);
  assert.ok(outcomes.every((o) => o.reconciled && lines.some((i) => i.phase === 'intent' && i.id === o.id)));
  assert.deepEqual(await reconcileAudit(() => ctx, { file }), [], 'settled once');
  assert.ok(readFileSync(file, 'utf8').length > 0);
});

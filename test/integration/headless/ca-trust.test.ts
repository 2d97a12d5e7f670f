// ca-untrusted through the shared actions, over HTTPS against a sandbox: a ClusterTrustBundle of the signer that
// holds another CA stops `sign` and `sign --approve` (before anything is approved), audited; --override signs; once
// the bundle holds the CA, it signs without one. What the cluster states is read again after TRUST_TTL_MS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { approveAndSignCsr, approveWithAudit, signCsr } from '../../../src/services/actions/index.js';
import { CA_TRUST_UNREAD, CA_UNTRUSTED, caTrustFor } from '../../../src/services/actions/ca-trust.js';
import type { AuditInput } from '../../../src/services/config/audit.js';
import { type ClusterContext, loadContexts } from '../../../src/services/kube/index.js';
import { createCa, type LoadedCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { csrObject, makeCsrPem, putTrustBundle } from '../../helpers/sandbox.js';

const SIGNER = 'example.com/trusted';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
let sandbox: Sandbox;
let ca: LoadedCa;
let caPem = '';
let otherPem = '';
const entries: AuditInput[] = [];
const audit = async (e: AuditInput) => {
  entries.push(e);
};

/** A fresh context each time: what the cluster states is cached per context for a few seconds. */
const context = () => (loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext])[0];

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await sandbox.cluster('east').requestAs(ADMIN, method, path, body);
  assert.ok(r.code < 300, `${method} ${path}: ${r.code} ${r.body}`);
  return JSON.parse(r.body) as Record<string, unknown>;
}

async function submit(name: string): Promise<void> {
  const { pem } = makeCsrPem({ commonName: `${name}.example.com`, dnsNames: [`${name}.example.com`] });
  await call(
    'POST',
    '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    csrObject(name, pem, SIGNER, ['digital signature', 'server auth']),
  );
}

const bundle = (pems: string[]) =>
  putTrustBundle(sandbox.cluster('east'), SIGNER, 'example.com:trusted:live', pems.join(''));

async function state(name: string): Promise<string> {
  const csr = (await call('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)) as {
    status?: { certificate?: string; conditions?: { type: string }[] };
  };
  const types = (csr.status?.conditions ?? []).map((c) => c.type);
  return [...types, ...(csr.status?.certificate ? ['Issued'] : [])].join(',') || 'Pending';
}

before(async () => {
  sandbox = await startSandbox({ clusters: ['east'], builtinSigners: false });
  const made = await createCa({ cn: 'trusted signer CA' });
  caPem = made.certPem;
  ca = await loadCaFromPem(made.certPem, made.keyPem);
  otherPem = (await createCa({ cn: 'trusted signer CA' })).certPem;
});

after(async () => {
  await sandbox?.stop();
});

test('no statement for the signer: signs as before', async () => {
  await submit('plain');
  const ctx = context();
  const r = await approveAndSignCsr(ctx, 'plain', { ca, signerName: SIGNER, audit });
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.equal(await state('plain'), 'Approved,Issued');
});

test('a trust bundle of another CA: sign and sign --approve refuse (nothing approved), audited', async () => {
  await bundle([otherPem]);
  await submit('pending-one');
  await submit('approved-one');
  const ctx = context();
  assert.ok((await approveWithAudit(ctx, 'approved-one', { audit })).ok);

  const both = await approveAndSignCsr(ctx, 'pending-one', { ca, signerName: SIGNER, audit });
  assert.ok(!both.ok);
  assert.equal(both.error.reason, 'CaUntrusted');
  assert.match(both.error.message, /was not approved: failing findings ca-untrusted \(This CA \(CN=trusted signer CA/);
  assert.match(both.error.message, /ClusterTrustBundle example\.com:trusted:live trusts CN=trusted signer CA/);
  assert.match(both.error.message, /--override ca-untrusted$/);
  assert.equal(await state('pending-one'), 'Pending');

  const signed = await signCsr(ctx, 'approved-one', { ca, signerName: SIGNER, audit });
  assert.ok(!signed.ok);
  assert.equal(signed.error.reason, 'CaUntrusted');
  assert.equal(await state('approved-one'), 'Approved');
  const refusals = entries.filter((e) => e.outcome === 'refused' && /ca-untrusted/.test(e.detail ?? ''));
  assert.deepEqual(
    refusals.map((e) => [e.action, e.csrName]),
    [
      ['approve', 'pending-one'],
      ['sign', 'approved-one'],
    ],
  );
});

test('--override ca-untrusted signs, and the audit line names the override', async () => {
  const ctx = context();
  const r = await signCsr(ctx, 'approved-one', { ca, signerName: SIGNER, audit, overrides: [CA_UNTRUSTED] });
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.equal(await state('approved-one'), 'Approved,Issued');
  const intent = entries.find((e) => e.action === 'sign' && e.csrName === 'approved-one' && e.serial && !e.outcome);
  assert.deepEqual(intent?.overrides, [CA_UNTRUSTED]);
});

test('once the bundle holds this CA beside the other, it signs without an override', async () => {
  await bundle([otherPem, caPem]);
  // The same context keeps what it read for a few seconds; a new one reads the bundle now.
  const r = await approveAndSignCsr(context(), 'pending-one', { ca, signerName: SIGNER, audit });
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.equal(await state('pending-one'), 'Approved,Issued');
});

test('a user who may not read the bundles: a warning that the CA was not compared, never a silent pass', async () => {
  const [viewer] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east-viewer'] }) as [ClusterContext];
  const r = await caTrustFor(viewer, ca, SIGNER);
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.equal(r.value?.level, 'warn');
  assert.equal(r.value?.code, CA_TRUST_UNREAD);
  assert.match(
    r.value?.message ?? '',
    /not compared .* example\.com\/trusted: you may not read ClusterTrustBundles\.$/,
  );
});

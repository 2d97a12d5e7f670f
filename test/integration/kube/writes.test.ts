// Writes against the sandbox over HTTPS: kubectl's approval rules, racing signers, the viewer's Forbidden and
// can-i, Failed, Secrets/ConfigMaps with and without overwrite, typed 404/422, and waiting for a certificate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  applyConfigMap,
  applySecret,
  approveCsr,
  CERTDESK_APPROVE_REASON,
  CERTDESK_DENY_MESSAGE,
  type ClusterContext,
  canApprove,
  canI,
  canSign,
  createCsr,
  csrCondition,
  deleteCsr,
  denyCsr,
  getCsr,
  listCsrs,
  loadContexts,
  markFailed,
  uploadCertificate,
  waitForCsr,
} from '../../../src/services/kube/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { csrBody, makeCertPem, opensslSubject, uniqueName } from './helpers.js';

describe('kube writes (sandbox)', () => {
  let sandbox: Sandbox;
  let admin: ClusterContext;
  let admin2: ClusterContext;
  let viewer: ClusterContext;

  before(async () => {
    sandbox = await startSandbox({ clusters: ['east', 'west'], builtinSigners: false });
    [admin, viewer] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east', 'east-viewer'] }) as [
      ClusterContext,
      ClusterContext,
    ];
    // A second, independent client for the same cluster (its own KubeConfig and agent).
    [admin2] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  });

  after(async () => {
    await sandbox?.stop();
  });

  async function newCsr(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    const r = await createCsr(admin, csrBody(name));
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    return name;
  }

  it('approves with certdesk defaults, is a no-op the second time, and rewrites only with force', async () => {
    const name = await newCsr('approve');
    const first = await approveCsr(admin, name);
    assert.ok(first.ok && first.value.changed);
    const cond = first.value.csr.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(cond?.reason, CERTDESK_APPROVE_REASON);
    assert.equal(cond?.status, 'True');
    const again = await approveCsr(admin, name);
    assert.ok(again.ok && !again.value.changed);
    const forced = await approveCsr(admin, name, { force: true, reason: 'Reviewed', message: 'Checked by hand.' });
    assert.ok(forced.ok && forced.value.changed);
    const approved = forced.value.csr.status?.conditions?.filter((c) => c.type === 'Approved') ?? [];
    assert.equal(approved.length, 1);
    assert.equal(approved[0]?.reason, 'Reviewed');
    assert.equal(csrCondition(forced.value.csr), 'Approved');
  });

  it('refuses to deny an Approved CSR and to approve a Denied one', async () => {
    const approved = await newCsr('flip-a');
    assert.ok((await approveCsr(admin, approved)).ok);
    const deny = await denyCsr(admin, approved, { force: true });
    assert.ok(!deny.ok);
    assert.equal(deny.error.kind, 'refused');
    assert.equal(deny.error.reason, 'AlreadyApproved');
    assert.match(deny.error.message, /already Approved/);

    const denied = await newCsr('flip-d');
    const d = await denyCsr(admin, denied);
    assert.ok(d.ok && d.value.changed);
    assert.equal(d.value.csr.status?.conditions?.[0]?.message, CERTDESK_DENY_MESSAGE);
    const a = await approveCsr(admin, denied);
    assert.ok(!a.ok && a.error.kind === 'refused' && a.error.reason === 'AlreadyDenied');
  });

  it('clients approving and signing the same CSR at once: one certificate, a typed refusal for each loser', async () => {
    // Four independent clients (each its own KubeConfig and connection pool) race on one CSR.
    const clients = [
      admin,
      admin2,
      ...loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }),
      ...loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }),
    ];
    const name = await newCsr('race');
    const approvals = await Promise.all(clients.map((c) => approveCsr(c, name)));
    assert.ok(approvals.every((r) => r.ok));
    assert.equal(approvals.filter((r) => r.ok && r.value.changed).length, 1, 'exactly one approval was written');

    const certs = clients.map((_, i) => makeCertPem(`winner-${i}`));
    const uploads = await Promise.all(clients.map((c, i) => uploadCertificate(c, name, certs[i]!)));
    const winners = uploads.filter((r) => r.ok);
    assert.equal(winners.length, 1, 'exactly one certificate was written');
    for (const loser of uploads.filter((r) => !r.ok)) {
      assert.ok(!loser.ok);
      assert.equal(loser.error.kind, 'refused');
      assert.equal(loser.error.reason, 'AlreadyIssued');
      assert.match(loser.error.message, /already has a certificate/);
    }

    const final = await getCsr(admin, name);
    assert.ok(final.ok);
    const pem = Buffer.from(final.value.status?.certificate ?? '', 'base64').toString('utf8');
    const winnerIndex = uploads.findIndex((r) => r.ok);
    assert.match(opensslSubject(pem), new RegExp(`winner-${winnerIndex}`));
    assert.equal(csrCondition(final.value), 'Approved,Issued');
  });

  it('refuses to sign a CSR that is not approved, and marks Failed once', async () => {
    const name = await newCsr('unapproved');
    const up = await uploadCertificate(admin, name, makeCertPem('x'));
    assert.ok(!up.ok && up.error.kind === 'refused' && up.error.reason === 'NotApproved');
    const failed = await markFailed(admin, name, 'SignerValidationFailure', 'invalid usage for client certificate');
    assert.ok(failed.ok && failed.value.changed);
    assert.equal(csrCondition(failed.value.csr), 'Pending,Failed');
    const again = await markFailed(admin, name, 'X', 'Y');
    assert.ok(again.ok && !again.value.changed);
  });

  it('viewer: can-i says no first, then the write is a typed Forbidden naming the permission', async () => {
    const name = await newCsr('viewer');
    const signer = 'example.com/test';
    const cap = await canApprove(viewer, signer);
    assert.ok(cap.ok);
    assert.equal(cap.value.allowed, false);
    assert.ok(cap.value.missing.some((m) => m.includes('update on certificatesigningrequests/approval')));
    assert.ok(cap.value.missing.some((m) => m.startsWith('approve on signers')));
    const signCap = await canSign(viewer, signer);
    assert.ok(signCap.ok && !signCap.value.allowed);
    const adminCap = await canApprove(admin, signer);
    assert.ok(adminCap.ok && adminCap.value.allowed && adminCap.value.missing.length === 0);

    const r = await approveCsr(viewer, name);
    assert.ok(!r.ok);
    assert.equal(r.error.kind, 'forbidden');
    assert.equal(r.error.status, 403);
    assert.match(r.error.message, /cannot update resource "certificatesigningrequests\/approval"/);
    assert.equal(r.error.context, 'east-viewer');

    const read = await canI(viewer, {
      verb: 'list',
      group: 'certificates.k8s.io',
      resource: 'certificatesigningrequests',
    });
    assert.ok(read.ok && read.value.allowed);
  });

  it('maps 404 and 422 (with causes) to typed errors', async () => {
    const missing = await getCsr(admin, 'no-such-csr');
    assert.ok(!missing.ok && missing.error.kind === 'not-found' && missing.error.status === 404);
    const body = csrBody(uniqueName('bad'));
    body.spec.usages = [];
    const invalid = await createCsr(admin, body);
    assert.ok(!invalid.ok);
    assert.equal(invalid.error.kind, 'invalid');
    assert.ok(invalid.error.causes?.some((c) => c.field === 'spec.usages'));
    assert.match(invalid.error.message, /spec\.usages/);
  });

  it('creates with generateName, lists by signer, deletes', async () => {
    const body = csrBody('');
    body.metadata = { generateName: 'csr-workload-' };
    body.spec.signerName = 'example.com/listed';
    const created = await createCsr(admin, body);
    assert.ok(created.ok);
    const name = created.value.metadata?.name ?? '';
    assert.match(name, /^csr-workload-/);
    const listed = await listCsrs(admin, { signerName: 'example.com/listed' });
    assert.ok(listed.ok && listed.value.some((c) => c.metadata?.name === name));
    assert.ok(listed.value.every((c) => c.spec.signerName === 'example.com/listed'));
    assert.ok((await deleteCsr(admin, name)).ok);
    const gone = await getCsr(admin, name);
    assert.ok(!gone.ok && gone.error.kind === 'not-found');
  });

  it('waits for a certificate over a watch', async () => {
    const name = await newCsr('wait');
    const waiting = waitForCsr(admin, name, (c) => Boolean(c.status?.certificate), { timeoutMs: 10_000 });
    assert.ok((await approveCsr(admin, name)).ok);
    assert.ok((await uploadCertificate(admin, name, makeCertPem('waited'))).ok);
    const r = await waiting;
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.ok(r.value.status?.certificate);
    const timeout = await waitForCsr(admin, name, () => false, { timeoutMs: 300 });
    assert.ok(!timeout.ok && timeout.error.kind === 'timeout');
  });

  it('applies Secrets and ConfigMaps: create, refuse to replace, replace with overwrite', async () => {
    const secret = {
      metadata: { name: 'tls-test' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from('a').toString('base64'), 'tls.key': Buffer.from('b').toString('base64') },
    };
    const created = await applySecret(admin, 'default', secret);
    assert.ok(created.ok && created.value.action === 'created');
    const exists = await applySecret(admin, 'default', secret);
    assert.ok(!exists.ok && exists.error.kind === 'already-exists');
    assert.match(exists.error.message, /already exists/);
    const replaced = await applySecret(
      admin,
      'default',
      { ...secret, data: { ...secret.data, 'tls.crt': 'Yw==' } },
      {
        overwrite: true,
      },
    );
    assert.ok(replaced.ok && replaced.value.action === 'updated');
    assert.equal(replaced.value.object.data?.['tls.crt'], 'Yw==');
    const wrongType = await applySecret(admin, 'default', { ...secret, type: 'Opaque' }, { overwrite: true });
    assert.ok(!wrongType.ok && wrongType.error.kind === 'refused');

    const cm = { metadata: { name: 'ca-test' }, data: { 'ca.crt': 'PEM' } };
    const cmCreated = await applyConfigMap(admin, 'default', cm);
    assert.ok(cmCreated.ok && cmCreated.value.action === 'created');
    const cmUpdated = await applyConfigMap(
      admin,
      'default',
      { ...cm, data: { 'ca.crt': 'PEM2' } },
      { overwrite: true },
    );
    assert.ok(cmUpdated.ok && cmUpdated.value.object.data?.['ca.crt'] === 'PEM2');

    const denied = await applySecret(viewer, 'default', { ...secret, metadata: { name: 'viewer-secret' } });
    assert.ok(!denied.ok && denied.error.kind === 'forbidden');
    const noNs = await applyConfigMap(admin, 'no-such-ns', cm);
    assert.ok(!noNs.ok && noNs.error.kind === 'not-found');
  });
});

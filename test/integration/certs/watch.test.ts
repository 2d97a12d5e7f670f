// The radar's live watch over HTTPS: records arrive for every kind, a changed Secret is decoded again and a deleted
// one goes, the Secret's data is not kept, and a kind RBAC forbids is named once while the rest is followed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCertWatch } from '../../../src/services/certs/watch.js';
import { createClusterStore, loadContexts } from '../../../src/services/kube/index.js';
import { makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';
import { clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

describe('certs: the live watch', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startTestSandbox(undefined, { clusters: ['east'], scenarios: ['certificates'] });
  });
  after(() => sb.stop());

  it('chains are verified after decoding: the focused records first, pending until then', async (t) => {
    const [east] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] });
    // Only what is focused is checked, so what waits can be seen waiting. First of this file: analyses are cached by
    // content for the process, and a chain another watch checked is not pending again.
    const watch = createCertWatch([east!], { backoff: { initialMs: 100, maxMs: 1000 }, checkAll: false });
    t.after(() => watch.stop());
    watch.start();
    await waitFor(() => watch.synced('east'), 'the first lists', 20_000);
    const find = (name: string) =>
      watch.records().find((r) => r.location.name === name && r.location.field === 'tls.crt');
    const foreign = find('foreign-tls');
    assert.equal(foreign?.pending, true);
    assert.deepEqual(foreign?.chain, []);
    assert.ok(!foreign?.problems.some((p) => p.kind === 'chain-unverified'));
    // Decoding alone found the key that does not match (the key is never kept for later).
    assert.ok(find('mismatch-tls')?.problems.some((p) => p.kind === 'key-mismatch'));
    const before = watch.unchecked();
    assert.ok(before >= 6, String(before));

    const version = watch.version();
    watch.focus([foreign!]);
    await waitFor(() => !find('foreign-tls')?.pending, 'the focused record checked', 10_000);
    assert.match(
      find('foreign-tls')?.problems.find((p) => p.kind === 'chain-unverified')?.message ?? '',
      /ca\.crt of Secret certs-demo\/foreign-tls/,
    );
    assert.ok(watch.version() > version);
    assert.equal(watch.unchecked(), before - 1);
    assert.equal(find('web-tls')?.pending, true);
    assert.equal(find('outlives-ca-tls')?.pending, true);
  });

  it('follows Secrets, ConfigMaps and webhooks; a change is decoded again, a deletion removed', async (t) => {
    const [east] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] });
    const watch = createCertWatch([east!], { backoff: { initialMs: 100, maxMs: 1000 } });
    t.after(() => watch.stop());
    watch.start();
    await waitFor(() => watch.synced('east'), 'the first lists', 20_000);
    const find = (name: string, field = 'tls.crt') =>
      watch.records().find((r) => r.location.name === name && r.location.field === field);
    assert.ok(find('web-tls'));
    assert.ok(find('certs-demo-policy', 'webhooks[policy.certs-demo.example.com].clientConfig.caBundle'));
    assert.ok(find('widgets.certs-demo.example.com', 'spec.conversion.webhook.clientConfig.caBundle'));
    assert.equal(watch.records().filter((r) => r.location.name === 'kube-root-ca.crt').length, 1);
    assert.ok(!JSON.stringify(watch.records()).includes('PRIVATE KEY'));

    const admin = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const renewed = await makeCert({ cn: 'web-renewed', ...window(Date.now(), -1, 90) });
    const secret = await admin.core.readNamespacedSecret({ name: 'web-tls', namespace: 'certs-demo' });
    secret.data = {
      ...secret.data,
      'tls.crt': Buffer.from(renewed.certPem).toString('base64'),
      'tls.key': Buffer.from(renewed.keyPem).toString('base64'),
    };
    await admin.core.replaceNamespacedSecret({ name: 'web-tls', namespace: 'certs-demo', body: secret });
    await waitFor(() => find('web-tls')?.cert?.commonName === 'web-renewed', 'the renewed certificate', 10_000);
    await admin.core.deleteNamespacedSecret({ name: 'api-tls', namespace: 'certs-demo' });
    await waitFor(() => !find('api-tls'), 'the deleted Secret gone', 10_000);
  });

  it('every chain is verified in the background; one broken later is found broken', async (t) => {
    const [east] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] });
    const watch = createCertWatch([east!], { backoff: { initialMs: 100, maxMs: 1000 } });
    t.after(() => watch.stop());
    watch.start();
    await waitFor(() => watch.synced('east') && watch.unchecked() === 0, 'every chain checked', 20_000);
    assert.ok(!watch.records().some((r) => r.pending));
    const find = (name: string) =>
      watch.records().find((r) => r.location.name === name && r.location.field === 'tls.crt');
    assert.ok(find('outlives-ca-tls')?.problems.some((p) => p.kind === 'ca-expires-first'));
    assert.match(find('future-tls')?.chain[0]?.subject ?? '', /certs-demo CA/);

    // legacy-tls re-issued by a CA its ca.crt does not hold: the new certificate is pending, then found broken.
    const admin = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const other = await makeCert({ cn: 'certs-demo CA', ...window(Date.now(), -1, 3650) });
    const reissued = await makeCert({ cn: 'legacy-reissued', issuer: other, ...window(Date.now(), -1, 90) });
    const secret = await admin.core.readNamespacedSecret({ name: 'legacy-tls', namespace: 'certs-demo' });
    secret.data = {
      ...secret.data,
      'tls.crt': Buffer.from(reissued.certPem).toString('base64'),
      'tls.key': Buffer.from(reissued.keyPem).toString('base64'),
    };
    await admin.core.replaceNamespacedSecret({ name: 'legacy-tls', namespace: 'certs-demo', body: secret });
    await waitFor(
      () => find('legacy-tls')?.problems.some((p) => p.kind === 'chain-unverified'),
      'the re-issued certificate found broken',
      10_000,
    );
    assert.equal(find('legacy-tls')?.cert?.commonName, 'legacy-reissued');
    assert.equal(watch.unchecked(), 0);
  });

  it('a user RBAC forbids Secrets: named once, the ConfigMaps still followed', async (t) => {
    const [viewer] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east-viewer'] });
    const watch = createCertWatch([viewer!], { backoff: { initialMs: 100, maxMs: 1000 } });
    t.after(() => watch.stop());
    watch.start();
    await waitFor(() => watch.synced('east-viewer'), 'the first lists', 20_000);
    const secrets = watch.skipped().filter((s) => s.resource === 'secrets');
    assert.equal(secrets.length, 1);
    assert.ok(secrets[0]?.forbidden);
    assert.ok(watch.records().some((r) => r.location.name === 'certs-demo-ca'));
    assert.ok(!watch.records().some((r) => r.location.kind === 'Secret'));
  });

  it("a signer's CA published after its CSRs were decoded: they are verified against it at once", async (t) => {
    const [east] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] });
    const store = createClusterStore([east!], { pods: false, tigera: false, backoff: { initialMs: 100, maxMs: 1000 } });
    const watch = createCertWatch([east!], { store, backoff: { initialMs: 100, maxMs: 1000 } });
    t.after(() => {
      watch.stop();
      store.stop();
    });
    const admin = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const signer = 'example.com/late';
    const ca = await makeCert({ cn: 'late CA', ...window(Date.now(), -1, 3650) });
    const impostor = await makeCert({ cn: 'late CA', ...window(Date.now(), -1, 3650) });
    const { pem } = makeCsrPem({ commonName: 'late-one' });
    await admin.certs.createCertificateSigningRequest({ body: csrObject('late-one', pem, signer) });
    const csr = await admin.certs.readCertificateSigningRequest({ name: 'late-one' });
    csr.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] };
    await admin.certs.replaceCertificateSigningRequestApproval({ name: 'late-one', body: csr });
    const leaf = await makeCert({ cn: 'late-one', issuer: ca, ...window(Date.now(), -1, 100) });
    const approved = await admin.certs.readCertificateSigningRequest({ name: 'late-one' });
    approved.status = { ...approved.status, certificate: Buffer.from(leaf.certPem).toString('base64') };
    await admin.certs.replaceCertificateSigningRequestStatus({ name: 'late-one', body: approved });
    t.after(() => admin.certs.deleteCertificateSigningRequest({ name: 'late-one' }));

    store.start();
    await store.whenSynced('east', 20_000);
    watch.start();
    const record = () =>
      watch.records().find((r) => r.location.kind === 'CertificateSigningRequest' && r.location.name === 'late-one');
    await waitFor(() => watch.synced('east') && watch.unchecked() === 0 && record(), 'the CSR decoded', 20_000);
    // No CA is published for its signer yet: nothing to verify against.
    assert.deepEqual(record()?.problems, []);

    // Its signer's CA, published now (and not the one that signed it): the CSR is verified against it.
    await admin.core.createNamespacedConfigMap({
      namespace: 'certs-demo',
      body: {
        metadata: { name: 'late-ca', annotations: { 'certdesk.dev/signer-name': signer } },
        data: { 'ca.crt': impostor.certPem },
      },
    });
    t.after(() => admin.core.deleteNamespacedConfigMap({ name: 'late-ca', namespace: 'certs-demo' }));
    await waitFor(
      () => record()?.problems.some((p) => /does not verify against ConfigMap certs-demo\/late-ca/.test(p.message)),
      'the CSR verified against the CA published later',
      10_000,
    );
  });

  it("with the desk's store, issued CSRs come from the store's own watch, not a second one", async (t) => {
    const [east] = loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: ['east'] });
    const store = createClusterStore([east!], { pods: false, tigera: false, backoff: { initialMs: 100, maxMs: 1000 } });
    const watch = createCertWatch([east!], { store, backoff: { initialMs: 100, maxMs: 1000 } });
    t.after(() => {
      watch.stop();
      store.stop();
    });
    store.start();
    await store.whenSynced('east', 20_000);
    watch.start();
    await waitFor(() => watch.synced('east'), 'the first lists', 20_000);
    const admin = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const issue = async (name: string) => {
      const { pem } = makeCsrPem({ commonName: name });
      await admin.certs.createCertificateSigningRequest({ body: csrObject(name, pem, 'example.com/shared') });
      const csr = await admin.certs.readCertificateSigningRequest({ name });
      csr.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] };
      await admin.certs.replaceCertificateSigningRequestApproval({ name, body: csr });
      const leaf = await makeCert({ cn: name, ...window(Date.now(), -1, 10) });
      const approved = await admin.certs.readCertificateSigningRequest({ name });
      approved.status = { ...approved.status, certificate: Buffer.from(leaf.certPem).toString('base64') };
      await admin.certs.replaceCertificateSigningRequestStatus({ name, body: approved });
    };
    const csrRecord = (name: string) =>
      watch.records().find((r) => r.location.kind === 'CertificateSigningRequest' && r.location.name === name);
    await issue('shared-one');
    await waitFor(() => csrRecord('shared-one')?.cert?.commonName === 'shared-one', 'the issued CSR', 10_000);
    assert.equal(csrRecord('shared-one')?.renewal.csrName, 'shared-one');
    // With the store stopped, a CSR issued now never reaches the radar (it has no CSR watch of its own), while a
    // Secret, which the radar follows itself, still does.
    store.stop();
    await issue('shared-two');
    const later = await makeCert({ cn: 'after-store', ...window(Date.now(), -1, 10) });
    await admin.core.createNamespacedSecret({
      namespace: 'certs-demo',
      body: {
        metadata: { name: 'after-store' },
        type: 'Opaque',
        data: { 'cert.pem': Buffer.from(later.certPem).toString('base64') },
      },
    });
    await waitFor(() => watch.records().some((r) => r.location.name === 'after-store'), 'the new Secret', 10_000);
    assert.equal(csrRecord('shared-two'), undefined);
    await admin.certs.deleteCertificateSigningRequest({ name: 'shared-one' });
    await admin.certs.deleteCertificateSigningRequest({ name: 'shared-two' });
  });
});

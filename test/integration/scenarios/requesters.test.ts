// The istio-signers, onboarding and hostile scenarios: their requests appear with the requestors real clusters
// would record, and act on approval as their real counterparts do.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CertificatesV1Api, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { createCa, issueCertificate, loadCaFromPem } from '../../../src/services/pki/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { ISTIO_USAGES } from '../../../src/services/sandbox/scenarios/istio-signers.js';
import { approve, openssl, tempDir, waitFor } from './helpers.js';

describe('istio-signers, onboarding and hostile scenarios', () => {
  let sandbox: Sandbox;
  let certs: CertificatesV1Api;
  let all: V1CertificateSigningRequest[];
  const dir = tempDir('certdesk-requesters-');

  before(async () => {
    sandbox = await startSandbox({
      clusters: ['east'],
      scenarios: ['istio-signers', 'onboarding', 'hostile'],
      scenarioOptions: { 'istio-signers': { deleteAfterMs: 0 }, onboarding: { keyOut: `${dir.path}/jane.key` } },
    });
    certs = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
    all = (await certs.listCertificateSigningRequest()).items;
  });
  after(async () => {
    await sandbox?.stop();
    dir.cleanup();
  });

  test('istiod requests one certificate per workload from the tenant signers', async () => {
    const istio = all.filter((c) => c.metadata?.name?.startsWith('csr-workload-'));
    assert.equal(istio.length, 4);
    const signers = istio.map((c) => c.spec.signerName).sort();
    assert.deepEqual(signers, [
      'clusterissuers.cert-manager.io/bar',
      'clusterissuers.cert-manager.io/bar',
      'clusterissuers.cert-manager.io/foo',
      'clusterissuers.cert-manager.io/foo',
    ]);
    for (const c of istio) {
      assert.equal(c.metadata?.generateName, 'csr-workload-');
      assert.equal(c.spec.username, 'system:serviceaccount:istio-system:istiod');
      assert.ok(c.spec.groups?.includes('system:serviceaccounts:istio-system'));
      assert.equal(c.spec.expirationSeconds, 86_400);
      assert.deepEqual(c.spec.usages, ISTIO_USAGES);
      const tenant = c.spec.signerName.split('/')[1];
      const text = openssl(['req', '-in', '@r.pem', '-noout', '-text'], {
        'r.pem': Buffer.from(c.spec.request, 'base64').toString('utf8'),
      });
      assert.match(text, new RegExp(`URI:spiffe://cluster\\.local/ns/${tenant}/sa/(sleep|httpbin)`));
    }
  });

  test('istiod deletes its CSR once the certificate is there', async () => {
    const target = all.find((c) => c.spec.signerName === 'clusterissuers.cert-manager.io/foo')!;
    const name = target.metadata!.name!;
    const ca = await createCa({ cn: 'foo tenant CA' });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    await approve(certs, name);
    const csr = await certs.readCertificateSigningRequest({ name });
    const issued = await issueCertificate(Buffer.from(csr.spec.request, 'base64').toString('utf8'), loaded, {
      usages: csr.spec.usages ?? [],
      signerName: csr.spec.signerName,
      expirationSeconds: csr.spec.expirationSeconds,
    });
    csr.status = { ...csr.status, certificate: Buffer.from(issued.pem).toString('base64') };
    await certs.replaceCertificateSigningRequestStatus({ name, body: csr });
    await waitFor('istiod to delete the CSR', async () => {
      const names = (await certs.listCertificateSigningRequest()).items.map((c) => c.metadata?.name);
      return !names.includes(name);
    });
  });

  test('jane asks for a 10-minute client certificate, which the cluster signs once approved', async () => {
    const jane = all.find((c) => c.metadata?.name === 'jane');
    assert.ok(jane);
    assert.equal(jane.spec.username, 'jane');
    assert.equal(jane.spec.signerName, 'kubernetes.io/kube-apiserver-client');
    assert.equal(jane.spec.expirationSeconds, 600);
    await approve(certs, 'jane');
    const issued = await waitFor('the certificate', async () => {
      const c = await certs.readCertificateSigningRequest({ name: 'jane' });
      return c.status?.certificate;
    });
    const certPem = Buffer.from(issued, 'base64').toString('utf8');
    assert.match(openssl(['x509', '-in', '@c.pem', '-noout', '-subject'], { 'c.pem': certPem }), /CN\s*=\s*jane/);
    // The key the scenario kept (0600) belongs to the certificate.
    const { readFileSync, statSync } = await import('node:fs');
    assert.equal(statSync(`${dir.path}/jane.key`).mode & 0o777, 0o600);
    const keyPem = readFileSync(`${dir.path}/jane.key`, 'utf8');
    const pub = (args: string[], file: string, text: string) => openssl([...args, '-in', `@${file}`], { [file]: text });
    assert.equal(pub(['x509', '-noout', '-pubkey'], 'c.pem', certPem), pub(['pkey', '-pubout'], 'k.pem', keyPem));
  });

  test('the hostile requests arrive, each from its own requester', async () => {
    const { buildHostileRequests } = await import('../../../src/services/sandbox/scenarios/hostile-requests.js');
    const expected = await buildHostileRequests();
    for (const r of expected) {
      const csr = all.find((c) => c.metadata?.name === r.name);
      if (r.name === 'hostile-kubelet-other-node') {
        // NodeRestriction: a node may only request kubelet certificates for CN=system:node:<itself>.
        assert.equal(csr, undefined, 'refused at create, as a real server does');
        continue;
      }
      assert.ok(csr, `${r.name} exists`);
      assert.equal(csr.spec.username, r.requester.user, r.name);
      assert.equal(csr.spec.signerName, r.body.spec.signerName, r.name);
      assert.equal(csr.spec.expirationSeconds, r.body.spec.expirationSeconds, r.name);
    }
  });
});

// Issue 8: the sandbox's own kubernetes.io signers sign approved requests as kube-controller-manager does, and a
// client certificate they issue authenticates as its CN.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiException, CertificatesV1Api, KubeConfig } from '@kubernetes/client-node';
import { generateKeyAndCsr } from '../../../src/services/pki/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { approve, condition, csrBody, openssl, waitFor } from '../scenarios/helpers.js';

describe('cluster signer (kube-controller-manager)', () => {
  let sandbox: Sandbox;
  let admin: CertificatesV1Api;

  before(async () => {
    sandbox = await startSandbox({ clusters: ['east'] });
    admin = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
  });
  after(async () => {
    await sandbox?.stop();
  });

  test('issues jane a 10-minute client certificate that authenticates as jane', async () => {
    const cluster = sandbox.cluster('east');
    const { keyPem, csrPem } = await generateKeyAndCsr({ cn: 'jane' });
    await admin.createCertificateSigningRequest({
      body: csrBody('jane', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth'], 600),
    });
    await approve(admin, 'jane');
    const csr = await waitFor('jane to be issued', async () => {
      const c = await admin.readCertificateSigningRequest({ name: 'jane' });
      return c.status?.certificate ? c : undefined;
    });
    assert.equal(condition(csr, 'Failed'), undefined);
    const certPem = Buffer.from(csr.status!.certificate!, 'base64').toString('utf8');

    const text = openssl(
      ['x509', '-in', '@cert.pem', '-noout', '-subject', '-startdate', '-enddate', '-ext', 'extendedKeyUsage'],
      {
        'cert.pem': certPem,
      },
    );
    assert.match(text, /subject=CN\s*=\s*jane/);
    assert.match(text, /TLS Web Client Authentication/);
    const start = Date.parse(/notBefore=(.*)/.exec(text)![1]!);
    const end = Date.parse(/notAfter=(.*)/.exec(text)![1]!);
    // 600 s requested, backdated 5 minutes.
    assert.equal((end - start) / 1000, 600 + 300);
    const verified = openssl(['verify', '-CAfile', '@ca.pem', '@cert.pem'], {
      'ca.pem': cluster.caCertPem,
      'cert.pem': certPem,
    });
    assert.match(verified, /OK/);

    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'east', server: cluster.server, caData: Buffer.from(cluster.caCertPem).toString('base64') }],
      users: [
        {
          name: 'jane',
          certData: Buffer.from(certPem).toString('base64'),
          keyData: Buffer.from(keyPem).toString('base64'),
        },
      ],
      contexts: [{ name: 'east', cluster: 'east', user: 'jane' }],
      currentContext: 'east',
    });
    const err = await kc
      .makeApiClient(CertificatesV1Api)
      .listCertificateSigningRequest()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof ApiException, 'jane must be refused');
    assert.equal(err.code, 403);
    assert.match(String(err.body), /User \\?"jane\\?"/);
  });

  test('a kube-apiserver-client request for server auth ends Failed', async () => {
    const { csrPem } = await generateKeyAndCsr({ cn: 'web' });
    await admin.createCertificateSigningRequest({
      body: csrBody('client-with-server-auth', csrPem, 'kubernetes.io/kube-apiserver-client', [
        'client auth',
        'server auth',
      ]),
    });
    await approve(admin, 'client-with-server-auth');
    const csr = await waitFor('a Failed condition', async () => {
      const c = await admin.readCertificateSigningRequest({ name: 'client-with-server-auth' });
      return condition(c, 'Failed') ? c : undefined;
    });
    const failed = condition(csr, 'Failed')!;
    assert.equal(failed.status, 'True');
    assert.equal(failed.reason, 'SignerValidationFailure');
    assert.equal(failed.message, 'invalid usage for client certificate: server auth');
    assert.equal(csr.status?.certificate, undefined);
  });

  test('a kubelet-serving request for a CN outside system:node: ends Failed', async () => {
    const { csrPem } = await generateKeyAndCsr({ cn: 'mallory', names: [{ O: 'system:nodes' }], hosts: ['node-1'] });
    await admin.createCertificateSigningRequest({
      body: csrBody('kubelet-serving-bad-cn', csrPem, 'kubernetes.io/kubelet-serving', [
        'digital signature',
        'server auth',
      ]),
    });
    await approve(admin, 'kubelet-serving-bad-cn');
    const csr = await waitFor('a Failed condition', async () => {
      const c = await admin.readCertificateSigningRequest({ name: 'kubelet-serving-bad-cn' });
      return condition(c, 'Failed') ? c : undefined;
    });
    assert.equal(condition(csr, 'Failed')?.reason, 'SignerValidationFailure');
    assert.equal(condition(csr, 'Failed')?.message, 'subject common name does not begin with system:node:');
    assert.equal(csr.status?.certificate, undefined);
  });

  test('a valid kubelet-serving request is issued with the requested SANs', async () => {
    const { csrPem } = await generateKeyAndCsr({
      cn: 'system:node:node-1',
      names: [{ O: 'system:nodes' }],
      hosts: ['node-1', '10.0.0.11'],
    });
    await admin.createCertificateSigningRequest({
      body: csrBody('kubelet-serving-ok', csrPem, 'kubernetes.io/kubelet-serving', [
        'digital signature',
        'server auth',
      ]),
    });
    await approve(admin, 'kubelet-serving-ok');
    const csr = await waitFor('the certificate', async () => {
      const c = await admin.readCertificateSigningRequest({ name: 'kubelet-serving-ok' });
      return c.status?.certificate ? c : undefined;
    });
    const text = openssl(['x509', '-in', '@c.pem', '-noout', '-text'], {
      'c.pem': Buffer.from(csr.status!.certificate!, 'base64').toString('utf8'),
    });
    assert.match(text, /DNS:node-1, IP Address:10\.0\.0\.11/);
    assert.match(text, /TLS Web Server Authentication/);
    // No expirationSeconds: the cluster's default duration (one year), minus the 5-minute backdate.
    const start = Date.parse(/Not Before: (.*)/.exec(text)![1]!);
    const end = Date.parse(/Not After : (.*)/.exec(text)![1]!);
    assert.equal((end - start) / 1000, 365 * 24 * 3600);
  });

  test('other signers are left alone', async () => {
    const { csrPem } = await generateKeyAndCsr({ cn: 'typha-server' });
    await admin.createCertificateSigningRequest({
      body: csrBody('custom-signer', csrPem, 'example.com/calico', ['server auth', 'digital signature']),
    });
    await approve(admin, 'custom-signer');
    // Make the signer act on something after it, then check the custom one is still untouched.
    const { csrPem: other } = await generateKeyAndCsr({ cn: 'marker' });
    await admin.createCertificateSigningRequest({
      body: csrBody('marker', other, 'kubernetes.io/kube-apiserver-client', ['client auth']),
    });
    await approve(admin, 'marker');
    await waitFor('the marker to be issued', async () => {
      const c = await admin.readCertificateSigningRequest({ name: 'marker' });
      return !!c.status?.certificate;
    });
    const custom = await admin.readCertificateSigningRequest({ name: 'custom-signer' });
    assert.equal(custom.status?.certificate, undefined);
    assert.equal(condition(custom, 'Failed'), undefined);
  });
});

describe('builtinSigners: false, signingDurationSeconds', () => {
  test('approved kubernetes.io requests stay unissued without the signer; the signer caps durations', async () => {
    const stalled = await startSandbox({ clusters: ['east'], builtinSigners: false });
    const live = await startSandbox({ clusters: ['east'], signingDurationSeconds: 3600 });
    try {
      const { csrPem } = await generateKeyAndCsr({ cn: 'jane' });
      const clients = [stalled, live].map((s) =>
        s.cluster('east').kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api),
      );
      for (const certs of clients) {
        await certs.createCertificateSigningRequest({
          body: csrBody('jane', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth'], 600),
        });
        await approve(certs, 'jane');
      }
      // The sandbox with its signer running issues; by then the stalled one would have too.
      await waitFor('the live sandbox to issue', async () => {
        const c = await clients[1]!.readCertificateSigningRequest({ name: 'jane' });
        return !!c.status?.certificate;
      });
      const c = await clients[0]!.readCertificateSigningRequest({ name: 'jane' });
      assert.ok(condition(c, 'Approved'));
      assert.equal(c.status?.certificate, undefined);

      // The live one caps a longer request at its signing duration (1 h here), backdated 5 minutes.
      await clients[1]!.createCertificateSigningRequest({
        body: csrBody('long', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth'], 7200),
      });
      await approve(clients[1]!, 'long');
      const long = await waitFor('the capped certificate', async () => {
        const l = await clients[1]!.readCertificateSigningRequest({ name: 'long' });
        return l.status?.certificate;
      });
      const text = openssl(['x509', '-in', '@c.pem', '-noout', '-startdate', '-enddate'], {
        'c.pem': Buffer.from(long, 'base64').toString('utf8'),
      });
      const start = Date.parse(/notBefore=(.*)/.exec(text)![1]!);
      const end = Date.parse(/notAfter=(.*)/.exec(text)![1]!);
      assert.equal((end - start) / 1000, 3600 + 300);
    } finally {
      await Promise.all([stalled.stop(), live.stop()]);
    }
  });
});

describe('cluster signer across an outage', () => {
  test('relists after 410 Expired and signs what was approved while it was away', async () => {
    const sandbox = await startSandbox({ clusters: ['east'] });
    try {
      const cluster = sandbox.cluster('east');
      const admin = { name: 'admin', groups: ['system:masters'] };
      await cluster.pause();
      const { csrPem } = await generateKeyAndCsr({ cn: 'jane' });
      const created = await cluster.createAs(
        admin,
        '/apis/certificates.k8s.io/v1/certificatesigningrequests',
        csrBody('during-outage', csrPem, 'kubernetes.io/kube-apiserver-client', ['client auth'], 600),
      );
      const approved = {
        ...created,
        status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'approved offline' }] },
      };
      const response = await cluster.requestAs(
        admin,
        'PUT',
        '/apis/certificates.k8s.io/v1/certificatesigningrequests/during-outage/approval',
        approved,
      );
      assert.ok(response.kind === 'json' && response.code < 300, 'the approval is accepted');
      cluster.expireWatchHistory();
      await cluster.resume();
      const certs = cluster.kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
      await waitFor('the signer to relist and issue', async () => {
        const c = await certs.readCertificateSigningRequest({ name: 'during-outage' });
        return !!c.status?.certificate;
      });
    } finally {
      await sandbox.stop();
    }
  });
});

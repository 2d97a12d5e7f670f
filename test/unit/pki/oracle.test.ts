// openssl as the oracle: every certificate we issue verifies against its CA, shows the expected extensions,
// and CSRs from openssl and from our generator decode to the same fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createCa,
  decodeCertificate,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  type KeyAlgorithmName,
  loadCaFromPem,
} from '../../../src/services/pki/index.js';
import { openssl, put, tempDir } from './helpers.js';

const CA_ALGORITHMS: Array<{ alg: KeyAlgorithmName; sig: string; sig512?: string }> = [
  { alg: 'RSAWithSize2048', sig: 'sha256WithRSAEncryption', sig512: 'sha512WithRSAEncryption' },
  { alg: 'RSAWithSize4096', sig: 'sha256WithRSAEncryption' },
  { alg: 'ECDSAWithCurve256', sig: 'ecdsa-with-SHA256' },
  { alg: 'ECDSAWithCurve384', sig: 'ecdsa-with-SHA384' },
  { alg: 'ECDSAWithCurve521', sig: 'ecdsa-with-SHA512' },
];

const SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];

describe('issued certificates pass openssl verify', () => {
  for (const { alg, sig, sig512 } of CA_ALGORITHMS) {
    test(`${alg} CA`, async (t) => {
      const dir = await tempDir(t);
      const ca = await createCa({ cn: `certdesk test ${alg}`, keyAlgorithm: alg, days: 30 });
      const caPath = await put(dir, 'ca.pem', ca.certPem);
      const caText = (await openssl(['x509', '-in', caPath, '-noout', '-text'])).stdout;
      assert.match(caText, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(caText, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
      const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);

      const { csrPem } = await generateKeyAndCsr({
        cn: 'calico-node',
        hosts: ['calico-node.calico-system.svc', '10.96.0.10', 'fd00::10'],
        names: [{ O: 'tigera' }],
        key: alg.startsWith('RSA') ? { algo: 'rsa', size: 2048 } : { algo: 'ecdsa', size: 256 },
      });
      const now = new Date();
      const { pem, certificate } = await issueCertificate(
        csrPem,
        loaded,
        { usages: SERVING_USAGES, signerName: 'example.com/calico', expirationSeconds: 3600 },
        now,
      );
      const leafPath = await put(dir, 'leaf.pem', pem);
      const verify = await openssl(['verify', '-CAfile', caPath, leafPath]);
      assert.match(verify.stdout, /leaf\.pem: OK/);

      const text = (await openssl(['x509', '-in', leafPath, '-noout', '-text'])).stdout;
      assert.match(text, new RegExp(`Signature Algorithm: ${sig}`));
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
      assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(
        text,
        /DNS:calico-node\.calico-system\.svc, IP Address:10\.96\.0\.10, IP Address:FD00:0:0:0:0:0:0:10/,
      );
      assert.match(text, /Subject: O = tigera, CN = calico-node/);
      assert.match(text, /Subject Key Identifier/);
      const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
      assert.ok(caSki);
      assert.match(text, new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`));
      assert.equal(certificate.authorityKeyIdentifier, caSki);

      // Serial: positive, at most 128 bits. Validity: backdated 5 minutes, 1 hour (< 8h: no trim).
      assert.ok(certificate.serialNumber.length <= 32);
      assert.equal(certificate.notBefore.getTime(), Math.floor(now.getTime() / 1000) * 1000 - 300_000);
      assert.equal(certificate.notAfter.getTime(), Math.floor((now.getTime() + 3600_000) / 1000) * 1000);
      const serial = (await openssl(['x509', '-in', leafPath, '-noout', '-serial'])).stdout.trim();
      assert.equal(serial, `serial=${certificate.serialNumber}`);
      const fp = (await openssl(['x509', '-in', leafPath, '-noout', '-fingerprint', '-sha256'])).stdout.trim();
      assert.equal(fp.split('=')[1], certificate.sha256Fingerprint);

      if (sig512) {
        const again = await issueCertificate(csrPem, loaded, {
          usages: SERVING_USAGES,
          signerName: 'example.com/calico',
          profile: {
            name: 'calico',
            allowedUsages: [],
            defaultDurationSeconds: 86400,
            maxDurationSeconds: 86400,
            rsaHash: 'SHA-512',
          },
        });
        assert.equal(again.certificate.signatureAlgorithm, sig512);
        const p = await put(dir, 'leaf512.pem', again.pem);
        assert.match((await openssl(['verify', '-CAfile', caPath, p])).stdout, /OK/);
      }
    });
  }
});

describe('CSRs made by openssl and by generateKeyAndCsr decode alike', () => {
  test('same subject, SANs and key description', async (t) => {
    const dir = await tempDir(t);
    const keyPath = `${dir}/k.pem`;
    await openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-subj',
      '/O=system:nodes/CN=system:node:worker-1',
      '-addext',
      'subjectAltName=DNS:worker-1.example,IP:10.0.0.5,email:ops@example.com,URI:spiffe://cluster.local/ns/a/sa/b',
      '-out',
      `${dir}/csr.pem`,
    ]);
    const fromOpenssl = await decodeCsr((await openssl(['req', '-in', `${dir}/csr.pem`])).stdout);
    const { csrPem, keyPem } = await generateKeyAndCsr({
      cn: 'system:node:worker-1',
      names: [{ O: 'system:nodes' }],
      hosts: ['worker-1.example', '10.0.0.5', 'ops@example.com', 'spiffe://cluster.local/ns/a/sa/b'],
    });
    assert.match(keyPem, /BEGIN EC PRIVATE KEY/);
    const ours = await decodeCsr(csrPem);
    assert.deepEqual(ours.subject, fromOpenssl.subject);
    assert.deepEqual(ours.sans, fromOpenssl.sans);
    assert.deepEqual(ours.publicKey, fromOpenssl.publicKey);
    assert.equal(ours.signatureAlgorithm, fromOpenssl.signatureAlgorithm);
    assert.deepEqual(ours.proofOfPossession, { verified: true });
    assert.deepEqual(fromOpenssl.proofOfPossession, { verified: true });
    // And openssl reads ours.
    const ourPath = await put(dir, 'ours.pem', csrPem);
    const text = await openssl(['req', '-in', ourPath, '-noout', '-verify', '-text']);
    assert.match(`${text.stdout}${text.stderr}`, /verify OK/);
    assert.match(text.stdout, /Subject: O = system:nodes, CN = system:node:worker-1/);
  });

  test('requested extensions: CA=true, key usage, extended key usage, unknown ones by OID', async (t) => {
    const dir = await tempDir(t);
    await openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${dir}/k.pem`,
      '-subj',
      '/CN=wants-to-be-a-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:1',
      '-addext',
      'keyUsage=critical,keyCertSign,digitalSignature',
      '-addext',
      'extendedKeyUsage=serverAuth,1.2.3.4.5',
      '-addext',
      '1.2.3.4.99=ASN1:UTF8String:hello',
      '-out',
      `${dir}/csr.pem`,
    ]);
    const csr = await decodeCsr((await openssl(['req', '-in', `${dir}/csr.pem`])).stdout);
    assert.deepEqual(csr.basicConstraints, { ca: true, pathLength: 1 });
    assert.deepEqual(csr.keyUsage, ['digitalSignature', 'keyCertSign']);
    assert.deepEqual(csr.extKeyUsage, ['serverAuth', '1.2.3.4.5']);
    const unknown = csr.extensions.find((e) => e.oid === '1.2.3.4.99');
    assert.ok(unknown && !unknown.name && unknown.value.length > 0);
    assert.equal(csr.extensions.find((e) => e.name === 'basicConstraints')?.critical, true);
  });

  test('RSA keys from the generator (cfssl defaults: PKCS#1, SHA-256 for 2048)', async () => {
    const { csrPem, keyPem } = await generateKeyAndCsr({ cn: 'alice', key: { algo: 'rsa', size: 2048 } });
    assert.match(keyPem, /BEGIN RSA PRIVATE KEY/);
    const csr = await decodeCsr(csrPem);
    assert.equal(csr.publicKey.description, 'RSA 2048');
    assert.equal(csr.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.equal(csr.proofOfPossession.verified, true);
  });
});

describe('decodeCertificate matches openssl', () => {
  test('an openssl self-signed certificate', async (t) => {
    const dir = await tempDir(t);
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-nodes',
      '-keyout',
      `${dir}/k.pem`,
      '-subj',
      '/C=CH/O=Example, Inc./CN=root',
      '-days',
      '2',
      '-out',
      `${dir}/c.pem`,
    ]);
    const pem = (await openssl(['x509', '-in', `${dir}/c.pem`])).stdout;
    const cert = await decodeCertificate(pem);
    assert.equal(cert.subject.text, 'CN=root,O=Example\\, Inc.,C=CH');
    assert.deepEqual(cert.subject.organizations, ['Example, Inc.']);
    assert.equal(cert.publicKey.description, 'ECDSA P-384');
    assert.equal(cert.basicConstraints?.ca, true);
    const fp = (await openssl(['x509', '-in', `${dir}/c.pem`, '-noout', '-fingerprint', '-sha256'])).stdout;
    assert.equal(fp.trim().split('=')[1], cert.sha256Fingerprint);
    const serial = (await openssl(['x509', '-in', `${dir}/c.pem`, '-noout', '-serial'])).stdout.trim();
    assert.equal(serial, `serial=${cert.serialNumber}`);
    const end = (await openssl(['x509', '-in', `${dir}/c.pem`, '-noout', '-enddate'])).stdout.trim();
    assert.equal(new Date(end.split('=')[1]!).getTime(), cert.notAfter.getTime());
  });
});

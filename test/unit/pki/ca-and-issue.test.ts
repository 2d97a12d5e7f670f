// Loading CAs (key formats, checks) and kube-controller-manager's issuing rules (TTL, usages, signer rules).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import {
  certificateTtlSeconds,
  checkSignerRules,
  createCa,
  DEFAULT_PROFILE,
  decodeCertificate,
  decodeCertificates,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  listProfiles,
  loadCaFromPem,
  loadProfile,
  mapUsages,
  PkiError,
  parseDuration,
  validityWindow,
} from '../../../src/services/pki/index.js';
import { nextSerialsForTests } from '../../../src/services/pki/cert-writer.js';
import { rawPartsOf } from '../../../src/services/pki/decode.js';
import { openssl, opensslIntermediate, put, tempDir } from './helpers.js';

const isPki = (code: string) => (err: unknown) => err instanceof PkiError && err.code === code;

describe('loadCaFromPem', () => {
  test('reads PKCS#1, PKCS#8, SEC1 and encrypted PKCS#8 keys', async (t) => {
    const dir = await tempDir(t);
    const rsa = await createCa({ cn: 'rsa', keyAlgorithm: 'RSAWithSize2048', days: 2 });
    const ec = await createCa({ cn: 'ec', keyAlgorithm: 'ECDSAWithCurve384', days: 2 });
    assert.match(rsa.keyPem, /BEGIN RSA PRIVATE KEY/);
    assert.match(ec.keyPem, /BEGIN EC PRIVATE KEY/);
    const rsaKey = await put(dir, 'rsa.key', rsa.keyPem);
    const ecKey = await put(dir, 'ec.key', ec.keyPem);
    const pkcs8 = (await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', rsaKey])).stdout;
    assert.match(pkcs8, /BEGIN PRIVATE KEY/);
    const encrypted = (
      await openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:s3cret', '-in', ecKey])
    ).stdout;
    assert.match(encrypted, /BEGIN ENCRYPTED PRIVATE KEY/);

    await loadCaFromPem(rsa.certPem, rsa.keyPem);
    await loadCaFromPem(rsa.certPem, pkcs8);
    await loadCaFromPem(ec.certPem, ec.keyPem);
    const loaded = await loadCaFromPem(ec.certPem, encrypted, { passphrase: 's3cret' });
    assert.equal(loaded.certificate.subject.commonName, 'ec');
    assert.ok(!JSON.stringify(loaded).includes('PRIVATE'), 'the loaded CA must not serialise its key');

    await assert.rejects(loadCaFromPem(ec.certPem, encrypted), isPki('bad-key'));
    await assert.rejects(loadCaFromPem(ec.certPem, encrypted, { passphrase: 'wrong' }), isPki('bad-key'));
    await assert.rejects(loadCaFromPem(rsa.certPem, ec.keyPem), isPki('bad-key'));
    await assert.rejects(loadCaFromPem(rsa.certPem, 'not a key'), isPki('bad-key'));
  });

  test('refuses Ed25519 CA keys and a CA certificate without keyCertSign', async (t) => {
    const dir = await tempDir(t);
    const selfSigned = async (newkey: string[], keyUsage: string) => {
      await openssl([
        'req',
        '-x509',
        ...newkey,
        '-nodes',
        '-keyout',
        `${dir}/k.pem`,
        '-subj',
        '/CN=odd-ca',
        '-days',
        '2',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        `keyUsage=critical,${keyUsage}`,
        '-out',
        `${dir}/c.pem`,
      ]);
      return [await readFile(`${dir}/c.pem`, 'utf8'), await readFile(`${dir}/k.pem`, 'utf8')] as const;
    };
    const [edCert, edKey] = await selfSigned(['-newkey', 'ed25519'], 'keyCertSign');
    await assert.rejects(loadCaFromPem(edCert, edKey), isPki('unsupported'));
    const [noSignCert, noSignKey] = await selfSigned(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'digitalSignature',
    );
    await assert.rejects(loadCaFromPem(noSignCert, noSignKey), isPki('not-a-ca'));
  });

  test('refuses a leaf certificate, an expired CA and a CA not yet valid', async () => {
    const ca = await createCa({ cn: 'root', days: 1 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const { csrPem, keyPem } = await generateKeyAndCsr({ cn: 'leaf' });
    const leaf = await issueCertificate(csrPem, loaded, { usages: ['digital signature'], signerName: 'x.io/y' });
    await assert.rejects(loadCaFromPem(leaf.pem, keyPem), isPki('not-a-ca'));
    const inThreeDays = new Date(Date.now() + 3 * 86_400_000);
    await assert.rejects(loadCaFromPem(ca.certPem, ca.keyPem, { now: inThreeDays }), isPki('ca-expired'));
    await assert.rejects(
      issueCertificate(csrPem, loaded, { usages: ['client auth'], signerName: 'x.io/y' }, inThreeDays),
      isPki('ca-expired'),
    );
    await assert.rejects(
      loadCaFromPem(ca.certPem, ca.keyPem, { now: new Date(Date.now() - 86_400_000) }),
      isPki('ca-expired'),
    );
  });
});

describe('issuing rules', () => {
  test('TTL: expirationSeconds, default, cap and the 10-minute floor', () => {
    assert.equal(certificateTtlSeconds(undefined), 365 * 86400);
    assert.equal(certificateTtlSeconds(3600), 3600);
    assert.equal(certificateTtlSeconds(60), 600);
    assert.equal(certificateTtlSeconds(10 * 365 * 86400), 365 * 86400);
    const p = { ...DEFAULT_PROFILE, defaultDurationSeconds: 86400, maxDurationSeconds: 7 * 86400 };
    assert.equal(certificateTtlSeconds(undefined, p), 86400);
    assert.equal(certificateTtlSeconds(30 * 86400, p), 7 * 86400);
  });

  test('validity: backdated 5 minutes, trimmed by 5 minutes from 8 hours, never past the CA', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const far = new Date('2030-01-01T00:00:00Z');
    const short = validityWindow(now, 3600, far);
    assert.equal(short.notBefore.toISOString(), '2025-12-31T23:55:00.000Z');
    assert.equal(short.notAfter.toISOString(), '2026-01-01T01:00:00.000Z');
    const long = validityWindow(now, 86400, far);
    assert.equal(long.notAfter.toISOString(), '2026-01-01T23:55:00.000Z');
    const clipped = validityWindow(now, 86400, new Date('2026-01-01T12:00:00Z'));
    assert.equal(clipped.notAfter.toISOString(), '2026-01-01T12:00:00.000Z');
  });

  test('never past the CA, profile usages, unknown usages, failed proof of possession', async () => {
    const ca = await createCa({ cn: 'short-lived', days: 1 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const { csrPem } = await generateKeyAndCsr({ cn: 'svc', hosts: ['svc.example'] });
    const csr = await decodeCsr(csrPem);
    const { certificate } = await issueCertificate(csr, loaded, {
      usages: ['server auth'],
      signerName: 'x.io/y',
      expirationSeconds: 30 * 86400,
    });
    assert.equal(certificate.notAfter.getTime(), loaded.certificate.notAfter.getTime());
    assert.deepEqual(certificate.keyUsage, []);
    assert.deepEqual(certificate.extKeyUsage, ['serverAuth']);

    const server = await loadProfile('server');
    await assert.rejects(
      issueCertificate(csr, loaded, { usages: ['client auth'], signerName: 'x.io/y', profile: server }),
      (err: unknown) =>
        isPki('signer-refused')(err) && /does not allow usage: client auth/.test((err as Error).message),
    );
    await assert.rejects(
      issueCertificate(csr, loaded, { usages: ['bogus'], signerName: 'x.io/y' }),
      (err: unknown) =>
        isPki('signer-refused')(err) && (err as Error).message === 'unrecognized usage values: ["bogus"]',
    );
    // A CSR whose signature was tampered with.
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0x01;
    const forged = await decodeCsr(der);
    assert.equal(forged.proofOfPossession.verified, false);
    await assert.rejects(
      issueCertificate(forged, loaded, { usages: ['server auth'], signerName: 'x.io/y' }),
      (err: unknown) =>
        isPki('signer-refused')(err) && /^unable to verify certificate request signature/.test((err as Error).message),
    );
  });

  test('the returned description equals decoding the issued DER', async () => {
    const cas = await Promise.all(
      (['ECDSAWithCurve256', 'RSAWithSize2048'] as const).map(async (keyAlgorithm) => {
        const ca = await createCa({ cn: `eq ${keyAlgorithm}`, keyAlgorithm, days: 3, names: [{ O: 'certdesk' }] });
        return loadCaFromPem(ca.certPem, ca.keyPem);
      }),
    );
    const csrs = await Promise.all([
      generateKeyAndCsr({ cn: 'a', hosts: ['a.example', '10.0.0.1', 'fd00::1', 'x@y.z', 'spiffe://td/ns/a'] }),
      generateKeyAndCsr({ cn: '', hosts: ['only-san.example'] }),
      generateKeyAndCsr({ cn: 'no-sans', names: [{ O: 'system:nodes', OU: 'ü' }] }),
    ]);
    const usageSets = [
      ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      ['client auth', 'any', 'ocsp signing', 'netscape sgc', 'crl sign', 'decipher only'],
      ['content commitment'],
    ];
    for (const ca of cas) {
      for (const { csrPem } of csrs) {
        for (const usages of usageSets) {
          const { certificate, pem } = await issueCertificate(csrPem, ca, {
            usages,
            signerName: 'x.io/y',
            expirationSeconds: 7777,
          });
          assert.deepEqual(certificate, await decodeCertificate(pem));
        }
      }
    }
  });

  test('calls made at once (a controller working through a backlog) each get their own certificate', async (t) => {
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'at once', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    const hosts = Array.from({ length: 3000 }, (_, i) => `host-${i}.a-rather-long-subdomain.example.com`);
    const big = await decodeCsr((await generateKeyAndCsr({ cn: 'big', hosts })).csrPem);
    const { csrPem } = await generateKeyAndCsr({ cn: 'small', hosts: ['s.example'] });
    const small = await decodeCsr(csrPem);
    const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/at-once' };
    const order = [small, big, csrPem, ...Array.from({ length: 60 }, (_, i) => (i % 20 === 7 ? big : small))];
    const results = await Promise.all(order.map((csr) => issueCertificate(csr, loaded, request)));
    assert.equal(new Set(results.map((r) => r.certificate.serialNumber)).size, order.length);
    for (const i of [0, 1, 2, order.length - 1]) {
      const r = results[i]!;
      assert.equal(r.certificate.sans.dns.length, order[i] === big ? 3000 : 1);
      assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
      const leaf = await put(dir, `leaf${i}.pem`, r.pem);
      assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
    }
  });

  test('serials with leading zero bytes or the high bit set are described as decoding the DER describes them', async () => {
    const ca = await createCa({ cn: 'serials', keyAlgorithm: 'ECDSAWithCurve256', days: 3 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const { csrPem } = await generateKeyAndCsr({ cn: 'serial', hosts: ['s.example'] });
    const csr = await decodeCsr(csrPem);
    const serials = [
      [0, 0, 0x7f, ...Array(13).fill(0xab)],
      [0x80, ...Array(15).fill(1)],
      Array(16).fill(0), // zero is never a serial: it becomes 1
      [0, ...Array(14).fill(0), 0x80],
    ];
    nextSerialsForTests(Uint8Array.from(serials.flat()));
    for (let i = 0; i < serials.length; i++) {
      const { certificate, pem } = await issueCertificate(csr, loaded, {
        usages: ['server auth'],
        signerName: 'x.io/y',
      });
      const decoded = await decodeCertificate(pem);
      assert.equal(certificate.serialNumber, decoded.serialNumber, `serial ${i}`);
      assert.deepEqual(certificate, decoded);
    }
  });

  test("SANs are copied in Go's order (DNS, email, IP, URI) whether or not the request lists them so", async (t) => {
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'san order', keyAlgorithm: 'ECDSAWithCurve256', days: 3 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const cases = [
      { san: 'DNS:a.example,DNS:b.example,email:x@y.z,IP:10.0.0.1,URI:spiffe://td/a', inOrder: true },
      { san: 'IP:10.0.0.1,DNS:a.example,URI:spiffe://td/a,email:x@y.z,DNS:b.example', inOrder: false },
      // A name issuing does not copy (otherName): the others are copied, without it.
      { san: 'DNS:a.example,otherName:1.2.3.4;UTF8:other,IP:fd00::1', inOrder: false },
    ];
    const rank = (tag: number) => [0x82, 0x81, 0x87, 0x86].indexOf(tag);
    for (const [i, c] of cases.entries()) {
      await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${dir}/k${i}.pem`]);
      const csrPem = (
        await openssl([
          'req',
          '-new',
          '-key',
          `${dir}/k${i}.pem`,
          '-subj',
          '/CN=order',
          '-addext',
          `subjectAltName=${c.san}`,
        ])
      ).stdout;
      const csr = await decodeCsr(csrPem);
      assert.equal(rawPartsOf(csr)!.sanRun !== undefined, c.inOrder, `${c.san}: copied as one run`);
      const { pem, certificate } = await issueCertificate(csr, loaded, {
        usages: ['server auth'],
        signerName: 'x.io/y',
      });
      const issued = await decodeCertificate(pem);
      const tags = rawPartsOf(issued)!.sanElements.map((e) => e[0]!);
      assert.deepEqual(
        tags,
        [...tags].sort((a, b) => rank(a) - rank(b)),
        `${c.san}: Go's order`,
      );
      assert.equal(tags.length, rawPartsOf(csr)!.sanElements.length);
      assert.ok(rawPartsOf(issued)!.sanRun, 'the issued certificate holds exactly the copied names, in order');
      assert.deepEqual({ ...issued.sans, other: [] }, { ...csr.sans, other: [] });
      assert.deepEqual(certificate, issued);
    }
  });

  test('usage table: Go order, deduplicated, unknown reported', () => {
    const m = mapUsages(['client auth', 'server auth', 'digital signature', 's/mime', 'email protection', 'x']);
    assert.deepEqual(m.keyUsage, ['digitalSignature']);
    assert.deepEqual(m.extKeyUsageOids, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);
    assert.deepEqual(m.unrecognized, ['x']);
  });

  test('intermediate CA: the chain is kept and appended when the profile says so', async (t) => {
    const dir = await tempDir(t);
    const root = await createCa({ cn: 'root', days: 10 });
    const int = await opensslIntermediate(dir, root, 5);
    const ca = await loadCaFromPem(int.certPem, int.keyPem, { chainPem: root.certPem });
    assert.equal(ca.chain.length, 1);
    const { csrPem } = await generateKeyAndCsr({ cn: 'workload', hosts: ['spiffe://cluster.local/ns/foo/sa/default'] });
    const istio = await loadProfile('istio-workload');
    assert.equal(istio.includeChain, true);
    const { pem } = await issueCertificate(csrPem, ca, {
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      signerName: 'clusterissuers.cert-manager.io/foo',
      profile: istio,
    });
    const bundle = await decodeCertificates(pem);
    assert.deepEqual(
      bundle.map((c) => c.subject.commonName),
      ['workload', 'intermediate'],
    );
    const reversed = await decodeCertificates(bundle[1]!.pem + root.certPem + bundle[0]!.pem);
    assert.deepEqual(
      reversed.map((c) => c.subject.commonName),
      ['workload', 'intermediate', 'root'],
    );
    const leafPath = await put(dir, 'leaf.pem', bundle[0]!.pem);
    const v = await openssl(['verify', '-CAfile', int.rootPath, '-untrusted', int.certPath, leafPath]);
    assert.match(v.stdout, /OK/);
    // Without the profile option, only the leaf (as kube-controller-manager).
    const plain = await issueCertificate(csrPem, ca, { usages: ['client auth'], signerName: 'x.io/y' });
    assert.equal((await decodeCertificates(plain.pem)).length, 1);
  });
});

describe('profiles', () => {
  test('built-in profiles load and durations parse', async () => {
    const names = await listProfiles();
    for (const n of ['default', 'server', 'client', 'calico', 'istio-workload']) assert.ok(names.includes(n), n);
    const calico = await loadProfile('calico');
    assert.equal(calico.rsaHash, 'SHA-512');
    assert.equal((await loadProfile('default')).maxDurationSeconds, 365 * 86400);
    assert.equal(parseDuration('8760h'), 365 * 86400);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('30d'), 30 * 86400);
    assert.throws(() => parseDuration('soon'), isPki('unsupported'));
    await assert.rejects(loadProfile('nope'), isPki('not-found'));
  });
});

describe('built-in signer rules (kube-controller-manager wording)', () => {
  test('kube-apiserver-client, kubelet client and kubelet serving', async () => {
    const user = await decodeCsr((await generateKeyAndCsr({ cn: 'alice', names: [{ O: 'dev' }] })).csrPem);
    const c = 'kubernetes.io/kube-apiserver-client';
    assert.equal(checkSignerRules(c, user, ['client auth', 'digital signature']), undefined);
    assert.equal(checkSignerRules(c, user, ['server auth']), 'invalid usage for client certificate: server auth');
    assert.equal(
      checkSignerRules(c, user, ['digital signature']),
      'missing required usage for client certificate: client auth',
    );

    const k = 'kubernetes.io/kube-apiserver-client-kubelet';
    const kubelet = await decodeCsr(
      (await generateKeyAndCsr({ cn: 'system:node:n1', names: [{ O: 'system:nodes' }] })).csrPem,
    );
    assert.equal(checkSignerRules(k, kubelet, ['digital signature', 'client auth']), undefined);
    assert.equal(checkSignerRules(k, kubelet, ['digital signature', 'key encipherment', 'client auth']), undefined);
    assert.equal(
      checkSignerRules(k, kubelet, ['client auth']),
      'usages did not match [client auth digital signature key encipherment]',
    );
    assert.equal(checkSignerRules(k, user, ['client auth']), 'subject organization is not system:nodes');
    const withDns = await decodeCsr(
      (await generateKeyAndCsr({ cn: 'system:node:n1', names: [{ O: 'system:nodes' }], hosts: ['n1'] })).csrPem,
    );
    assert.equal(
      checkSignerRules(k, withDns, ['digital signature', 'client auth']),
      'DNS subjectAltNames are not allowed',
    );

    const s = 'kubernetes.io/kubelet-serving';
    assert.equal(checkSignerRules(s, withDns, ['digital signature', 'server auth']), undefined);
    assert.equal(
      checkSignerRules(s, kubelet, ['digital signature', 'server auth']),
      'DNS or IP subjectAltName is required',
    );
    assert.equal(
      checkSignerRules(s, withDns, ['server auth']),
      'usages did not match [digital signature key encipherment server auth]',
    );
    const badCn = await decodeCsr(
      (await generateKeyAndCsr({ cn: 'n1', names: [{ O: 'system:nodes' }], hosts: ['10.0.0.1'] })).csrPem,
    );
    assert.equal(
      checkSignerRules(s, badCn, ['digital signature', 'server auth']),
      'subject common name does not begin with system:node:',
    );
    assert.equal(checkSignerRules('example.com/any', user, ['server auth']), undefined);
  });

  test('issueCertificate applies the built-in rules', async () => {
    const ca = await createCa({ cn: 'cluster', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const { csrPem } = await generateKeyAndCsr({ cn: 'alice' });
    await assert.rejects(
      issueCertificate(csrPem, loaded, { usages: ['server auth'], signerName: 'kubernetes.io/kube-apiserver-client' }),
      (err: unknown) =>
        isPki('signer-refused')(err) && (err as Error).message === 'invalid usage for client certificate: server auth',
    );
  });
});

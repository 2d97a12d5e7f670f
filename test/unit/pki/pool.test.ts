// The issuer pool, with issueCertificate's contract: the native signer on the threadpool when `npm install` built it,
// else worker threads holding the CA. Contract tests run on every engine this machine has; worker tests on workers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createCa,
  type DecodedCertificate,
  decodeCertificate,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  loadCaFromPem,
  PkiError,
} from '../../../src/services/pki/index.js';
import { createIssuerPool, poolWorkersForTests } from '../../../src/services/pki/pool.js';
import { openssl, opensslIntermediate, put, tempDir } from './helpers.js';
import { nativeSignerStatus } from '../../../src/services/pki/native.js';
import { nativePoolStatsForTests } from '../../../src/services/pki/native-pool.js';

/** The engines to test: workers always; native when built (test/unit/pki/native.test.ts fails in CI when it is not). */
const ENGINES = nativeSignerStatus().addon ? (['native', 'workers'] as const) : (['workers'] as const);

for (const engine of ENGINES)
  test(`a pool of two (${engine}) issues verifiable certificates and reports refusals as PkiError`, async (t) => {
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'pool', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const pool = await createIssuerPool(loaded, { size: 2, engine });
    assert.equal(pool.engine, engine);
    t.after(() => pool.close());
    const { csrPem } = await generateKeyAndCsr({ cn: 'w', hosts: ['w.example'] });
    const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/pool' };
    const results = await Promise.all(Array.from({ length: 12 }, () => pool.issue(csrPem, request)));
    assert.equal(pool.liveWorkers(), 2, 'both workers started and issued');
    const serials = new Set(results.map((r) => r.certificate.serialNumber));
    assert.equal(serials.size, 12);
    for (const r of results.slice(0, 3)) {
      assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
      assert.ok(r.certificate.notAfter instanceof Date);
    }
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    const leaf = await put(dir, 'leaf.pem', results[0]!.pem);
    assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
    await assert.rejects(
      pool.issue(csrPem, { ...request, signerName: 'kubernetes.io/kube-apiserver-client' }),
      (err: unknown) => err instanceof PkiError && err.code === 'signer-refused',
    );
  });

for (const engine of ENGINES)
  test(`a pool (${engine}) takes decoded CSRs (not verified again) in batches, and keeps their proof of possession`, async (t) => {
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'pool', keyAlgorithm: 'RSAWithSize2048', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const pool = await createIssuerPool(loaded, { size: 2, engine });
    t.after(() => pool.close());
    const { csrPem } = await generateKeyAndCsr({ cn: 'w', hosts: ['w.example', '10.0.0.1'], names: [{ O: 'o' }] });
    const csr = await decodeCsr(csrPem);
    const request = {
      usages: ['digital signature', 'key encipherment', 'server auth'],
      signerName: 'example.com/pool',
    };
    // More than one batch per worker.
    const results = await Promise.all(Array.from({ length: 80 }, () => pool.issue(csr, request)));
    assert.equal(pool.liveWorkers(), 2);
    assert.equal(new Set(results.map((r) => r.certificate.serialNumber)).size, 80);
    for (const r of [results[0]!, results[79]!]) assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    const leaf = await put(dir, 'leaf.pem', results[79]!.pem);
    assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
    const unverified = { ...csr, proofOfPossession: { verified: false, error: 'forged' } };
    await assert.rejects(
      pool.issue(unverified, request),
      (err: unknown) => err instanceof PkiError && err.code === 'signer-refused',
    );
  });

/** A description without what differs between two issuances of the same request. */
const sameMeaning = (c: DecodedCertificate) => ({ ...c, pem: '', serialNumber: '', sha256Fingerprint: '' });

for (const engine of ENGINES)
  test(`pool results (${engine}) mean what issueCertificate results mean (RSA SHA-512 profile, P-256, chain), checked by openssl`, async (t) => {
    const dir = await tempDir(t);
    const root = await createCa({ cn: 'root', keyAlgorithm: 'ECDSAWithCurve256', days: 3 });
    const rsa = await createCa({ cn: 'rsa', keyAlgorithm: 'RSAWithSize2048', days: 3, names: [{ O: 'certdesk' }] });
    const now = new Date();
    const csrs = await Promise.all([
      generateKeyAndCsr({ cn: 'a', hosts: ['a.example', '10.0.0.1', 'fd00::1', 'x@y.z', 'spiffe://td/ns/a'] }),
      generateKeyAndCsr({ cn: '', hosts: ['only-san.example'] }),
      generateKeyAndCsr({ cn: 'no-sans', names: [{ O: 'system:nodes', OU: 'ü' }], key: { algo: 'rsa', size: 2048 } }),
    ]);
    const requests = [
      { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'], signerName: 'x.io/y' },
      {
        usages: ['client auth', 'any', 'ocsp signing'],
        signerName: 'x.io/y',
        expirationSeconds: 7777,
        profile: {
          name: 'p',
          allowedUsages: [],
          defaultDurationSeconds: 86400,
          maxDurationSeconds: 86400,
          rsaHash: 'SHA-512' as const,
        },
      },
    ];
    for (const ca of [root, rsa]) {
      const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
      const caPath = await put(dir, 'ca.pem', ca.certPem);
      const pool = await createIssuerPool(loaded, { size: 2, engine });
      try {
        for (const { csrPem } of csrs) {
          const csr = await decodeCsr(csrPem);
          for (const request of requests) {
            const [fromPool, fromText, direct] = await Promise.all([
              pool.issue(csr, request, now),
              pool.issue(csrPem, request, now),
              issueCertificate(csr, loaded, request, now),
            ]);
            for (const r of [fromPool, fromText]) {
              assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
              assert.deepEqual(sameMeaning(r.certificate), sameMeaning(direct.certificate));
              assert.notEqual(r.certificate.serialNumber, direct.certificate.serialNumber);
              const leaf = await put(dir, 'leaf.pem', r.pem);
              assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /leaf\.pem: OK/);
            }
          }
        }
      } finally {
        await pool.close();
      }
    }
    // An intermediate CA (made by openssl): the pool appends its certificate after the leaf, as issueCertificate does.
    const int = await opensslIntermediate(dir, root, 2);
    const intermediate = await loadCaFromPem(int.certPem, int.keyPem, { chainPem: root.certPem });
    const pool = await createIssuerPool(intermediate, { size: 1, engine });
    t.after(() => pool.close());
    const profile = {
      name: 'c',
      allowedUsages: [],
      defaultDurationSeconds: 3600,
      maxDurationSeconds: 3600,
      includeChain: true,
    };
    const request = { usages: ['server auth'], signerName: 'x.io/y', profile };
    const csr = await decodeCsr(csrs[0]!.csrPem);
    const [a, b] = await Promise.all([
      pool.issue(csr, request, now),
      issueCertificate(csr, intermediate, request, now),
    ]);
    assert.equal(a.pem.split('-----BEGIN CERTIFICATE-----').length, 3, 'leaf and intermediate, not the root');
    assert.equal(a.pem.slice(a.pem.indexOf('-----END')), b.pem.slice(b.pem.indexOf('-----END')));
    const bundle = await put(dir, 'bundle.pem', a.pem);
    assert.match((await openssl(['verify', '-CAfile', int.rootPath, '-untrusted', int.certPath, bundle])).stdout, /OK/);
  });

test('jobs of a worker that dies are issued in the calling thread; later jobs go to the live worker', async (t) => {
  const dir = await tempDir(t);
  const ca = await createCa({ cn: 'pool', days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const pool = await createIssuerPool(loaded, { size: 2, engine: 'workers' });
  t.after(() => pool.close());
  const csr = await decodeCsr((await generateKeyAndCsr({ cn: 'w', hosts: ['w.example'] })).csrPem);
  const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/pool' };
  const first = Array.from({ length: 100 }, () => pool.issue(csr, request));
  const doomed = poolWorkersForTests(pool)[0]!;
  // The batches are on their way (or queued) when the worker goes.
  void doomed.terminate();
  const results = await Promise.all(first);
  const deadline = Date.now() + 10_000;
  while (pool.liveWorkers() !== 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(pool.liveWorkers(), 1);
  const later = await Promise.all(Array.from({ length: 40 }, () => pool.issue(csr, request)));
  const all = [...results, ...later];
  assert.equal(new Set(all.map((r) => r.certificate.serialNumber)).size, 140);
  const caPath = await put(dir, 'ca.pem', ca.certPem);
  for (const r of [results[0]!, results[99]!, later[39]!]) {
    assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
    const leaf = await put(dir, 'leaf.pem', r.pem);
    assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
  }
});

for (const engine of ENGINES)
  test(`close() (${engine}) waits for the jobs under way; later jobs are issued in this thread`, async () => {
    const ca = await createCa({ cn: 'pool', keyAlgorithm: 'RSAWithSize2048', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const pool = await createIssuerPool(loaded, { size: 2, engine });
    const { csrPem } = await generateKeyAndCsr({ cn: 'w', hosts: ['w.example'] });
    const csr = await decodeCsr(csrPem);
    const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/pool' };
    let settled = 0;
    const jobs = [
      ...Array.from({ length: 60 }, () => pool.issue(csr, request)),
      ...Array.from({ length: 4 }, () => pool.issue(csrPem, request)),
    ].map((p) => p.finally(() => settled++));
    await pool.close();
    assert.equal(settled, jobs.length, 'every job settled before close() resolved');
    const results = await Promise.all(jobs);
    for (const r of [results[0]!, results[63]!]) assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
    const deadline = Date.now() + 10_000;
    while (pool.liveWorkers() !== 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(pool.liveWorkers(), 0);
    const after = await pool.issue(csr, request);
    assert.deepEqual(after.certificate, await decodeCertificate(after.pem));
  });

test('a native pool has at most `size` + 1 batches in the signer at once (size signing, one waiting)', {
  skip: ENGINES.length < 2 ? 'no native signer' : false,
}, async () => {
  const ca = await createCa({ cn: 'pool', days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const csr = await decodeCsr((await generateKeyAndCsr({ cn: 'w', hosts: ['w.example'] })).csrPem);
  const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/pool' };
  for (const size of [1, 2]) {
    const pool = await createIssuerPool(loaded, { size, engine: 'native' });
    // Several batches' worth at once.
    const results = await Promise.all(Array.from({ length: 300 }, () => pool.issue(csr, request)));
    await pool.close();
    assert.equal(new Set(results.map((r) => r.certificate.serialNumber)).size, 300);
    assert.equal(nativePoolStatsForTests(pool)?.maxInFlight, size + 1);
  }
});

for (const engine of ENGINES)
  test(`a pool (${engine}) issues a request whose TBS is larger than a batch's room next to small ones`, async (t) => {
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'pool', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const pool = await createIssuerPool(loaded, { size: 2, engine });
    t.after(() => pool.close());
    const hosts = Array.from({ length: 3000 }, (_, i) => `host-${i}.a-rather-long-subdomain.example.com`);
    const big = await decodeCsr((await generateKeyAndCsr({ cn: 'big', hosts })).csrPem);
    const small = await decodeCsr((await generateKeyAndCsr({ cn: 'small', hosts: ['s.example'] })).csrPem);
    const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/pool' };
    const order = [small, big, small, small, big, small];
    const results = await Promise.all(order.map((csr) => pool.issue(csr, request)));
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    for (const [i, r] of results.entries()) {
      assert.equal(r.certificate.sans.dns.length, order[i] === big ? 3000 : 1);
      assert.deepEqual(r.certificate, await decodeCertificate(r.pem));
      const leaf = await put(dir, `leaf${i}.pem`, r.pem);
      assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
    }
  });

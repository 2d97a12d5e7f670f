// The issuer pool: worker threads holding the CA issue in parallel, with issueCertificate's contract.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createCa,
  decodeCertificate,
  decodeCsr,
  generateKeyAndCsr,
  loadCaFromPem,
  PkiError,
} from '../../../src/services/pki/index.js';
import { createIssuerPool } from '../../../src/services/pki/pool.js';
import { openssl, put, tempDir } from './helpers.js';

test('a pool of two workers issues verifiable certificates and reports refusals as PkiError', async (t) => {
  const dir = await tempDir(t);
  const ca = await createCa({ cn: 'pool', days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const pool = await createIssuerPool(loaded, { size: 2 });
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

test('a pool takes decoded CSRs (not verified again) in batches, and keeps their proof of possession', async (t) => {
  const dir = await tempDir(t);
  const ca = await createCa({ cn: 'pool', keyAlgorithm: 'RSAWithSize2048', days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const pool = await createIssuerPool(loaded, { size: 2 });
  t.after(() => pool.close());
  const { csrPem } = await generateKeyAndCsr({ cn: 'w', hosts: ['w.example', '10.0.0.1'], names: [{ O: 'o' }] });
  const csr = await decodeCsr(csrPem);
  const request = { usages: ['digital signature', 'key encipherment', 'server auth'], signerName: 'example.com/pool' };
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

// Hostile input: whatever bytes arrive, decoding ends quickly in a value or a PkiError, never anything else.
// Property tests feed random and mutated inputs; named cases cover the classic traps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildHostileRequests } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import {
  createCa,
  decodeCertificate,
  decodeCertificates,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  loadCaFromPem,
  PkiError,
} from '../../../src/services/pki/index.js';
import { openssl, tempDir } from './helpers.js';

const derOf = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/** Resolves, or rejects with a PkiError; anything else fails the property. */
async function onlyPkiErrors(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (err) {
    if (err instanceof PkiError) return true;
    throw err;
  }
}

const decoders = [decodeCsr, decodeCertificate, decodeCertificates] as const;

async function samples(): Promise<{ csr: Uint8Array; cert: Uint8Array }> {
  const ca = await createCa({ cn: 'fuzz', days: 2 });
  const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
  const { csrPem } = await generateKeyAndCsr({ cn: 'fuzz', hosts: ['a.example', '10.0.0.1'], names: [{ O: 'x' }] });
  const { pem } = await issueCertificate(csrPem, loaded, {
    usages: ['digital signature', 'server auth'],
    signerName: 'x.io/y',
  });
  return { csr: derOf(csrPem), cert: derOf(pem) };
}

describe('hostile input (property tests)', () => {
  test('random bytes and random strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        for (const d of decoders) assert.ok(await onlyPkiErrors(d(bytes)));
        return true;
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 512 }), async (s) => {
        for (const d of decoders) assert.ok(await onlyPkiErrors(d(s)));
        return true;
      }),
      { numRuns: 300 },
    );
  });

  test('mutated and truncated DER of real CSRs and certificates', async () => {
    const { csr, cert } = await samples();
    for (const base of [csr, cert]) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
          fc.nat(base.length),
          async (edits, cut) => {
            const b = Uint8Array.from(base);
            for (const [i, v] of edits) b[i] = v;
            for (const input of [b, b.subarray(0, cut)]) {
              for (const d of decoders) assert.ok(await onlyPkiErrors(d(input)));
              const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(input).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
              assert.ok(await onlyPkiErrors(decodeCsr(pem)));
            }
            return true;
          },
        ),
        { numRuns: 400 },
      );
    }
  });
});

describe('round trips (property tests)', () => {
  test('any subject text and hosts survive generate → decode → issue → decode', async () => {
    const ca = await createCa({ cn: 'prop', days: 2 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const dns = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.string({ maxLength: 20 }),
        fc.array(fc.oneof(dns, ipv4), { maxLength: 4 }),
        async (cn, org, hosts) => {
          const { csrPem } = await generateKeyAndCsr({ cn, names: org ? [{ O: org }] : [], hosts });
          const csr = await decodeCsr(csrPem);
          assert.equal(csr.subject.commonName, cn);
          assert.deepEqual(csr.subject.organizations, org ? [org] : []);
          assert.deepEqual([...csr.sans.dns, ...csr.sans.ip].sort(), [...hosts].sort());
          assert.equal(csr.proofOfPossession.verified, true);
          const { certificate, pem } = await issueCertificate(csr, loaded, {
            usages: ['client auth'],
            signerName: 'x.io/y',
          });
          assert.deepEqual(certificate.subject, csr.subject);
          assert.deepEqual(certificate, await decodeCertificate(pem));
          return true;
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('hostile input (named cases)', () => {
  const rejectsWith = async (p: Promise<unknown>, code: string) =>
    assert.rejects(p, (err: unknown) => err instanceof PkiError && err.code === code && !err.message.includes('\n'));

  test('not PEM, empty, wrong PEM type, truncated PEM', async () => {
    await rejectsWith(decodeCsr('hello world'), 'not-pem');
    await rejectsWith(decodeCsr(''), 'not-pem');
    await rejectsWith(decodeCsr('-----BEGIN CERTIFICATE REQUEST-----\nMIIB'), 'not-pem');
    const { certPem } = await createCa({ cn: 'x', days: 1 });
    await rejectsWith(decodeCsr(certPem), 'wrong-pem-type');
    await rejectsWith(decodeCsr(derOf(certPem)), 'wrong-pem-type');
    const { csrPem } = await generateKeyAndCsr({ cn: 'x' });
    await rejectsWith(decodeCertificate(csrPem), 'wrong-pem-type');
    await rejectsWith(decodeCertificate(derOf(csrPem)), 'wrong-pem-type');
    await rejectsWith(decodeCsr('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'wrong-pem-type');
  });

  test('absurd lengths, indefinite lengths, trailing bytes, deep nesting', async () => {
    await rejectsWith(decodeCsr(Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00)), 'bad-der');
    await rejectsWith(decodeCsr(Uint8Array.of(0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1)), 'not-pem');
    await rejectsWith(decodeCsr(Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00)), 'not-pem');
    await rejectsWith(decodeCsr(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00, 0xff)), 'bad-der');
    const deep = new Uint8Array(20000);
    for (let i = 0; i < 10000; i++) {
      deep[i * 2] = 0x30;
      deep[i * 2 + 1] = 0x81;
    }
    assert.ok(await onlyPkiErrors(decodeCsr(deep)));
  });

  test('garbage and PEM headers up to and past the 3 MiB bound end quickly', async () => {
    const started = Date.now();
    await rejectsWith(decodeCsr(randomBytes((3 << 20) + 1)), 'too-large');
    assert.ok(await onlyPkiErrors(decodeCsr(randomBytes(3 << 20))));
    await rejectsWith(decodeCsr('-----BEGIN A-----'.repeat(180_000)), 'not-pem');
    await rejectsWith(decodeCsr('-----BEGIN A-----'.repeat(30000)), 'not-pem');
    await rejectsWith(decodeCsr('-----BEGIN A-----'.repeat(190_000)), 'too-large');
    await rejectsWith(decodeCsr('A'.repeat(400000)), 'not-pem');
    assert.ok(Date.now() - started < 30_000, 'hostile inputs must not hang');
  });

  test('the sandbox hostile scenario decodes, keeping control characters for the findings to flag', async () => {
    const requests = await buildHostileRequests();
    assert.ok(requests.length > 0);
    for (const r of requests) {
      const csr = await decodeCsr(r.body.spec.request);
      assert.equal(typeof csr.subject.text, 'string');
      assert.equal(csr.proofOfPossession.verified, true, r.name);
    }
  });
});

describe('every algorithm decodes and round-trips', () => {
  const cases: Array<{ args: string[]; description: string; supported: boolean; sig: RegExp }> = [
    { args: ['-newkey', 'rsa:2048'], description: 'RSA 2048', supported: true, sig: /^sha256WithRSA/ },
    { args: ['-newkey', 'rsa:3072'], description: 'RSA 3072', supported: false, sig: /^sha256WithRSA/ },
    { args: ['-newkey', 'rsa:4096', '-sha512'], description: 'RSA 4096', supported: true, sig: /^sha512WithRSA/ },
    {
      args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      description: 'ECDSA P-256',
      supported: true,
      sig: /^ecdsa-with-SHA256$/,
    },
    {
      args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'],
      description: 'ECDSA P-384',
      supported: true,
      sig: /^ecdsa-with-SHA384$/,
    },
    {
      args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521', '-sha512'],
      description: 'ECDSA P-521',
      supported: true,
      sig: /^ecdsa-with-SHA512$/,
    },
    {
      args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
      description: 'ECDSA secp256k1',
      supported: false,
      sig: /^ecdsa-with-SHA256$/,
    },
    { args: ['-newkey', 'ed25519'], description: 'Ed25519', supported: false, sig: /^Ed25519$/ },
    { args: ['-newkey', 'ed448'], description: 'Ed448 (unsupported)', supported: false, sig: /^Ed448$/ },
    {
      args: ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
      description: 'RSA 2048',
      supported: true,
      sig: /^rsassaPss \(SHA256\)$/,
    },
  ];
  for (const c of cases) {
    test(`${c.description} ${c.sig.source}`, async (t) => {
      const dir = await tempDir(t);
      await openssl([
        'req',
        '-new',
        ...c.args,
        '-nodes',
        '-keyout',
        `${dir}/k`,
        '-subj',
        '/CN=alg',
        '-out',
        `${dir}/r`,
      ]);
      const csr = await decodeCsr(await readFile(`${dir}/r`, 'utf8'));
      assert.equal(csr.publicKey.description, c.description);
      assert.equal(csr.publicKey.supported, c.supported);
      assert.match(csr.signatureAlgorithm, c.sig);
      assert.deepEqual(csr.proofOfPossession, { verified: true });
    });
  }

  test('RSA 8192 (fixture) decodes and is signed by a P-256 CA', async () => {
    const csrPem = await readFile(new URL('./fixtures/rsa8192.csr.pem', import.meta.url), 'utf8');
    const csr = await decodeCsr(csrPem);
    assert.equal(csr.publicKey.description, 'RSA 8192');
    assert.equal(csr.proofOfPossession.verified, true);
    const ca = await createCa({ cn: 'p256', days: 1 });
    const { certificate } = await issueCertificate(csr, await loadCaFromPem(ca.certPem, ca.keyPem), {
      usages: ['client auth'],
      signerName: 'x.io/y',
    });
    assert.equal(certificate.publicKey.description, 'RSA 8192');
  });

  test('generateKeyAndCsr for each supported key', async () => {
    for (const key of [
      { algo: 'rsa', size: 2048 },
      { algo: 'ecdsa', size: 256 },
      { algo: 'ecdsa', size: 384 },
      { algo: 'ecdsa', size: 521 },
    ] as const) {
      const csr = await decodeCsr((await generateKeyAndCsr({ cn: 'gen', key })).csrPem);
      assert.equal(csr.publicKey.supported, true);
      assert.equal(csr.proofOfPossession.verified, true);
    }
    await assert.rejects(
      generateKeyAndCsr({ cn: 'weak', key: { algo: 'rsa', size: 1024 } }),
      (e: unknown) => e instanceof PkiError && e.code === 'unsupported',
    );
  });
});

// `ca import` refuses, in one sentence, CA keys certdesk cannot sign with or whose work Go would not accept (RSA-PSS,
// secp256k1, brainpool, Ed25519, Ed448, RSA under 1024 bits), refuses weak keys (RSA 1024, P-224) unless allowWeak,
// and a key that is not the certificate's. What it takes signs certificates openssl and Go's crypto/x509 read.
// Directories it creates are 0700 and key files 0600 even under umask 000.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { importCa, initCa, loadCaForSigner } from '../../../src/services/config/ca-registry.js';
import { generateKeyAndCsr, issueCertificate, PkiError } from '../../../src/services/pki/index.js';
import { goOracle } from '../../helpers/go-oracle.js';
import { openssl, opensslCa, put, tempDir } from './helpers.js';

const REFUSED: Array<[string, string[], RegExp]> = [
  [
    'rsa-pss',
    ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'],
    /^The CA key \(RSA-PSS 2048\) cannot sign: Go does not read RSA-PSS/,
  ],
  [
    'secp256k1',
    ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
    /^The CA key \(ECDSA secp256k1\) cannot sign: Go accepts ECDSA on P-224, P-256, P-384 and P-521 only/,
  ],
  [
    'brainpool',
    ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:brainpoolP256r1'],
    /\(ECDSA brainpoolP256r1\) cannot sign/,
  ],
  ['ed25519', ['-newkey', 'ed25519'], /^The CA key \(Ed25519\) cannot sign: certdesk signs with RSA and ECDSA CA keys/],
  ['ed448', ['-newkey', 'ed448'], /^The CA key \(Ed448\) cannot sign: certdesk/],
  ['rsa512', ['-newkey', 'rsa:512'], /^The CA key \(RSA 512\) cannot sign: Go refuses RSA keys under 1024 bits/],
];

describe('ca import: what certdesk cannot sign with, or Go would not accept, is refused in one sentence', () => {
  for (const [name, newkey, message] of REFUSED) {
    test(name, async (t) => {
      const dir = await tempDir(t);
      const { cert, key } = await opensslCa(dir, name, newkey);
      await assert.rejects(
        importCa({
          cwd: join(dir, 'config'),
          signerName: `example.com/${name}`,
          certPath: cert,
          keyPath: key,
          allowWeak: true,
        }),
        (err: unknown) => {
          assert.ok(err instanceof PkiError, String(err));
          assert.equal(err.code, 'unsupported');
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /\n|JWK/);
          return true;
        },
      );
    });
  }

  test('a key that is not the certificate’s', async (t) => {
    const dir = await tempDir(t);
    const a = await opensslCa(dir, 'a', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const b = await opensslCa(dir, 'b', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    await assert.rejects(
      importCa({ cwd: join(dir, 'config'), signerName: 'example.com/mixed', certPath: a.cert, keyPath: b.key }),
      (err: unknown) => err instanceof PkiError && err.code === 'bad-key' && /does not belong/.test(err.message),
    );
  });
});

describe('ca import: weak keys need allowWeak, and then sign what Go and openssl read', () => {
  for (const [name, newkey, weak] of [
    ['rsa1024', ['-newkey', 'rsa:1024'], /^The CA key is weak \(RSA 1024, under 2048 bits\).*--allow-weak/],
    [
      'p224',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-224'],
      /^The CA key is weak \(ECDSA P-224, 112-bit security\)/,
    ],
  ] as Array<[string, string[], RegExp]>) {
    test(name, async (t) => {
      const dir = await tempDir(t);
      const cwd = join(dir, 'config');
      const signerName = `example.com/${name}`;
      const { cert, key } = await opensslCa(dir, name, newkey);
      await assert.rejects(
        importCa({ cwd, signerName, certPath: cert, keyPath: key }),
        (err: unknown) => err instanceof PkiError && weak.test(err.message),
      );
      await importCa({ cwd, signerName, certPath: cert, keyPath: key, allowWeak: true });
      const ca = await loadCaForSigner(signerName, { cwd });
      const { csrPem } = await generateKeyAndCsr({ cn: 'leaf', hosts: ['leaf.example'] });
      const { pem } = await issueCertificate(csrPem, ca, { usages: ['server auth'], signerName });
      const leaf = await put(dir, 'leaf.pem', pem);
      assert.match((await openssl(['verify', '-CAfile', cert, leaf])).stdout, /OK/);
      const oracle = await goOracle();
      if (typeof oracle === 'string') return t.skip(oracle);
      const [v] = await oracle.check([
        { kind: 'cert', der: Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64') },
      ]);
      assert.equal(v?.parseError ?? 'parsed', 'parsed');
    });
  }
});

describe('under umask 000', () => {
  test('ca init and ca import create 0700 directories and 0600 key and registry files', async (t) => {
    const dir = await tempDir(t);
    const old = process.umask(0);
    t.after(() => process.umask(old));
    const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);
    const cwd = join(dir, 'new', 'config');
    const entry = await initCa({ cwd, signerName: 'example.com/umask', days: 2 });
    assert.equal(await mode(join(dir, 'new')), '700');
    assert.equal(await mode(cwd), '700');
    assert.equal(await mode(join(cwd, 'cas')), '700');
    assert.equal(await mode(join(cwd, 'cas', 'example.com_umask')), '700');
    assert.equal(await mode(entry.keyPath!), '600');
    assert.equal(await mode(join(cwd, 'ca-registry.json')), '600');
    const other = join(dir, 'other');
    await importCa({ cwd: other, signerName: 'example.com/again', certPath: entry.certPath, keyPath: entry.keyPath! });
    assert.equal(await mode(other), '700');
    assert.equal(await mode(join(other, 'ca-registry.json')), '600');
  });
});

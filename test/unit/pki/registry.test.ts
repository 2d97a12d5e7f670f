// The CA registry: several CAs keyed by signerName in a temp dir, loadCaForSigner's checks, paths.
import assert from 'node:assert/strict';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  getCa,
  importCa,
  initCa,
  listCas,
  loadCaForSigner,
  removeCa,
  signerDirName,
} from '../../../src/services/config/ca-registry.js';
import { configDir, profilesDir, stateDir } from '../../../src/services/config/paths.js';
import { createCa, generateKeyAndCsr, issueCertificate, PkiError } from '../../../src/services/pki/index.js';
import { put, tempDir } from './helpers.js';

const isPki = (code: string) => (err: unknown) => err instanceof PkiError && err.code === code;

describe('CA registry', () => {
  test('one CA per signer (Istio: foo, bar, istio-system), each signs only for itself', async (t) => {
    const cwd = await tempDir(t);
    const signers = [
      'clusterissuers.cert-manager.io/foo',
      'clusterissuers.cert-manager.io/bar',
      'clusterissuers.cert-manager.io/istio-system',
    ];
    for (const signerName of signers) await initCa({ cwd, signerName, days: 2 });
    assert.deepEqual(
      listCas({ cwd }).map((e) => e.signerName),
      [...signers].sort(),
    );
    const foo = getCa(signers[0]!, { cwd });
    assert.equal((await stat(foo.keyPath!)).mode & 0o777, 0o600);
    assert.ok(foo.keyPath!.includes(signerDirName(signers[0]!)));
    const registryText = await readFile(join(cwd, 'ca-registry.json'), 'utf8');
    assert.doesNotMatch(registryText, /PRIVATE KEY/);
    assert.equal((await stat(join(cwd, 'ca-registry.json'))).mode & 0o777, 0o600);

    const fooCa = await loadCaForSigner(signers[0]!, { cwd });
    const barCa = await loadCaForSigner(signers[1]!, { cwd });
    assert.notEqual(fooCa.certificate.sha256Fingerprint, barCa.certificate.sha256Fingerprint);
    const { csrPem } = await generateKeyAndCsr({ cn: 'workload', hosts: ['spiffe://cluster.local/ns/foo/sa/default'] });
    const issued = await issueCertificate(csrPem, fooCa, { usages: ['client auth'], signerName: signers[0]! });
    assert.equal(issued.certificate.issuer.text, fooCa.certificate.subject.text);

    await assert.rejects(initCa({ cwd, signerName: signers[0]! }), isPki('unsupported'));
    await assert.rejects(initCa({ cwd, signerName: 'not a signer' }), isPki('unsupported'));
    assert.throws(() => getCa('example.com/none', { cwd }), isPki('not-found'));
    assert.equal(removeCa(signers[2]!, { cwd }), true);
    assert.equal(listCas({ cwd }).length, 2);
  });

  test('import checks the key file, the passphrase variable and the key match', async (t) => {
    const cwd = await tempDir(t);
    const ca = await createCa({ cn: 'imported', keyAlgorithm: 'ECDSAWithCurve384', days: 2 });
    const certPath = await put(cwd, 'ca.pem', ca.certPem);
    const keyPath = await put(cwd, 'ca.key', ca.keyPem);
    await chmod(keyPath, 0o640);
    await assert.rejects(
      importCa({ cwd, signerName: 'example.com/imp', certPath, keyPath }),
      isPki('insecure-key-file'),
    );
    await importCa({ cwd, signerName: 'example.com/imp', certPath, keyPath, allowInsecureKeyFile: true });
    await assert.rejects(loadCaForSigner('example.com/imp', { cwd }), isPki('insecure-key-file'));
    await loadCaForSigner('example.com/imp', { cwd, allowInsecureKeyFile: true });
    await chmod(keyPath, 0o600);
    const loaded = await loadCaForSigner('example.com/imp', { cwd });
    assert.equal(loaded.certificate.publicKey.description, 'ECDSA P-384');

    const other = await createCa({ cn: 'other', days: 2 });
    const otherKey = await put(cwd, 'other.key', other.keyPem);
    await assert.rejects(
      importCa({ cwd, signerName: 'example.com/mismatch', certPath, keyPath: otherKey }),
      isPki('bad-key'),
    );

    // Encrypted key, passphrase from a named environment variable.
    process.env.CERTDESK_TEST_PASSPHRASE = 'pass phrase';
    t.after(() => {
      delete process.env.CERTDESK_TEST_PASSPHRASE;
    });
    const entry = await initCa({
      cwd,
      signerName: 'example.com/encrypted',
      passphrase: 'pass phrase',
      passphraseEnv: 'CERTDESK_TEST_PASSPHRASE',
    });
    assert.match(await readFile(entry.keyPath!, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    await loadCaForSigner('example.com/encrypted', { cwd });
    delete process.env.CERTDESK_TEST_PASSPHRASE;
    await assert.rejects(loadCaForSigner('example.com/encrypted', { cwd }), isPki('bad-key'));
    await assert.rejects(loadCaForSigner('example.com/encrypted', { cwd, passphrase: 'wrong' }), isPki('bad-key'));
  });

  test('paths honour CERTDESK_CONFIG_DIR / CERTDESK_STATE_DIR, then XDG', () => {
    assert.equal(configDir({ CERTDESK_CONFIG_DIR: '/c' }), '/c');
    assert.equal(configDir({ XDG_CONFIG_HOME: '/x' }), '/x/certdesk');
    assert.equal(stateDir({ CERTDESK_STATE_DIR: '/s' }), '/s');
    assert.equal(stateDir({ XDG_STATE_HOME: '/x' }), '/x/certdesk');
    assert.match(stateDir({}), /\.local\/state\/certdesk$/);
    assert.equal(profilesDir({ CERTDESK_CONFIG_DIR: '/c' }), '/c/profiles');
  });
});

// privateKeyMatchesSpki (the renewal radar's key check without a key object) against node:crypto's own answer:
// each form of RSA and EC key, matching and not, and the forms it leaves to node:crypto.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { privateKeyMatchesSpki } from '../../../src/services/pki/keys.js';

const spki = (k: KeyObject) => new Uint8Array(k.export({ type: 'spki', format: 'der' }));
const pem = (k: KeyObject, type: 'pkcs1' | 'pkcs8' | 'sec1') => k.export({ type, format: 'pem' }) as string;
/** What node:crypto (OpenSSL) says: the key's public half is the certificate's key. */
const oracle = (keyPem: string, der: Uint8Array) =>
  Buffer.compare(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }), der) === 0;

describe('pki: privateKeyMatchesSpki', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ec2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const cases: [string, string, Uint8Array][] = [
    ['RSA PKCS#1, its own key', pem(rsa.privateKey, 'pkcs1'), spki(rsa.publicKey)],
    ['RSA PKCS#8, its own key', pem(rsa.privateKey, 'pkcs8'), spki(rsa.publicKey)],
    ['RSA PKCS#1, another key', pem(rsa.privateKey, 'pkcs1'), spki(rsa2.publicKey)],
    ['RSA PKCS#8, an EC certificate', pem(rsa.privateKey, 'pkcs8'), spki(ec.publicKey)],
    ['EC SEC1, its own key', pem(ec.privateKey, 'sec1'), spki(ec.publicKey)],
    ['EC PKCS#8, its own key', pem(ec.privateKey, 'pkcs8'), spki(ec.publicKey)],
    ['EC SEC1, another key', pem(ec.privateKey, 'sec1'), spki(ec2.publicKey)],
    ['EC P-384 PKCS#8, a P-256 certificate', pem(ec384.privateKey, 'pkcs8'), spki(ec.publicKey)],
    ['EC SEC1, an RSA certificate', pem(ec.privateKey, 'sec1'), spki(rsa.publicKey)],
  ];
  for (const [name, keyPem, der] of cases) {
    it(`${name}: as node:crypto says`, () => {
      assert.equal(privateKeyMatchesSpki(keyPem, der), oracle(keyPem, der));
    });
  }

  it('leaves Ed25519, encrypted keys and garbage to node:crypto (undefined)', () => {
    const ed = generateKeyPairSync('ed25519');
    assert.equal(privateKeyMatchesSpki(pem(ed.privateKey, 'pkcs8'), spki(ed.publicKey)), undefined);
    const encrypted = rsa.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    }) as string;
    assert.equal(privateKeyMatchesSpki(encrypted, spki(rsa.publicKey)), undefined);
    assert.equal(
      privateKeyMatchesSpki('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', spki(rsa.publicKey)),
      undefined,
    );
    assert.equal(privateKeyMatchesSpki('', spki(rsa.publicKey)), undefined);
  });
});

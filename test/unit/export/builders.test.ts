import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import {
  buildCaConfigMap,
  buildCalicoSnippet,
  buildClientKubeconfig,
  buildTlsSecret,
  ExportError,
  keyMatchesCertificate,
} from '../../../src/services/export/index.js';

let dir = '';
let certPem = '';
let keyPem = '';
let otherKeyPem = '';
let encKeyPem = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-export-'));
  const key = join(dir, 'k.pem');
  const crt = join(dir, 'c.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  execFileSync('openssl', ['req', '-new', '-x509', '-key', key, '-subj', '/CN=my-pod', '-days', '1', '-out', crt]);
  execFileSync('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    join(dir, 'o.pem'),
  ]);
  execFileSync('openssl', ['pkcs8', '-topk8', '-in', key, '-passout', 'pass:secret', '-out', join(dir, 'e.pem')]);
  certPem = readFileSync(crt, 'utf8');
  keyPem = readFileSync(key, 'utf8');
  otherKeyPem = readFileSync(join(dir, 'o.pem'), 'utf8');
  encKeyPem = readFileSync(join(dir, 'e.pem'), 'utf8');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('keyMatchesCertificate tells the matching key from another, and asks for a passphrase', () => {
  assert.equal(keyMatchesCertificate(keyPem, certPem), true);
  assert.equal(keyMatchesCertificate(otherKeyPem, certPem), false);
  assert.equal(keyMatchesCertificate(encKeyPem, certPem, 'secret'), true);
  assert.throws(() => keyMatchesCertificate(encKeyPem, certPem), /passphrase/);
  assert.throws(() => keyMatchesCertificate('garbage', certPem), ExportError);
  assert.throws(() => keyMatchesCertificate(keyPem, 'garbage'), /not PEM/);
});

test('buildTlsSecret makes a kubernetes.io/tls Secret and refuses a foreign key', () => {
  const s = buildTlsSecret({ name: 'server', namespace: 'default', certificatePem: certPem, keyPem });
  assert.equal(s.type, 'kubernetes.io/tls');
  assert.equal(s.metadata?.namespace, 'default');
  assert.equal(Buffer.from(s.data?.['tls.crt'] ?? '', 'base64').toString(), certPem);
  assert.equal(Buffer.from(s.data?.['tls.key'] ?? '', 'base64').toString(), keyPem);
  assert.throws(
    () => buildTlsSecret({ name: 'server', namespace: 'default', certificatePem: certPem, keyPem: otherKeyPem }),
    /does not match/,
  );
});

test('buildCaConfigMap holds ca.crt (or the key asked for) and validates the key', () => {
  const cm = buildCaConfigMap({ name: 'example-serving-ca', namespace: 'ns', caPem: certPem });
  assert.deepEqual(Object.keys(cm.data ?? {}), ['ca.crt']);
  assert.equal(
    buildCaConfigMap({ name: 'x', namespace: 'ns', caPem: certPem, key: 'root.pem' }).data?.['root.pem'],
    certPem,
  );
  assert.throws(
    () => buildCaConfigMap({ name: 'x', namespace: 'ns', caPem: certPem, key: 'a/b' }),
    /not a valid ConfigMap key/,
  );
  assert.throws(() => buildCaConfigMap({ name: 'x', namespace: 'ns', caPem: 'nope' }), /not PEM/);
});

test('buildClientKubeconfig embeds the cluster, the certificate and the key', () => {
  const text = buildClientKubeconfig({
    clusterName: 'east',
    server: 'https://127.0.0.1:6443',
    certificateAuthorityData: 'Q0E=',
    user: 'jane',
    certificatePem: certPem,
    keyPem,
  });
  const doc = parse(text);
  assert.equal(doc['current-context'], 'jane@east');
  assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
  assert.equal(doc.clusters[0].cluster['certificate-authority-data'], 'Q0E=');
  assert.equal(Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString(), certPem);
  assert.equal(doc.contexts[0].context.user, 'jane');
});

test('buildCalicoSnippet prints Installation.spec.certificateManagement', () => {
  const doc = parse(
    buildCalicoSnippet({
      caPem: certPem,
      signerName: 'example.com/calico',
      signatureAlgorithm: 'SHA256WithRSA',
      keyAlgorithm: 'RSAWithSize2048',
    }),
  );
  assert.equal(doc.kind, 'Installation');
  assert.equal(doc.spec.certificateManagement.signerName, 'example.com/calico');
  assert.equal(doc.spec.certificateManagement.caCert, certPem);
});

// The sandbox's synchronous PKI: the cluster CA and minted certificates checked with openssl, and PKCS#10 parsing
// and self-signature verification of requests made by openssl, with Go's error texts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClusterCa, issueCert } from '../../../src/services/sandbox/ca.js';
import { checkRequest } from '../../../src/services/sandbox/csr.js';
import { pemDecodeAll } from '../../../src/services/sandbox/pem.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-sbx-pki-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('cluster CA', () => {
  it('makes a CA and leaf certificates that openssl verifies, with CN/O and SANs', () => {
    const ca = createClusterCa('east');
    const server = issueCert(ca, { commonName: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost', '::1'] });
    const client = issueCert(ca, { commonName: 'jane', organizations: ['devs', 'system:authenticated'] });
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'server.pem'), server.certPem);
    writeFileSync(join(dir, 'client.pem'), client.certPem);
    assert.match(
      openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'server.pem'), join(dir, 'client.pem')),
      /server.pem: OK\n.*client.pem: OK/,
    );
    assert.match(
      openssl('verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', join(dir, 'server.pem')),
      /OK/,
    );
    assert.match(
      openssl('verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslclient', join(dir, 'client.pem')),
      /OK/,
    );
    const text = openssl('x509', '-in', join(dir, 'server.pem'), '-noout', '-text');
    assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(
      openssl('x509', '-in', join(dir, 'client.pem'), '-noout', '-subject'),
      /O = devs, O = system:authenticated, CN = jane/,
    );
    const caText = openssl('x509', '-in', join(dir, 'ca.pem'), '-noout', '-text');
    assert.match(caText, /CA:TRUE/);
    assert.match(caText, /Certificate Sign/);
  });
});

describe('checkRequest', () => {
  function opensslCsr(keyArgs: string[], subj: string): Buffer {
    const key = join(dir, 'k.pem');
    const csr = join(dir, 'r.csr');
    openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-subj', subj, '-out', csr);
    return readFileSync(csr);
  }

  it('accepts openssl requests (EC, RSA, Ed25519) and reads O', () => {
    const ec = opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '/O=system:masters/CN=a');
    assert.deepEqual(checkRequest(ec), { organizations: ['system:masters'], commonName: 'a' });
    assert.equal(checkRequest(opensslCsr(['-newkey', 'rsa:2048'], '/CN=b')).error, undefined);
    assert.equal(checkRequest(opensslCsr(['-newkey', 'ed25519'], '/CN=c')).error, undefined);
    const withText = Buffer.concat([Buffer.from('leading text\n'), ec]);
    assert.equal(checkRequest(withText).error, undefined);
  });

  it('rejects other PEM types, garbage and bad signatures with Go texts', () => {
    assert.equal(checkRequest(Buffer.from('nope')).error, 'PEM block type must be CERTIFICATE REQUEST');
    assert.equal(checkRequest(undefined).error, 'PEM block type must be CERTIFICATE REQUEST');
    assert.equal(
      checkRequest(Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).error,
      'PEM block type must be CERTIFICATE REQUEST',
    );
    assert.equal(
      checkRequest(Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).error,
      'x509: malformed certificate request',
    );
    const ec = opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=tamper');
    const block = pemDecodeAll(ec.toString('latin1'))[0];
    assert.ok(block);
    // flip one byte of the subject's CN ("tamper" → "tampes"), keeping the structure valid
    const der = Buffer.from(block.bytes);
    const i = der.indexOf(Buffer.from('tamper'));
    der[i + 5] = 's'.charCodeAt(0);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    assert.equal(checkRequest(Buffer.from(pem)).error, 'x509: ECDSA verification failure');
  });
});

// caTrustFinding: a CA is trusted for a signer when the cluster's statement holds it (the same certificate, or the
// same subject and key after a renewal) or a CA above it; anything else is `ca-untrusted`, naming where the cluster
// says what it trusts. Checked against openssl: what the finding calls trusted, `openssl verify` accepts for a leaf
// of that CA, and what it calls untrusted, openssl refuses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CA_UNTRUSTED, caTrustFinding, type TrustStatement } from '../../../src/services/actions/ca-trust.js';
import { loadCaFromPem } from '../../../src/services/pki/index.js';
import type { LoadedCa } from '../../../src/services/pki/types.js';
import { type MadeCert, makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';

const SIGNER = 'example.com/calico';
const NOW = Date.now();

const statement = (where: string, ...pems: string[]): TrustStatement => ({
  where,
  certs: pems.map((p) => new X509Certificate(p)),
});

describe('ca-trust: is the signing CA one the cluster trusts for the signer', () => {
  let dir: string;
  let root: MadeCert;
  let renewed: MadeCert;
  let other: MadeCert;
  let intermediate: MadeCert;
  let rootCa: LoadedCa;
  let renewedCa: LoadedCa;
  let otherCa: LoadedCa;
  let intermediateCa: LoadedCa;
  let intermediateNoChain: LoadedCa;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certdesk-ca-trust-'));
    root = await makeCert({ cn: 'calico CA', ...window(NOW, -10, 3650) });
    // The same subject and key, a new certificate (a CA renewed in place).
    renewed = await makeCert({ cn: 'calico CA', keyObject: root.key, ...window(NOW, -1, 7300) });
    other = await makeCert({ cn: 'calico CA', ...window(NOW, -10, 3650) });
    intermediate = await makeCert({ cn: 'calico issuing CA', issuer: root, ca: true, ...window(NOW, -5, 1000) });
    rootCa = await loadCaFromPem(root.certPem, root.keyPem);
    renewedCa = await loadCaFromPem(renewed.certPem, renewed.keyPem);
    otherCa = await loadCaFromPem(other.certPem, other.keyPem);
    intermediateCa = await loadCaFromPem(intermediate.certPem, intermediate.keyPem, { chainPem: root.certPem });
    intermediateNoChain = await loadCaFromPem(intermediate.certPem, intermediate.keyPem);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** openssl's verdict on a leaf of `issuer` against the statement's certificates as the only trust anchors. */
  async function opensslTrusts(issuer: MadeCert, anchors: string[], chain: string[] = []): Promise<boolean> {
    const leaf = await makeCert({ cn: 'calico-node', issuer, ...window(NOW, -1, 30) });
    writeFileSync(join(dir, 'anchors.pem'), anchors.join(''));
    writeFileSync(join(dir, 'chain.pem'), chain.join('') || issuer.certPem);
    writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
    const args = ['verify', '-CAfile', join(dir, 'anchors.pem'), '-untrusted', join(dir, 'chain.pem')];
    try {
      execFileSync('openssl', [...args, join(dir, 'leaf.pem')], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }

  it('nothing stated for the signer: no finding; nothing stated in what could be read: a warning naming the rest', () => {
    assert.equal(caTrustFinding(otherCa, SIGNER, []), undefined);
    const unread = caTrustFinding(otherCa, SIGNER, [], ['Installations', 'ClusterTrustBundles']);
    assert.equal(unread?.level, 'warn');
    assert.match(unread?.message ?? '', /you may not read Installations or ClusterTrustBundles\.$/);
    // A statement read decides, whatever else could not be read.
    const stated = [statement('the caCert of Installation default', root.certPem)];
    assert.equal(caTrustFinding(rootCa, SIGNER, stated, ['ClusterTrustBundles']), undefined);
    assert.equal(caTrustFinding(otherCa, SIGNER, stated, ['ClusterTrustBundles'])?.code, CA_UNTRUSTED);
  });

  it('the same CA, or the same CA renewed with its key: trusted (and openssl agrees)', async () => {
    const stated = [statement('the caCert of Installation default', root.certPem)];
    assert.equal(caTrustFinding(rootCa, SIGNER, stated), undefined);
    assert.equal(caTrustFinding(renewedCa, SIGNER, stated), undefined);
    assert.equal(await opensslTrusts(renewed, [root.certPem], [renewed.certPem]), true);
  });

  it('an intermediate below the trusted CA, with or without its chain file: trusted (and openssl agrees)', async () => {
    const stated = [statement('ClusterTrustBundle example.com:calico:live', root.certPem)];
    assert.equal(caTrustFinding(intermediateCa, SIGNER, stated), undefined);
    assert.equal(caTrustFinding(intermediateNoChain, SIGNER, stated), undefined);
    assert.equal(await opensslTrusts(intermediate, [root.certPem]), true);
  });

  it('a bundle of several CAs: trusted when one of them is this CA', () => {
    const stated = [statement('ClusterTrustBundle example.com:calico:live', other.certPem, root.certPem)];
    assert.equal(caTrustFinding(rootCa, SIGNER, stated), undefined);
  });

  it('another CA of the same name: ca-untrusted, naming where and what the cluster trusts (and openssl refuses)', async () => {
    const stated = [statement('the caCert of Installation default', root.certPem)];
    const f = caTrustFinding(otherCa, SIGNER, stated);
    assert.equal(f?.level, 'fail');
    assert.equal(f?.code, CA_UNTRUSTED);
    assert.match(f.message, /not one the cluster trusts for example\.com\/calico/);
    assert.match(f.message, /the caCert of Installation default trusts CN=calico CA \(SHA-256 [0-9A-F:]{11}…\)/);
    // The two share a name: the fingerprints tell them apart.
    assert.notEqual(
      new X509Certificate(root.certPem).fingerprint256.slice(0, 11),
      otherCa.certificate.sha256Fingerprint.slice(0, 11),
    );
    assert.equal(await opensslTrusts(other, [root.certPem]), false);
    // The root is not trusted just because an intermediate under it is.
    const below = caTrustFinding(rootCa, SIGNER, [statement('ClusterTrustBundle x', intermediate.certPem)]);
    assert.equal(below?.code, CA_UNTRUSTED);
    assert.equal(await opensslTrusts(root, [intermediate.certPem]), false);
  });

  it('a statement holding no readable certificate trusts nothing; hostile names are made terminal-safe', async () => {
    const f = caTrustFinding(rootCa, SIGNER, [{ where: 'ClusterTrustBundle evil\x1b[2J', certs: [] }]);
    assert.equal(f?.code, CA_UNTRUSTED);
    assert.match(f.message, /ClusterTrustBundle evil\\x1b\[2J trusts no readable CA/);
    assert.ok(!f.message.includes('\x1b'));
  });
});

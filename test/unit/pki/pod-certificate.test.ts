// Pod certificates (issue 20): the requested key from a stub PKCS#10 request (made by openssl) or from v1beta1's
// pkixPublicKey + proofOfPossession (signed here over the pod UID as the kubelet does), for every key type
// kube-apiserver accepts; the issued chain checked by openssl (verify, text) and Go's crypto/x509 (Verify), with the
// times kube-apiserver's status validation demands.
import assert from 'node:assert/strict';
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  createCa,
  issuePodCertificate,
  loadCaFromPem,
  type PodCertificateKey,
  podCertificateKey,
} from '../../../src/services/pki/index.js';
import { goOracle } from '../../helpers/go-oracle.js';
import { openssl, opensslIntermediate, put, tempDir } from './helpers.js';

const POD_UID = '6f1c2d3e-0000-4000-8000-00000000c0de';
const KEYS: Array<{ name: string; genpkey: string[]; node: () => KeyObject }> = [
  {
    name: 'ECDSA P-256',
    genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    node: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  },
  {
    name: 'ECDSA P-384',
    genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    node: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  },
  {
    name: 'ECDSA P-521',
    genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
    node: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  },
  { name: 'Ed25519', genpkey: ['-algorithm', 'ED25519'], node: () => generateKeyPairSync('ed25519').privateKey },
  {
    name: 'RSA 3072',
    genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
    node: () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
  },
];

/** A stub PKCS#10 request as the kubelet makes it (empty subject), by openssl, base64 of the DER. */
async function stubFor(dir: string, genpkey: string[], subject = '/'): Promise<{ stub: string; key: KeyObject }> {
  const keyPath = join(dir, `k${Math.random().toString(36).slice(2)}.pem`);
  await openssl(['genpkey', ...genpkey, '-out', keyPath]);
  const der = join(dir, 'stub.der');
  await openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-outform', 'DER', '-out', der]);
  return {
    stub: (await readFile(der)).toString('base64'),
    key: createPrivateKey(await readFile(keyPath)),
  };
}

/** v1beta1's proofOfPossession, as kube-apiserver verifies it. */
function proofOf(key: KeyObject, uid: string): string {
  const data = Buffer.from(uid);
  if (key.asymmetricKeyType === 'ed25519') return sign(null, data, key).toString('base64');
  if (key.asymmetricKeyType === 'rsa') {
    return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING }).toString('base64');
  }
  return sign('sha256', data, key).toString('base64');
}

/** The DER of each PEM block, one after the other. */
const derOf = (pem: string) =>
  Buffer.concat(
    (pem.match(/-----BEGIN [^-]+-----[^-]+-----END [^-]+-----/g) ?? []).map((b) =>
      Buffer.from(b.replace(/-----[^-]+-----/g, ''), 'base64'),
    ),
  );

const spkiB64 = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');

describe('the requested key and its proof of possession', () => {
  for (const k of KEYS) {
    test(`${k.name}: stub request and pkixPublicKey + proofOfPossession`, async (t) => {
      const dir = await tempDir(t);
      const { stub, key } = await stubFor(dir, k.genpkey);
      const fromStub = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: stub });
      assert.equal(fromStub.description, k.name);
      assert.equal(fromStub.supported, true);
      assert.deepEqual(fromStub.proofOfPossession, { verified: true });
      assert.equal(fromStub.stubContent, undefined);
      assert.equal(Buffer.from(fromStub.spki).toString('base64'), spkiB64(key));

      const pkix = { podUID: POD_UID, pkixPublicKey: spkiB64(key), proofOfPossession: proofOf(key, POD_UID) };
      const fromPkix = await podCertificateKey(pkix);
      assert.equal(fromPkix.source, 'pkixPublicKey');
      assert.equal(fromPkix.description, k.name);
      assert.deepEqual(fromPkix.proofOfPossession, { verified: true });
      // Signed over another pod's UID: no proof for this pod.
      const other = await podCertificateKey({ ...pkix, podUID: `${POD_UID}x` });
      assert.equal(other.proofOfPossession.verified, false);
      assert.match(other.proofOfPossession.error ?? '', /not a .* signature over the pod UID/);
    });
  }

  test('a stub whose signature is broken, a key off the list, a stub with a subject, both key fields', async (t) => {
    const dir = await tempDir(t);
    const { stub } = await stubFor(dir, KEYS[0]!.genpkey);
    const der = Buffer.from(stub, 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01; // inside the signature
    const broken = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: der.toString('base64') });
    assert.equal(broken.proofOfPossession.verified, false);

    const rsa2048 = await stubFor(dir, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const weak = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: rsa2048.stub });
    assert.equal(weak.description, 'RSA 2048');
    assert.equal(weak.supported, false);

    const named = await stubFor(dir, KEYS[0]!.genpkey, '/CN=admin/O=system:masters');
    const content = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: named.stub });
    assert.match(content.stubContent ?? '', /^subject .*CN=admin/);

    await assert.rejects(
      podCertificateKey({ stubPKCS10Request: stub, pkixPublicKey: spkiB64(named.key), proofOfPossession: 'AA==' }),
      /exactly one is allowed/,
    );
  });
});

describe('issuing a pod certificate', () => {
  for (const k of KEYS) {
    test(`${k.name} leaf from an ECDSA root: openssl and Go verify it; times as kube-apiserver wants them`, async (t) => {
      const dir = await tempDir(t);
      const ca = await createCa({ cn: 'pod identity CA', days: 30, now: new Date(Date.now() - 3_600_000) });
      const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
      const key = k.node();
      const requested = await podCertificateKey({
        podUID: POD_UID,
        pkixPublicKey: spkiB64(key),
        proofOfPossession: proofOf(key, POD_UID),
      });
      const clock = new Date();
      const issued = await issuePodCertificate(
        requested,
        loaded,
        {
          signerName: 'example.com/pod-identity',
          namespace: 'workloads',
          serviceAccountName: 'web',
          maxExpirationSeconds: 86400,
        },
        clock,
      );
      // NotBefore two minutes back, whole seconds; a day long; refresh half-way.
      const nb = Math.floor((clock.getTime() - 120_000) / 1000) * 1000;
      assert.equal(issued.notBefore.getTime(), nb);
      assert.equal(issued.notAfter.getTime(), nb + 86_400_000);
      assert.equal(issued.beginRefreshAt.getTime(), nb + 43_200_000);
      assert.equal(issued.certificate.notBefore.getTime(), nb);
      assert.equal(issued.certificate.notAfter.getTime(), nb + 86_400_000);
      assert.equal(issued.certificate.publicKey.description, k.name);

      const caPath = await put(dir, 'ca.pem', ca.certPem);
      const leafPath = await put(dir, 'chain.pem', issued.chainPem);
      assert.equal(issued.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 1, 'a root CA adds nothing to the chain');
      // The leaf's key is the requested key.
      const leafKey = (await openssl(['x509', '-in', leafPath, '-noout', '-pubkey'])).stdout;
      assert.equal(createPublicKey(leafKey).export({ type: 'spki', format: 'der' }).toString('base64'), spkiB64(key));
      assert.match((await openssl(['verify', '-CAfile', caPath, leafPath])).stdout, /chain\.pem: OK/);
      const text = (await openssl(['x509', '-in', leafPath, '-noout', '-text'])).stdout;
      assert.match(text, /Subject: *\n/);
      assert.match(
        text,
        /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/workloads\/sa\/web/,
      );
      assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
      assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Authority Key Identifier/);

      const oracle = await goOracle();
      if (typeof oracle === 'string') return t.skip(oracle);
      const [verdict] = await oracle.check([{ kind: 'verify', der: derOf(issued.chainPem + ca.certPem) }]);
      assert.equal(verdict?.parsed, true, verdict?.parseError);
      assert.equal(verdict?.sigError, undefined);
      assert.deepEqual(verdict?.uris, ['spiffe://cluster.local/ns/workloads/sa/web']);
    });
  }

  test('an intermediate CA: the chain is leaf then intermediate, verified up to the root', async (t) => {
    const dir = await tempDir(t);
    const root = await createCa({ cn: 'root', days: 30, now: new Date(Date.now() - 3_600_000) });
    const int = await opensslIntermediate(dir, root, 10);
    const loaded = await loadCaFromPem(int.certPem, int.keyPem);
    const { stub } = await stubFor(dir, KEYS[0]!.genpkey);
    const requested = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: stub });
    const issued = await issuePodCertificate(requested, loaded, {
      signerName: 'example.com/pod-identity',
      namespace: 'workloads',
      serviceAccountName: 'web',
      maxExpirationSeconds: 7200,
    });
    const blocks = issued.chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    assert.equal(blocks.length, 2);
    assert.equal(`${blocks[1]}\n`, int.certPem.replace(/\r/g, ''));
    const leafPath = await put(dir, 'leaf.pem', `${blocks[0]}\n`);
    const verify = await openssl(['verify', '-CAfile', int.rootPath, '-untrusted', int.certPath, leafPath]);
    assert.match(verify.stdout, /leaf\.pem: OK/);
    assert.equal(issued.notAfter.getTime() - issued.notBefore.getTime(), 7_200_000);
    assert.equal(issued.beginRefreshAt.getTime() - issued.notBefore.getTime(), 3_600_000);

    const oracle = await goOracle();
    if (typeof oracle === 'string') return t.skip(oracle);
    const [verdict] = await oracle.check([{ kind: 'verify', der: derOf(issued.chainPem + root.certPem) }]);
    assert.equal(verdict?.sigError, undefined);
  });

  test('lifetime: --duration, the 24 h cap of kubernetes.io/ signers, the CA end, and what is refused', async (t) => {
    const dir = await tempDir(t);
    const ca = await loadCaFromPem(...(Object.values(await createCa({ cn: 'ca', days: 200 })) as [string, string]));
    const { stub } = await stubFor(dir, KEYS[0]!.genpkey);
    const key = await podCertificateKey({ podUID: POD_UID, stubPKCS10Request: stub });
    const base = { namespace: 'ns', serviceAccountName: 'sa', signerName: 'example.com/x' };
    const span = (i: { notBefore: Date; notAfter: Date }) => (i.notAfter.getTime() - i.notBefore.getTime()) / 1000;
    assert.equal(span(await issuePodCertificate(key, ca, { ...base, maxExpirationSeconds: 7_862_400 })), 7_862_400);
    assert.equal(
      span(await issuePodCertificate(key, ca, { ...base, maxExpirationSeconds: 86400, durationSeconds: 3600 })),
      3600,
    );
    assert.equal(
      span(
        await issuePodCertificate(key, ca, {
          ...base,
          signerName: 'kubernetes.io/kube-apiserver-client-pod',
          maxExpirationSeconds: 7_862_400,
        }),
      ),
      86400,
    );
    await assert.rejects(
      issuePodCertificate(key, ca, { ...base, maxExpirationSeconds: 86400, durationSeconds: 1800 }),
      /at least 1h/,
    );
    // A CA ending in 90 minutes: the leaf ends with it; ending in 30 minutes: refused.
    const soon = (minutes: number) =>
      createCa({ cn: 'old', days: 1, now: new Date(Date.now() - 86_400_000 + minutes * 60_000) }).then((c) =>
        loadCaFromPem(c.certPem, c.keyPem),
      );
    const short = await soon(90);
    const clipped = await issuePodCertificate(key, short, { ...base, maxExpirationSeconds: 86400 });
    assert.equal(clipped.notAfter.getTime(), short.certificate.notAfter.getTime());
    await assert.rejects(
      issuePodCertificate(key, await soon(30), { ...base, maxExpirationSeconds: 86400 }),
      /too soon for a certificate of at least 1h/,
    );
    // A key whose holder did not prove possession is never certified.
    const unproven: PodCertificateKey = { ...key, proofOfPossession: { verified: false, error: 'bad signature' } };
    await assert.rejects(
      issuePodCertificate(unproven, ca, { ...base, maxExpirationSeconds: 86400 }),
      /did not prove possession of the key \(bad signature\)/,
    );
  });
});

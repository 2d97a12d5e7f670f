// ca-untrusted on the real kube-apiserver 1.37: a ClusterTrustBundle of the signer (created with kubectl 1.37, as an
// admin would) that holds another CA stops `sign --approve` before anything is approved; once certdesk publishes its
// CA for the signer (`export trust-bundle`), the same command approves and signs, and openssl verifies the
// certificate against the bundle the server now holds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ok } from '../e2e/headless/helpers.js';
import { createCa } from '../../src/services/pki/index.js';
import { initServingCa } from '../helpers/seed-steps.js';
import { type RealEnv, startRealEnv } from './helpers.js';

const SIGNER = 'example.com/trust-test';
const NAME = 'trust-test.default';
let e: RealEnv;

before(async () => {
  e = await startRealEnv(['east']);
  await initServingCa(e, SIGNER);
});
after(async () => {
  await e?.stop();
});

test('a bundle of another CA: nothing approved or signed; with certdesk’s CA published: signed, openssl verifies', async () => {
  const other = await createCa({ cn: 'My Example Signer' });
  const manifest = join(e.dir, 'other-bundle.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'ClusterTrustBundle',
      metadata: { name: 'example.com:trust-test:other' },
      spec: { signerName: SIGNER, trustBundle: other.certPem },
    }),
  );
  const created = await e.kubectl(['create', '-f', manifest]);
  assert.equal(created.code, 0, created.stderr);
  const out = join(e.dir, 'req');
  ok(
    await e.run([
      'request',
      '--cn',
      'trust-test',
      '--host',
      'trust-test.default.svc',
      '--signer',
      SIGNER,
      '--name',
      NAME,
      '--out-dir',
      out,
    ]),
  );

  const refused = await e.run(['sign', '--approve', NAME]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: CSR "trust-test\.default" was not approved: failing findings ca-untrusted \(/);
  assert.match(refused.stderr, /ClusterTrustBundle example\.com:trust-test:other trusts CN=My Example Signer/);
  assert.match((await e.kubectl(['get', 'csr', NAME])).stdout, /\sPending\s*$/m);

  ok(await e.run(['export', 'trust-bundle', '--signer', SIGNER]));
  assert.match(ok(await e.run(['sign', '--approve', NAME])).stdout, /signed \(serial /);
  assert.match((await e.kubectl(['get', 'csr', NAME])).stdout, /Approved,Issued/);

  // The certificate verifies against what the server now holds in certdesk's bundle.
  const bundle = await e.kubectl([
    'get',
    'clustertrustbundle',
    'example.com:trust-test:live',
    '-o',
    'jsonpath={.spec.trustBundle}',
  ]);
  assert.equal(bundle.code, 0, bundle.stderr);
  const cert = await e.kubectl(['get', 'csr', NAME, '-o', 'jsonpath={.status.certificate}']);
  writeFileSync(join(e.dir, 'bundle.pem'), bundle.stdout);
  writeFileSync(join(e.dir, 'leaf.pem'), Buffer.from(cert.stdout, 'base64'));
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(e.dir, 'bundle.pem'), join(e.dir, 'leaf.pem')], {
    encoding: 'utf8',
  });
  assert.match(verified, /leaf\.pem: OK/);
});

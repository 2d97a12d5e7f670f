// "Manage TLS Certificates in a Cluster" with the built binary: request → approve → sign with a CA from
// `ca init` → export secret + ca-configmap + files → objects in the sandbox, openssl verify OK; and the same
// with a CSR made by `cfssl genkey` from the document's JSON.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { coreApi, initServingCa } from '../../helpers/seed-steps.js';
import { type E2eEnv, ok, startE2e } from './helpers.js';

const SIGNER = 'example.com/serving';
let e: E2eEnv;

before(async () => {
  e = await startE2e();
  await initServingCa(e, SIGNER);
});
after(async () => {
  await e?.stop();
});

test('request → approve → sign → export secret and ca-configmap → openssl verify', async () => {
  const out = join(e.dir, 'svc');
  const req = ok(
    await e.run([
      'request',
      '--cn',
      'my-pod.my-namespace.pod.cluster.local',
      '--host',
      'my-svc.my-namespace.svc.cluster.local,my-pod.my-namespace.pod.cluster.local',
      '--host',
      '192.0.2.24',
      '--host',
      '10.0.34.2',
      '--signer',
      SIGNER,
      '--name',
      'my-svc.my-namespace',
      '--out-dir',
      out,
    ]),
  );
  assert.match(req.stdout, /certificatesigningrequest.certificates.k8s.io\/my-svc.my-namespace created/);
  const pending = ok(await e.run(['get', 'csr']));
  assert.match(pending.stdout, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
  assert.match(pending.stdout, /my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+admin\s+<none>\s+Pending/);

  assert.match(ok(await e.run(['approve', 'my-svc.my-namespace'])).stdout, /my-svc.my-namespace approved/);
  assert.match(ok(await e.run(['sign', 'my-svc.my-namespace'])).stdout, /signed \(serial [0-9A-F]+/i);
  assert.match(ok(await e.run(['get', 'csr', 'my-svc.my-namespace'])).stdout, /Approved,Issued/);

  ok(await e.run(['export', 'secret', 'server', '--csr', 'my-svc.my-namespace', '--key', join(out, 'server-key.pem')]));
  ok(await e.run(['export', 'ca-configmap', 'example-serving-ca', '--signer', SIGNER]));
  ok(await e.run(['export', 'files', '--csr', 'my-svc.my-namespace', '--out-dir', out]));

  const api = coreApi(e.sandbox.kubeconfigPath);
  const secret = await api.readNamespacedSecret({ name: 'server', namespace: 'default' });
  assert.equal(secret.type, 'kubernetes.io/tls');
  const serverCrt = readFileSync(join(out, 'server.crt'), 'utf8');
  assert.equal(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString(), serverCrt);
  const cm = await api.readNamespacedConfigMap({ name: 'example-serving-ca', namespace: 'default' });
  assert.equal(cm.data?.['ca.crt'], readFileSync(join(out, 'ca.crt'), 'utf8'));

  const verified = execFileSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'server.crt')], {
    encoding: 'utf8',
  });
  assert.match(verified, /server\.crt: OK/);
  const text = execFileSync('openssl', ['x509', '-in', join(out, 'server.crt'), '-noout', '-text'], {
    encoding: 'utf8',
  });
  assert.match(text, /DNS:my-svc\.my-namespace\.svc\.cluster\.local/);
  assert.match(text, /IP Address:192\.0\.2\.24/);
  assert.match(text, /TLS Web Server Authentication/);

  const audit = JSON.parse(ok(await e.run(['audit', '-o', 'json'])).stdout) as { action: string; outcome: string }[];
  const actions = audit.filter((a) => a.outcome === 'ok').map((a) => a.action);
  for (const a of ['approve', 'sign', 'export-secret', 'export-configmap', 'export-files'])
    assert.ok(actions.includes(a), a);

  const dry = ok(
    await e.run([
      'export',
      'secret',
      'server',
      '--csr',
      'my-svc.my-namespace',
      '--key',
      join(out, 'server-key.pem'),
      '--dry-run=client',
      '-o',
      'yaml',
    ]),
  );
  assert.match(dry.stdout, /type: kubernetes.io\/tls/);
});

test('a CSR made by cfssl genkey from the document’s JSON', async () => {
  const out = join(e.dir, 'cfssl');
  execFileSync('mkdir', ['-p', out]);
  const json = JSON.stringify({
    hosts: [
      'my-svc.my-namespace.svc.cluster.local',
      'my-pod.my-namespace.pod.cluster.local',
      '192.0.2.24',
      '10.0.34.2',
    ],
    CN: 'my-pod.my-namespace.pod.cluster.local',
    key: { algo: 'ecdsa', size: 256 },
  });
  const genkey = execFileSync('cfssl', ['genkey', '-'], { input: json, stdio: ['pipe', 'pipe', 'ignore'] });
  execFileSync('cfssljson', ['-bare', join(out, 'server')], { input: genkey });
  ok(
    await e.run([
      'request',
      '--csr',
      join(out, 'server.csr'),
      '--signer',
      SIGNER,
      '--name',
      'cfssl-svc',
      '--out-dir',
      out,
    ]),
  );
  ok(await e.run(['approve', 'cfssl-svc']));
  ok(await e.run(['sign', 'cfssl-svc', '--signer', SIGNER]));
  ok(await e.run(['export', 'files', '--csr', 'cfssl-svc', '--out-dir', out]));
  ok(await e.run(['export', 'secret', 'cfssl-server', '--csr', 'cfssl-svc', '--key', join(out, 'server-key.pem')]));
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'server.crt')], {
    encoding: 'utf8',
  });
  assert.match(verified, /OK/);
  const secret = await coreApi(e.sandbox.kubeconfigPath).readNamespacedSecret({
    name: 'cfssl-server',
    namespace: 'default',
  });
  assert.equal(
    Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString(),
    readFileSync(join(out, 'server-key.pem'), 'utf8'),
  );
  writeFileSync(join(out, 'done'), '');
});

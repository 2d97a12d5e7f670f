// The seed documents' headless workflows with the built binary against a real kube-apiserver 1.37 and the real
// kube-controller-manager: "Manage TLS Certificates in a Cluster" (local CA, openssl verify), the onboarding notes
// (jane's kube-apiserver-client certificate signed by kube-controller-manager's own signer, then authenticated by the
// real server), the viewer's refusal, and third-party clients reading what certdesk wrote.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { oneLineError, ok } from '../e2e/headless/helpers.js';
import { istioMtlsFlow } from '../helpers/istio-flow.js';
import { coreApi, initServingCa, requestJaneAndApprove } from '../helpers/seed-steps.js';
import { type RealEnv, startRealEnv } from './helpers.js';

const SIGNER = 'example.com/serving';
// Debian's python3 (python3-kubernetes is a Debian package; a pyenv python3 earlier on PATH does not see it).
const PY = '/usr/bin/python3';
let e: RealEnv;

before(async () => {
  e = await startRealEnv(['east']);
  await initServingCa(e, SIGNER);
});
after(async () => {
  await e?.stop();
});

test('Manage TLS Certificates: request → approve → sign → export → openssl verify, on the real server', async () => {
  const out = join(e.dir, 'svc');
  const name = 'my-svc.my-namespace';
  ok(
    await e.run([
      'request',
      '--cn',
      'my-pod.my-namespace.pod.cluster.local',
      '--host',
      'my-svc.my-namespace.svc.cluster.local,my-pod.my-namespace.pod.cluster.local',
      '--host',
      '192.0.2.24',
      '--signer',
      SIGNER,
      '--name',
      name,
      '--out-dir',
      out,
    ]),
  );
  const pending = ok(await e.run(['get', 'csr']));
  assert.match(pending.stdout, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
  assert.match(pending.stdout, /my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+admin\s+<none>\s+Pending/);
  // kubectl 1.37's own table of the same object agrees on the condition and requestor.
  const kt = await e.kubectl(['get', 'csr', name]);
  assert.equal(kt.code, 0, kt.stderr);
  assert.match(kt.stdout, /my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+admin\s+<none>\s+Pending/);

  assert.match(ok(await e.run(['approve', name])).stdout, /approved/);
  assert.match(ok(await e.run(['sign', name])).stdout, /signed \(serial [0-9A-F]+/i);
  assert.match((await e.kubectl(['get', 'csr', name])).stdout, /Approved,Issued/);

  ok(await e.run(['export', 'secret', 'server', '--csr', name, '--key', join(out, 'server-key.pem')]));
  ok(await e.run(['export', 'ca-configmap', 'example-serving-ca', '--signer', SIGNER]));
  ok(await e.run(['export', 'files', '--csr', name, '--out-dir', out]));
  const api = coreApi(e.cluster.kubeconfigPath);
  const secret = await api.readNamespacedSecret({ name: 'server', namespace: 'default' });
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.equal(
    Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString(),
    readFileSync(join(out, 'server.crt'), 'utf8'),
  );
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'server.crt')], {
    encoding: 'utf8',
  });
  assert.match(verified, /server\.crt: OK/);
});

test('onboarding: jane signed by kube-controller-manager, then authenticated by the real server', async () => {
  const { requested, out } = await requestJaneAndApprove(e, 90);
  assert.match(requested.stdout, /certificate: .*jane\.crt/);
  // The issuer is the real cluster's CA (kube-controller-manager's csrsigning), not a certdesk CA.
  const issuer = execFileSync('openssl', ['x509', '-in', join(out, 'jane.crt'), '-noout', '-issuer'], {
    encoding: 'utf8',
  });
  assert.match(issuer, /certdesk-real-east-ca/);

  const kubeconfig = join(out, 'jane.kubeconfig');
  ok(await e.run(['kubeconfig', '--csr', 'jane', '--key', join(out, 'jane-key.pem'), '--out', kubeconfig]));
  const whoami = spawnSync(
    e.cluster.kubectl,
    ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(whoami.status, 0, whoami.stderr);
  assert.equal(whoami.stdout, 'jane');
  const denied = spawnSync(e.cluster.kubectl, ['--kubeconfig', kubeconfig, 'get', 'csr'], { encoding: 'utf8' });
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /User "jane" cannot list resource "certificatesigningrequests"/);
});

test('the viewer context may read but not approve: one line saying so', async () => {
  ok(
    await e.run([
      'request',
      '--cn',
      'viewer-target',
      '--signer',
      SIGNER,
      '--name',
      'viewer-target',
      '--out-dir',
      join(e.dir, 'vt'),
    ]),
  );
  ok(await e.run(['get', 'csr', '--context', 'east-viewer']));
  const r = await e.run(['approve', 'viewer-target', '--context', 'east-viewer']);
  const line = oneLineError(r);
  assert.match(line, /viewer|forbidden|not allowed|may not|cannot/i);
  assert.match((await e.kubectl(['get', 'csr', 'viewer-target'])).stdout, /Pending/);
});

test('the official Python client reads the CSRs certdesk acted on', {
  skip: spawnSync(PY, ['-c', 'import kubernetes']).status !== 0 && 'python3-kubernetes is not installed',
}, () => {
  const script = `
import kubernetes.client, kubernetes.config
kubernetes.config.load_kube_config(config_file=${JSON.stringify(e.cluster.kubeconfigPath)}, context="east")
api = kubernetes.client.CertificatesV1Api()
for c in api.list_certificate_signing_request().items:
    conds = ",".join(x.type for x in (c.status.conditions or []))
    print(c.metadata.name, c.spec.signer_name, conds, "cert" if c.status.certificate else "-")
`;
  const r = spawnSync(PY, ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^my-svc\.my-namespace example\.com\/serving Approved cert$/m);
});

test('Istio per-namespace signers on the real server: mTLS within foo succeeds, foo↔bar fails', async () => {
  await istioMtlsFlow(e);
});

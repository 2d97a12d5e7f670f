// The onboarding notes (seed 003) with the built binary: jane's key + CSR for kubernetes.io/kube-apiserver-client,
// approved, signed by the sandbox's own signer, `kubeconfig` written, and the sandbox authenticates jane.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { requestJaneAndApprove } from '../../helpers/seed-steps.js';
import { type E2eEnv, ok, runBinary, startE2e } from './helpers.js';

let e: E2eEnv;
before(async () => {
  e = await startE2e();
});
after(async () => {
  await e?.stop();
});

test('jane: request --wait, approve, kubeconfig, and a request as User "jane"', async () => {
  const { requested, out } = await requestJaneAndApprove(e, 60);
  assert.match(requested.stdout, /certificate: .*jane\.crt/);

  const listed = ok(await e.run(['get', 'csr', 'jane']));
  assert.match(listed.stdout, /jane\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+admin\s+10m\s+Approved,Issued/);

  const kubeconfig = join(out, 'jane.kubeconfig');
  ok(await e.run(['kubeconfig', '--csr', 'jane', '--key', join(out, 'jane-key.pem'), '--out', kubeconfig]));
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);

  // certdesk itself, with jane's kubeconfig: authenticated as jane, who has no role.
  const asJane = await runBinary(['get', 'csr'], { ...e.env, KUBECONFIG: kubeconfig });
  assert.notEqual(asJane.code, 0);
  assert.match(asJane.stderr, /jane/);

  // And kubectl, as the document would: 403 naming User "jane".
  const kubectl = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, 'get', 'csr'], {
    encoding: 'utf8',
  }).then(
    () => ({ stderr: '', failed: false }),
    (err: { stderr: string }) => ({ stderr: err.stderr, failed: true }),
  );
  assert.ok(kubectl.failed);
  assert.match(kubectl.stderr, /User "jane" cannot list resource "certificatesigningrequests"/);

  const audit = JSON.parse(ok(await e.run(['audit', '-o', 'json', '--since', '1h'])).stdout) as { action: string }[];
  assert.ok(audit.some((a) => a.action === 'kubeconfig'));
});

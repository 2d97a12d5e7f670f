// `certdesk can-i` with the built binary against the sandbox: per context and signer, whether the user may approve
// and sign CSRs, issue/deny/fail PodCertificateRequests and publish the signer's trust bundle (attest), and what is
// missing for each `no`. A pod-certificate signer without `attest` is told so; the viewer may do none of it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type E2eEnv, ok, startE2e } from './helpers.js';

const SIGNER = 'example.com/pod-identity';
let e: E2eEnv;

before(async () => {
  e = await startE2e({
    builtinSigners: false,
    users: [
      {
        name: 'pcr-signer',
        rules: [
          { verbs: ['sign'], resources: ['signers'], resourceNames: [SIGNER] },
          { verbs: ['update'], resources: ['podcertificaterequests/status'] },
          { verbs: ['create', 'update'], resources: ['clustertrustbundles'] },
        ],
      },
    ],
  });
});
after(async () => {
  await e?.stop();
});

test('can-i: the PCR signer may sign PCRs but not attest; the viewer may do nothing; what is missing is named', async () => {
  const r = await e.run([
    'can-i',
    '--signer',
    SIGNER,
    '--context',
    'east',
    '--context',
    'east-pcr-signer',
    '--context',
    'east-viewer',
    '-n',
    'workloads',
  ]);
  ok(r);
  const rows = r.stdout.trim().split('\n');
  assert.match(rows[0]!, /^CONTEXT +SIGNER +APPROVE CSR +SIGN CSR +SIGN PCR +ATTEST +PCR NAMESPACE$/);
  assert.match(r.stdout, /^east +example\.com\/pod-identity +yes +yes +yes +yes +workloads$/m);
  assert.match(r.stdout, /^east-pcr-signer +example\.com\/pod-identity +no +no +yes +no +workloads$/m);
  assert.match(r.stdout, /^east-viewer +example\.com\/pod-identity +no +no +no +no +workloads$/m);
  assert.match(
    r.stderr,
    /^east-pcr-signer: attest example\.com\/pod-identity: missing attest on signers\.certificates\.k8s\.io "example\.com\/pod-identity" \(or "example\.com\/\*"\)$/m,
  );
  assert.match(
    r.stderr,
    /^east-viewer: sign pcr example\.com\/pod-identity: missing sign on signers\.certificates\.k8s\.io "example\.com\/pod-identity" \(or "example\.com\/\*"\), update on podcertificaterequests\/status\.certificates\.k8s\.io in namespace "workloads"$/m,
  );
  assert.doesNotMatch(r.stderr, /^east: /m);

  const json = await e.run(['can-i', '--signer', SIGNER, '--context', 'east-pcr-signer', '-o', 'json']);
  ok(json);
  const [row] = JSON.parse(json.stdout) as { signPcr: { allowed: boolean }; attest: { allowed: boolean } }[];
  assert.equal(row?.signPcr.allowed, true);
  assert.equal(row?.attest.allowed, false);
});

test('can-i without --signer and without a registered CA says what to pass', async () => {
  const r = await e.run(['can-i']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no signer to ask about: pass --signer NAME/);
});

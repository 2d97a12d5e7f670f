// kubectl (the one on PATH) against the sandbox: get csr, get csr -w, get pods -A, certificate approve, create -f of
// the CertificateSigningRequest manifest of "Manage TLS Certificates in a Cluster", get --raw /apis.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

const run = promisify(execFile);
let sb: Sandbox;
let dir: string;
let hasKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  hasKubectl = false;
}

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, {
    env: { ...process.env, KUBECONFIG: sb.kubeconfigPath },
    timeout: 20_000,
  });
  return stdout;
}

before(async () => {
  sb = await startTestSandbox(undefined);
  dir = mkdtempSync(join(tmpdir(), 'certdesk-kubectl-'));
});
after(async () => {
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl', { skip: hasKubectl ? false : 'kubectl is not installed' }, () => {
  it('get --raw /apis', async () => {
    const out = JSON.parse(await kubectl('get', '--raw', '/apis')) as { kind: string; groups: { name: string }[] };
    assert.equal(out.kind, 'APIGroupList');
    assert.ok(out.groups.some((g) => g.name === 'certificates.k8s.io'));
  });

  it('create -f of the documented manifest, get csr, certificate approve', async () => {
    // Step 1 of the document, with openssl instead of cfssl: a key and a CSR for my-svc.my-namespace.
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'server.key'),
        '-subj',
        '/CN=my-svc.my-namespace.svc.cluster.local',
        '-addext',
        'subjectAltName=DNS:my-svc.my-namespace.svc.cluster.local',
        '-out',
        join(dir, 'server.csr'),
      ],
      { stdio: 'ignore' },
    );
    const request = readFileSync(join(dir, 'server.csr')).toString('base64');
    const manifest = `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: my-svc.my-namespace
spec:
  request: ${request}
  signerName: example.com/serving
  usages:
  - digital signature
  - key encipherment
  - server auth
`;
    writeFileSync(join(dir, 'csr.yaml'), manifest);
    assert.match(
      await kubectl('create', '-f', join(dir, 'csr.yaml')),
      /certificatesigningrequest.certificates.k8s.io\/my-svc.my-namespace created/,
    );
    const table = await kubectl('get', 'csr');
    assert.match(table, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\n/);
    assert.match(table, /my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+admin\s+<none>\s+Pending/);
    assert.match(await kubectl('certificate', 'approve', 'my-svc.my-namespace'), /approved/);
    assert.match(await kubectl('get', 'csr', 'my-svc.my-namespace'), /Approved/);
    const json = JSON.parse(await kubectl('get', 'csr', 'my-svc.my-namespace', '-o', 'json')) as {
      status: { conditions: { type: string; reason: string }[] };
    };
    assert.deepEqual(
      json.status.conditions.map((c) => [c.type, c.reason]),
      [['Approved', 'KubectlApprove']],
    );
  });

  it('get pods -A', async () => {
    const east = sb.cluster('east');
    await east.createAs({ name: 'admin', groups: ['system:masters'] }, '/api/v1/namespaces/default/pods', {
      metadata: { name: 'hello' },
      spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'nginx' }] },
    });
    const out = await kubectl('get', 'pods', '-A');
    assert.match(out, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(out, /default\s+hello\s+0\/1\s+Pending\s+0/);
  });

  it('get csr -w prints the table and then changes', async () => {
    const child = spawn('kubectl', ['get', 'csr', '-w'], { env: { ...process.env, KUBECONFIG: sb.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await waitFor(() => out.includes('my-svc.my-namespace'), 'the initial rows', 15_000);
      const csr = JSON.parse(await kubectl('get', 'csr', 'my-svc.my-namespace', '-o', 'json')) as {
        spec: { request: string };
      };
      await sb
        .cluster('east')
        .createAs(
          { name: 'later', groups: ['system:masters'] },
          '/apis/certificates.k8s.io/v1/certificatesigningrequests',
          {
            metadata: { name: 'watched-later' },
            spec: { request: csr.spec.request, signerName: 'example.com/serving', usages: ['server auth'] },
          },
        );
      await waitFor(
        () => /watched-later\s+\S+\s+example\.com\/serving\s+later\s+<none>\s+Pending/.test(out),
        'the new CSR on the watch',
        15_000,
      );
      assert.match(out, /^NAME\s+AGE\s+SIGNERNAME/);
    } finally {
      child.kill();
    }
  });
});

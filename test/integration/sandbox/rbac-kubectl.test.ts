// kubectl against the sandbox's PATCH and RBAC: patch csr (merge, json, strategic), RBAC objects from manifests and
// from `kubectl create clusterrolebinding` (protobuf bodies), `certificate approve` limited to one signer, and
// `auth can-i` with impersonation (--as), with the user's own kubeconfig, and --list.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificatesV1Api } from '@kubernetes/client-node';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { csrBody } from './rbac-patch-helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectlAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('kubectl', ['version', '--client'], (err) => resolve(!err));
  });
}

describe('kubectl and the sandbox RBAC / PATCH', async () => {
  const hasKubectl = await kubectlAvailable();
  let sandbox: Sandbox;
  let certs: CertificatesV1Api;
  let dir: string;
  let n = 0;

  /** Runs kubectl with the sandbox kubeconfig (admin context unless args choose another). */
  const kubectl = (args: string[], kubeconfig = sandbox.kubeconfigPath, input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const ok = async (args: string[], kubeconfig?: string, input?: string): Promise<string> => {
    const r = await kubectl(args, kubeconfig, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  const newCsr = async (signer: string) => {
    n += 1;
    const c = await certs.createCertificateSigningRequest({ body: await csrBody(`kubectl-${n}`, signer) });
    return c.metadata?.name ?? '';
  };

  before(async () => {
    if (!hasKubectl) return;
    dir = mkdtempSync(join(tmpdir(), 'certdesk-rbac-kubectl-'));
    sandbox = await startSandbox({ builtinSigners: false });
    const kc = sandbox.clusters[0]?.kubeConfigFor('admin', ['system:masters']);
    assert.ok(kc);
    certs = kc.makeApiClient(CertificatesV1Api);
  });
  after(async () => {
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl patch csr: merge, json and the default strategic merge', {
    skip: !hasKubectl && 'kubectl is not on PATH',
  }, async () => {
    const name = await newCsr('example.com/serving');
    assert.equal(
      await ok(['patch', 'csr', name, '--type', 'merge', '-p', '{"metadata":{"annotations":{"example.com/m":"1"}}}']),
      `certificatesigningrequest.certificates.k8s.io/${name} patched`,
    );
    await ok([
      'patch',
      'csr',
      name,
      '--type',
      'json',
      '-p',
      '[{"op":"add","path":"/metadata/labels","value":{"j":"2"}}]',
    ]);
    await ok(['patch', 'csr', name, '-p', '{"metadata":{"labels":{"s":"3"}}}']);
    const read = await certs.readCertificateSigningRequest({ name });
    assert.deepEqual(read.metadata?.annotations, { 'example.com/m': '1' });
    assert.deepEqual(read.metadata?.labels, { j: '2', s: '3' });
    // Patching the immutable spec is accepted and changes nothing, as on a real server.
    const noop = await ok(['patch', 'csr', name, '--type', 'merge', '-p', '{"spec":{"signerName":"example.com/x"}}']);
    assert.match(noop, /patched \(no change\)|patched/);
    assert.equal(await ok(['get', 'csr', name, '-o', 'jsonpath={.spec.signerName}']), 'example.com/serving');
    // A patch of the /status subresource adds a Failed condition, shown in kubectl's CONDITION column.
    await ok([
      'patch',
      'csr',
      name,
      '--subresource=status',
      '--type',
      'merge',
      '-p',
      '{"status":{"conditions":[{"type":"Failed","status":"True","reason":"Test"}]}}',
    ]);
    assert.match(await ok(['get', 'csr', name, '--no-headers']), /\sPending,Failed$/);
  });

  it('kubectl apply twice: the three-way strategic merge patch removes, merges, replaces', {
    skip: !hasKubectl && 'kubectl is not on PATH',
  }, async () => {
    const file = join(dir, 'applied.yaml');
    const manifest = (image: string, tier: string, env: string, sidecar: boolean, verbs: string) => `apiVersion: v1
kind: Pod
metadata:
  name: applied
  namespace: default
  labels: {app: web, tier: ${tier}}
spec:
  containers:
  - name: app
    image: ${image}
    env: ${env}
${sidecar ? '  - name: side\n    image: side:1\n' : ''}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: applied
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ${verbs}
`;
    writeFileSync(file, manifest('app:1', 'a', '[{name: A, value: "1"}, {name: B, value: "2"}]', true, '["get"]'));
    await ok(['apply', '-f', file]);
    writeFileSync(
      file,
      manifest('app:2', 'b', '[{name: A, value: "1"}, {name: C, value: "3"}]', false, '["get", "list"]'),
    );
    assert.equal(
      await ok(['apply', '-f', file]),
      'pod/applied configured\nclusterrole.rbac.authorization.k8s.io/applied configured',
    );
    const pod = JSON.parse(await ok(['get', 'pod', 'applied', '-n', 'default', '-o', 'json'])) as {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name: string; image: string; env?: { name: string }[] }[] };
    };
    assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'b' });
    assert.deepEqual(
      pod.spec.containers.map((c) => [c.name, c.image, (c.env ?? []).map((e) => e.name)]),
      [['app', 'app:2', ['A', 'C']]],
    );
    assert.equal(await ok(['get', 'clusterrole', 'applied', '-o', 'jsonpath={.rules[0].verbs}']), '["get","list"]');
  });

  it('grants approve for one signer through a ClusterRole manifest and kubectl create clusterrolebinding', {
    skip: !hasKubectl && 'kubectl is not on PATH',
  }, async () => {
    // As on a real cluster, `kubectl create clusterrole --resource=signers` is refused by kubectl itself: signers is
    // not a discoverable resource. The Kubernetes docs give the approver role as a manifest instead.
    const refused = await kubectl([
      'create',
      'clusterrole',
      'csr-approver',
      '--verb=approve',
      '--resource=signers',
      '--resource-name=example.com/serving',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /the server doesn't have a resource type "signers"/);

    const manifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: csr-approver
rules:
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["signers"]
  resourceNames: ["example.com/serving"]
  verbs: ["approve"]
`;
    writeFileSync(join(dir, 'csr-approver.yaml'), manifest);
    await ok(['create', '-f', join(dir, 'csr-approver.yaml')]);
    assert.equal(
      await ok(['create', 'clusterrolebinding', 'csr-approver', '--clusterrole=csr-approver', '--user=bob']),
      'clusterrolebinding.rbac.authorization.k8s.io/csr-approver created',
    );

    const bob = sandbox.clusters[0]?.kubeconfigPathFor('bob');
    assert.ok(bob);
    const serving = await newCsr('example.com/serving');
    const other = await newCsr('example.com/other');
    assert.equal(
      await ok(['certificate', 'approve', serving], bob),
      `certificatesigningrequest.certificates.k8s.io/${serving} approved`,
    );
    const denied = await kubectl(['certificate', 'approve', other], bob);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /user not permitted to approve requests with signerName "example.com\/other"/);
    assert.equal(await ok(['get', 'csr', serving, '-o', 'jsonpath={.status.conditions[0].type}']), 'Approved');

    // can-i, as the user (own kubeconfig) and through impersonation.
    assert.equal(
      await ok(['auth', 'can-i', 'update', 'certificatesigningrequests', '--subresource=approval'], bob),
      'yes',
    );
    assert.equal(
      await ok(['auth', 'can-i', 'update', 'certificatesigningrequests', '--subresource=approval', '--as', 'bob']),
      'yes',
    );
    const sign = await kubectl(['auth', 'can-i', 'update', 'certificatesigningrequests', '--subresource=status'], bob);
    assert.equal(sign.stdout.trim(), 'no');

    // Taking the binding away takes the right away, with no restart.
    await ok(['delete', 'clusterrolebinding', 'csr-approver']);
    const third = await newCsr('example.com/serving');
    const gone = await kubectl(['certificate', 'approve', third], bob);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /forbidden/);
  });

  it('auth can-i on signers answers as a real cluster does (kubectl asks for group "")', {
    skip: !hasKubectl && 'kubectl is not on PATH',
  }, async () => {
    // kubectl cannot map "signers" through discovery, so it asks for resource "signers" in the core group "":
    // a rule limited to certificates.k8s.io answers "no" there, one with apiGroups ["*"] answers by name.
    const manifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: any-group-serving-approver
rules:
- apiGroups: ["*"]
  resources: ["signers"]
  resourceNames: ["example.com/serving"]
  verbs: ["approve"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: group-serving-approver
rules:
- apiGroups: ["certificates.k8s.io"]
  resources: ["signers"]
  resourceNames: ["example.com/serving"]
  verbs: ["approve"]
`;
    writeFileSync(join(dir, 'roles.yaml'), manifest);
    await ok(['create', '-f', join(dir, 'roles.yaml')]);
    await ok(['create', 'clusterrolebinding', 'carl', '--clusterrole=any-group-serving-approver', '--user=carl']);
    await ok(['create', 'clusterrolebinding', 'dora', '--clusterrole=group-serving-approver', '--user=dora']);
    const canI = async (who: string, what: string) =>
      (await kubectl(['auth', 'can-i', 'approve', what, '--as', who])).stdout.trim();
    assert.equal(await canI('carl', 'signers/example.com/serving'), 'yes');
    assert.equal(await canI('carl', 'signers/example.com/other'), 'no');
    assert.equal(await canI('dora', 'signers/example.com/serving'), 'no');
    assert.equal(await canI('nobody', 'signers/example.com/serving'), 'no');
  });

  it('auth can-i --list, and impersonation refused to a user without the impersonate verb', {
    skip: !hasKubectl && 'kubectl is not on PATH',
  }, async () => {
    const list = await ok(['auth', 'can-i', '--list', '--as', 'viewer']);
    assert.match(list, /certificatesigningrequests\.certificates\.k8s\.io\s+\[\]\s+\[\]\s+\[get list watch\]/);
    assert.doesNotMatch(list, /^secrets/m);
    assert.equal(await ok(['--context', 'east-viewer', 'auth', 'can-i', 'list', 'csr']), 'yes');
    assert.equal((await kubectl(['--context', 'east-viewer', 'auth', 'can-i', 'get', 'secrets'])).stdout.trim(), 'no');
    const imp = await kubectl(['--context', 'east-viewer', 'auth', 'can-i', 'list', 'csr', '--as', 'bob']);
    assert.notEqual(imp.code, 0);
    assert.match(
      imp.stderr,
      /users "bob" is forbidden: User "viewer" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
  });
});

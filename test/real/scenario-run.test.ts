// `certdesk scenario run` against the real kube-apiserver 1.37: the scenarios install their CRDs, register Nodes and
// act with their components' identities (impersonated: the real server's RBAC, Node authorizer and NodeRestriction
// judge each); the on-call flow of seed 000 runs headless on top (sign --approve the Calico CSRs, hostile ones
// refused, pods Running, TigeraStatus Available as kubectl 1.37 shows it); Ctrl-C leaves the cluster as it was.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ok } from '../e2e/headless/helpers.js';
import { type ScenarioProcess, startScenarioRun, trustRegisteredCa } from '../helpers/scenario-run.js';
import { type RealEnv, startRealEnv, until } from './helpers.js';

const SIGNER = 'example.com/calico';
let e: RealEnv;
let run: ScenarioProcess | undefined;

before(async () => {
  e = await startRealEnv(['east']);
});
after(async () => {
  if (run && run.child.exitCode === null) await run.interrupt();
  await e?.stop();
});

test('calico-rollout + hostile on the real server: sign --approve runs the pods, hostile refused, Ctrl-C cleans up', async () => {
  ok(await e.run(['ca', 'init', '--signer', SIGNER, '--key-algorithm', 'RSAWithSize2048']));
  // No --yes: the kubeconfig npm run real-apiserver writes marks the cluster as certdesk's.
  run = await startScenarioRun(
    ['calico-rollout', 'hostile', '--set', 'calico-rollout.nodes=2', ...trustRegisteredCa(e.env)],
    e.env,
  );

  // The kubelet's part, as kubectl 1.37 reads it: Nodes registered, pods bound and in Init:0/1.
  assert.match(ok(await e.kubectl(['get', 'nodes'])).stdout, /node-1\s+Ready[\s\S]*node-2\s+Ready/);
  const pods = await until('3 pods in Init:0/1', async () => {
    const out = ok(await e.kubectl(['get', 'pods', '-n', 'calico-system', '-o', 'wide'])).stdout;
    return (out.match(/Init:0\/1/g) ?? []).length === 3 ? out : undefined;
  });
  assert.match(pods, /calico-node-\S+\s+0\/1\s+Init:0\/1\s+0\s+\S+\s+10\.0\.0\.1\d\s+node-\d/);
  // The real server refuses a node asking for another node's certificate (NodeRestriction): the run says so.
  assert.match(run.output(), /refused hostile-kubelet-other-node from system:node:node-1: HTTP 403/);

  let calico: string[] = [];
  let hostile: string[] = [];
  await until('every requester submitted', async () => {
    const names = ok(await e.run(['get', 'csr', '--signer', SIGNER, '--pending', '-o', 'name']))
      .stdout.trim()
      .split('\n')
      .map((l) => l.replace(/^.*\//, ''));
    calico = names.filter((n) => n.startsWith('calico-system:'));
    hostile = names.filter((n) => n.startsWith('hostile-'));
    return calico.length === 3 && hostile.length >= 5;
  });
  const described = ok(await e.run(['describe', 'csr', calico.find((n) => n.includes('calico-node')) ?? ''])).stdout;
  assert.match(described, /Waiting Pod:\s+calico-system\/calico-node-\S+ \(Init:0\/1\)/);
  assert.match(described, /Requesting User:\s+system:serviceaccount:calico-system:calico-node/);
  const raw = JSON.parse(ok(await e.kubectl(['get', 'csr', calico[0] ?? '', '-o', 'json'])).stdout);
  assert.ok(raw.spec.extra['authentication.kubernetes.io/pod-name'][0].startsWith('calico-'));
  assert.ok(raw.spec.groups.includes('system:serviceaccounts:calico-system'));

  const signed = await e.run(['sign', '--approve', ...calico, ...hostile]);
  assert.equal(signed.code, 1);
  for (const n of calico) assert.ok(signed.stdout.includes(`${n} signed`), signed.stdout);
  for (const n of hostile) assert.ok(signed.stderr.includes(`CSR "${n}" was not approved`), signed.stderr);
  assert.ok(!signed.stderr.includes('\x1b') && !signed.stdout.includes('\x1b'));

  await until('pods Running', async () => {
    const out = ok(await e.kubectl(['get', 'pods', '-n', 'calico-system'])).stdout;
    return (out.match(/1\/1\s+Running/g) ?? []).length === 3;
  });
  await until('TigeraStatus Available', async () =>
    /calico\s+True\s+False\s+False/.test(ok(await e.kubectl(['get', 'tigerastatus'])).stdout),
  );
  assert.match(ok(await e.run(['health'])).stdout, /calico\s+True\s+False\s+False/);

  assert.equal(await run.interrupt(), 0);
  assert.match(
    run.output(),
    // calico-rollout's two Nodes and namespaces, and hostile's two Nodes and its namespace (for its pod-ip request).
    /removed \d+ CertificateSigningRequest, .*4 Node, 2 CustomResourceDefinition, 3 Namespace/,
  );
  await until('the namespaces gone', async () => {
    const ns = ok(await e.kubectl(['get', 'ns', '-o', 'name'])).stdout;
    return !/calico-system|tigera-operator|namespace\/hostile\b/.test(ns);
  });
  assert.equal(ok(await e.kubectl(['get', 'csr', '-o', 'name'])).stdout.trim(), '');
  assert.equal(ok(await e.kubectl(['get', 'nodes', '-o', 'name'])).stdout.trim(), '');
  assert.doesNotMatch(ok(await e.kubectl(['get', 'clusterroles', '-o', 'name'])).stdout, /calico|tigera|sandbox/);
});

test('scale through the API on the real server: CSRs by their kubelets, approvals, pod status by the nodes', async () => {
  const run = await startScenarioRun(['scale', '--set', 'scale.csrs=40', '--set', 'scale.pods=20'], e.env);
  try {
    assert.doesNotMatch(run.output(), /writes failed/, run.output());
    const csrs = ok(await e.kubectl(['get', 'csr', '--no-headers']))
      .stdout.trim()
      .split('\n');
    assert.equal(csrs.length, 40);
    assert.equal(csrs.filter((l) => /\sDenied\s*$/.test(l)).length, 8);
    const pods = ok(await e.kubectl(['get', 'pods', '-A', '-l', 'certdesk.dev/scenario=scale', '--no-headers'])).stdout;
    assert.equal((pods.match(/\sRunning\s/g) ?? []).length, 15, pods);
  } finally {
    assert.equal(await run.interrupt(), 0);
  }
  assert.equal(ok(await e.kubectl(['get', 'csr', '-o', 'name'])).stdout.trim(), '');
});

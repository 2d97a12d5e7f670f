// Issue 22's findings on the real kube-apiserver 1.37: the hostile scenario registers its Nodes (status.addresses
// as their kubelets report them) and the pod hostile/web-0 with its IP, and submits a request failing each finding,
// each with its requester's identity (impersonated: the real server records spec.username, groups and extra). This
// test adds requests that pass them (a node's own names, the pod's own IP and SPIFFE ID), then reads every one back
// through the built binary's `describe csr -o json`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { buildHostileRequests, makeCsr } from '../../src/services/sandbox/scenarios/hostile-requests.js';
import { clientsFor, nodeAddress, nodeIdentity, scenarioCluster } from '../../src/services/sandbox/scenarios/kube.js';
import { ok } from '../e2e/headless/helpers.js';
import { type ScenarioProcess, startScenarioRun } from '../helpers/scenario-run.js';
import { type RealEnv, startRealEnv, until } from './helpers.js';

const SERVER = ['digital signature', 'key encipherment', 'server auth'];
const CLUSTER_CODES = [
  'node-addresses',
  'reserved-names',
  'pod-ip',
  'spiffe-identity',
  'superseded',
  'key-reuse',
  'request-storm',
];
let e: RealEnv;
let run: ScenarioProcess | undefined;

before(async () => {
  e = await startRealEnv(['east']);
});
after(async () => {
  if (run && run.child.exitCode === null) await run.interrupt();
  await e?.stop();
});

interface Described {
  metadata: { name: string };
  spec: { username: string; extra?: Record<string, string[]> };
  findings: { level: string; code: string; message: string }[];
}

async function describe(names: string[]): Promise<Map<string, Described>> {
  const out = JSON.parse(ok(await e.run(['describe', 'csr', ...names, '-o', 'json'], {}, 120_000)).stdout) as
    | Described
    | { items: Described[] };
  const items = 'items' in out ? out.items : [out];
  return new Map(items.map((d) => [d.metadata.name, d]));
}

function level(d: Described | undefined, code: string): string {
  return d?.findings.find((f) => f.code === code)?.level ?? 'absent';
}

test('each cluster finding passes and fails on the real server, as describe csr -o json reports it', async () => {
  run = await startScenarioRun(['hostile'], e.env);
  await until('the hostile requests submitted', async () => /\d+ of \d+ requests submitted/.test(run?.output() ?? ''));

  const kc = new KubeConfig();
  kc.loadFromFile(e.cluster.kubeconfigPath);
  kc.setCurrentContext('east');
  const cluster = scenarioCluster('east', kc);
  const admin = clientsFor(cluster.admin);
  const pod = await admin.core.readNamespacedPod({ name: 'web-0', namespace: 'hostile' });
  const podIp = pod.status?.podIP ?? '';
  assert.equal(podIp, '10.244.1.5');

  // hostile-node-2 asks for its own name and InternalIP: the newest request of its identity, a second (the step of
  // creationTimestamp) after hostile-reserved-name.
  const reserved = await admin.certs.readCertificateSigningRequest({ name: 'hostile-reserved-name' });
  const later = new Date(reserved.metadata?.creationTimestamp ?? 0).getTime() + 1000;
  await until('a second after hostile-reserved-name', async () => Date.now() >= later);
  const node = clientsFor(cluster.as(nodeIdentity('hostile-node-2')));
  await node.certs.createCertificateSigningRequest({
    body: {
      metadata: { name: 'real-node-ok' },
      spec: {
        request: await makeCsr(
          { CN: ['system:node:hostile-node-2'], O: ['system:nodes'] },
          { dns: ['hostile-node-2'], ips: [nodeAddress('hostile-node-2')] },
        ),
        signerName: 'kubernetes.io/kubelet-serving',
        usages: SERVER,
      },
    },
  });
  // The pod web-0 (its service account, its pod name and UID in extra) asks for its own IP, its namespace's service
  // name and its own SPIFFE ID.
  const web = clientsFor(
    cluster.as({
      user: 'system:serviceaccount:hostile:web',
      extra: {
        'authentication.kubernetes.io/pod-name': ['web-0'],
        'authentication.kubernetes.io/pod-uid': [pod.metadata?.uid ?? ''],
      },
    }),
  );
  await web.certs.createCertificateSigningRequest({
    body: {
      metadata: { name: 'real-pod-ok' },
      spec: {
        request: await makeCsr(
          { CN: ['web'] },
          { dns: ['web.hostile.svc'], ips: [podIp], uris: ['spiffe://cluster.local/ns/hostile/sa/web'] },
        ),
        signerName: 'example.com/serving',
        usages: SERVER,
      },
    },
  });

  const hostile = (await buildHostileRequests()).filter((h) => CLUSTER_CODES.includes(h.caughtBy));
  const described = await describe(['real-node-ok', 'real-pod-ok', ...hostile.map((h) => h.name)]);

  const nodeOk = described.get('real-node-ok');
  const podOk = described.get('real-pod-ok');
  assert.equal(podOk?.spec.extra?.['authentication.kubernetes.io/pod-name']?.[0], 'web-0', 'the server kept the extra');
  for (const code of ['node-addresses', 'reserved-names', 'superseded', 'key-reuse'])
    assert.equal(level(nodeOk, code), 'ok', `real-node-ok ${code}: ${JSON.stringify(nodeOk?.findings)}`);
  assert.match(nodeOk?.findings.find((f) => f.code === 'node-addresses')?.message ?? '', /10\.0\.0\.12/);
  for (const code of ['pod-ip', 'spiffe-identity', 'reserved-names', 'superseded', 'key-reuse'])
    assert.equal(level(podOk, code), 'ok', `real-pod-ok ${code}: ${JSON.stringify(podOk?.findings)}`);

  // Each hostile request is caught by its finding, at its level, with the real server's objects as evidence.
  for (const h of hostile) {
    const d = described.get(h.name);
    assert.ok(d, `${h.name} was described`);
    assert.equal(level(d, h.caughtBy), h.caughtAt ?? 'fail', `${h.name}: ${JSON.stringify(d?.findings)}`);
  }
  const message = (name: string, code: string) =>
    described.get(name)?.findings.find((f) => f.code === code)?.message ?? '';
  assert.match(message('hostile-node-address', 'node-addresses'), /198\.51\.100\.7 is not among Node hostile-node-1/);
  assert.match(message('hostile-pod-ip', 'pod-ip'), /is not pod hostile\/web-0's IP \(10\.244\.1\.5\)/);
  assert.match(message('hostile-superseded', 'superseded'), /newer request .*: hostile-node-address/);
  assert.match(message('hostile-key-reuse', 'key-reuse'), /hostile-superseded/);
  // real-node-ok is the newer request of hostile-node-2's identity: it supersedes hostile-reserved-name.
  assert.match(message('hostile-reserved-name', 'superseded'), /real-node-ok/);
  for (const code of CLUSTER_CODES)
    assert.ok(
      hostile.some((h) => h.caughtBy === code),
      `the hostile scenario has a request for ${code}`,
    );

  assert.equal(await run.interrupt(), 0);
});

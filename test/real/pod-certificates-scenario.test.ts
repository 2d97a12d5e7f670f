// `certdesk scenario run pod-certificates` against the real kube-apiserver 1.37: the kubelet stand-in creates each
// pod's PodCertificateRequest as its node (impersonated, so the real Node authorizer and NodeRestriction judge it),
// keeps the pods in ContainerCreating, runs a pod once its request is issued and asks again after a denial; Ctrl-C
// removes everything.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ok } from '../e2e/headless/helpers.js';
import { issuedStatus, pcrCondition, podIdentityCa } from '../helpers/pcr.js';
import { type ScenarioProcess, startScenarioRun } from '../helpers/scenario-run.js';
import { type RealEnv, startRealEnv, until } from './helpers.js';

const SIGNER = 'example.com/pod-identity';
let e: RealEnv;
let run: ScenarioProcess | undefined;

interface Pcr {
  metadata: { name: string };
  spec: { podName: string; nodeName: string; stubPKCS10Request: string };
  status?: Record<string, unknown>;
}

before(async () => {
  e = await startRealEnv(['east']);
});
after(async () => {
  if (run && run.child.exitCode === null) await run.interrupt();
  await e?.stop();
});

const pcrs = async (): Promise<Pcr[]> =>
  (
    JSON.parse(ok(await e.kubectl(['get', 'podcertificaterequests', '-n', 'workloads', '-o', 'json'])).stdout) as {
      items: Pcr[];
    }
  ).items;

/** Writes a status through /status as the admin (system:masters may sign for any signer). */
async function putStatus(pcr: Pcr, status: Record<string, unknown>): Promise<void> {
  const file = join(e.dir, `${pcr.metadata.name}.json`);
  writeFileSync(file, JSON.stringify({ ...pcr, status }));
  ok(await e.kubectl(['replace', '--subresource=status', '-f', file]));
}

test('pod-certificates on the real server: requests as the node, issued → Running, denied → asked again', async () => {
  run = await startScenarioRun(
    ['pod-certificates', '--set', 'pod-certificates.pods=2', '--set', 'pod-certificates.backoffMs=200'],
    e.env,
  );
  const first = await until('a request per pod', async () => {
    const items = await pcrs();
    return items.length === 2 ? items : undefined;
  });
  assert.deepEqual(first.map((p) => [p.spec.podName, p.spec.nodeName]).sort(), [
    ['api-1', 'node-2'],
    ['web-0', 'node-1'],
  ]);
  const pods = ok(await e.kubectl(['get', 'pods', '-n', 'workloads'])).stdout;
  assert.equal((pods.match(/0\/1\s+ContainerCreating/g) ?? []).length, 2, pods);
  assert.match(
    ok(await e.kubectl(['get', 'podcertificaterequests', '-n', 'workloads'])).stdout,
    /web-0-\S+\s+web-0\s+web\s+node-1\s+example\.com\/pod-identity\s+Pending/,
  );

  // A signer issues web-0's request: the leaf is for the key in the stub request, notBefore within 5 minutes.
  const ca = await podIdentityCa();
  const web = first.find((p) => p.spec.podName === 'web-0')!;
  await putStatus(web, {
    conditions: [pcrCondition('Issued')],
    ...(await issuedStatus(ca, web.spec.stubPKCS10Request, { signerName: SIGNER, refreshAfterMs: 30 * 60_000 })),
  });
  await until('web-0 Running', async () =>
    /web-0\s+1\/1\s+Running/.test(ok(await e.kubectl(['get', 'pods', '-n', 'workloads'])).stdout),
  );
  const ip = ok(await e.kubectl(['get', 'pod', 'web-0', '-n', 'workloads', '-o', 'jsonpath={.status.podIPs[0].ip}']));
  assert.match(ip.stdout, /^10\.244\./);

  // api-1's request is denied: after the back-off its kubelet asks again, the pod still waiting.
  const api = first.find((p) => p.spec.podName === 'api-1')!;
  await putStatus(api, {
    conditions: [pcrCondition('Denied', 'UnsupportedKeyType', 'test')],
  });
  await until('a second request for api-1', async () =>
    (await pcrs()).some((p) => p.spec.podName === 'api-1' && p.metadata.name !== api.metadata.name),
  );
  assert.match(run.output(), /api-1: PodCertificateRequest api-1-\S+ denied: UnsupportedKeyType test/);
  assert.match(ok(await e.kubectl(['get', 'pods', '-n', 'workloads'])).stdout, /api-1\s+0\/1\s+ContainerCreating/);

  assert.equal(await run.interrupt(), 0);
  assert.match(run.output(), /removed 3 PodCertificateRequest, 2 Pod, 2 ServiceAccount, 2 Node, 1 Namespace/);
  await until(
    'the namespace gone',
    async () => !/workloads/.test(ok(await e.kubectl(['get', 'ns', '-o', 'name'])).stdout),
  );
});

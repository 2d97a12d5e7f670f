// The pod-certificates scenario on the sandbox: pods wait in ContainerCreating while their kubelet (as the node) has
// a PodCertificateRequest out; issued → Running with pod IPs; denied → after the back-off a new request with a
// fresh key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LoadedCa } from '../../../src/services/pki/types.js';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { issuedStatus, pcrCondition, podIdentityCa } from '../../helpers/pcr.js';
import { getTable, type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

const ADMIN = { name: 'admin', groups: ['system:masters'] };
const PCRS = '/apis/certificates.k8s.io/v1/namespaces/workloads/podcertificaterequests';
const PODS = '/api/v1/namespaces/workloads/pods';
const SIGNER = 'example.com/pod-identity';

interface Pcr {
  metadata: { name: string; resourceVersion: string };
  spec: { podName: string; nodeName: string; stubPKCS10Request: string; signerName: string };
  status: Record<string, unknown>;
}

let sb: Sandbox;
let east: SandboxCluster;
let ca: LoadedCa;
const logs: string[] = [];

async function get<T>(path: string): Promise<T> {
  const r = await east.requestAs(ADMIN, 'GET', path);
  assert.equal(r.code, 200, r.body);
  return JSON.parse(r.body) as T;
}
const pcrsOf = async (pod: string) =>
  (await get<{ items: Pcr[] }>(`${PCRS}?fieldSelector=spec.podName%3D${pod}`)).items;

async function putStatus(pcr: Pcr, status: Record<string, unknown>): Promise<void> {
  const r = await east.requestAs(ADMIN, 'PUT', `${PCRS}/${pcr.metadata.name}/status`, { ...pcr, status });
  assert.equal(r.code, 200, r.body);
}

before(async () => {
  sb = await startTestSandbox(undefined, {
    scenarios: ['pod-certificates'],
    scenarioOptions: { 'pod-certificates': { pods: 2, backoffMs: 50 } },
    log: (line) => logs.push(line),
  });
  east = sb.cluster('east');
  ca = await podIdentityCa();
});
after(() => sb.stop());

describe('pod-certificates', () => {
  it('each pod has a request out from its node and waits in ContainerCreating', async () => {
    const web = await pcrsOf('web-0');
    assert.equal(web.length, 1);
    assert.equal(web[0]?.spec.nodeName, 'node-1');
    assert.equal(web[0]?.spec.signerName, SIGNER);
    const table = await getTable(east, PODS);
    const status = table.columnDefinitions.findIndex((c) => c.name === 'Status');
    assert.deepEqual(
      table.rows.map((r) => [r.cells[0], r.cells[status]]),
      [
        ['api-1', 'ContainerCreating'],
        ['web-0', 'ContainerCreating'],
      ],
    );
    const nodes = await get<{ items: { metadata: { name: string }; status: { addresses: { type: string }[] } }[] }>(
      '/api/v1/nodes',
    );
    assert.deepEqual(
      nodes.items.map((n) => [n.metadata.name, n.status.addresses.map((a) => a.type).join(',')]),
      [
        ['node-1', 'InternalIP,ExternalIP,Hostname'],
        ['node-2', 'InternalIP,ExternalIP,Hostname'],
      ],
    );
  });

  it('issued: the pod runs, with its pod IP', async () => {
    const [pcr] = await pcrsOf('web-0');
    assert.ok(pcr);
    await putStatus(pcr, {
      conditions: [pcrCondition('Issued')],
      ...(await issuedStatus(ca, pcr.spec.stubPKCS10Request, { signerName: SIGNER, refreshAfterMs: 30 * 60_000 })),
    });
    type Pod = { status: { phase: string; podIP?: string; podIPs?: { ip: string }[] } };
    const pod = await waitFor(
      async () => {
        const p = await get<Pod>(`${PODS}/web-0`);
        return p.status.phase === 'Running' ? p : undefined;
      },
      'web-0 Running',
      15_000,
    );
    assert.match(pod.status.podIP ?? '', /^10\.244\./);
    assert.deepEqual(pod.status.podIPs, [{ ip: pod.status.podIP }]);
  });

  it('denied: after the back-off the kubelet asks again with a fresh key, the pod still waiting', async () => {
    const [first] = await pcrsOf('api-1');
    assert.ok(first);
    await putStatus(first, {
      conditions: [pcrCondition('Denied', 'UnsupportedKeyType', 'no')],
    });
    const again = await waitFor(
      async () => (await pcrsOf('api-1')).find((p) => p.metadata.name !== first.metadata.name),
      'a second request for api-1',
      15_000,
    );
    assert.notEqual(again.spec.stubPKCS10Request, first.spec.stubPKCS10Request, 'a fresh key');
    assert.ok(logs.some((l) => /api-1: PodCertificateRequest api-1-\w+ denied: UnsupportedKeyType no/.test(l)));
    const pod = await get<{ status: { phase: string } }>(`${PODS}/api-1`);
    assert.equal(pod.status.phase, 'Pending');
  });
});

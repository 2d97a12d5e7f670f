// The controller judges with the cluster around each request (issue 22): it follows the Nodes when the policy's
// node-addresses concern a signer it serves, indexes every CSR and reads the audit log's keys. On the sandbox's
// hostile scenario it denies what a failing finding refuses (node-addresses, reserved-names, pod-ip,
// spiffe-identity, key-reuse), leaves superseded requests and storms for a person, and approves the request that
// passes them all.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import { buildHostileRequests, makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { clientsFor, nodeIdentity } from '../../../src/services/sandbox/scenarios/kube.js';
import { adminContext, conditionTypes, type ControllerEnv, SIGNER, startControllerEnv, waitFor } from './env.js';

const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
let env: ControllerEnv;
let dir: string;
let controller: Controller | undefined;
const logs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-controller-findings-'));
  env = await startControllerEnv({ scenarios: ['hostile'] });
});
after(async () => {
  await controller?.stop();
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('controller: findings that need the cluster', () => {
  it('denies, leaves and approves by the Nodes, pods and other requests of the sandbox', async () => {
    const hostile = (await buildHostileRequests(SIGNER)).filter((h) => h.name !== 'hostile-kubelet-other-node');
    const names = new Set(hostile.map((h) => h.name));
    await waitFor('the hostile requests', async () => {
      const list = await env.certs.listCertificateSigningRequest();
      const have = new Set(list.items.map((c) => c.metadata?.name));
      return [...names].every((n) => have.has(n));
    });
    // A kubelet serving request that passes node-addresses, reserved-names and superseded: hostile-node-2 asks for
    // its own name and InternalIP (the newest request of its identity).
    const kubelet = clientsFor(env.sandbox.clusters[0]!.scenarioCluster().as(nodeIdentity('hostile-node-2')));
    const request = await makeCsr(
      { CN: ['system:node:hostile-node-2'], O: ['system:nodes'] },
      { dns: ['hostile-node-2'], ips: ['10.0.0.12'] },
    );
    await kubelet.certs.createCertificateSigningRequest({
      body: {
        metadata: { name: 'node-2-serving' },
        spec: { request, signerName: KUBELET_SERVING, usages: ['digital signature', 'server auth'] },
      },
    });

    // The admin's context: deploy/rbac.yaml's service account may neither approve kubernetes.io/kubelet-serving nor
    // list Nodes (add both when the controller serves kubelets); without Nodes node-addresses warns (tested below).
    controller = createController({
      context: adminContext(env),
      signers: [SIGNER, KUBELET_SERVING],
      policy: DEFAULT_POLICY,
      approve: true,
      sign: false,
      auditFile: join(dir, 'audit.jsonl'),
      log: (line) => logs.push(line),
      backoff: { initialMs: 100, maxMs: 2000 },
    });
    await controller.start();

    const state = async (name: string): Promise<string[]> =>
      conditionTypes(await env.certs.readCertificateSigningRequest({ name }));
    const denied = [
      'hostile-node-address',
      'hostile-reserved-name',
      'hostile-pod-ip',
      'hostile-spiffe-identity',
      'hostile-key-reuse',
    ];
    for (const name of denied)
      await waitFor(`${name} denied`, async () => (await state(name)).includes('Denied')).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${logs.join('\n')}`);
      });
    await waitFor('node-2-serving approved', async () => (await state('node-2-serving')).includes('Approved'));
    await controller.whenIdle();
    // Storms are warnings: left for a person (by default), never approved.
    for (const h of hostile.filter((x) => x.caughtBy === 'request-storm'))
      assert.deepEqual(await state(h.name), [], h.name);
    const why = (name: string) =>
      logs.find((l) => l.includes(`csr=${name} `) && (l.includes(' denied ') || l.includes(' left-pending '))) ?? '';
    assert.match(why('hostile-node-address'), /198\.51\.100\.7 is not among Node hostile-node-1's addresses/);
    assert.match(why('hostile-pod-ip'), /is not pod hostile\/web-0's IP/);
    assert.match(why('hostile-storm-20'), /left-pending.*storm-bot.*asked for 21 certificates/);
    const message = (await env.certs.readCertificateSigningRequest({
      name: 'hostile-reserved-name',
    })) as V1CertificateSigningRequest;
    assert.match(
      message.status?.conditions?.[0]?.message ?? '',
      /in-cluster names it does not own: kubernetes\.default/,
    );
  });
});

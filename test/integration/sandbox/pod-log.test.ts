// GET /api/v1/namespaces/NS/pods/NAME/log?container=C as kube-apiserver serves it: the calico-rollout scenario's
// key-cert-provisioner writes its lines, read with @kubernetes/client-node and with certdesk's readPodLog (what the
// TUI's `l` uses).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterContext, loadContexts, readPodLog } from '../../../src/services/kube/index.js';
import { apiError, clients, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

describe('sandbox pods/log', { timeout: 60_000 }, () => {
  it("serves the key-cert-provisioner's log, tailLines, and kube-apiserver's errors", async (t) => {
    const sandbox = await startTestSandbox(t, {
      clusters: ['east'],
      scenarios: ['calico-rollout'],
      scenarioOptions: { 'calico-rollout': { nodes: 1 } },
    });
    const admin = clients(sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const pod = await waitFor(async () => {
      const pods = await admin.core.listNamespacedPod({ namespace: 'calico-system' });
      return pods.items.find((p) => p.metadata?.name?.startsWith('calico-node-'));
    }, 'a calico-node pod');
    const name = pod.metadata!.name!;
    const container = pod.spec!.initContainers![0]!.name;
    const text = await waitFor(async () => {
      const log = await admin.core.readNamespacedPodLog({ name, namespace: 'calico-system', container });
      return log.includes('waiting for the CSR') ? log : undefined;
    }, 'the provisioner to log its CSR');
    assert.match(text, /level=info msg="created CSR calico-system:calico-node-/);
    assert.ok(text.endsWith('\n'));
    const tail = await admin.core.readNamespacedPodLog({ name, namespace: 'calico-system', container, tailLines: 1 });
    assert.equal(tail.trimEnd().split('\n').length, 1);
    assert.match(tail, /waiting for the CSR/);

    const bad = await apiError(
      admin.core.readNamespacedPodLog({ name, namespace: 'calico-system', container: 'nope' }),
    );
    assert.equal(bad.code, 400);
    assert.equal(bad.body.message, `container nope is not valid for pod ${name}`);
    const missing = await apiError(admin.core.readNamespacedPodLog({ name: 'gone', namespace: 'calico-system' }));
    assert.equal(missing.code, 404);

    const [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
    const ours = await readPodLog(ctx, { namespace: 'calico-system', name, container });
    assert.ok(ours.ok, JSON.stringify(ours));
    assert.match(ours.value, /waiting for the CSR to be approved and signed/);
  });
});

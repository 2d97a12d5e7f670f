// Health end to end: the sandbox's Calico rollout holds pods in Init until their CSRs are issued; the store follows
// them and computeHealth links each pod to its CSR, reads TigeraStatus, and sees the signer backlog grow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeHealth } from '../../../src/services/health/index.js';
import {
  approveCsr,
  type ClusterContext,
  type ClusterStore,
  createClusterStore,
  loadContexts,
} from '../../../src/services/kube/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { waitFor } from './helpers.js';

describe('health over a Calico rollout (sandbox)', () => {
  let sandbox: Sandbox;
  let ctx: ClusterContext;
  let store: ClusterStore;

  before(async () => {
    sandbox = await startSandbox({ clusters: ['east'], scenarios: ['calico-rollout'], builtinSigners: false });
    [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
    store = createClusterStore([ctx], { batchMs: 20, discoveryIntervalMs: 200 });
    store.start();
  });

  after(async () => {
    store?.stop();
    await sandbox?.stop();
  });

  it('links every pod held in Init to its pending CSR, and reads TigeraStatus', async () => {
    assert.equal(await store.whenSynced(undefined, 15_000), true);
    const health = await waitFor(
      'pods in Init linked to CSRs, and TigeraStatus',
      () => {
        const h = computeHealth(store.snapshot('east'), Date.now());
        return h.podsInInit.length > 0 && h.podsInInit.every((p) => p.csrName) && Array.isArray(h.tigera)
          ? h
          : undefined;
      },
      15_000,
    );
    for (const pod of health.podsInInit) {
      assert.match(pod.status, /^Init:/);
      assert.ok(pod.csrName?.startsWith(`${pod.namespace}:${pod.name}:`), `${pod.name} → ${pod.csrName}`);
      assert.equal(pod.csrCondition, 'Pending');
    }
    assert.equal(health.pendingCount >= health.podsInInit.length, true);
    const calico = Array.isArray(health.tigera) ? health.tigera.find((t) => t.name === 'calico') : undefined;
    assert.ok(calico, 'TigeraStatus calico is there');
    assert.equal(calico.healthy, false, 'not available while pods wait for certificates');
  });

  it('an approved CSR that nobody signs shows in the signer backlog, stalled past the threshold', async () => {
    const first = computeHealth(store.snapshot('east'), Date.now()).podsInInit[0];
    assert.ok(first?.csrName);
    const approved = await approveCsr(ctx, first.csrName);
    assert.ok(approved.ok, approved.ok ? '' : approved.error.message);
    const signer = approved.value.csr.spec.signerName;
    const backlog = await waitFor('backlog entry', () =>
      computeHealth(store.snapshot('east'), Date.now() + 1_000, { stallAfterMs: 500 }).signerBacklog.find(
        (b) => b.signerName === signer && b.approvedUnissued >= 1,
      ),
    );
    assert.equal(backlog.stalled, true);
    const linked = computeHealth(store.snapshot('east'), Date.now()).podsInInit.find((p) => p.name === first.name);
    assert.equal(linked?.csrState, 'Approved');
  });
});

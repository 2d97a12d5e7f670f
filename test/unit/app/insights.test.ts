// The TUI's findings cache and the store's order of lists: the pods are listed after the CSRs, so findings made
// before a context's pods are in must not say a pod is missing, must be made again once the pods are in, and a
// dialog that gates a write must say that the pod was not checked yet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { InsightCache } from '../../../src/app/insights.js';
import { generateKeyAndCsr } from '../../../src/services/pki/generate.js';
import { waitFor } from '../../helpers/sandbox.js';
import { csr } from './fixtures.js';

test('findings made before the pods are listed are made again once they are; a gating dialog is warned', async () => {
  const { csrPem } = await generateKeyAndCsr({ cn: 'typha', hosts: ['typha.calico-system.svc'] });
  const request = csr('calico-system:calico-typha-abc:1a2b3c', { user: 'system:serviceaccount:calico-system:typha' });
  request.spec!.request = Buffer.from(csrPem).toString('base64');
  let listed = false;
  const pods: V1Pod[] = [
    {
      metadata: { namespace: 'calico-system', name: 'calico-typha-abc' },
      spec: { serviceAccountName: 'typha', containers: [] },
    },
  ];
  const cache = new InsightCache({
    pods: () => (listed ? pods : []),
    podsListed: () => listed,
    onChange: () => {},
  });
  const requestor = (findings: { code: string; message: string }[]) =>
    findings.find((f) => f.code === 'requestor-subject')?.message ?? '';

  const gated = await cache.insightNow('east', request);
  assert.doesNotMatch(requestor(gated.findings), /does not exist/);
  assert.ok(gated.findings.some((f) => f.code === 'pods-not-listed' && f.level === 'warn'));
  cache.insight('east', request);
  const early = await waitFor(() => cache.insight('east', request), 'findings before the pods');
  assert.doesNotMatch(requestor(early.findings), /does not exist/);

  listed = true;
  assert.equal(cache.insight('east', request), undefined, 'made again now that the pods are listed');
  const late = await waitFor(() => cache.insight('east', request), 'findings with the pods');
  assert.match(requestor(late.findings), /exists and runs as typha/);
  const now = await cache.insightNow('east', request);
  assert.equal(
    now.findings.some((f) => f.code === 'pods-not-listed'),
    false,
  );
});

test('a pod that goes away is noticed: the requestor-subject finding is made again (the TUI showed ✓ until a write)', async () => {
  const { tuiInsights } = await import('../../../src/app/run-tui.js');
  const { DEFAULT_POLICY } = await import('../../../src/services/policy/index.js');
  const { csrPem } = await generateKeyAndCsr({ cn: 'typha', hosts: ['typha.calico-system.svc'] });
  const request = csr('calico-system:calico-typha-abc:1a2b3c', { user: 'system:serviceaccount:calico-system:typha' });
  request.spec!.request = Buffer.from(csrPem).toString('base64');
  const typha: V1Pod = {
    metadata: { namespace: 'calico-system', name: 'calico-typha-abc', uid: 'u-1' },
    spec: { serviceAccountName: 'typha', containers: [] },
  };
  const csrs = new Map([[request.metadata!.name!, request]]);
  let pods = new Map([['calico-system/calico-typha-abc', typha]]);
  const store = {
    contexts: () => ['east'],
    snapshot: () => ({ csrs, pods, nodes: new Map(), errors: {}, synced: true }),
  };
  const { insights } = tuiInsights({ store: store as never, policy: DEFAULT_POLICY, nodes: false, onChange: () => {} });
  const requestor = (i: { findings: { code: string; message: string }[] }) =>
    i.findings.find((f) => f.code === 'requestor-subject')?.message ?? '';
  insights.insight('east', request);
  const first = await waitFor(() => insights.insight('east', request), 'findings with the pod');
  assert.match(requestor(first), /exists and runs as typha/);

  // A status update of the same pod (a new map, the same pod): the findings are kept.
  pods = new Map([['calico-system/calico-typha-abc', { ...typha, status: { phase: 'Running' } }]]);
  assert.equal(insights.insight('east', request), first);

  pods = new Map();
  await waitFor(
    () => (/does not exist/.test(requestor(insights.insight('east', request) ?? first)) ? true : undefined),
    'the finding made again without the pod',
  );
  insights.stop();
});

// The TUI's inspect shows the findings that need the cluster (services/policy cluster-findings.ts) with the same
// facts as the controller (services/actions facts.ts): the hostile world's Nodes and pod, every CSR of the store;
// and makes them again when the CSRs change (a newer request supersedes an older one).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest, V1Pod } from '@kubernetes/client-node';
import { InsightCache } from '../../../src/app/insights.js';
import { selectInspect } from '../../../src/app/selectors.js';
import { csrKey, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import { type FactsSource, factsKey, factsOf } from '../../../src/services/actions/facts.js';
import type { ContextSnapshot, NodeAddresses } from '../../../src/services/kube/api-types.js';
import { RequestIndexCache } from '../../../src/services/policy/index.js';
import { buildHostileRequests, type HostileRequest } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { InspectView } from '../../../src/views/inspect-view.js';
import { hostileCsr, hostileNodes, hostilePods } from '../../helpers/hostile-world.js';
import { waitFor } from '../../helpers/sandbox.js';
import { frameOf } from '../../views/tui/render.js';
import { NOW, snapshot } from './fixtures.js';

function worldSnapshot(csrs: V1CertificateSigningRequest[]): ContextSnapshot {
  return {
    ...snapshot('hostile', csrs),
    pods: new Map(hostilePods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p as V1Pod])),
    nodes: new Map(hostileNodes.map((n) => [n.metadata?.name ?? '', n as NodeAddresses])),
  };
}

describe('TUI inspect: findings that need the cluster', () => {
  let hostile: HostileRequest[];
  before(async () => {
    hostile = await buildHostileRequests();
  });

  it('shows each hostile request caught, and a request superseded once a newer one arrives', async () => {
    const csrs = hostile.map((h) => hostileCsr(h));
    const older = csrs.find((c) => c.metadata?.name === 'hostile-superseded')!;
    let snap = worldSnapshot(csrs.filter((c) => c.metadata?.name !== 'hostile-node-address'));
    const store = { snapshot: () => snap, contexts: () => ['hostile'] };
    const facts: FactsSource = { store, index: new RequestIndexCache(), nodes: true };
    const cache = new InsightCache({
      pods: () => snap.pods.values(),
      podsListed: () => true,
      cluster: (context) => factsOf(facts, context).cluster,
      clusterKey: (context) => factsKey(facts, context),
      onChange: () => {},
    });
    let state: TuiState = initialState({ contexts: ['hostile'], columns: 160, rows: 60, now: NOW });
    const inspectLines = async (name: string, expect: RegExp) => {
      state = reducer(state, { type: 'snapshots', snapshots: { hostile: snap } });
      const csr = snap.csrs.get(name)!;
      await waitFor(() => {
        const i = cache.insight('hostile', csr);
        return i?.findings.some((f) => expect.test(f.message)) ? i : undefined;
      }, `${name}: ${expect}`);
      const vm = selectInspect(state, csrKey('hostile', name), cache);
      return vm.sections.find((s) => s.label === 'Findings')?.lines.map((l) => l.text) ?? [];
    };

    const before = await inspectLines('hostile-superseded', /No newer request/);
    assert.ok(
      before.some((t) => t.startsWith('✓ No newer request')),
      before.join('\n'),
    );

    // The newer request from the same node arrives: the older one is now superseded, naming it.
    snap = worldSnapshot(csrs);
    const after = await inspectLines('hostile-superseded', /newer request/);
    assert.ok(
      after.some((t) => /^! A newer request for the same identity exists: hostile-node-address/.test(t)),
      after.join('\n'),
    );
    assert.ok(older);

    const expected: [string, string, string][] = [
      ['hostile-node-address', '✗', "198.51.100.7 is not among Node hostile-node-1's addresses"],
      [
        'hostile-reserved-name',
        '✗',
        'Node hostile-node-2 asks for in-cluster names it does not own: kubernetes.default',
      ],
      ['hostile-pod-ip', '✗', "10.244.9.99 is not pod hostile/web-0's IP (10.244.1.5)"],
      ['hostile-spiffe-identity', '✗', 'spiffe://cluster.local/ns/istio-system/sa/istiod names service account'],
      ['hostile-key-reuse', '✗', 'The same public key is in another request for another identity: hostile-superseded'],
      ['hostile-storm-00', '!', '"storm-bot" asked for 21 certificates within 10 minutes'],
    ];
    for (const [name, glyph, text] of expected) {
      const escaped = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      const lines = await inspectLines(name, escaped);
      assert.ok(
        lines.some((t) => t.startsWith(`${glyph} `) && t.includes(text)),
        `${name}:\n${lines.join('\n')}`,
      );
    }

    // And as the person sees it in the inspect view.
    state = reducer(state, { type: 'snapshots', snapshots: { hostile: snap } });
    const frame = await frameOf(
      <InspectView
        inspect={selectInspect(state, csrKey('hostile', 'hostile-node-address'), cache)}
        width={160}
        height={60}
        offset={0}
      />,
    );
    assert.match(
      frame,
      /198\.51\.100\.7 is not among Node hostile-node-1's addresses \(10\.0\.0\.11, 203\.0\.113\.11, hostile-node-1\)/,
    );
  });
});

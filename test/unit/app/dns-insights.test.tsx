// The TUI and the opt-in DNS check: the findings are made at once with `resolving…` (the list never waits on DNS),
// and made again when the answer arrives (tuiInsights: the answer bumps the facts' key and redraws), as inspect shows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { tuiInsights } from '../../../src/app/run-tui.js';
import { selectInspect } from '../../../src/app/selectors.js';
import { csrKey, initialState, reducer } from '../../../src/app/store.js';
import { policyFromObject } from '../../../src/services/policy/index.js';
import { makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { InspectView } from '../../../src/views/inspect-view.js';
import { type DnsServer, startDnsServer } from '../../helpers/dns-server.js';
import { waitFor } from '../../helpers/sandbox.js';
import { frameOf } from '../../views/tui/render.js';
import { NOW, snapshot } from './fixtures.js';

let server: DnsServer;
before(async () => {
  server = await startDnsServer({ 'web.example.test': { a: ['198.51.100.9'] } });
});
after(() => server.close());

describe('TUI: the DNS check arrives after the list', () => {
  it('shows resolving… at once, then the answer, without anyone waiting for it', async () => {
    const csr: V1CertificateSigningRequest = {
      metadata: { name: 'web', uid: 'uid-web', resourceVersion: '1', creationTimestamp: new Date(NOW) },
      spec: {
        request: await makeCsr({ CN: ['web'] }, { dns: ['web.example.test'], ips: ['192.0.2.10'] }),
        signerName: 'example.com/serving',
        usages: ['digital signature', 'server auth'],
        username: 'alice',
      },
    };
    const snap = snapshot('east', [csr]);
    const store = { snapshot: () => snap, contexts: () => ['east'] };
    const policy = policyFromObject({ dns: { enabled: true, servers: [server.address] } });
    let changes = 0;
    const { insights } = tuiInsights({ store, policy, nodes: false, onChange: () => changes++ });
    const dnsOf = () => insights.insight('east', csr)?.findings.find((f) => f.code === 'dns-resolution');
    const first = await waitFor(() => dnsOf(), 'the first findings');
    // Made before the answer: no lookup has come back when the first findings are shown.
    assert.match(first.message, /^Resolving web\.example\.test… \(at most 3 s/);
    const answered = await waitFor(
      () => (dnsOf()?.message.startsWith('Resolving') ? undefined : dnsOf()),
      'the answer',
    );
    assert.ok(changes > 0, 'the TUI was told to redraw');
    assert.equal(answered.level, 'warn');
    assert.match(answered.message, /web\.example\.test → 198\.51\.100\.9 resolves outside the request's IP addresses/);

    const state = reducer(initialState({ contexts: ['east'], columns: 160, rows: 40, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snap },
    });
    const frame = await frameOf(
      <InspectView
        inspect={selectInspect(state, csrKey('east', 'web'), insights)}
        width={160}
        height={40}
        offset={0}
      />,
    );
    assert.match(frame, /! web\.example\.test → 198\.51\.100\.9 resolves outside/);
  });
});

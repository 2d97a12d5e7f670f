// The PodCertificateRequests' trust-bundle word of `certdesk health` after a rotation: two requests created in the same
// second, issued minutes apart by the old and the new CA; the bundle holds only the new one. The newest *issued*
// chain decides (it was the newest *created*, a tie broken by map order, which said lacks-ca).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pcrSignerHealth } from '../../../src/services/health/pcr.js';
import type { WireCtb, WirePcr } from '../../../src/services/kube/index.js';
import { createCa } from '../../../src/services/pki/index.js';

const SIGNER = 'example.com/pod-identity';

function issued(name: string, chain: string, issuedAt: string): WirePcr {
  return {
    metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: '2026-12-08T01:00:00Z' },
    spec: { signerName: SIGNER },
    status: {
      certificateChain: chain,
      notBefore: issuedAt,
      beginRefreshAt: '2099-01-01T00:00:00Z',
      conditions: [{ type: 'Issued', status: 'True', reason: 'Issued', message: '', lastTransitionTime: issuedAt }],
    },
  } as unknown as WirePcr;
}

test('the bundle is checked against the chain issued last, not the request created last', async () => {
  const oldCa = (await createCa({ cn: 'pod identity CA' })).certPem;
  const newCa = (await createCa({ cn: 'pod identity CA 2' })).certPem;
  const bundle = { metadata: { name: 'b' }, spec: { signerName: SIGNER, trustBundle: newCa } } as unknown as WireCtb;
  for (const order of [
    ['new', 'old'],
    ['old', 'new'],
  ]) {
    const byName = {
      old: issued('api-1', oldCa, '2026-12-08T01:00:01Z'),
      new: issued('web-0', newCa, '2026-12-08T01:03:30Z'),
    } as Record<string, WirePcr>;
    const pcrs = new Map(order.map((k) => [`apps/${byName[k]!.metadata!.name}`, byName[k]!]));
    const [h] =
      pcrSignerHealth(
        {
          pcrs,
          trustBundles: new Map([['b', bundle]]),
          podCertificateApis: { podCertificateRequests: 'v1beta1', clusterTrustBundles: 'v1beta1' },
        } as never,
        Date.parse('2026-12-08T01:05:00Z'),
      ) ?? [];
    assert.equal(h?.trustBundle, 'holds-ca', order.join(','));
  }
});

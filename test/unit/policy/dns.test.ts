// The opt-in DNS check (dns-resolution) against a tiny DNS server on a local UDP socket (no internet): answers
// arrive in the background (the finding says `resolving…` until then, evaluation never waits), a name that resolves
// elsewhere or not at all is flagged, a node's name may resolve to its Node's addresses, a silent server ends in the
// timeout, and the gate (approve, sign, the controller) decides on the answer, not on `resolving…`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { dnsChecksFor } from '../../../src/services/actions/facts.js';
import { findingsFor } from '../../../src/services/actions/gate.js';
import { checkSignerRules, decodeCsr } from '../../../src/services/pki/index.js';
import {
  type ClusterFacts,
  DNS_IN_FLIGHT,
  DnsChecks,
  evaluateCsr,
  type Finding,
  type Policy,
  policyFromObject,
} from '../../../src/services/policy/index.js';
import { makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { type DnsServer, startDnsServer } from '../../helpers/dns-server.js';
import { hostileNodes } from '../../helpers/hostile-world.js';
import { waitFor } from '../../helpers/sandbox.js';

let server: DnsServer;

before(async () => {
  server = await startDnsServer({
    'web.example.test': { a: ['192.0.2.10'] },
    'v6.example.test': { aaaa: ['2001:db8::10'] },
    'elsewhere.example.test': { a: ['198.51.100.9'] },
    'hostile-node-1.example.test': { a: ['10.0.0.11'] },
  });
});
after(() => server.close());

const policy = (timeoutMs = 2000): Policy =>
  policyFromObject({ dns: { enabled: true, timeoutMs, servers: [server.address] } });

async function csrOf(dns: string[], ips: string[] = [], node = false): Promise<V1CertificateSigningRequest> {
  const subject = node ? { CN: ['system:node:hostile-node-1'], O: ['system:nodes'] } : { CN: ['web'] };
  return {
    metadata: { name: 'r', uid: 'uid-r', creationTimestamp: new Date() },
    spec: {
      request: await makeCsr(subject, { dns, ips }),
      signerName: node ? 'kubernetes.io/kubelet-serving' : 'example.com/serving',
      usages: ['digital signature', 'server auth'],
      username: node ? 'system:node:hostile-node-1' : 'alice',
    },
  };
}

async function dnsFinding(
  csr: V1CertificateSigningRequest,
  p: Policy,
  cluster: ClusterFacts,
): Promise<Finding | undefined> {
  return evaluateCsr({
    csr: csr as Parameters<typeof evaluateCsr>[0]['csr'],
    decoded: await decodeCsr(csr.spec.request),
    policy: p,
    cluster,
    checkSignerRules,
  }).find((f) => f.code === 'dns-resolution');
}

describe('dns-resolution (opt-in)', () => {
  test('off by default: no lookup, no finding', async () => {
    assert.equal(dnsChecksFor(policyFromObject({})), undefined);
    server.asked.length = 0;
    const csr = await csrOf(['web.example.test'], ['192.0.2.10']);
    const dns = new DnsChecks({ timeoutMs: 1000, servers: [server.address] });
    assert.equal(await dnsFinding(csr, policyFromObject({}), { dns }), undefined);
    assert.deepEqual(server.asked, []);
  });

  test('resolving… first (evaluation does not wait), then the answer, and the caller is told', async () => {
    const p = policy();
    let told = 0;
    const dns = dnsChecksFor(p, () => told++);
    assert.ok(dns);
    const csr = await csrOf(['web.example.test', 'v6.example.test'], ['192.0.2.10', '2001:db8::10']);
    const first = await dnsFinding(csr, p, { dns });
    assert.equal(first?.level, 'warn');
    assert.match(first?.message ?? '', /^Resolving web\.example\.test, v6\.example\.test… \(at most 2 s/);
    assert.equal(dns.version, 0);
    await dns.settle(['web.example.test', 'v6.example.test']);
    assert.equal(told, 2);
    const then = await dnsFinding(csr, p, { dns });
    assert.equal(then?.level, 'ok', then?.message);
    assert.match(then?.message ?? '', /web\.example\.test → 192\.0\.2\.10/);
  });

  test('a name resolving outside the request’s addresses, or not at all, is flagged at the policy’s level', async () => {
    const p = policyFromObject({ dns: { enabled: true, level: 'fail', servers: [server.address] } });
    const dns = dnsChecksFor(p);
    assert.ok(dns);
    const csr = await csrOf(['elsewhere.example.test', 'missing.example.test'], ['192.0.2.10']);
    await dns.settle(['elsewhere.example.test', 'missing.example.test']);
    const f = await dnsFinding(csr, p, { dns });
    assert.equal(f?.level, 'fail');
    assert.match(f?.message ?? '', /elsewhere\.example\.test → 198\.51\.100\.9 resolves outside the request's IP/);
    assert.match(f?.message ?? '', /missing\.example\.test \(no such name\) did not resolve/);
  });

  test("a node's name may resolve to its Node's addresses", async () => {
    const p = policy();
    const dns = dnsChecksFor(p);
    assert.ok(dns);
    const csr = await csrOf(['hostile-node-1.example.test'], [], true);
    await dns.settle(['hostile-node-1.example.test']);
    const ok = await dnsFinding(csr, p, { dns, nodes: hostileNodes });
    assert.equal(ok?.level, 'ok', ok?.message);
    assert.match(ok?.message ?? '', /Node hostile-node-1's/);
    // The same name for another node (whose addresses do not include 10.0.0.11) resolves elsewhere.
    const other = structuredClone(csr);
    other.spec.username = 'system:node:hostile-node-2';
    assert.equal((await dnsFinding(other, p, { dns, nodes: hostileNodes }))?.level, 'warn');
  });

  test('a silent server ends in the timeout, which the finding names', async () => {
    const p = policy(300);
    const dns = dnsChecksFor(p);
    assert.ok(dns);
    const started = Date.now();
    await dns.settle(['silent.test']);
    assert.ok(Date.now() - started < 3000, 'settled by the timeout');
    const f = await dnsFinding(await csrOf(['silent.test'], ['192.0.2.10']), p, { dns });
    assert.equal(f?.level, 'warn');
    assert.match(f?.message ?? '', /silent\.test \(no answer within 0\.3 s\) did not resolve/);
  });

  test(`at most ${DNS_IN_FLIGHT} names are looked up at once; the rest wait their turn`, async () => {
    const dns = dnsChecksFor(policy(300));
    assert.ok(dns);
    server.asked.length = 0;
    const names = Array.from({ length: DNS_IN_FLIGHT * 2 }, (_, i) => `n${i}.silent.test`);
    for (const n of names) assert.equal(dns.answer(n).state, 'resolving');
    const settled = dns.settle(names);
    // The first batch is asked (A and AAAA each) and waits out its timeout before the second is.
    await waitFor(() => server.asked.length >= DNS_IN_FLIGHT * 2 || undefined, 'the first batch asked');
    assert.ok(
      !server.asked.some((q) => q.startsWith(`n${DNS_IN_FLIGHT}.`)),
      `the second batch waits: ${server.asked.join(' ')}`,
    );
    await settled;
    assert.ok(server.asked.some((q) => q.startsWith(`n${DNS_IN_FLIGHT * 2 - 1}.`)));
  });

  test('the gate settles the answers before deciding: never a decision on resolving…', async () => {
    const p = policy();
    const dns = dnsChecksFor(p);
    assert.ok(dns);
    const csr = await csrOf(['web.example.test'], ['192.0.2.10']);
    const { findings } = await findingsFor(csr, { policy: p, cluster: { dns } });
    assert.equal(findings.find((f) => f.code === 'dns-resolution')?.level, 'ok');
  });
});

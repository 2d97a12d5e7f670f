// The findings that need the cluster around a request (cluster-findings.ts): each with requests that pass and
// requests that fail it, and the hostile scenario's request for each.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { checkSignerRules, decodeCsr } from '../../../src/services/pki/index.js';
import {
  type ClusterFacts,
  DEFAULT_POLICY,
  evaluateCsr,
  type Finding,
  indexRequests,
  type PodLike,
  policyFromObject,
  type SeenRequest,
} from '../../../src/services/policy/index.js';
import {
  buildHostileRequests,
  type HostileRequest,
  makeCsr,
  STORM_SIZE,
  STORM_USER,
} from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { hostileCsr, hostileFacts, hostileNodes, hostilePods, WEB_UID } from '../../helpers/hostile-world.js';

const SERVER = ['digital signature', 'key encipherment', 'server auth'];
const CLIENT = ['digital signature', 'key encipherment', 'client auth'];
const NODE1 = { user: 'system:node:hostile-node-1', groups: ['system:nodes', 'system:authenticated'] };
const WEB = { user: 'system:serviceaccount:hostile:web', groups: ['system:serviceaccounts', 'system:authenticated'] };
const T0 = Date.parse('2026-12-07T04:00:00Z');

interface Made {
  name: string;
  request: string;
  requester: { user: string; groups: string[] };
  signerName?: string;
  usages?: string[];
  created?: number;
  fromPod?: boolean;
}

function csrOf(m: Made): V1CertificateSigningRequest {
  return {
    metadata: { name: m.name, uid: `uid-${m.name}`, creationTimestamp: new Date(m.created ?? T0) },
    spec: {
      request: m.request,
      signerName: m.signerName ?? 'example.com/serving',
      usages: m.usages ?? SERVER,
      username: m.requester.user,
      groups: m.requester.groups,
      ...(m.fromPod
        ? {
            extra: {
              'authentication.kubernetes.io/pod-name': ['web-0'],
              'authentication.kubernetes.io/pod-uid': [WEB_UID],
            },
          }
        : {}),
    },
  };
}

async function findingsOf(
  csr: V1CertificateSigningRequest,
  opts: { facts?: ClusterFacts; pods?: PodLike[]; policy?: typeof DEFAULT_POLICY } = {},
): Promise<Finding[]> {
  return evaluateCsr({
    csr: csr as Parameters<typeof evaluateCsr>[0]['csr'],
    decoded: await decodeCsr(csr.spec.request),
    ...(opts.policy ? { policy: opts.policy } : {}),
    pods: opts.pods ?? hostilePods,
    ...(opts.facts ? { cluster: opts.facts } : {}),
    checkSignerRules,
  });
}

function code(findings: Finding[], c: string): Finding | undefined {
  return findings.find((f) => f.code === c);
}

function level(findings: Finding[], c: string): string {
  return code(findings, c)?.level ?? 'absent';
}

const facts = (csrs: V1CertificateSigningRequest[]): ClusterFacts => hostileFacts(csrs);

describe('node-addresses (postfinance/kubelet-csr-approver resolves names to the node; certdesk reads the Node)', () => {
  const node = (ips: string[], dns = ['hostile-node-1']) =>
    makeCsr({ CN: ['system:node:hostile-node-1'], O: ['system:nodes'] }, { dns, ips });

  test("passes when every SAN is one of the Node's status.addresses", async () => {
    const csr = csrOf({
      name: 'ok',
      request: await node(['10.0.0.11']),
      requester: NODE1,
      signerName: 'kubernetes.io/kubelet-serving',
    });
    const found = await findingsOf(csr, { facts: facts([csr]) });
    assert.equal(level(found, 'node-addresses'), 'ok');
    assert.match(code(found, 'node-addresses')?.message ?? '', /10\.0\.0\.11, 203\.0\.113\.11, hostile-node-1/);
  });

  test("fails for an address that is not the Node's, listing the Node's addresses", async () => {
    const csr = csrOf({
      name: 'bad',
      request: await node(['10.0.0.11', '203.0.113.7']),
      requester: NODE1,
      signerName: 'kubernetes.io/kubelet-serving',
    });
    const f = code(await findingsOf(csr, { facts: facts([csr]) }), 'node-addresses');
    assert.equal(f?.level, 'fail');
    assert.match(
      f?.message ?? '',
      /203\.0\.113\.7 is not among Node hostile-node-1's addresses \(10\.0\.0\.11, 203\.0\.113\.11, hostile-node-1\)/,
    );
  });

  test('fails for a Node that does not exist; absent without Nodes or for other signers', async () => {
    const csr = csrOf({
      name: 'ghost',
      request: await makeCsr({ CN: ['system:node:ghost'], O: ['system:nodes'] }, { dns: ['ghost'] }),
      requester: { ...NODE1, user: 'system:node:ghost' },
      signerName: 'kubernetes.io/kubelet-serving',
    });
    assert.equal(level(await findingsOf(csr, { facts: facts([csr]) }), 'node-addresses'), 'fail');
    assert.equal(level(await findingsOf(csr, { facts: { context: 'hostile' } }), 'node-addresses'), 'absent');
    // Followed but not readable (listing Nodes forbidden): a warning, so nothing approves it unchecked.
    const unknown = { context: 'hostile', nodesUnknown: 'the Nodes could not be listed (forbidden)' };
    const warned = code(await findingsOf(csr, { facts: unknown }), 'node-addresses');
    assert.equal(warned?.level, 'warn');
    assert.match(warned?.message ?? '', /not checked against the Node: the Nodes could not be listed \(forbidden\)/);
    const off = policyFromObject({ nodeServingSigners: [] });
    assert.equal(level(await findingsOf(csr, { facts: facts([csr]), policy: off }), 'node-addresses'), 'absent');
    const custom = policyFromObject({ nodeServingSigners: ['example.com/node-serving'] });
    const other = csrOf({
      name: 'custom',
      request: await node(['198.51.100.1']),
      requester: NODE1,
      signerName: 'example.com/node-serving',
    });
    assert.equal(level(await findingsOf(other, { facts: facts([other]), policy: custom }), 'node-addresses'), 'fail');
  });
});

describe('reserved-names', () => {
  test("a pod may name its own namespace's services; not another's, nor the API server's", async () => {
    const own = csrOf({
      name: 'own',
      request: await makeCsr({ CN: ['web'] }, { dns: ['web.hostile.svc', 'web.hostile.svc.cluster.local'] }),
      requester: WEB,
    });
    assert.equal(level(await findingsOf(own), 'reserved-names'), 'ok');
    for (const dns of ['api.payments.svc.cluster.local', 'kubernetes.default', 'kubernetes', 'x.cluster.local']) {
      const bad = csrOf({ name: 'bad', request: await makeCsr({ CN: ['web'] }, { dns: [dns] }), requester: WEB });
      const f = code(await findingsOf(bad), 'reserved-names');
      assert.equal(f?.level, 'fail', dns);
      assert.ok(f?.message.includes(dns), f?.message);
    }
  });

  test('a node may not name services; a service CIDR IP is refused when the policy gives the range', async () => {
    const node = csrOf({
      name: 'n',
      request: await makeCsr({ CN: ['system:node:hostile-node-1'] }, { dns: ['web.hostile.svc'] }),
      requester: NODE1,
    });
    assert.equal(level(await findingsOf(node), 'reserved-names'), 'fail');
    const ip = csrOf({ name: 'ip', request: await makeCsr({ CN: ['web'] }, { ips: ['10.96.0.1'] }), requester: WEB });
    assert.equal(level(await findingsOf(ip), 'reserved-names'), 'ok');
    const withCidr = policyFromObject({ reservedNames: { serviceCidrs: ['10.96.0.0/12'] } });
    assert.equal(level(await findingsOf(ip, { policy: withCidr }), 'reserved-names'), 'fail');
  });

  test('a person (not a node, not a pod) is not judged by it', async () => {
    const csr = csrOf({
      name: 'm',
      request: await makeCsr({ CN: ['m'] }, { dns: ['kubernetes.default.svc'] }),
      requester: { user: 'mallory', groups: [] },
    });
    assert.equal(level(await findingsOf(csr), 'reserved-names'), 'absent');
  });
});

describe('pod-ip (the Tigera operator checks the IP SAN against the pod)', () => {
  test("passes with the pod's IP, fails with another or when the pod has none", async () => {
    const mine = csrOf({
      name: 'p',
      request: await makeCsr({ CN: ['web'] }, { ips: ['10.244.1.5'] }),
      requester: WEB,
      fromPod: true,
    });
    assert.equal(level(await findingsOf(mine), 'pod-ip'), 'ok');
    const other = csrOf({
      name: 'q',
      request: await makeCsr({ CN: ['web'] }, { ips: ['10.244.1.6'] }),
      requester: WEB,
      fromPod: true,
    });
    assert.match(
      code(await findingsOf(other), 'pod-ip')?.message ?? '',
      /10\.244\.1\.6 is not pod hostile\/web-0's IP \(10\.244\.1\.5\)/,
    );
    const noIp = hostilePods.map((p) => ({ ...p, status: {} }));
    assert.match(code(await findingsOf(mine, { pods: noIp }), 'pod-ip')?.message ?? '', /has none yet/);
  });
});

describe('spiffe-identity (istio-csr: URI SANs equal the caller identity)', () => {
  const spiffe = (uri: string) => makeCsr({}, { uris: [uri] });
  test('the service account that asks passes; another one, another trust domain or a node fails; a person warns', async () => {
    const own = csrOf({ name: 's', request: await spiffe('spiffe://cluster.local/ns/hostile/sa/web'), requester: WEB });
    assert.equal(level(await findingsOf(own), 'spiffe-identity'), 'ok');
    const other = csrOf({
      name: 't',
      request: await spiffe('spiffe://cluster.local/ns/hostile/sa/admin'),
      requester: WEB,
    });
    assert.match(
      code(await findingsOf(other), 'spiffe-identity')?.message ?? '',
      /names service account hostile:admin, but hostile:web asks/,
    );
    const domains = policyFromObject({ spiffe: { trustDomains: ['prod.example'] } });
    assert.equal(level(await findingsOf(own, { policy: domains }), 'spiffe-identity'), 'fail');
    const person = csrOf({
      name: 'u',
      request: await spiffe('spiffe://cluster.local/ns/hostile/sa/web'),
      requester: { user: 'jane', groups: [] },
    });
    // A person (or istiod) asking on a workload's behalf, as the Istio walkthroughs do: a person decides.
    assert.equal(level(await findingsOf(person), 'spiffe-identity'), 'warn');
    assert.match(code(await findingsOf(person), 'spiffe-identity')?.message ?? '', /asked for by "jane"/);
    const node = csrOf({
      name: 'v',
      request: await spiffe('spiffe://cluster.local/ns/hostile/sa/web'),
      requester: { user: 'system:node:n1', groups: ['system:nodes'] },
    });
    assert.equal(level(await findingsOf(node), 'spiffe-identity'), 'fail');
    const istiod = csrOf({
      name: 'w',
      request: await spiffe('spiffe://cluster.local/ns/hostile/sa/web'),
      requester: { user: 'system:serviceaccount:istio-system:istiod', groups: [] },
    });
    assert.equal(level(await findingsOf(istiod), 'spiffe-identity'), 'ok');
    const noBrokers = policyFromObject({ spiffe: { brokers: [] } });
    assert.equal(level(await findingsOf(istiod, { policy: noBrokers }), 'spiffe-identity'), 'fail');
  });
});

describe('superseded', () => {
  test('an older request for the same identity is superseded by the newer one, which names it; the newer passes', async () => {
    const subject = { CN: ['system:node:hostile-node-1'], O: ['system:nodes'] };
    const old = csrOf({
      name: 'old',
      request: await makeCsr(subject, { dns: ['hostile-node-1'] }),
      requester: NODE1,
      signerName: 'kubernetes.io/kubelet-serving',
    });
    const fresh = csrOf({
      name: 'fresh',
      request: await makeCsr(subject, { dns: ['hostile-node-1'] }),
      requester: NODE1,
      signerName: 'kubernetes.io/kubelet-serving',
      created: T0 + 5 * 60_000,
    });
    const all = facts([old, fresh]);
    const f = code(await findingsOf(old, { facts: all }), 'superseded');
    assert.equal(f?.level, 'warn');
    assert.match(f?.message ?? '', /fresh, 5 min later/);
    assert.equal(level(await findingsOf(fresh, { facts: all }), 'superseded'), 'ok');
    // Another subject is another identity.
    const bob = csrOf({
      name: 'bob',
      request: await makeCsr({ CN: ['bob'] }),
      requester: NODE1,
      signerName: 'kubernetes.io/kubelet-serving',
      created: T0 + 1000,
    });
    assert.equal(level(await findingsOf(old, { facts: facts([old, bob]) }), 'superseded'), 'ok');
  });

  test('a broker asking for several workloads (istiod: empty subject, one SPIFFE ID each) supersedes none of them', async () => {
    // tenants.test.ts failed when istiod's requests straddled a second: with the subject alone as the identity, the
    // later workload's request superseded the earlier workload's and the controller left it pending.
    const istiod = { user: 'system:serviceaccount:istio-system:istiod', groups: [] };
    const workload = async (
      sa: string,
      name: string,
      created: number,
      uris = [`spiffe://cluster.local/ns/foo/sa/${sa}`],
    ) =>
      csrOf({ name, request: await makeCsr({}, { uris }), requester: istiod, signerName: 'example.com/foo', created });
    const sleep = await workload('sleep', 'sleep', T0);
    const httpbin = await workload('httpbin', 'httpbin', T0 + 1000);
    assert.equal(level(await findingsOf(sleep, { facts: facts([sleep, httpbin]) }), 'superseded'), 'ok');
    // The same workload asking again (a new key) supersedes its first request, whatever the order of its names.
    const uris = ['spiffe://cluster.local/ns/foo/sa/sleep', 'spiffe://cluster.local/ns/foo/sa/sleep2'];
    const first = await workload('', 'first', T0, uris);
    const again = await workload('', 'again', T0 + 1000, [...uris].reverse());
    const f = code(await findingsOf(first, { facts: facts([first, again]) }), 'superseded');
    assert.equal(f?.level, 'warn');
    assert.match(f?.message ?? '', /again, 1 s later/);
  });

  test('the pod that asked is gone, or replaced by one with another UID', async () => {
    const csr = csrOf({ name: 'p', request: await makeCsr({ CN: ['web'] }), requester: WEB, fromPod: true });
    assert.match(code(await findingsOf(csr, { pods: [] }), 'superseded')?.message ?? '', /is gone/);
    const replaced = hostilePods.map((p) => ({ ...p, metadata: { ...p.metadata, uid: 'another' } }));
    assert.match(code(await findingsOf(csr, { pods: replaced }), 'superseded')?.message ?? '', /replaced/);
  });
});

describe('key-reuse', () => {
  let keys: CryptoKeyPair;
  before(async () => {
    keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
  });

  test("another identity's request with the same key fails (any context); the same identity asking again passes", async () => {
    const jane = csrOf({
      name: 'jane',
      request: await makeCsr({ CN: ['jane'] }, { keys }),
      requester: { user: 'jane', groups: [] },
      usages: CLIENT,
    });
    const again = csrOf({
      name: 'jane-2',
      request: await makeCsr({ CN: ['jane'] }, { keys }),
      requester: { user: 'jane', groups: [] },
      usages: CLIENT,
    });
    assert.equal(level(await findingsOf(again, { facts: facts([jane, again]) }), 'key-reuse'), 'ok');
    const copy = csrOf({
      name: 'copy',
      request: await makeCsr({ CN: ['mallory'] }, { keys }),
      requester: { user: 'mallory', groups: [] },
      usages: CLIENT,
    });
    const f = code(await findingsOf(copy, { facts: facts([jane, copy]) }), 'key-reuse');
    assert.equal(f?.level, 'fail');
    assert.match(f?.message ?? '', /jane \(context hostile, asked by jane\)/);
    const elsewhere: ClusterFacts = {
      context: 'west',
      requests: indexRequests([
        { context: 'east', requests: [jane] },
        { context: 'west', requests: [copy] },
      ]),
    };
    assert.match(code(await findingsOf(copy, { facts: elsewhere }), 'key-reuse')?.message ?? '', /context east/);
  });

  test('a key the audit log saw under another identity fails too', async () => {
    const copy = csrOf({
      name: 'copy',
      request: await makeCsr({ CN: ['mallory'] }, { keys }),
      requester: { user: 'mallory', groups: [] },
      usages: CLIENT,
    });
    const decided = await decodeCsr(
      csrOf({ name: 'x', request: await makeCsr({ CN: ['jane'] }, { keys }), requester: WEB }).spec.request,
    );
    const { digestsOf } = await import('../../../src/services/pki/index.js');
    const audit: SeenRequest = {
      context: 'east',
      name: 'jane-2025',
      uid: 'gone',
      username: 'jane',
      signerName: 'example.com/serving',
      created: T0 - 86_400_000,
      source: 'audit',
      digests: () => digestsOf(decided),
    };
    const f = code(
      await findingsOf(copy, {
        facts: { context: 'hostile', requests: indexRequests([{ context: 'hostile', requests: [copy] }], [audit]) },
      }),
      'key-reuse',
    );
    assert.match(f?.message ?? '', /jane-2025 \(audit log, context east, asked by jane\)/);
  });
  test('a key held by many is counted exactly and names three; the request itself never counts', async () => {
    const request = await makeCsr({ CN: ['web'] }, { keys });
    const mine = csrOf({ name: 'mine', request, requester: { user: 'web', groups: [] }, usages: CLIENT });
    const same = Array.from({ length: 40 }, (_, i) =>
      csrOf({ name: `again-${i}`, request, requester: { user: 'web', groups: [] }, usages: CLIENT }),
    );
    const others = Array.from({ length: 25 }, (_, i) =>
      csrOf({ name: `other-${i}`, request, requester: { user: `user-${i}`, groups: [] }, usages: CLIENT }),
    );
    const decoded = await decodeCsr(mine.spec.request);
    const { digestsOf } = await import('../../../src/services/pki/index.js');
    // The audit log's line of this very request, written before requesters were recorded.
    const ownAudit: SeenRequest = {
      context: 'hostile',
      name: 'mine',
      uid: 'uid-mine',
      username: '',
      signerName: 'example.com/serving',
      created: T0,
      source: 'audit',
      digests: () => ({ key: digestsOf(decoded)!.key, subject: '', names: '' }),
    };
    const all = [mine, ...same, ...others];
    const f = code(
      await findingsOf(mine, {
        facts: { context: 'hostile', requests: indexRequests([{ context: 'hostile', requests: all }], [ownAudit]) },
      }),
      'key-reuse',
    );
    assert.equal(f?.level, 'fail');
    assert.match(f?.message ?? '', /in 25 other requests for another identity: other-0 .*; other-1 .*; other-2 \(/);
    const alone = code(
      await findingsOf(mine, {
        facts: { context: 'hostile', requests: indexRequests([{ context: 'hostile', requests: [mine, ...same] }]) },
      }),
      'key-reuse',
    );
    assert.equal(alone?.level, 'ok');
  });
});

describe('request-storm (per requester, within the window around the request)', () => {
  test(`more than the policy's ${DEFAULT_POLICY.requestStorm.maxRequests} within ${DEFAULT_POLICY.requestStorm.windowMinutes} minutes warns; as many spread out passes`, async () => {
    const request = await makeCsr({ CN: [STORM_USER] });
    const burst = (n: number, spacingMs: number) =>
      Array.from({ length: n }, (_, i) =>
        csrOf({
          name: `s-${i}`,
          request,
          requester: { user: STORM_USER, groups: [] },
          usages: CLIENT,
          created: T0 + i * spacingMs,
        }),
      );
    const storm = burst(STORM_SIZE, 1000);
    const f = code(await findingsOf(storm[0]!, { facts: facts(storm) }), 'request-storm');
    assert.equal(f?.level, 'warn');
    assert.match(f?.message ?? '', /asked for 21 certificates within 10 minutes/);
    const calm = burst(DEFAULT_POLICY.requestStorm.maxRequests, 1000);
    assert.equal(level(await findingsOf(calm[0]!, { facts: facts(calm) }), 'request-storm'), 'ok');
    const spread = burst(STORM_SIZE, 60_000);
    assert.equal(level(await findingsOf(spread[0]!, { facts: facts(spread) }), 'request-storm'), 'ok');
  });
});

describe('the hostile scenario, judged in its world', () => {
  let hostile: HostileRequest[];
  before(async () => {
    hostile = await buildHostileRequests();
  });

  test('every hostile request is caught by its finding at its level', async () => {
    const csrs = hostile.map((h) => hostileCsr(h));
    const all = hostileFacts(csrs);
    for (const [i, h] of hostile.entries()) {
      const found = await findingsOf(csrs[i]!, { facts: all });
      assert.ok(
        found.some((f) => f.code === h.caughtBy && f.level === (h.caughtAt ?? 'fail')),
        `${h.name} (${h.description}) not caught by ${h.caughtBy}: ${JSON.stringify(found, null, 1)}`,
      );
    }
    for (const c of [
      'node-addresses',
      'reserved-names',
      'pod-ip',
      'spiffe-identity',
      'superseded',
      'key-reuse',
      'request-storm',
    ])
      assert.ok(
        hostile.some((h) => h.caughtBy === c),
        `the hostile scenario has a request for ${c}`,
      );
    assert.ok(hostileNodes.length >= 2);
  });
});

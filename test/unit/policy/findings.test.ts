import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { checkSignerRules, decodeCsr, generateKeyAndCsr } from '../../../src/services/pki/index.js';
import type { DecodedCsr } from '../../../src/services/pki/types.js';
import {
  type CsrLike,
  DEFAULT_POLICY,
  evaluateCsr,
  type Finding,
  type PodLike,
  policyFromObject,
  worstLevel,
} from '../../../src/services/policy/index.js';
import { buildHostileRequests, type HostileRequest } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { hostileCsr, hostileFacts, hostilePods } from '../../helpers/hostile-world.js';

const CALICO_USAGES = ['server auth', 'client auth', 'digital signature', 'key agreement'];

function byCode(findings: Finding[], code: string): Finding {
  const f = findings.find((x) => x.code === code);
  assert.ok(f, `no finding ${code} in ${JSON.stringify(findings)}`);
  return f;
}

async function csrFor(opts: Parameters<typeof generateKeyAndCsr>[0]): Promise<DecodedCsr> {
  const { csrPem } = await generateKeyAndCsr(opts);
  return decodeCsr(csrPem);
}

const calicoPod: PodLike = {
  metadata: { name: 'calico-node-5ckvq', namespace: 'calico-system', uid: '9a3a10c4-1111-2222-3333-444455556666' },
  spec: { serviceAccountName: 'calico-node', nodeName: 'node-1' },
};

function calicoCsr(overrides: Partial<CsrLike['spec']> = {}, name = 'calico-system:calico-node-5ckvq:9a3a10'): CsrLike {
  return {
    metadata: { name },
    spec: {
      signerName: 'example.com/calico',
      usages: CALICO_USAGES,
      username: 'system:serviceaccount:calico-system:calico-node',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:calico-system', 'system:authenticated'],
      ...overrides,
    },
  };
}

describe('findings', () => {
  let calico: DecodedCsr;
  before(async () => {
    calico = await csrFor({ cn: 'calico-node', hosts: ['calico-node', 'calico-node.calico-system.svc'] });
  });

  test('a Calico request from the pod that waits on it is all ok', () => {
    const findings = evaluateCsr({ csr: calicoCsr(), decoded: calico, pods: [calicoPod], checkSignerRules });
    assert.equal(worstLevel(findings), 'ok', JSON.stringify(findings, null, 1));
    assert.match(byCode(findings, 'requestor-subject').message, /calico-system\/calico-node-5ckvq exists/);
  });

  test('a service account of another namespace fails', () => {
    const csr = calicoCsr({ username: 'system:serviceaccount:kube-system:calico-node' });
    assert.equal(byCode(evaluateCsr({ csr, decoded: calico, pods: [calicoPod] }), 'requestor-subject').level, 'fail');
  });

  test('a pod running as another service account fails; a missing pod warns', () => {
    const csr = calicoCsr({ username: 'system:serviceaccount:calico-system:calico-typha' });
    assert.equal(byCode(evaluateCsr({ csr, decoded: calico, pods: [calicoPod] }), 'requestor-subject').level, 'fail');
    assert.equal(
      byCode(evaluateCsr({ csr: calicoCsr(), decoded: calico, pods: [] }), 'requestor-subject').level,
      'warn',
    );
  });

  test("only the Calico provisioner's service accounts request from the Calico signer (issue 24: mallory)", async () => {
    // The Installation's signerName is what the key-cert-provisioner init containers carry as SIGNER.
    const provisioner = (sa: string, name: string): PodLike => ({
      metadata: { name, namespace: 'calico-system' },
      spec: {
        serviceAccountName: sa,
        initContainers: [
          {
            name: 'key-cert-provisioner',
            image: 'quay.io/tigera/key-cert-provisioner:v1.1.20',
            env: [{ name: 'SIGNER', value: 'example.com/calico' }],
          },
        ],
      },
    });
    const pods = [provisioner('calico-node', 'calico-node-5ckvq'), provisioner('calico-typha', 'calico-typha-x')];
    const mine = await csrFor({ cn: 'mallory', hosts: ['mallory.example.com'] });
    const mallory: CsrLike = {
      metadata: { name: 'mallory-web' },
      spec: { signerName: 'example.com/calico', usages: ['server auth'], username: 'mallory', groups: [] },
    };
    const f = byCode(evaluateCsr({ csr: mallory, decoded: mine, pods }), 'requestor-subject');
    assert.equal(f.level, 'fail');
    assert.equal(
      f.message,
      `"mallory" asks Calico's signer example.com/calico for a certificate; only the Calico provisioner's service accounts (calico-system:calico-node, calico-system:calico-typha) request from it.`,
    );
    // The provisioner itself is judged as before (its pod exists and runs as it).
    const own = evaluateCsr({ csr: calicoCsr(), decoded: calico, pods: [...pods, calicoPod] });
    assert.equal(byCode(own, 'requestor-subject').level, 'ok');
    // Another signer, or no Calico pod using this one: nothing is known about it, "Requested by" as before.
    const other = { ...mallory, spec: { ...mallory.spec, signerName: 'example.com/other' } };
    assert.equal(byCode(evaluateCsr({ csr: other, decoded: mine, pods }), 'requestor-subject').level, 'ok');
    assert.equal(byCode(evaluateCsr({ csr: mallory, decoded: mine, pods: [] }), 'requestor-subject').level, 'ok');
  });

  test('spec.extra pod name and UID must agree with the CSR name and the pod', () => {
    const wrongName = calicoCsr({ extra: { 'authentication.kubernetes.io/pod-name': ['calico-node-other'] } });
    assert.equal(byCode(evaluateCsr({ csr: wrongName, decoded: calico }), 'requestor-subject').level, 'fail');
    const wrongUid = calicoCsr({ extra: { 'authentication.kubernetes.io/pod-uid': ['not-the-uid'] } });
    assert.equal(
      byCode(evaluateCsr({ csr: wrongUid, decoded: calico, pods: [calicoPod] }), 'requestor-subject').level,
      'fail',
    );
  });

  test('a kubelet asking for its own serving certificate is ok', async () => {
    const decoded = await csrFor({
      cn: 'system:node:node-1',
      hosts: ['node-1', '10.0.0.1'],
      names: [{ O: 'system:nodes' }],
    });
    const csr: CsrLike = {
      spec: {
        signerName: 'kubernetes.io/kubelet-serving',
        usages: ['digital signature', 'key encipherment', 'server auth'],
        username: 'system:node:node-1',
      },
    };
    assert.equal(worstLevel(evaluateCsr({ csr, decoded, checkSignerRules })), 'ok');
  });

  test('a user client certificate in their own name is ok, in another name fails', async () => {
    const decoded = await csrFor({ cn: 'jane' });
    const spec = { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 600 };
    assert.equal(
      worstLevel(evaluateCsr({ csr: { spec: { ...spec, username: 'jane' } }, decoded, checkSignerRules })),
      'ok',
    );
    assert.equal(
      byCode(evaluateCsr({ csr: { spec: { ...spec, username: 'bob' } }, decoded }), 'requestor-subject').level,
      'fail',
    );
  });

  test('a service account asking kube-apiserver-client for a certificate in another name fails, in its own is ok', async () => {
    const spec = { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 600 };
    const mallory = 'system:serviceaccount:default:mallory';
    for (const cn of ['system:serviceaccount:kube-system:default', 'jane', 'admin']) {
      const f = byCode(
        evaluateCsr({ csr: { spec: { ...spec, username: mallory } }, decoded: await csrFor({ cn }) }),
        'requestor-subject',
      );
      assert.equal(f.level, 'fail', cn);
      assert.match(f.message, /Service account "system:serviceaccount:default:mallory" asks for a client certificate/);
    }
    const own = evaluateCsr({ csr: { spec: { ...spec, username: mallory } }, decoded: await csrFor({ cn: mallory }) });
    assert.notEqual(byCode(own, 'requestor-subject').level, 'fail');
  });

  test('an administrator (system:masters) asking in a user’s name is a warning: the onboarding flow', async () => {
    const decoded = await csrFor({ cn: 'jane' });
    const spec = { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 600 };
    const admin = { spec: { ...spec, username: 'admin', groups: ['system:masters', 'system:authenticated'] } };
    const f = byCode(evaluateCsr({ csr: admin, decoded }), 'requestor-subject');
    assert.equal(f.level, 'warn');
    assert.match(f.message, /Administrator "admin" \(system:masters\).*"jane"/);
    const notAdmin = { spec: { ...spec, username: 'admin', groups: ['system:authenticated'] } };
    assert.equal(byCode(evaluateCsr({ csr: notAdmin, decoded }), 'requestor-subject').level, 'fail');
  });

  test('the built-in signer rules become a fail finding with the controller-manager wording', async () => {
    const decoded = await csrFor({ cn: 'jane' });
    const csr: CsrLike = {
      spec: {
        signerName: 'kubernetes.io/kube-apiserver-client',
        usages: ['client auth', 'server auth'],
        username: 'jane',
      },
    };
    const f = byCode(evaluateCsr({ csr, decoded, checkSignerRules }), 'signer-rules');
    assert.equal(f.level, 'fail');
    assert.match(f.message, /invalid usage for client certificate: server auth/);
  });

  test('a request whose self-signature does not verify fails', () => {
    const forged: DecodedCsr = { ...calico, proofOfPossession: { verified: false, error: 'signature mismatch' } };
    assert.equal(byCode(evaluateCsr({ csr: calicoCsr(), decoded: forged }), 'proof-of-possession').level, 'fail');
  });

  test('wildcards warn; IPs outside the configured ranges fail; CA usages fail', async () => {
    const decoded = await csrFor({ cn: 'svc', hosts: ['*.example.com', '192.168.1.10'] });
    const policy = policyFromObject({ sans: { allowedIpRanges: ['10.0.0.0/8'] } });
    const findings = evaluateCsr({ csr: calicoCsr({ usages: ['server auth', 'cert sign'] }), decoded, policy });
    assert.equal(byCode(findings, 'san-wildcard').level, 'warn');
    assert.equal(byCode(findings, 'san-ip-range').level, 'fail');
    assert.equal(byCode(findings, 'ca-usage').level, 'fail');
    const inRange = evaluateCsr({
      csr: calicoCsr(),
      decoded,
      policy: policyFromObject({ sans: { allowedIpRanges: ['192.168.0.0/16'] } }),
    });
    assert.equal(
      inRange.find((f) => f.code === 'san-ip-range'),
      undefined,
    );
  });

  test('a duration over the maximum gets the policy level', () => {
    const csr = calicoCsr({ expirationSeconds: 2 * 365 * 86400 });
    assert.equal(byCode(evaluateCsr({ csr, decoded: calico }), 'duration').level, 'fail');
    const lenient = policyFromObject({ durationOverMax: 'warn' });
    assert.equal(byCode(evaluateCsr({ csr, decoded: calico, policy: lenient }), 'duration').level, 'warn');
    const day = byCode(evaluateCsr({ csr: calicoCsr({ expirationSeconds: 86400 }), decoded: calico }), 'duration');
    assert.equal(day.level, 'ok');
    assert.equal(day.message, 'The requested duration of 1 day is within the policy.');
    assert.match(byCode(evaluateCsr({ csr, decoded: calico }), 'duration').message, /asks for 730 days, more than/);
  });
});

describe('the hostile scenario', () => {
  let hostile: HostileRequest[];
  before(async () => {
    hostile = await buildHostileRequests();
  });

  test('every hostile request is caught by the finding meant to catch it, in the world it is sent to', async () => {
    assert.ok(hostile.length >= 8);
    const csrs = hostile.map((h) => hostileCsr(h));
    const cluster = hostileFacts(csrs);
    for (const [i, h] of hostile.entries()) {
      const decoded = await decodeCsr(h.body.spec.request);
      const csr = csrs[i] as unknown as CsrLike;
      const findings = evaluateCsr({ csr, decoded, pods: hostilePods, cluster, checkSignerRules });
      const at = h.caughtAt ?? 'fail';
      const caught = findings.filter((f) => f.code === h.caughtBy);
      assert.ok(
        caught.some((f) => f.level === at),
        `${h.name} (${h.description}) not caught by ${h.caughtBy}: ${JSON.stringify(findings, null, 1)}`,
      );
      if (at === 'fail') assert.equal(worstLevel(findings), 'fail', h.name);
    }
  });
});

describe('policy files', () => {
  test('assets/policy/default.yaml is the built-in default', async () => {
    const { loadPolicy } = await import('../../../src/services/policy/index.js');
    assert.deepEqual(
      await loadPolicy(new URL('../../../assets/policy/default.yaml', import.meta.url).pathname),
      DEFAULT_POLICY,
    );
  });

  test('bad policies are refused with a sentence naming the field', () => {
    assert.throws(() => policyFromObject({ maxDuration: 5 }), /unknown policy field "maxDuration"/);
    assert.throws(() => policyFromObject({ keys: { offList: 'maybe' } }), /keys.offList.*ok, warn or fail/);
    assert.throws(() => policyFromObject({ sans: { allowedIpRanges: ['10.0.0.0/99'] } }), /not a CIDR/);
    assert.throws(() => policyFromObject('text'), /must be a YAML mapping/);
  });
});

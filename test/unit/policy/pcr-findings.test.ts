// Findings for PodCertificateRequests (issue 20): a real key (node:crypto) and its proof over the pod UID, then
// each identity, key, annotation and lifetime case, one change at a time from a request that passes.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { type PodCertificateKey, podCertificateKey } from '../../../src/services/pki/index.js';
import {
  DEFAULT_POLICY,
  type EvaluatePcrInput,
  evaluatePcr,
  type Finding,
  policyFromObject,
  worstLevel,
} from '../../../src/services/policy/index.js';

const POD_UID = 'b0b0b0b0-1111-4222-8333-444455556666';
const pcr = {
  metadata: { name: 'web-0-abc', namespace: 'workloads', uid: 'pcr-uid' },
  spec: {
    signerName: 'example.com/pod-identity',
    podName: 'web-0',
    podUID: POD_UID,
    serviceAccountName: 'web',
    serviceAccountUID: 'sa-uid',
    nodeName: 'node-1',
    nodeUID: 'node-uid',
    maxExpirationSeconds: 86400,
  },
};
const pod = {
  metadata: { uid: POD_UID },
  spec: { nodeName: 'node-1', serviceAccountName: 'web' },
  status: { phase: 'Pending' },
};

let key: PodCertificateKey;
before(async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  key = await podCertificateKey({
    podUID: POD_UID,
    pkixPublicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
    proofOfPossession: sign('sha256', Buffer.from(POD_UID), privateKey).toString('base64'),
  });
});

function run(change: Partial<EvaluatePcrInput> = {}): Finding[] {
  return evaluatePcr({
    pcr,
    key,
    pod,
    node: { metadata: { uid: 'node-uid' } },
    serviceAccount: { metadata: { uid: 'sa-uid' } },
    ...change,
  });
}

const level = (findings: Finding[], code: string) => {
  const f = findings.find((x) => x.code === code);
  assert.ok(f, `no ${code} in ${JSON.stringify(findings)}`);
  return `${f.level}: ${f.message}`;
};

describe('PCR findings', () => {
  test('a request that names its pod, node and service account right, with a proven P-256 key, passes', () => {
    const f = run();
    assert.equal(worstLevel(f), 'ok', JSON.stringify(f));
    assert.deepEqual(
      f.map((x) => x.code),
      ['proof-of-possession', 'key-type', 'pod-identity', 'node-identity', 'service-account-identity', 'duration'],
    );
    assert.match(level(f, 'pod-identity'), /^ok: The pod workloads\/web-0 has that UID, runs on node-1 as web\.$/);
  });

  test('proof of possession and key type', async () => {
    assert.match(
      level(run({ key: { ...key, proofOfPossession: { verified: false, error: 'bad' } } }), 'proof-of-possession'),
      /^fail: The proofOfPossession does not verify \(bad\)/,
    );
    assert.match(
      level(run({ key: { ...key, description: 'RSA 2048', supported: false } }), 'key-type'),
      /^fail: RSA 2048 is not a pod certificate key type \(RSA 3072, RSA 4096, ECDSA P-256/,
    );
    assert.match(
      level(run({ key: { error: 'not DER' } }), 'decode'),
      /^fail: The requested key cannot be read: not DER/,
    );
    assert.match(level(run({ key: { ...key, stubContent: 'subject CN=x' } }), 'stub-content'), /^warn: /);
  });

  test('the pod: missing, replaced (another UID), on another node, as another service account, finished, unreadable', () => {
    assert.match(level(run({ pod: null }), 'pod-identity'), /^fail: The pod workloads\/web-0 does not exist/);
    const other = (p: object) => level(run({ pod: { ...pod, ...p } }), 'pod-identity');
    assert.match(other({ metadata: { uid: 'new' } }), new RegExp(`^fail: .*its UID is new, not ${POD_UID}\\.$`));
    assert.match(
      other({ spec: { nodeName: 'node-2', serviceAccountName: 'web' } }),
      /^fail: .*it runs on node-2, not node-1\.$/,
    );
    assert.match(other({ spec: { nodeName: 'node-1' } }), /^fail: .*it runs as default, not web\.$/);
    assert.match(other({ status: { phase: 'Succeeded' } }), /^warn: .*finished or being deleted/);
    assert.match(
      level(run({ pod: 'forbidden: pods is forbidden' }), 'pod-identity'),
      /^warn: .*could not be checked \(forbidden/,
    );
  });

  test('the node and the service account: missing or another UID', () => {
    assert.match(level(run({ node: null }), 'node-identity'), /^fail: The node node-1 does not exist\.$/);
    assert.match(
      level(run({ serviceAccount: { metadata: { uid: 'other' } } }), 'service-account-identity'),
      /^fail: The service account workloads\/web has UID other, not sa-uid\.$/,
    );
  });

  test('annotations: unknown keys fail by default; the policy names the known ones and the level', () => {
    const annotated = { ...pcr, spec: { ...pcr.spec, unverifiedUserAnnotations: { 'example.com/tenant': 'blue' } } };
    assert.match(
      level(run({ pcr: annotated }), 'annotations'),
      /^fail: unverifiedUserAnnotations has keys the signer does not know: example\.com\/tenant/,
    );
    const knows = policyFromObject({ podCertificates: { knownAnnotations: ['example.com/tenant'] } });
    assert.match(level(run({ pcr: annotated, policy: knows }), 'annotations'), /^ok: /);
    const lenient = policyFromObject({ podCertificates: { unknownAnnotation: 'warn' } });
    assert.match(level(run({ pcr: annotated, policy: lenient }), 'annotations'), /^warn: /);
  });

  test('lifetime against the policy and the signer', () => {
    const asking = (seconds: number, signerName = pcr.spec.signerName) =>
      level(run({ pcr: { ...pcr, spec: { ...pcr.spec, maxExpirationSeconds: seconds, signerName } } }), 'duration');
    assert.match(asking(3600), /^ok: Up to 60m, within the policy's 24h\.$/);
    assert.match(asking(7 * 86400), /^warn: The pod accepts up to 7d; the policy issues 24h at most\.$/);
    assert.match(asking(92 * 86400), /^fail: maxExpirationSeconds 92d is over the signer's ceiling of 91d\.$/);
    assert.match(asking(2 * 86400, 'kubernetes.io/kube-apiserver-client-pod'), /^fail: .*ceiling of 24h\.$/);
    assert.equal(DEFAULT_POLICY.podCertificates.maxDurationSeconds, 86400);
    assert.throws(() => policyFromObject({ podCertificates: { maxDurationSeconds: 60 } }), /at least 3600/);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { APPROVE_REASON, DENY_REASON, type DecideSettings, decide } from '../../../src/services/controller/decide.js';
import { DEFAULT_POLICY, type PodLike } from '../../../src/services/policy/index.js';
import { buildHostileRequests, type HostileRequest } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { hostileCsr, hostileFacts, hostilePods } from '../../helpers/hostile-world.js';

const SIGNER = 'example.com/calico';
const USAGES = ['server auth', 'client auth', 'digital signature', 'key agreement'];

function ecCsrBase64(cn: string, dns: string): string {
  const pem = execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=DNS:${dns}`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return pem.toString('base64');
}

const pod: PodLike = {
  metadata: { name: 'calico-node-abcde', namespace: 'calico-system', uid: 'u-1' },
  spec: { serviceAccountName: 'calico-node' },
};

let request = '';
let hostile: HostileRequest[] = [];

function calicoCsr(status: V1CertificateSigningRequest['status'] = {}): V1CertificateSigningRequest {
  return {
    metadata: { name: 'calico-system:calico-node-abcde:u1xyz0', uid: 'csr-1' },
    spec: {
      request,
      signerName: SIGNER,
      usages: USAGES,
      username: 'system:serviceaccount:calico-system:calico-node',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:calico-system', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['calico-node-abcde'],
        'authentication.kubernetes.io/pod-uid': ['u-1'],
      },
    },
    status,
  };
}

const settings: DecideSettings = { signers: new Set([SIGNER]), approve: true, sign: true, policy: DEFAULT_POLICY };

before(async () => {
  request = ecCsrBase64('typha-client', 'typha-client');
  hostile = await buildHostileRequests(SIGNER);
});

describe('controller decisions', () => {
  it('approves a clean calico request whose pod exists, naming the policy', async () => {
    const d = await decide(calicoCsr(), settings, { pods: [pod] });
    assert.equal(d.kind, 'approve', JSON.stringify(d));
    if (d.kind !== 'approve') return;
    assert.equal(d.reason, APPROVE_REASON);
    assert.match(d.message, /policy "certdesk-default"/);
  });

  it('ignores CSRs of other signers, whatever their state', async () => {
    const csr = calicoCsr();
    csr.spec.signerName = 'kubernetes.io/kube-apiserver-client';
    assert.equal((await decide(csr, settings, { pods: [pod] })).kind, 'ignore');
  });

  it('leaves a request with warnings for a person, or follows onWarn', async () => {
    const d = await decide(calicoCsr(), settings, { pods: [] }); // the pod does not exist: a warning by default
    assert.equal(d.kind, 'leave', JSON.stringify(d));
    assert.equal((await decide(calicoCsr(), { ...settings, onWarn: 'deny' }, { pods: [] })).kind, 'deny');
    assert.equal((await decide(calicoCsr(), { ...settings, onWarn: 'approve' }, { pods: [] })).kind, 'approve');
  });

  it('denies every hostile request with the failing findings in a terminal-safe message (warnings: left for a person)', async () => {
    assert.ok(hostile.length > 3);
    const csrs = hostile.map((h) => hostileCsr(h));
    const cluster = hostileFacts(csrs);
    for (const [i, h] of hostile.entries()) {
      const csr = csrs[i]!;
      const all = { ...settings, signers: new Set(hostile.map((x) => x.body.spec.signerName)) };
      const d = await decide(csr, all, { pods: hostilePods, cluster });
      // What is only a warning is left for a person, unless another finding refuses it (a key that is also mallory's).
      const expected = h.caughtAt === 'warn' ? ['leave', 'deny'] : ['deny'];
      assert.ok(expected.includes(d.kind), `${h.name} (${h.description}): ${JSON.stringify(d)}`);
      if (d.kind !== 'deny' && d.kind !== 'leave') continue;
      assert.ok(
        d.findings.some((f) => f.code === h.caughtBy && f.level === (h.caughtAt ?? 'fail')),
        `${h.name} caught by ${h.caughtBy}`,
      );
      if (d.kind !== 'deny') continue;
      assert.equal(d.reason, DENY_REASON);
      assert.doesNotMatch(d.message, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u, h.name);
    }
  });

  it('signs only what is approved, unissued and not failed', async () => {
    const approved = { type: 'Approved', status: 'True' };
    assert.equal((await decide(calicoCsr({ conditions: [approved] }), settings)).kind, 'sign');
    assert.equal((await decide(calicoCsr({ conditions: [approved] }), { ...settings, sign: false })).kind, 'ignore');
    assert.equal((await decide(calicoCsr({ conditions: [approved], certificate: 'Zm9v' }), settings)).kind, 'ignore');
    assert.equal(
      (await decide(calicoCsr({ conditions: [approved, { type: 'Failed', status: 'True' }] }), settings)).kind,
      'ignore',
    );
    assert.equal(
      (await decide(calicoCsr({ conditions: [{ type: 'Denied', status: 'True' }] }), settings)).kind,
      'ignore',
    );
  });

  it('does not approve without --approve', async () => {
    assert.equal((await decide(calicoCsr(), { ...settings, approve: false }, { pods: [pod] })).kind, 'ignore');
  });

  it('denies a request that cannot be decoded', async () => {
    const csr = calicoCsr();
    csr.spec.request = Buffer.from('not a csr').toString('base64');
    const d = await decide(csr, settings, { pods: [pod] });
    assert.equal(d.kind, 'deny');
  });
});

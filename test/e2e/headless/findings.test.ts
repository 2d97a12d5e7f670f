// The findings that need the cluster (issue 22) with the built binary against the sandbox's hostile scenario: each
// caught through `describe csr NAME -o json`, and passed by a request that should pass (some of the scenario's own,
// two more sent here from the pod hostile/web-0); `policy test` against the live requests and an audit log.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { buildHostileRequests, makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { clientsFor } from '../../../src/services/sandbox/scenarios/kube.js';
import { type E2eEnv, ok, startE2e } from './helpers.js';

const SIGNER = 'example.com/serving';
let e: E2eEnv;

interface Described {
  kind: string;
  metadata: { name: string; uid: string };
  findings: { level: string; code: string; message: string }[];
}

async function described(name: string): Promise<Described> {
  return JSON.parse(ok(await e.run(['describe', 'csr', name, '-o', 'json'])).stdout) as Described;
}

function levelOf(d: Described, code: string): string {
  return d.findings.find((f) => f.code === code)?.level ?? 'absent';
}

async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) if (await check()) return;
  throw new Error('condition not met before the deadline');
}

before(async () => {
  e = await startE2e({ scenarios: ['hostile'], scenarioOptions: { hostile: { signerName: SIGNER } } });
});
after(async () => {
  await e?.stop();
});

test('describe -o json: every hostile request is caught by its finding; requests that should pass, pass', async () => {
  const hostile = await buildHostileRequests(SIGNER);
  await until(async () => {
    const names = ok(await e.run(['get', 'csr', '-o', 'name'])).stdout;
    return hostile.filter((h) => h.name !== 'hostile-kubelet-other-node').every((h) => names.includes(`/${h.name}\n`));
  });
  for (const h of hostile) {
    if (h.name === 'hostile-kubelet-other-node') continue; // NodeRestriction refuses it, as a real server does
    const d = await described(h.name);
    assert.equal(d.kind, 'CertificateSigningRequest');
    assert.equal(levelOf(d, h.caughtBy), h.caughtAt ?? 'fail', `${h.name}: ${JSON.stringify(d.findings, null, 1)}`);
  }
  // The scenario's own requests that pass the other findings.
  const newer = await described('hostile-node-address');
  for (const code of ['superseded', 'reserved-names', 'request-storm', 'key-reuse'])
    assert.equal(levelOf(newer, code), 'ok', `${code}: ${JSON.stringify(newer.findings, null, 1)}`);
  assert.equal(levelOf(await described('hostile-superseded'), 'node-addresses'), 'ok');

  // The pod web-0 asks for its own IP and its own SPIFFE ID: both pass.
  const cluster = e.sandbox.cluster('east').scenarioCluster();
  const pod = await clientsFor(cluster.admin).core.readNamespacedPod({ name: 'web-0', namespace: 'hostile' });
  const web = clientsFor(
    cluster.as({
      user: 'system:serviceaccount:hostile:web',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:hostile'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['web-0'],
        'authentication.kubernetes.io/pod-uid': [pod.metadata?.uid ?? ''],
      },
    }),
  );
  const request = await makeCsr({}, { ips: ['10.244.1.5'], uris: ['spiffe://cluster.local/ns/hostile/sa/web'] });
  const body: V1CertificateSigningRequest = {
    metadata: { name: 'web-0-own' },
    spec: { request, signerName: SIGNER, usages: ['digital signature', 'server auth', 'client auth'] },
  };
  await web.certs.createCertificateSigningRequest({ body });
  const own = await described('web-0-own');
  for (const code of ['pod-ip', 'spiffe-identity', 'requestor-subject', 'superseded'])
    assert.equal(levelOf(own, code), 'ok', `${code}: ${JSON.stringify(own.findings, null, 1)}`);

  const yaml = ok(await e.run(['describe', 'csr', 'hostile-pod-ip', 'hostile-spiffe-identity', '-o', 'yaml'])).stdout;
  assert.match(yaml, /^kind: List$/m);
  assert.match(yaml, /code: pod-ip/);
});

test('policy test: where a policy decides differently from the decisions taken and from the default', async () => {
  // No difference under the default policy itself.
  const same = await e.run(['policy', 'test']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout + same.stderr, /0 would be decided differently/);

  // A stricter policy: warnings about superseded requests and storms become refusals.
  const dir = join(e.dir, 'policies');
  mkdirSync(dir, { recursive: true });
  const strict = join(dir, 'strict.yaml');
  writeFileSync(
    strict,
    'name: strict\nsuperseded: fail\nrequestStorm: {level: fail, maxRequests: 20, windowMinutes: 10}\n',
  );
  const json = JSON.parse(ok(await e.run(['policy', 'test', '--policy', strict, '-o', 'json'])).stdout) as {
    policy: string;
    judged: number;
    differences: { name: string; policy: { verdict: string; fail: string[] }; default: { verdict: string } }[];
  };
  assert.equal(json.policy, 'strict');
  const superseded = json.differences.find((d) => d.name === 'hostile-superseded');
  // hostile-superseded is refused anyway (its key is also mallory's): the same verdict, no row.
  assert.equal(superseded, undefined);
  const storm = json.differences.find((d) => d.name === 'hostile-storm-00');
  assert.equal(storm?.policy.verdict, 'deny');
  assert.ok(storm?.policy.fail.includes('request-storm'));
  assert.equal(storm?.default.verdict, 'leave');

  // A decision in the audit log that the policy would not take: storm-bot's request approved by a person.
  const uid = (await described('hostile-storm-01')).metadata.uid;
  const state = e.env.CERTDESK_STATE_DIR ?? '';
  mkdirSync(state, { recursive: true });
  writeFileSync(
    join(state, 'audit.jsonl'),
    `${JSON.stringify({ time: new Date().toISOString(), localUser: 'jane', context: 'east', csrName: 'hostile-storm-01', csrUid: uid, action: 'approve', outcome: 'ok' })}\n`,
  );
  const withAudit = JSON.parse(ok(await e.run(['policy', 'test', '--policy', strict, '-o', 'json'])).stdout) as {
    differences: { name: string; taken?: string; takenBy?: string; differs: string[] }[];
  };
  const row = withAudit.differences.find((d) => d.name === 'hostile-storm-01');
  assert.equal(row?.taken, 'approve');
  assert.equal(row?.takenBy, 'audit');
  assert.deepEqual(row?.differs, ['taken', 'default']);
  const table = ok(await e.run(['policy', 'test', '--policy', strict]));
  assert.match(table.stdout, /^CONTEXT\s+NAME\s+TAKEN\s+POLICY\s+DEFAULT$/m);
  // (storm-bot's earlier requests are also superseded by its later ones, a second or more after them.)
  assert.match(
    table.stdout,
    /east\s+hostile-storm-01\s+approve \(audit\)\s+deny \([^)]*request-storm\)\s+leave \([^)]*request-storm\?\)/,
  );
});

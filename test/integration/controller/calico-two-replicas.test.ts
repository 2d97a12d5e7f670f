// Issue 7's "done means": two controller replicas against the sandbox's calico-rollout and hostile scenarios.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { approveCsr } from '../../../src/services/kube/index.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import {
  conditionTypes,
  type ControllerEnv,
  NAMESPACE,
  SIGNER,
  startControllerEnv,
  submitCalicoCsr,
  waitFor,
} from './env.js';

const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 };
const LEASE = 'certdesk-controller';
let env: ControllerEnv;
let dir: string;
const replicas: Controller[] = [];
const logs: string[] = [];

function replica(identity: string): Controller {
  const c = createController({
    context: env.controllerContext(),
    signers: [SIGNER],
    policy: DEFAULT_POLICY,
    approve: true,
    sign: true,
    cas: new Map([[SIGNER, { ca: env.ca }]]),
    leaderElection: { namespace: NAMESPACE, name: LEASE, identity, ...timings },
    log: (line) => logs.push(`${identity} ${line}`),
    backoff: { initialMs: 100, maxMs: 2000 },
  });
  replicas.push(c);
  return c;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-controller-'));
  env = await startControllerEnv({
    scenarios: ['calico-rollout', 'hostile'],
    scenarioOptions: { 'calico-rollout': { nodes: 3 } },
  });
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (process.env.CERTDESK_TEST_VERBOSE) console.log(logs.join('\n'));
});

describe('controller: two replicas on the calico rollout', () => {
  it('gets every calico pod Running and TigeraStatus Available; one leader; hostile requests not signed', async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    await Promise.all([a.start(), b.start()]);

    await waitFor('TigeraStatus calico Available', async () => {
      const ts = (await env.custom.getClusterCustomObject({
        group: 'operator.tigera.io',
        version: 'v1',
        plural: 'tigerastatuses',
        name: 'calico',
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return ts.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
    });
    const pods = await env.core.listNamespacedPod({ namespace: 'calico-system' });
    assert.ok(pods.items.length >= 4, `calico pods: ${pods.items.length}`);
    for (const p of pods.items) assert.equal(p.status?.phase, 'Running', `${p.metadata?.name} is ${p.status?.phase}`);

    // Exactly one replica leads, and the Lease names it.
    const leaders = replicas.filter((r) => r.isLeader());
    assert.equal(leaders.length, 1);
    const lease = await env.leases.readNamespacedLease({ namespace: NAMESPACE, name: LEASE });
    assert.equal(lease.spec?.holderIdentity, leaders[0]?.identity);
    assert.equal(lease.spec?.leaseDurationSeconds, 2);

    // Every calico CSR issued once, by the leader; the certificate chains to the CA (checked with openssl).
    const csrs = (await env.certs.listCertificateSigningRequest()).items;
    const calico = csrs.filter((c) => c.metadata?.labels?.['certdesk.dev/scenario'] === 'calico-rollout');
    assert.ok(calico.length >= 4);
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, env.caCertPem);
    for (const csr of calico) {
      assert.ok(csr.status?.certificate, `${csr.metadata?.name} has a certificate`);
      const approved = csr.status?.conditions?.find((c) => c.type === 'Approved');
      assert.equal(approved?.reason, 'CertdeskPolicyApproved');
      assert.match(approved?.message ?? '', /certdesk-default/);
      const certFile = join(dir, 'cert.pem');
      writeFileSync(certFile, Buffer.from(csr.status?.certificate ?? '', 'base64'));
      const verified = execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8' });
      assert.match(verified, /: OK/);
    }
    const issuedBy = replicas.flatMap((r) => r.issuedNames());
    assert.equal(new Set(issuedBy).size, issuedBy.length, 'no CSR issued twice');
    assert.equal(leaders[0]?.stats().issued, calico.length);

    // The hostile requests: denied (ours) or left alone (other signers), never signed.
    const hostile = csrs.filter((c) => c.metadata?.labels?.['certdesk.dev/scenario'] === 'hostile');
    assert.ok(hostile.length >= 5);
    for (const csr of hostile) {
      assert.equal(csr.status?.certificate ?? '', '', `${csr.metadata?.name} was signed`);
      if (csr.spec.signerName === SIGNER) {
        const denied = await waitFor(`${csr.metadata?.name} denied`, async () => {
          const cur = await env.certs.readCertificateSigningRequest({ name: csr.metadata?.name ?? '' });
          return conditionTypes(cur).includes('Denied') ? cur : undefined;
        });
        const cond = denied.status?.conditions?.find((c) => c.type === 'Denied');
        assert.equal(cond?.reason, 'CertdeskPolicyDenied');
        assert.doesNotMatch(cond?.message ?? '', /[\u0000-\u001f\u007f-\u009f]/);
      } else {
        assert.deepEqual(conditionTypes(csr), [], `${csr.metadata?.name} (${csr.spec.signerName}) was touched`);
      }
    }

    // deploy/rbac.yaml holds: the controller's service account may not approve for another signer.
    const other = hostile.find((c) => c.spec.signerName !== SIGNER);
    assert.ok(other);
    const attempt = await approveCsr(env.controllerContext(), other.metadata?.name ?? '', {
      reason: 'Test',
      message: 'test',
    });
    assert.equal(attempt.ok, false);
    if (!attempt.ok) assert.equal(attempt.error.kind, 'forbidden', attempt.error.message);
  });

  it('hands over within the lease duration when the leader stops renewing, and issues no CSR twice', async () => {
    const leader = replicas.find((r) => r.isLeader());
    const follower = replicas.find((r) => !r.isLeader());
    assert.ok(leader && follower);
    const pods = (await env.core.listNamespacedPod({ namespace: 'calico-system' })).items.map((p) => ({
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      serviceAccount: p.spec?.serviceAccountName ?? '',
    }));
    const stoppedAt = Date.now();
    await leader.stop({ releaseLease: false }); // as if it crashed: the lease must expire first
    const lastRenew = Date.parse(
      String((await env.leases.readNamespacedLease({ namespace: NAMESPACE, name: LEASE })).spec?.renewTime),
    );
    const names = await Promise.all(pods.map((p, i) => submitCalicoCsr(env, p, `h${i}aaaa`.slice(0, 6))));
    await waitFor('the follower to lead', () => follower.isLeader(), timings.leaseDurationMs * 2, 20);
    const handover = Date.now() - stoppedAt;
    logs.push(`handover after ${handover} ms (lease duration ${timings.leaseDurationMs} ms)`);
    for (const name of names) {
      await waitFor(
        `${name} issued`,
        async () => (await env.certs.readCertificateSigningRequest({ name })).status?.certificate,
      );
    }
    const lease = await env.leases.readNamespacedLease({ namespace: NAMESPACE, name: LEASE });
    assert.equal(lease.spec?.holderIdentity, follower.identity);
    assert.ok((lease.spec?.leaseTransitions ?? 0) >= 1);
    // Safety: the follower waited for the lease to expire after the old leader's last renewal (no split brain).
    const acquired = Date.parse(String(lease.spec?.acquireTime));
    assert.ok(
      acquired - lastRenew >= timings.leaseDurationMs - 50,
      `took over ${acquired - lastRenew} ms after the last renewal`,
    );
    const issuedBy = replicas.flatMap((r) => r.issuedNames());
    assert.equal(new Set(issuedBy).size, issuedBy.length, 'no CSR issued twice');
    for (const name of names) assert.ok(follower.issuedNames().includes(name), `${name} issued by the new leader`);
    assert.equal(leader.metrics.leader.get(), 0);
    assert.equal(follower.metrics.leader.get(), 1);
  });

  it('releases the lease on a graceful stop, so a standby takes over at once', async () => {
    const leader = replicas.find((r) => r.isLeader());
    assert.ok(leader);
    const standby = replica('replica-c');
    await standby.start();
    const stoppedAt = Date.now();
    await leader.stop();
    const released = await env.leases.readNamespacedLease({ namespace: NAMESPACE, name: LEASE });
    assert.notEqual(released.spec?.holderIdentity, leader.identity);
    await waitFor('the standby to lead', () => standby.isLeader(), timings.leaseDurationMs, 20);
    logs.push(`graceful handover after ${Date.now() - stoppedAt} ms`);
  });
});

// The controller against the sandbox: --dry-run writes nothing, an API server restart (with expired watch
// history) is survived, metrics are served, and a request the signer's profile refuses is marked Failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { startMetricsServer } from '../../../src/services/controller/metrics.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import { DEFAULT_PROFILE } from '../../../src/services/pki/index.js';
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
let env: ControllerEnv;
const running: Controller[] = [];
const logs: string[] = [];

function controller(name: string, extra: Partial<Parameters<typeof createController>[0]> = {}): Controller {
  const c = createController({
    context: env.controllerContext(),
    signers: [SIGNER],
    policy: DEFAULT_POLICY,
    approve: true,
    sign: true,
    cas: new Map([[SIGNER, { ca: env.ca }]]),
    leaderElection: { namespace: NAMESPACE, name: 'certdesk-controller', identity: name, ...timings },
    log: (line) => logs.push(`${name} ${line}`),
    backoff: { initialMs: 100, maxMs: 1000 },
    ...extra,
  });
  running.push(c);
  return c;
}

async function calicoPods() {
  return (await env.core.listNamespacedPod({ namespace: 'calico-system' })).items.map((p) => ({
    name: p.metadata?.name ?? '',
    uid: p.metadata?.uid ?? '',
    serviceAccount: p.spec?.serviceAccountName ?? '',
  }));
}

before(async () => {
  env = await startControllerEnv({
    scenarios: ['calico-rollout'],
    scenarioOptions: { 'calico-rollout': { nodes: 1 } },
  });
});

after(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await env?.stop();
  if (process.env.CERTDESK_TEST_VERBOSE) console.log(logs.join('\n'));
});

describe('controller resilience', () => {
  it('--dry-run logs its decisions and writes nothing, not even a Lease', async () => {
    const dry = controller('dry', { dryRun: true });
    await dry.start();
    await waitFor('a would-approve line', () => logs.some((l) => l.startsWith('dry ') && l.includes('would-approve')));
    await dry.stop();
    const csrs = (await env.certs.listCertificateSigningRequest()).items;
    assert.ok(csrs.length >= 2);
    for (const csr of csrs) assert.deepEqual(conditionTypes(csr), [], `${csr.metadata?.name} was touched`);
    await assert.rejects(
      env.leases.readNamespacedLease({ namespace: NAMESPACE, name: 'certdesk-controller' }),
      (err: unknown) => err instanceof ApiException && err.code === 404,
    );
  });

  it('serves metrics, and survives an API server restart with expired watch history', async () => {
    const c = controller('live');
    await c.start();
    const server = await startMetricsServer(c.metrics, 0, () => c.health(), '127.0.0.1');
    try {
      await waitFor('every calico CSR issued', async () => {
        const items = (await env.certs.listCertificateSigningRequest()).items;
        return items.length > 0 && items.every((x) => x.status?.certificate);
      });
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /^certdesk_controller_approved_total\{signer="example.com\/calico"\} [1-9]/m);
      assert.match(text, /^certdesk_controller_issued_total\{signer="example.com\/calico"\} [1-9]/m);
      assert.match(text, /^certdesk_controller_leader 1$/m);
      assert.match(text, /^certdesk_controller_sign_latency_seconds_count\{signer="example.com\/calico"\} [1-9]/m);
      await waitFor('pending gauge at 0', async () =>
        /^certdesk_controller_pending\{signer="example.com\/calico"\} 0$/m.test(
          await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text(),
        ),
      );
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);

      const cluster = env.sandbox.clusters[0];
      assert.ok(cluster);
      await cluster.pause();
      await waitFor('the controller to stop leading', () => !c.isLeader(), 5000, 20);
      cluster.expireWatchHistory();
      await cluster.resume();
      const [pod] = await calicoPods();
      assert.ok(pod);
      const name = await submitCalicoCsr(env, pod, 'rst001');
      await waitFor(
        `${name} issued after the restart`,
        async () => (await env.certs.readCertificateSigningRequest({ name })).status?.certificate,
      );
      assert.equal(c.isLeader(), true);
    } finally {
      await server.close();
      await c.stop();
    }
  });

  it('marks Failed (SignerValidationFailure) what the signer’s profile refuses, after approving it', async () => {
    const strict = {
      ...DEFAULT_PROFILE,
      name: 'no-key-agreement',
      allowedUsages: ['server auth', 'client auth', 'digital signature'],
    };
    const c = controller('strict', { cas: new Map([[SIGNER, { ca: env.ca, profile: strict }]]) });
    await c.start();
    const [pod] = await calicoPods();
    assert.ok(pod);
    const name = await submitCalicoCsr(env, pod, 'fail01');
    const failed = await waitFor(`${name} Failed`, async () => {
      const csr = await env.certs.readCertificateSigningRequest({ name });
      return conditionTypes(csr).includes('Failed') ? csr : undefined;
    });
    assert.deepEqual(conditionTypes(failed).sort(), ['Approved', 'Failed']);
    const cond = failed.status?.conditions?.find((x) => x.type === 'Failed');
    assert.equal(cond?.reason, 'SignerValidationFailure');
    assert.match(cond?.message ?? '', /key agreement/);
    assert.equal(failed.status?.certificate ?? '', '');
    assert.ok(c.stats().failed >= 1);
    await c.stop();
  });

  it('with --sign only: never signs an unapproved CSR, and signs it once a person approves', async () => {
    const c = controller('signer-only', { approve: false });
    await c.start();
    const [pod] = await calicoPods();
    assert.ok(pod);
    const name = await submitCalicoCsr(env, pod, 'sgn001');
    await waitFor('the controller to see the CSR', () => c.metrics.pending.get({ signer: SIGNER }) > 0);
    await c.whenIdle();
    const pending = await env.certs.readCertificateSigningRequest({ name });
    assert.deepEqual(conditionTypes(pending), []);
    assert.equal(pending.status?.certificate ?? '', '');
    // A person approves, as `kubectl certificate approve` does.
    pending.status = {
      ...pending.status,
      conditions: [
        {
          type: 'Approved',
          status: 'True',
          reason: 'KubectlApprove',
          message: 'This CSR was approved by kubectl certificate approve.',
        },
      ],
    };
    await env.certs.replaceCertificateSigningRequestApproval({ name, body: pending });
    await waitFor(
      `${name} issued`,
      async () => (await env.certs.readCertificateSigningRequest({ name })).status?.certificate,
    );
    assert.ok(c.issuedNames().includes(name));
    assert.equal(c.stats().approved, 0);
  });
});

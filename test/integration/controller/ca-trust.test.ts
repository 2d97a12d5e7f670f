// The controller and a CA the cluster does not trust (ca-untrusted): Calico's Installation trusts another CA than
// the controller's, so its requests are neither approved (they would stay approved and unsigned) nor denied (the
// requests are fine; the CA is not): the controller logs why once and retries. Once the Installation trusts its CA,
// as seed 000 has the admin do, the next retry approves and signs them. Run as deploy/rbac.yaml's service account,
// which may read the Installation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { createCa } from '../../../src/services/pki/index.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import { trustInInstallation } from '../../helpers/sandbox.js';
import { type ControllerEnv, conditionTypes, SIGNER, startControllerEnv, waitFor } from './env.js';

let env: ControllerEnv;
let controller: Controller | undefined;
const logs: string[] = [];

before(async () => {
  const other = await createCa({ cn: 'certdesk test calico CA' });
  env = await startControllerEnv({
    scenarios: ['calico-rollout'],
    scenarioOptions: { 'calico-rollout': { caCertPem: other.certPem } },
  });
});
after(async () => {
  await controller?.stop();
  await env?.stop();
});

describe('controller: a CA the cluster does not trust', () => {
  it('approves and signs nothing, denies nothing, says why; signs once the Installation trusts its CA', async () => {
    const calico = async () =>
      (await env.certs.listCertificateSigningRequest()).items.filter((c) =>
        c.metadata?.name?.startsWith('calico-system:'),
      );
    await waitFor('the calico requests', async () => (await calico()).length >= 4);
    controller = createController({
      context: env.controllerContext(),
      signers: [SIGNER],
      policy: DEFAULT_POLICY,
      approve: true,
      sign: true,
      cas: new Map([[SIGNER, { ca: env.ca }]]),
      leaderElection: false,
      log: (line) => logs.push(line),
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    await controller.start();

    await waitFor('the reason logged for every calico request', async () => {
      const names = (await calico()).map((c) => c.metadata?.name ?? '');
      return names.every((n) =>
        logs.some((l) => l.includes('sign-error') && l.includes(n) && /ca-untrusted|not one/.test(l)),
      );
    });
    for (const csr of await calico()) assert.deepEqual(conditionTypes(csr), [], csr.metadata?.name);
    const line = logs.find((l) => l.includes('sign-error')) ?? '';
    assert.match(line, /the caCert of Installation default trusts CN=certdesk test calico CA/);
    // Logged once per request, not once per retry.
    const first = (await calico())[0]?.metadata?.name ?? '';
    assert.equal(logs.filter((l) => l.includes('sign-error') && l.includes(first)).length, 1);

    await trustInInstallation(env.sandbox.cluster(env.sandbox.clusters[0]!.name), env.caCertPem);
    await waitFor(
      'every calico request approved and issued',
      async () => (await calico()).every((c) => conditionTypes(c).includes('Approved') && !!c.status?.certificate),
      30_000,
    );
    assert.ok(!logs.some((l) => / denied /.test(l)), logs.join('\n'));
  });
});

// `certdesk scenario run` with the built binary against a sandbox started without scenarios: the scenarios act
// only through the API (CRDs installed, identities impersonated), Ctrl-C removes what they created and nothing
// else, and a context certdesk did not create is refused without --yes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiextensionsV1Api, CertificatesV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { waitFor } from '../../helpers/sandbox.js';
import { startScenarioRun } from '../../helpers/scenario-run.js';
import { type E2eEnv, oneLineError, startE2e } from './helpers.js';

let e: E2eEnv;
let admin: KubeConfig;

before(async () => {
  e = await startE2e({ clusters: ['east'] });
  admin = e.sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']);
});
after(async () => {
  await e?.stop();
});

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('runs calico-rollout and onboarding through the API, then Ctrl-C removes only what they created', async () => {
  const core = admin.makeApiClient(CoreV1Api);
  const certs = admin.makeApiClient(CertificatesV1Api);
  // There before the run, without the label: must survive the clean-up.
  await core.createNamespace({ body: { metadata: { name: 'calico-system' } } });

  const run = await startScenarioRun(
    ['calico-rollout', 'onboarding', '--context', 'east', '--set', 'calico-rollout.nodes=2'],
    e.env,
  );
  const csrs = await until('3 calico CSRs and jane', async () => {
    const items = (await certs.listCertificateSigningRequest()).items;
    return items.length >= 4 ? items : undefined;
  });
  const calico = csrs.find((c) => c.metadata?.name?.startsWith('calico-system:calico-node-'));
  assert.equal(calico?.spec.username, 'system:serviceaccount:calico-system:calico-node');
  assert.ok(calico?.spec.groups?.includes('system:serviceaccounts:calico-system'));
  assert.match(calico?.spec.extra?.['authentication.kubernetes.io/pod-name']?.[0] ?? '', /^calico-node-/);
  assert.equal(csrs.find((c) => c.metadata?.name === 'jane')?.spec.username, 'jane');
  const pods = (await core.listNamespacedPod({ namespace: 'calico-system' })).items;
  assert.equal(pods.length, 3);
  assert.ok(pods.every((p) => p.status?.initContainerStatuses?.[0]?.state?.running));
  // The CRD was created through the API and made the group served.
  const ext = admin.makeApiClient(ApiextensionsV1Api);
  const crds = await ext.listCustomResourceDefinition();
  assert.deepEqual(crds.items.map((c) => c.metadata?.name).sort(), [
    'installations.operator.tigera.io',
    'tigerastatuses.operator.tigera.io',
  ]);

  assert.equal(await run.interrupt(), 0);
  assert.match(run.output(), /removed .*CertificateSigningRequest.*Namespace/);
  assert.equal((await certs.listCertificateSigningRequest()).items.length, 0);
  assert.equal((await core.listNamespacedPod({ namespace: 'calico-system' })).items.length, 0);
  const namespaces = (await core.listNamespace()).items.map((n) => n.metadata?.name);
  assert.ok(namespaces.includes('calico-system'), 'the namespace that was there before is kept');
  assert.ok(!namespaces.includes('tigera-operator'), 'the namespace the scenario created is removed');
  assert.equal((await ext.listCustomResourceDefinition()).items.length, 0);
});

test('scale through the API: CSRs by their kubelets, approvals by the admin, pod status by the nodes', async () => {
  const certs = admin.makeApiClient(CertificatesV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  const run = await startScenarioRun(
    ['scale', '--context', 'east', '--set', 'scale.csrs=40', '--set', 'scale.pods=20'],
    e.env,
  );
  const csrs = (await certs.listCertificateSigningRequest()).items;
  assert.equal(csrs.length, 40);
  assert.equal(csrs.find((c) => c.metadata?.name === 'scale-csr-000001')?.spec.username, 'system:node:scale-node-1');
  const states = csrs.map((c) => c.status?.conditions?.[0]?.type ?? 'Pending');
  assert.equal(states.filter((s) => s === 'Denied').length, 8);
  assert.ok(states.filter((s) => s === 'Approved').length >= 16);
  const pods = (await core.listPodForAllNamespaces({ labelSelector: 'certdesk.dev/scenario=scale' })).items;
  assert.equal(pods.length, 20);
  assert.equal(pods.filter((p) => p.status?.phase === 'Running').length, 15);
  assert.equal(await run.interrupt(), 0);
  assert.equal((await certs.listCertificateSigningRequest()).items.length, 0);
});

test('a scenario that only submits (hostile) keeps running until Ctrl-C, then removes its CSRs', async () => {
  const certs = admin.makeApiClient(CertificatesV1Api);
  const run = await startScenarioRun(['hostile', '--context', 'east'], e.env);
  // Its requests go out over a few seconds (one is sent early so that a later one supersedes it).
  await waitFor(
    async () => (await certs.listCertificateSigningRequest()).items.length >= 8,
    'the hostile requests',
    30_000,
    100,
  );
  assert.equal(run.child.exitCode, null, `exited early: ${run.output()}`);
  assert.equal(await run.interrupt(), 0);
  assert.equal((await certs.listCertificateSigningRequest()).items.length, 0);
});

test('refuses a context certdesk did not create unless --yes, in one line', async () => {
  const doc = parse(readFileSync(e.sandbox.kubeconfigPath, 'utf8'));
  for (const c of doc.clusters) delete c.cluster.extensions;
  const foreign = join(e.dir, 'foreign.kubeconfig');
  writeFileSync(foreign, stringify(doc), { mode: 0o600 });
  const line = oneLineError(await e.run(['scenario', 'run', 'hostile', '--kubeconfig', foreign]));
  assert.match(line, /context "east" is not a cluster certdesk created .*pass --yes/);
  assert.match(oneLineError(await e.run(['scenario', 'run', 'nope', '--context', 'east'])), /unknown scenario "nope"/);
  assert.match(
    oneLineError(await e.run(['scenario', 'run', 'hostile', '--set', 'calico-rollout.nodes=2'])),
    /calico-rollout is not run/,
  );
});

// RBAC as the sandbox's authorization, over HTTPS with client-node: rights granted and taken away through the RBAC
// API without a restart, signer-scoped approve/sign with the <domain>/* fallback, namespaced RoleBindings,
// SelfSubjectAccessReview, and the `users` option.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AuthorizationV1Api,
  CertificatesV1Api,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { certificatePem, csrBody, errorBody, statusOf, waitFor } from './rbac-patch-helpers.js';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const approvedCondition = { status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test' }] } };

describe('sandbox RBAC', () => {
  let sandbox: Sandbox;
  let adminCerts: CertificatesV1Api;
  let adminRbac: RbacAuthorizationV1Api;
  let adminCore: CoreV1Api;
  let n = 0;
  const clients = (user: string, groups: string[] = []) => {
    const kc = sandbox.clusters[0]?.kubeConfigFor(user, groups);
    assert.ok(kc);
    return {
      certs: kc.makeApiClient(CertificatesV1Api),
      core: kc.makeApiClient(CoreV1Api),
      authz: kc.makeApiClient(AuthorizationV1Api),
    };
  };
  const newCsr = async (signer: string) => {
    n += 1;
    const created = await adminCerts.createCertificateSigningRequest({ body: await csrBody(`rbac-${n}`, signer) });
    return created.metadata?.name ?? '';
  };

  before(async () => {
    sandbox = await startSandbox({
      builtinSigners: false,
      users: [
        {
          name: 'signer-bot',
          rules: [
            { verbs: ['sign'], resources: ['signers'], resourceNames: ['example.com/serving'] },
            { verbs: ['update', 'patch'], resources: ['certificatesigningrequests/status'] },
          ],
        },
        { name: 'carol', role: 'viewer' },
      ],
    });
    const kc = sandbox.clusters[0]?.kubeConfigFor('admin', ['system:masters']);
    assert.ok(kc);
    adminCerts = kc.makeApiClient(CertificatesV1Api);
    adminRbac = kc.makeApiClient(RbacAuthorizationV1Api);
    adminCore = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('refuses a user without rights, grants after ClusterRole + binding, takes it back on delete — no restart', async () => {
    const bob = clients('bob');
    const refused = await errorBody(bob.certs.listCertificateSigningRequest());
    assert.equal(refused.code, 403);
    assert.equal(
      refused.message,
      'certificatesigningrequests.certificates.k8s.io is forbidden: User "bob" cannot list resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope',
    );

    await adminRbac.createClusterRole({
      body: {
        metadata: { name: 'csr-reader' },
        rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['list'] }],
      },
    });
    assert.equal(await statusOf(bob.certs.listCertificateSigningRequest()), 403, 'a role alone grants nothing');
    await adminRbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'bob-reads-csrs' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
      },
    });
    await waitFor('bob may list CSRs', async () => (await bob.certs.listCertificateSigningRequest()).items);
    // The rule grants list, nothing else.
    assert.equal(await statusOf(bob.certs.readCertificateSigningRequest({ name: 'anything' })), 403);

    await adminRbac.deleteClusterRoleBinding({ name: 'bob-reads-csrs' });
    await waitFor(
      'bob is refused again',
      async () => (await statusOf(bob.certs.listCertificateSigningRequest())) === 403,
    );
    await adminRbac.deleteClusterRole({ name: 'csr-reader' });
  });

  it('approve on example.com/serving does not allow example.com/other; example.com/* allows both', async () => {
    await adminRbac.createClusterRole({
      body: {
        metadata: { name: 'csr-approver' },
        rules: [
          { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] },
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests/approval'],
            verbs: ['update', 'patch'],
          },
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['signers'],
            resourceNames: ['example.com/serving'],
            verbs: ['approve'],
          },
        ],
      },
    });
    await adminRbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'dave-approves' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-approver' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' }],
      },
    });
    const dave = clients('dave');
    const serving = await newCsr('example.com/serving');
    const other = await newCsr('example.com/other');
    const ok = await dave.certs.patchCertificateSigningRequestApproval(
      { name: serving, body: approvedCondition },
      merge,
    );
    assert.equal(ok.status?.conditions?.[0]?.type, 'Approved');
    const refused = await errorBody(
      dave.certs.patchCertificateSigningRequestApproval({ name: other, body: approvedCondition }, merge),
    );
    assert.equal(refused.code, 403);
    assert.equal(
      refused.message,
      `certificatesigningrequests.certificates.k8s.io "${other}" is forbidden: user not permitted to approve requests with signerName "example.com/other"`,
    );

    // Widen the rule to the whole domain through a patch of the ClusterRole.
    await adminRbac.patchClusterRole(
      {
        name: 'csr-approver',
        body: [{ op: 'replace', path: '/rules/2/resourceNames', value: ['example.com/*'] }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const widened = await dave.certs.patchCertificateSigningRequestApproval(
      { name: other, body: approvedCondition },
      merge,
    );
    assert.equal(widened.status?.conditions?.[0]?.type, 'Approved');
    const serving2 = await newCsr('example.com/serving');
    await dave.certs.patchCertificateSigningRequestApproval({ name: serving2, body: approvedCondition }, merge);
    const foreign = await newCsr('example.org/serving');
    assert.equal(
      await statusOf(
        dave.certs.patchCertificateSigningRequestApproval({ name: foreign, body: approvedCondition }, merge),
      ),
      403,
    );

    // Without update on certificatesigningrequests/approval, the signer right alone does not let dave in.
    await adminRbac.deleteClusterRoleBinding({ name: 'dave-approves' });
    const noUpdate = await errorBody(
      dave.certs.patchCertificateSigningRequestApproval({ name: foreign, body: approvedCondition }, merge),
    );
    assert.equal(
      noUpdate.message,
      `certificatesigningrequests.certificates.k8s.io "${foreign}" is forbidden: User "dave" cannot patch resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope`,
    );
    await adminRbac.deleteClusterRole({ name: 'csr-approver' });
  });

  it('grants sign through the users option, for the named signer only', async () => {
    const bot = clients('signer-bot');
    const serving = await newCsr('example.com/serving');
    const other = await newCsr('example.com/other');
    const certificate = Buffer.from(await certificatePem('x')).toString('base64');
    const issued = await bot.certs.patchCertificateSigningRequestStatus(
      { name: serving, body: { status: { certificate } } },
      merge,
    );
    assert.ok(issued.status?.certificate);
    const refused = await errorBody(
      bot.certs.patchCertificateSigningRequestStatus({ name: other, body: { status: { certificate } } }, merge),
    );
    assert.equal(refused.code, 403);
    assert.match(refused.message ?? '', /user not permitted to sign requests with signerName "example.com\/other"/);
    // carol (role viewer through the users option) reads CSRs but cannot change them, nor read secrets.
    const carol = clients('carol');
    assert.ok((await carol.certs.listCertificateSigningRequest()).items.length > 0);
    assert.equal(
      await statusOf(carol.certs.patchCertificateSigningRequest({ name: serving, body: { metadata: {} } }, merge)),
      403,
    );
    assert.equal(await statusOf(carol.core.listNamespacedSecret({ namespace: 'default' })), 403);
  });

  it('scopes a RoleBinding to its namespace, for a User and a ServiceAccount subject', async () => {
    await adminCore.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await adminRbac.createNamespacedRole({
      namespace: 'team-a',
      body: {
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await adminRbac.createNamespacedRoleBinding({
      namespace: 'team-a',
      body: {
        metadata: { name: 'cm-readers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'erin' },
          { kind: 'ServiceAccount', name: 'reader' },
        ],
      },
    });
    const erin = clients('erin');
    const sa = clients('system:serviceaccount:team-a:reader', ['system:serviceaccounts']);
    for (const who of [erin, sa]) {
      await who.core.listNamespacedConfigMap({ namespace: 'team-a' });
      assert.equal(await statusOf(who.core.listNamespacedConfigMap({ namespace: 'default' })), 403);
      assert.equal(await statusOf(who.core.listConfigMapForAllNamespaces()), 403);
    }
    const other = clients('system:serviceaccount:team-b:reader');
    const refused = await errorBody(other.core.listNamespacedConfigMap({ namespace: 'team-a' }));
    assert.equal(
      refused.message,
      'configmaps is forbidden: User "system:serviceaccount:team-b:reader" cannot list resource "configmaps" in API group "" in the namespace "team-a"',
    );
  });

  it('applies resourceNames rules to a list or watch limited by metadata.name', async () => {
    const mine = await newCsr('example.com/serving');
    const other = await newCsr('example.com/serving');
    await adminRbac.createClusterRole({
      body: {
        metadata: { name: 'one-csr' },
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests'],
            resourceNames: [mine],
            verbs: ['get', 'list', 'watch'],
          },
        ],
      },
    });
    await adminRbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'gina-one-csr' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'one-csr' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'gina' }],
      },
    });
    const gina = clients('gina');
    const listed = await gina.certs.listCertificateSigningRequest({ fieldSelector: `metadata.name=${mine}` });
    assert.deepEqual(
      listed.items.map((c) => c.metadata?.name),
      [mine],
    );
    await gina.certs.readCertificateSigningRequest({ name: mine });
    assert.equal(
      await statusOf(gina.certs.listCertificateSigningRequest({ fieldSelector: `metadata.name=${other}` })),
      403,
    );
    assert.equal(await statusOf(gina.certs.listCertificateSigningRequest()), 403);
    assert.equal(await statusOf(gina.certs.readCertificateSigningRequest({ name: other })), 403);
  });

  it('serves watch on RBAC objects: ADDED, MODIFIED and DELETED bindings', async () => {
    const kc = sandbox.clusters[0]?.kubeConfigFor('admin', ['system:masters']);
    assert.ok(kc);
    const events: string[] = [];
    const list = await adminRbac.listClusterRoleBinding();
    const controller = await new Watch(kc).watch(
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      { resourceVersion: list.metadata?.resourceVersion },
      (phase, obj: { metadata?: { name?: string } }) => events.push(`${phase} ${obj.metadata?.name}`),
      () => {},
    );
    try {
      await adminRbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'watched' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'w' }],
        },
      });
      await adminRbac.patchClusterRoleBinding(
        { name: 'watched', body: { metadata: { labels: { watched: 'yes' } } } },
        merge,
      );
      await adminRbac.deleteClusterRoleBinding({ name: 'watched' });
      await waitFor('three watch events', async () => events.length >= 3);
      assert.deepEqual(events, ['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
    } finally {
      controller.abort();
    }
  });

  it('answers SelfSubjectAccessReviews from the same rules, with RBAC reasons', async () => {
    await adminRbac.createClusterRole({
      body: {
        metadata: { name: 'serving-approver' },
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['signers'],
            resourceNames: ['example.com/serving'],
            verbs: ['approve'],
          },
        ],
      },
    });
    await adminRbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'frank-approves' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'serving-approver' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'frank' }],
      },
    });
    const frank = clients('frank');
    const ask = (name: string, verb = 'approve') =>
      frank.authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { group: 'certificates.k8s.io', resource: 'signers', verb, name } } },
      });
    const yes = await ask('example.com/serving');
    assert.equal(yes.status?.allowed, true);
    assert.equal(
      yes.status?.reason,
      'RBAC: allowed by ClusterRoleBinding "frank-approves" of ClusterRole "serving-approver" to User "frank"',
    );
    assert.equal((await ask('example.com/other')).status?.allowed, false);
    assert.equal((await ask('example.com/serving', 'sign')).status?.allowed, false);
    const discovery = await frank.authz.createSelfSubjectAccessReview({
      body: { spec: { nonResourceAttributes: { path: '/apis', verb: 'get' } } },
    });
    assert.equal(discovery.status?.allowed, true);
  });
});

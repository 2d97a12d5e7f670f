// Object names per kind, as the real validation has them: RBAC objects and CSRs take any path-segment name
// (`system:node`, `system:certificates.k8s.io:…`), namespaces DNS-1123 labels, other namespaced objects DNS-1123
// subdomains.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, type CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { apiError, clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

describe('object names', () => {
  let sb: Sandbox;
  let rbac: RbacAuthorizationV1Api;
  let core: CoreV1Api;
  let leases: CoordinationV1Api;

  before(async () => {
    sb = await startTestSandbox(undefined);
    const kc = sb.cluster('east').kubeConfigFor('admin', ['system:masters']);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    core = clients(kc).core;
    leases = kc.makeApiClient(CoordinationV1Api);
  });
  after(() => sb.stop());

  it('RBAC names with colons, as the bootstrap roles have them', async () => {
    const role = 'system:certificates.k8s.io:certificatesigningrequests:nodeclient';
    await rbac.createClusterRole({
      body: {
        metadata: { name: role },
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests/nodeclient'],
            verbs: ['create'],
          },
        ],
      },
    });
    assert.equal((await rbac.readClusterRole({ name: role })).metadata?.name, role);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'system:node-bootstrapper:auto-approve' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers' }],
      },
    });
    await rbac.createNamespacedRole({
      namespace: 'default',
      body: { metadata: { name: 'system:leader-locking' }, rules: [] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: 'system:leader-locking:binding' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'system:leader-locking' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }],
      },
    });
    const names = (await rbac.listClusterRoleBinding()).items.map((b) => b.metadata?.name);
    assert.ok(names.includes('system:node-bootstrapper:auto-approve'));
    await rbac.deleteClusterRole({ name: role });
  });

  it('RBAC names that are not path segments are 422 with the path-segment messages', async () => {
    for (const [name, msg] of [
      ['..', "may not be '..'"],
      ['a/b%c', "may not contain '/'"],
    ] as const) {
      const { code, body } = await apiError(rbac.createClusterRole({ body: { metadata: { name }, rules: [] } }));
      assert.equal(code, 422, name);
      assert.match(String(body.message), new RegExp(msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    const both = await apiError(rbac.createClusterRole({ body: { metadata: { name: 'a/b%c' }, rules: [] } }));
    assert.match(String(both.body.message), /may not contain '\/', metadata.name: .*may not contain '%'/);
    const ref = await apiError(
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'bad-ref' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'a/b' },
        },
      }),
    );
    assert.equal(ref.code, 422);
    assert.match(String(ref.body.message), /roleRef\.name: Invalid value: "a\/b": may not contain '\/'/);
    // Subjects: a ServiceAccount name is a DNS-1123 subdomain; User and Group names are anything.
    const sa = await apiError(
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'bad-sa' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'ServiceAccount', name: 'system:x', namespace: 'default' }],
        },
      }),
    );
    assert.equal(sa.code, 422);
    assert.match(
      String(sa.body.message),
      /subjects\[0\]\.name: Invalid value: "system:x": a lowercase RFC 1123 subdomain/,
    );
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'system:odd-subjects' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:node:Node_1' },
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'Team A' },
        ],
      },
    });
  });

  it('CSR names: anything; . .. / % are refused by ObjectMeta validation with 422 (as kube-apiserver 1.37)', async () => {
    const { certs } = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    const { pem } = makeCsrPem({ commonName: 'x' });
    const name = 'calico-system:calico-node-abcde:Ab12Cd';
    await certs.createCertificateSigningRequest({ body: csrObject(name, pem) });
    assert.equal((await certs.readCertificateSigningRequest({ name })).metadata?.name, name);
    // CSR validation accepts any name but what is not a path segment (test/real/differential: 'name with a slash').
    const dot = await apiError(certs.createCertificateSigningRequest({ body: csrObject('.', pem) }));
    assert.equal(dot.code, 422);
    assert.equal(dot.body.reason, 'Invalid');
    assert.equal(
      dot.body.message,
      `CertificateSigningRequest.certificates.k8s.io "." is invalid: metadata.name: Invalid value: ".": may not be '.'`,
    );
    const both = await apiError(certs.createCertificateSigningRequest({ body: csrObject('a/b%c', pem) }));
    assert.equal(both.code, 422);
    assert.match(String(both.body.message), /metadata\.name: Invalid value: "a\/b%c": may not contain '\/'/);
  });

  it('namespaces are DNS-1123 labels; secrets, configmaps, leases, pods DNS-1123 subdomains', async () => {
    const ns = await apiError(core.createNamespace({ body: { metadata: { name: 'a.b' } } }));
    assert.equal(ns.code, 422);
    assert.match(String(ns.body.message), /RFC 1123 label/);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a.b-c' } } });
    for (const make of [
      () => core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'system:x' } } }),
      () => core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'Upper' } } }),
      () => core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'a:b' } } }),
      () => leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'a:b' }, spec: {} } }),
    ]) {
      const { code, body } = await apiError(make());
      assert.equal(code, 422);
      assert.match(String(body.message), /RFC 1123 subdomain/);
    }
  });
});

// RBAC objects as a real API server treats them: v1 defaulting, validation (422), immutable roleRef, and the
// privilege-escalation check (a user grants only what they hold, unless allowed `escalate` / `bind`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { errorBody, statusOf } from './rbac-patch-helpers.js';

const RBAC = 'rbac.authorization.k8s.io';
const servingApprove: V1PolicyRule = {
  apiGroups: ['certificates.k8s.io'],
  resources: ['signers'],
  resourceNames: ['example.com/serving'],
  verbs: ['approve'],
};
const manageRbac = {
  verbs: ['create', 'get', 'list', 'update', 'patch', 'delete'],
  apiGroups: [RBAC],
  resources: ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'],
};

describe('sandbox RBAC objects: validation and escalation', () => {
  let sandbox: Sandbox;
  let admin: RbacAuthorizationV1Api;
  let lead: RbacAuthorizationV1Api;
  let owner: RbacAuthorizationV1Api;
  const rbacAs = (user: string, groups: string[] = []) => {
    const kc = sandbox.clusters[0]?.kubeConfigFor(user, groups);
    assert.ok(kc);
    return kc.makeApiClient(RbacAuthorizationV1Api);
  };

  before(async () => {
    sandbox = await startSandbox({
      builtinSigners: false,
      users: [
        { name: 'lead', rules: [manageRbac, servingApprove] },
        {
          name: 'owner',
          rules: [manageRbac, { verbs: ['escalate', 'bind'], apiGroups: [RBAC], resources: ['clusterroles'] }],
        },
      ],
    });
    admin = rbacAs('admin', ['system:masters']);
    lead = rbacAs('lead');
    owner = rbacAs('owner');
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('lets a user grant what they hold, and refuses more with the escalation message', async () => {
    await lead.createClusterRole({ body: { metadata: { name: 'held' }, rules: [servingApprove] } });
    const more = await errorBody(
      lead.createClusterRole({
        body: {
          metadata: { name: 'wider' },
          rules: [{ ...servingApprove, resourceNames: ['example.com/*'], verbs: ['approve', 'sign'] }],
        },
      }),
    );
    assert.equal(more.code, 403);
    assert.equal(
      more.message,
      'clusterroles.rbac.authorization.k8s.io "wider" is forbidden: user "lead" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["certificates.k8s.io"], Resources:["signers"], ResourceNames:["example.com/*"], Verbs:["approve" "sign"]}',
    );
    await lead.createClusterRoleBinding({
      body: {
        metadata: { name: 'bob-held' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'held' },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: 'bob' }],
      },
    });
    const selfAdmin = await errorBody(
      lead.createClusterRoleBinding({
        body: {
          metadata: { name: 'lead-admin' },
          roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: RBAC, kind: 'User', name: 'lead' }],
        },
      }),
    );
    assert.equal(selfAdmin.code, 403);
    assert.match(
      selfAdmin.message ?? '',
      /^clusterrolebindings\.rbac\.authorization\.k8s\.io "lead-admin" is forbidden: user "lead"/,
    );
    // A binding to a role that does not exist cannot be checked: 404 for the role.
    const ghost = await errorBody(
      lead.createClusterRoleBinding({
        body: {
          metadata: { name: 'ghost' },
          roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'ghost' },
          subjects: [{ apiGroup: RBAC, kind: 'User', name: 'bob' }],
        },
      }),
    );
    assert.equal(ghost.code, 404);
    assert.equal(ghost.message, 'clusterroles.rbac.authorization.k8s.io "ghost" not found');
  });

  it('lets escalate / bind holders and system:masters grant anything', async () => {
    await owner.createClusterRole({
      body: { metadata: { name: 'everything' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
    });
    await owner.createClusterRoleBinding({
      body: {
        metadata: { name: 'carol-everything' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'everything' },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: 'carol' }],
      },
    });
    await admin.createClusterRoleBinding({
      body: {
        metadata: { name: 'to-be' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'not-yet-created' },
        subjects: [{ apiGroup: RBAC, kind: 'Group', name: 'later' }],
      },
    });
  });

  it('defaults subject and roleRef apiGroups, and keeps roleRef immutable', async () => {
    const created = await admin.createClusterRoleBinding({
      body: {
        metadata: { name: 'defaulted' },
        roleRef: { kind: 'ClusterRole', name: 'view' } as { apiGroup: string; kind: string; name: string },
        subjects: [
          { kind: 'User', name: 'u' },
          { kind: 'ServiceAccount', name: 'sa', namespace: 'default' },
        ],
      },
    });
    assert.equal(created.roleRef.apiGroup, RBAC);
    assert.equal(created.subjects?.[0]?.apiGroup, RBAC);
    assert.equal(created.subjects?.[1]?.apiGroup ?? '', '');
    const changed = await errorBody(
      admin.replaceClusterRoleBinding({
        name: 'defaulted',
        body: { ...created, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' } },
      }),
    );
    assert.equal(changed.code, 422);
    assert.match(changed.message ?? '', /roleRef: Invalid value: .*cannot change roleRef/);
  });

  it('validates rules, role references and subjects (422)', async () => {
    const cases: [string, Promise<unknown>, RegExp][] = [
      [
        'rule without verbs',
        admin.createClusterRole({
          body: { metadata: { name: 'v1' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] },
        }),
        /rules\[0\]\.verbs: Required value$/,
      ],
      [
        'resource rule without apiGroups',
        admin.createClusterRole({
          body: { metadata: { name: 'v2' }, rules: [{ resources: ['pods'], verbs: ['get'] }] },
        }),
        /rules\[0\]\.apiGroups: Required value/,
      ],
      [
        'namespaced rule with a URL',
        admin.createNamespacedRole({
          namespace: 'default',
          body: { metadata: { name: 'v3' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] },
        }),
        /namespaced rules cannot apply to non-resource URLs/,
      ],
      [
        'ClusterRoleBinding to a Role',
        admin.createClusterRoleBinding({
          body: { metadata: { name: 'v4' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'x' }, subjects: [] },
        }),
        /roleRef\.kind: Unsupported value: "Role": supported values: "ClusterRole"/,
      ],
      [
        'service account subject without namespace in a ClusterRoleBinding',
        admin.createClusterRoleBinding({
          body: {
            metadata: { name: 'v5' },
            roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
            subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
          },
        }),
        /subjects\[0\]\.namespace: Required value/,
      ],
      [
        'unknown subject kind',
        admin.createClusterRoleBinding({
          body: {
            metadata: { name: 'v6' },
            roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
            subjects: [{ kind: 'Robot', name: 'r2' }],
          },
        }),
        /subjects\[0\]\.kind: Unsupported value: "Robot"/,
      ],
    ];
    for (const [what, call, message] of cases) {
      const body = await errorBody(call);
      assert.equal(body.code, 422, what);
      assert.match(body.message ?? '', message, what);
    }
    assert.equal(await statusOf(admin.readClusterRole({ name: 'v1' })), 404);
  });
});

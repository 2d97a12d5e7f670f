import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accessReviewStatus,
  createRbacAuthorizer,
  forbiddenDetail,
  impersonationFromHeaders,
  isAuthorizedForSigner,
  nameFromFieldSelector,
  type RbacSource,
  type RequestAttributes,
  resolveImpersonation,
  ruleAllows,
  rulesForUser,
  type UserInfo,
} from '../../../src/services/sandbox/authz.js';
import { bootstrapRbacObjects, type SandboxUserSpec } from '../../../src/services/sandbox/rbac-bootstrap.js';
import { missingRights } from '../../../src/services/sandbox/rbac-strategy.js';

type Kind = 'clusterroles' | 'clusterrolebindings' | 'roles' | 'rolebindings';
const KIND_OF: Record<string, Kind> = {
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
};

/** An in-memory RbacSource, mutable like the sandbox's store. */
function store(objects: object[]) {
  const items = [...objects] as { kind: string; metadata: { name: string; namespace?: string } }[];
  const source: RbacSource = {
    list(resource, namespace) {
      return items.filter(
        (o) => KIND_OF[o.kind] === resource && (namespace === undefined || o.metadata.namespace === namespace),
      );
    },
  };
  return {
    source,
    add: (o: object) => items.push(o as (typeof items)[number]),
    remove: (kind: string, name: string) => {
      const i = items.findIndex((o) => o.kind === kind && o.metadata.name === name);
      if (i >= 0) items.splice(i, 1);
    },
  };
}

const DEFAULT_USERS: SandboxUserSpec[] = [
  { name: 'admin', role: 'admin' },
  { name: 'viewer', role: 'viewer' },
];

const user = (name: string, groups: string[] = []): UserInfo => ({
  name,
  groups: [...groups, 'system:authenticated'],
});

function req(u: UserInfo, verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes {
  const [res, sub] = resource.split('/');
  return {
    user: u,
    verb,
    resourceRequest: true,
    apiGroup: 'certificates.k8s.io',
    resource: res,
    subresource: sub ?? '',
    path: '',
    ...extra,
  };
}

const clusterRole = (name: string, rules: object[], labels?: Record<string, string>) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: labels ? { name, labels } : { name },
  rules,
});
const binding = (
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  name: string,
  role: string,
  subjects: object[],
  ns?: string,
) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: ns ? { name, namespace: ns } : { name },
  roleRef: {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: role.startsWith('Role:') ? 'Role' : 'ClusterRole',
    name: role.replace(/^Role:/, ''),
  },
  subjects,
});

describe('ruleAllows', () => {
  const bob = user('bob');
  it('matches verbs, groups, resources and subresources with wildcards', () => {
    const rule = { verbs: ['get'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] };
    assert.equal(ruleAllows(req(bob, 'get', 'certificatesigningrequests'), rule), true);
    assert.equal(ruleAllows(req(bob, 'list', 'certificatesigningrequests'), rule), false);
    assert.equal(ruleAllows(req(bob, 'get', 'certificatesigningrequests/status'), rule), false);
    assert.equal(ruleAllows(req(bob, 'get', 'certificatesigningrequests', { apiGroup: '' }), rule), false);
    const sub = { verbs: ['update'], apiGroups: ['*'], resources: ['*/approval'] };
    assert.equal(ruleAllows(req(bob, 'update', 'certificatesigningrequests/approval'), sub), true);
    assert.equal(ruleAllows(req(bob, 'update', 'certificatesigningrequests'), sub), false);
    assert.equal(ruleAllows(req(bob, 'update', 'certificatesigningrequests/status'), sub), false);
    const all = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
    assert.equal(ruleAllows(req(bob, 'approve', 'signers', { name: 'x/y' }), all), true);
  });

  it('with resourceNames only matches requests that carry one of the names', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] };
    assert.equal(ruleAllows(req(bob, 'get', 'pods', { apiGroup: '', name: 'a' }), rule), true);
    assert.equal(ruleAllows(req(bob, 'get', 'pods', { apiGroup: '', name: 'b' }), rule), false);
    assert.equal(ruleAllows(req(bob, 'list', 'pods', { apiGroup: '' }), rule), false);
  });

  it('matches non-resource URLs exactly or by a trailing *', () => {
    const nr = (path: string): RequestAttributes => ({
      user: bob,
      verb: 'get',
      resourceRequest: false,
      apiGroup: '',
      path,
    });
    const rule = { verbs: ['get'], nonResourceURLs: ['/version', '/apis/*'] };
    assert.equal(ruleAllows(nr('/version'), rule), true);
    assert.equal(ruleAllows(nr('/version/x'), rule), false);
    assert.equal(ruleAllows(nr('/apis/certificates.k8s.io/v1'), rule), true);
    assert.equal(ruleAllows(nr('/apis'), rule), false);
    // A resource rule never matches a non-resource request, and the other way round.
    assert.equal(ruleAllows(nr('/version'), { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }), false);
    assert.equal(ruleAllows(req(bob, 'get', 'pods'), { verbs: ['*'], nonResourceURLs: ['*'] }), false);
  });
});

describe('createRbacAuthorizer', () => {
  it('grants through the bootstrap roles: admin everything, viewer reads but not secrets, discovery for all', () => {
    const s = store(bootstrapRbacObjects(DEFAULT_USERS));
    const authz = createRbacAuthorizer(s.source);
    const admin = user('admin');
    const viewer = user('viewer');
    assert.deepEqual(authz.authorize(req(admin, 'approve', 'signers', { name: 'a.b/c' })), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "sandbox:admin" of ClusterRole "cluster-admin" to User "admin"',
    });
    // system:masters is allowed before RBAC is asked, with no reason, even without any binding.
    const master = user('someone', ['system:masters']);
    assert.deepEqual(
      createRbacAuthorizer(store([]).source).authorize(req(master, 'delete', 'pods', { apiGroup: '' })),
      {
        allowed: true,
        reason: '',
      },
    );
    assert.equal(authz.authorize(req(viewer, 'list', 'certificatesigningrequests')).allowed, true);
    assert.equal(authz.authorize(req(viewer, 'watch', 'pods', { apiGroup: '', namespace: 'x' })).allowed, true);
    assert.equal(authz.authorize(req(viewer, 'get', 'secrets', { apiGroup: '', namespace: 'x' })).allowed, false);
    assert.equal(authz.authorize(req(viewer, 'update', 'certificatesigningrequests/approval')).allowed, false);
    const nobody = user('nobody');
    const path = (p: string): RequestAttributes => ({
      user: nobody,
      verb: 'get',
      resourceRequest: false,
      apiGroup: '',
      path: p,
    });
    assert.equal(authz.authorize(path('/apis/certificates.k8s.io/v1')).allowed, true);
    assert.equal(authz.authorize(path('/version')).allowed, true);
    assert.equal(authz.authorize(path('/metrics')).allowed, false);
    assert.equal(
      authz.authorize(req(nobody, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' })).allowed,
      true,
    );
    assert.deepEqual(authz.authorize(req(nobody, 'list', 'certificatesigningrequests')), {
      allowed: false,
      reason: '',
    });
  });

  it('sees new and deleted bindings at once', () => {
    const s = store(bootstrapRbacObjects(DEFAULT_USERS));
    const authz = createRbacAuthorizer(s.source);
    const bob = user('bob');
    const a = req(bob, 'list', 'certificatesigningrequests');
    assert.equal(authz.authorize(a).allowed, false);
    s.add(
      clusterRole('csr-reader', [
        { verbs: ['list'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] },
      ]),
    );
    assert.equal(authz.authorize(a).allowed, false);
    s.add(binding('ClusterRoleBinding', 'bob-reads', 'csr-reader', [{ kind: 'User', name: 'bob' }]));
    assert.equal(authz.authorize(a).allowed, true);
    s.remove('ClusterRoleBinding', 'bob-reads');
    assert.equal(authz.authorize(a).allowed, false);
  });

  it('scopes RoleBindings to their namespace, with a Role or a ClusterRole', () => {
    const s = store([
      clusterRole('pod-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
      {
        kind: 'Role',
        metadata: { name: 'cm-writer', namespace: 'team-a' },
        rules: [{ verbs: ['update'], apiGroups: [''], resources: ['configmaps'] }],
      },
      binding('RoleBinding', 'read', 'pod-reader', [{ kind: 'Group', name: 'devs' }], 'team-a'),
      binding('RoleBinding', 'write', 'Role:cm-writer', [{ kind: 'User', name: 'bob' }], 'team-a'),
      binding('RoleBinding', 'write', 'Role:cm-writer', [{ kind: 'User', name: 'bob' }], 'team-b'),
    ]);
    const authz = createRbacAuthorizer(s.source);
    const bob = user('bob', ['devs']);
    const core = (verb: string, resource: string, namespace?: string) =>
      req(bob, verb, resource, { apiGroup: '', ...(namespace ? { namespace } : {}) });
    assert.deepEqual(authz.authorize(core('get', 'pods', 'team-a')), {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "read/team-a" of ClusterRole "pod-reader" to Group "devs"',
    });
    assert.equal(authz.authorize(core('get', 'pods', 'team-b')).allowed, false);
    assert.equal(authz.authorize(core('get', 'pods')).allowed, false);
    assert.equal(authz.authorize(core('update', 'configmaps', 'team-a')).allowed, true);
    // team-b's binding names a Role that only exists in team-a: nothing is granted, and the reason says why.
    assert.deepEqual(authz.authorize(core('update', 'configmaps', 'team-b')), {
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "cm-writer" not found',
    });
  });

  it('matches ServiceAccount subjects by their user name, defaulting to the binding namespace', () => {
    const s = store([
      clusterRole('lease-holder', [{ verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }]),
      binding('RoleBinding', 'ctrl', 'lease-holder', [{ kind: 'ServiceAccount', name: 'certdesk' }], 'ops'),
      binding('ClusterRoleBinding', 'ctrl-all', 'lease-holder', [
        { kind: 'ServiceAccount', name: 'other', namespace: 'x' },
      ]),
    ]);
    const authz = createRbacAuthorizer(s.source);
    const sa = user('system:serviceaccount:ops:certdesk', ['system:serviceaccounts']);
    const lease = (u: UserInfo, namespace: string) =>
      req(u, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace });
    assert.equal(
      authz.authorize(lease(sa, 'ops')).reason,
      'RBAC: allowed by RoleBinding "ctrl/ops" of ClusterRole "lease-holder" to ServiceAccount "certdesk/ops"',
    );
    assert.equal(authz.authorize(lease(sa, 'default')).allowed, false);
    assert.equal(authz.authorize(lease(user('system:serviceaccount:x:other'), 'any')).allowed, true);
    assert.equal(authz.authorize(lease(user('certdesk'), 'ops')).allowed, false);
  });

  it('reports a binding to a missing ClusterRole, and follows aggregation rules', () => {
    const s = store([
      binding('ClusterRoleBinding', 'dangling', 'ghost', [{ kind: 'User', name: 'bob' }]),
      {
        kind: 'ClusterRole',
        metadata: { name: 'agg' },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-agg': 'true' } }] },
        rules: [],
      },
      clusterRole('piece', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }], {
        'example.com/aggregate-to-agg': 'true',
      }),
      binding('ClusterRoleBinding', 'agg', 'agg', [{ kind: 'User', name: 'carol' }]),
    ]);
    const authz = createRbacAuthorizer(s.source);
    assert.deepEqual(authz.authorize(req(user('bob'), 'get', 'configmaps', { apiGroup: '', namespace: 'a' })), {
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
    });
    assert.equal(
      authz.authorize(req(user('carol'), 'get', 'configmaps', { apiGroup: '', namespace: 'a' })).allowed,
      true,
    );
    assert.equal(
      authz.authorize(req(user('carol'), 'list', 'configmaps', { apiGroup: '', namespace: 'a' })).allowed,
      false,
    );
  });

  it('ignores malformed stored objects instead of throwing', () => {
    const s = store([
      { kind: 'ClusterRole', metadata: { name: 'bad' }, rules: 'nope' },
      { kind: 'ClusterRoleBinding', metadata: { name: 'b' }, subjects: [{ kind: 'User', name: 'bob' }] },
      {
        kind: 'ClusterRoleBinding',
        metadata: { name: 'c' },
        roleRef: { kind: 'ClusterRole', name: 'bad' },
        subjects: 'x',
      },
    ]);
    assert.deepEqual(createRbacAuthorizer(s.source).authorize(req(user('bob'), 'get', 'pods')), {
      allowed: false,
      reason: '',
    });
  });
});

describe('isAuthorizedForSigner', () => {
  const signerRule = (names: string[]) =>
    clusterRole('approver', [
      { verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: names },
    ]);
  const bound = binding('ClusterRoleBinding', 'approver', 'approver', [{ kind: 'User', name: 'bob' }]);

  it('allows only the named signer', () => {
    const authz = createRbacAuthorizer(store([signerRule(['example.com/serving']), bound]).source);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'approve', 'example.com/serving'), true);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'approve', 'example.com/other'), false);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'sign', 'example.com/serving'), false);
    assert.equal(isAuthorizedForSigner(authz, user('eve'), 'approve', 'example.com/serving'), false);
  });

  it('falls back to <domain>/*', () => {
    const authz = createRbacAuthorizer(store([signerRule(['example.com/*']), bound]).source);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'approve', 'example.com/serving'), true);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'approve', 'example.com/other'), true);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'approve', 'example.org/serving'), false);
  });

  it('grants through the users option of the sandbox', () => {
    const s = store(
      bootstrapRbacObjects([
        { name: 'bob', rules: [{ verbs: ['sign'], resources: ['signers'], resourceNames: ['example.com/serving'] }] },
        { name: 'carol', role: 'viewer' },
        { name: 'root', role: 'admin' },
      ]),
    );
    const authz = createRbacAuthorizer(s.source);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'sign', 'example.com/serving'), true);
    assert.equal(isAuthorizedForSigner(authz, user('bob'), 'sign', 'example.com/x'), false);
    assert.equal(authz.authorize(req(user('carol'), 'list', 'certificatesigningrequests')).allowed, true);
    assert.equal(
      authz.authorize(req(user('carol'), 'get', 'secrets', { apiGroup: '', namespace: 'a' })).allowed,
      false,
    );
    assert.equal(isAuthorizedForSigner(authz, user('root'), 'approve', 'a.b/c'), true);
  });
});

describe('bootstrapRbacObjects', () => {
  it('gives admin and viewer rights only through their entries', () => {
    const authz = createRbacAuthorizer(store(bootstrapRbacObjects([{ name: 'viewer', role: 'none' }])).source);
    assert.equal(authz.authorize(req(user('viewer'), 'list', 'certificatesigningrequests')).allowed, false);
    assert.equal(authz.authorize(req(user('admin'), 'list', 'certificatesigningrequests')).allowed, false);
  });

  it('produces unique, valid-looking objects and rejects rules that name nothing', () => {
    const objects = bootstrapRbacObjects([
      { name: 'bob', role: 'admin' },
      { name: 'bob', role: 'admin' },
    ]) as {
      kind: string;
      metadata: { name: string };
    }[];
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes('ClusterRole/cluster-admin'));
    assert.ok(ids.includes('ClusterRoleBinding/system:discovery'));
    assert.throws(() => bootstrapRbacObjects([{ name: 'x', rules: [{ verbs: ['get'] }] }]), /names no resources/);
    assert.throws(() => bootstrapRbacObjects([{ name: 'x', rules: [{ resources: ['pods'] }] }]), /has no verbs/);
  });
});

describe('reviews, impersonation and messages', () => {
  const s = store([
    ...bootstrapRbacObjects(DEFAULT_USERS),
    clusterRole('impersonator', [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users', 'groups'] }]),
    binding('ClusterRoleBinding', 'imp', 'impersonator', [{ kind: 'User', name: 'ops' }]),
  ]);
  const authz = createRbacAuthorizer(s.source);

  it('answers access reviews', () => {
    const spec = {
      resourceAttributes: { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: 'a.b/c' },
    };
    assert.deepEqual(accessReviewStatus(authz, user('viewer'), spec), { allowed: false });
    assert.equal((accessReviewStatus(authz, user('admin'), spec) as { allowed: boolean }).allowed, true);
    assert.deepEqual(accessReviewStatus(authz, user('x'), { nonResourceAttributes: { path: '/api', verb: 'get' } }), {
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
    });
    assert.ok('error' in accessReviewStatus(authz, user('x'), {}));
  });

  it('lists the rules of a user', () => {
    const r = rulesForUser(s.source, user('viewer'), 'default');
    assert.ok(r.resourceRules.some((x) => x.resources?.includes('certificatesigningrequests')));
    assert.ok(r.nonResourceRules.some((x) => x.nonResourceURLs?.includes('/api')));
    assert.equal(r.incomplete, false);
  });

  it('checks impersonation and adds system:authenticated', () => {
    const h = impersonationFromHeaders({ 'impersonate-user': 'bob', 'impersonate-group': ['a', 'b,c'], accept: 'x' });
    assert.deepEqual(h, { user: 'bob', groups: ['a', 'b', 'c'] });
    assert.equal(impersonationFromHeaders({ accept: 'x' }), undefined);
    const ok = resolveImpersonation(authz, user('ops'), { user: 'bob' });
    assert.deepEqual(ok, { ok: true, user: { name: 'bob', groups: ['system:authenticated'] } });
    const denied = resolveImpersonation(authz, user('viewer'), { user: 'bob' });
    assert.deepEqual(denied, {
      ok: false,
      status: 403,
      message:
        'users "bob" is forbidden: User "viewer" cannot impersonate resource "users" in API group "" at the cluster scope',
      details: { name: 'bob', group: '', kind: 'users' },
    });
    const sa = resolveImpersonation(authz, user('admin'), { user: 'system:serviceaccount:ns:app' });
    assert.deepEqual(sa, {
      ok: true,
      user: {
        name: 'system:serviceaccount:ns:app',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
      },
    });
    assert.equal(resolveImpersonation(authz, user('ops'), { groups: ['x'] }).ok, false);
  });

  it('formats forbidden details like the API server', () => {
    assert.equal(
      forbiddenDetail(req(user('bob'), 'update', 'certificatesigningrequests/approval')),
      'User "bob" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope',
    );
    assert.equal(
      forbiddenDetail(req(user('bob'), 'get', 'pods', { apiGroup: '', namespace: 'ns' })),
      'User "bob" cannot get resource "pods" in API group "" in the namespace "ns"',
    );
  });
});

describe('missingRights (escalation check)', () => {
  const s = store([
    clusterRole('mixed', [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['a.io/x'] },
      { verbs: ['get'], nonResourceURLs: ['/logs/*'] },
    ]),
    binding('ClusterRoleBinding', 'mixed', 'mixed', [{ kind: 'User', name: 'bob' }]),
  ]);
  const authz = createRbacAuthorizer(s.source);
  const bob = user('bob');

  it('finds nothing missing for rules the user holds, including narrower names and URLs', () => {
    assert.deepEqual(missingRights(authz, bob, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], ''), []);
    assert.deepEqual(
      missingRights(
        authz,
        bob,
        [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] }],
        'default',
      ),
      [],
    );
    assert.deepEqual(missingRights(authz, bob, [{ verbs: ['get'], nonResourceURLs: ['/logs/today'] }], ''), []);
  });

  it('treats a wildcard in the new rule as a wildcard the user must hold', () => {
    assert.deepEqual(missingRights(authz, bob, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }], ''), [
      { verbs: ['*'], apiGroups: [''], resources: ['pods'] },
    ]);
    assert.deepEqual(
      missingRights(
        authz,
        bob,
        [{ verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['a.io/*'] }],
        '',
      ),
      [{ verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['a.io/*'] }],
    );
    // Only the verbs not held are reported, merged into one rule.
    assert.deepEqual(
      missingRights(authz, bob, [{ verbs: ['get', 'watch', 'delete'], apiGroups: [''], resources: ['pods'] }], ''),
      [{ verbs: ['watch', 'delete'], apiGroups: [''], resources: ['pods'] }],
    );
  });

  it('holds everything through cluster-admin', () => {
    const all = createRbacAuthorizer(store(bootstrapRbacObjects(DEFAULT_USERS)).source);
    assert.deepEqual(
      missingRights(
        all,
        user('admin'),
        [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: [] }],
        '',
      ),
      [],
    );
  });
});

describe('nameFromFieldSelector', () => {
  it('finds the exact metadata.name term, as RequiresExactMatch does', () => {
    assert.equal(nameFromFieldSelector('metadata.name=csr-1'), 'csr-1');
    assert.equal(nameFromFieldSelector('spec.signerName=a.io/x,metadata.name==csr-2'), 'csr-2');
    assert.equal(nameFromFieldSelector('metadata.name!=csr-1'), undefined);
    assert.equal(nameFromFieldSelector('spec.signerName=a.io/x'), undefined);
    assert.equal(nameFromFieldSelector('metadata.name=a/b'), undefined);
    assert.equal(nameFromFieldSelector(''), undefined);
  });
});

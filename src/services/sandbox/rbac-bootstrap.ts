// The RBAC objects a sandbox cluster starts with: the roles real clusters bootstrap (cluster-admin, discovery,
// basic-user, public-info-viewer), a `view` role for the `viewer` user, and the roles of the `users` option.
import type { PolicyRule } from './authz.js';

export interface SandboxUserSpec {
  name: string;
  /** Groups go into the client certificate's O; they are listed here so the sandbox can mint it. */
  groups?: string[];
  /** 'admin' binds cluster-admin, 'viewer' binds view, 'none' (the default) binds nothing but `rules`. */
  role?: 'admin' | 'viewer' | 'none';
  /** Extra cluster-wide rules for this user. A resource rule without apiGroups applies to every group ('*'). */
  rules?: Partial<PolicyRule>[];
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(name: string, rules: PolicyRule[], bootstrap = true): object {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRole',
    metadata: bootstrap ? { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } } : { name },
    rules,
  };
}

function clusterRoleBinding(
  name: string,
  role: string,
  subjects: { kind: 'User' | 'Group'; name: string }[],
  bootstrap = true,
): object {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRoleBinding',
    metadata: bootstrap ? { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } } : { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: 'rbac.authorization.k8s.io', ...s })),
  };
}

const READ = ['get', 'list', 'watch'];

/** get/list/watch on what the sandbox serves, except Secrets (RBAC has no deny: the resources are listed). */
const VIEW_RULES: PolicyRule[] = [
  {
    apiGroups: [''],
    resources: [
      'pods',
      'pods/log',
      'pods/status',
      'configmaps',
      'namespaces',
      'namespaces/status',
      'nodes',
      'events',
      'services',
      'endpoints',
      'serviceaccounts',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'limitranges',
      'resourcequotas',
    ],
    verbs: READ,
  },
  {
    apiGroups: ['certificates.k8s.io'],
    resources: [
      'certificatesigningrequests',
      'certificatesigningrequests/status',
      'certificatesigningrequests/approval',
    ],
    verbs: READ,
  },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ },
  { apiGroups: ['apps', 'batch', 'events.k8s.io', 'operator.tigera.io'], resources: ['*'], verbs: READ },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
];

const DISCOVERY_URLS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/openapi',
  '/openapi/*',
  '/readyz',
  '/version',
  '/version/',
];

function safeName(user: string): string {
  return user.replace(/[/%]/g, '-');
}

function normalizeRule(rule: Partial<PolicyRule>, user: string): PolicyRule {
  const verbs = rule.verbs ?? [];
  if (verbs.length === 0) throw new Error(`A rule for sandbox user "${user}" has no verbs; list at least one.`);
  const out: PolicyRule = { verbs: [...verbs] };
  if (rule.resources && rule.resources.length > 0) {
    out.apiGroups = rule.apiGroups && rule.apiGroups.length > 0 ? [...rule.apiGroups] : ['*'];
    out.resources = [...rule.resources];
    if (rule.resourceNames && rule.resourceNames.length > 0) out.resourceNames = [...rule.resourceNames];
  } else if (rule.nonResourceURLs && rule.nonResourceURLs.length > 0) {
    out.nonResourceURLs = [...rule.nonResourceURLs];
  } else {
    throw new Error(`A rule for sandbox user "${user}" names no resources and no nonResourceURLs; give one of them.`);
  }
  return out;
}

/**
 * Plain rbac.authorization.k8s.io/v1 objects to create when a sandbox cluster starts (roles, then bindings).
 * `admin` and `viewer` get rights only through their entries in `users` (the sandbox's DEFAULT_USERS give them
 * role 'admin' and 'viewer'), so redefining them there takes effect. Group system:masters is always cluster-admin.
 */
export function bootstrapRbacObjects(users: SandboxUserSpec[]): object[] {
  const roles: object[] = [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('view', VIEW_RULES),
    clusterRole('system:discovery', [{ nonResourceURLs: DISCOVERY_URLS, verbs: ['get'] }]),
    clusterRole('system:public-info-viewer', [
      { nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] },
    ]),
    clusterRole('system:basic-user', [
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
        verbs: ['create'],
      },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
  ];
  const bindings: object[] = [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
    clusterRoleBinding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [
      { kind: 'Group', name: 'system:authenticated' },
      { kind: 'Group', name: 'system:unauthenticated' },
    ]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
  ];
  for (const u of users) {
    const base = `sandbox:${safeName(u.name)}`;
    const subject = [{ kind: 'User' as const, name: u.name }];
    if (u.role === 'admin') bindings.push(clusterRoleBinding(base, 'cluster-admin', subject, false));
    if (u.role === 'viewer') bindings.push(clusterRoleBinding(base, 'view', subject, false));
    if (u.rules && u.rules.length > 0) {
      const name = `${base}:rules`;
      roles.push(
        clusterRole(
          name,
          u.rules.map((r) => normalizeRule(r, u.name)),
          false,
        ),
      );
      bindings.push(clusterRoleBinding(name, name, subject, false));
    }
  }
  // A user listed twice, or named like a built-in binding, must not produce two objects of one name.
  const seen = new Set<string>();
  return [...roles, ...bindings].filter((o) => {
    const id = `${(o as { kind: string }).kind}/${(o as { metadata: { name: string } }).metadata.name}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

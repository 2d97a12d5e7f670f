// Authorization for the sandbox: RBAC (rbac.authorization.k8s.io/v1 objects stored in the sandbox) decides every
// request, and the CSR admission checks for the `approve` / `sign` verbs on `signers` use the same rules.
// The matching follows kube-apiserver's RBAC authorizer (plugin/pkg/auth/authorizer/rbac), including its reasons.

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface RequestAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection, approve, sign, … */
  verb: string;
  resourceRequest: boolean;
  /** '' for the core group. */
  apiGroup: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The URL path, for non-resource requests (/version, /apis, …). */
  path: string;
  /** The raw field selector of a list or watch (the Node authorizer reads `spec.nodeName=` from it). */
  fieldSelector?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why (for SelfSubjectAccessReview status.reason); empty when not known. */
  reason: string;
}

/** Read access to the stored RBAC objects, as plain Kubernetes JSON. */
export interface RbacSource {
  list(resource: 'clusterroles' | 'clusterrolebindings' | 'roles' | 'rolebindings', namespace?: string): unknown[];
}

export interface Authorizer {
  authorize(attributes: RequestAttributes): Decision;
  /** The rules of a Role (in `namespace`) or ClusterRole, undefined when it does not exist (for escalation checks). */
  roleRules?(kind: 'Role' | 'ClusterRole', name: string, namespace: string): PolicyRule[] | undefined;
}

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

interface Binding {
  name: string;
  namespace?: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

interface Role {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  aggregationSelectors?: LabelSelector[];
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Rule matching (k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go)

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some((r) => {
    if (r === '*' || r === combined) return true;
    if (!subresource) return false;
    return r === `*/${subresource}`;
  });
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => {
    if (u === '*' || u === path) return true;
    return u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''));
  });
}

/** Whether one rule allows the request (RuleAllows). A rule with resourceNames only matches requests carrying a name. */
export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceUrlMatches(rule, a.path);
  const resource = a.resource ?? '';
  const subresource = a.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (
    apiGroupMatches(rule, a.apiGroup) &&
    resourceMatches(rule, combined, subresource) &&
    resourceNameMatches(rule, a.name ?? '')
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the stored objects defensively: a malformed object grants nothing.

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function toRule(v: unknown): PolicyRule | undefined {
  if (!isRecord(v)) return undefined;
  const rule: PolicyRule = { verbs: strings(v.verbs) };
  if (v.apiGroups !== undefined) rule.apiGroups = strings(v.apiGroups);
  if (v.resources !== undefined) rule.resources = strings(v.resources);
  if (v.resourceNames !== undefined) rule.resourceNames = strings(v.resourceNames);
  if (v.nonResourceURLs !== undefined) rule.nonResourceURLs = strings(v.nonResourceURLs);
  return rule;
}

function metadataOf(v: Record<string, unknown>): { name: string; namespace: string; labels: Record<string, string> } {
  const md = isRecord(v.metadata) ? v.metadata : {};
  const labels: Record<string, string> = {};
  if (isRecord(md.labels)) {
    for (const [k, val] of Object.entries(md.labels)) if (typeof val === 'string') labels[k] = val;
  }
  return { name: str(md.name), namespace: str(md.namespace), labels };
}

// Parsed forms, by stored object: the store replaces an object on every write and never changes one in place, so a
// decision only parses what changed since the last one.
const parsedRoles = new WeakMap<object, Role | undefined>();
const parsedBindings = new WeakMap<object, Binding | undefined>();

function toRole(v: unknown): Role | undefined {
  if (!isRecord(v)) return undefined;
  if (parsedRoles.has(v)) return parsedRoles.get(v);
  const role = parseRole(v);
  parsedRoles.set(v, role);
  return role;
}

function toBinding(v: unknown): Binding | undefined {
  if (!isRecord(v)) return undefined;
  if (parsedBindings.has(v)) return parsedBindings.get(v);
  const binding = parseBinding(v);
  parsedBindings.set(v, binding);
  return binding;
}

function parseRole(v: Record<string, unknown>): Role | undefined {
  const md = metadataOf(v);
  const rules = Array.isArray(v.rules) ? v.rules.map(toRule).filter((r): r is PolicyRule => r !== undefined) : [];
  const role: Role = { name: md.name, namespace: md.namespace, labels: md.labels, rules };
  if (isRecord(v.aggregationRule) && Array.isArray(v.aggregationRule.clusterRoleSelectors)) {
    role.aggregationSelectors = v.aggregationRule.clusterRoleSelectors.filter(isRecord).map((s) => {
      const sel: LabelSelector = {};
      if (isRecord(s.matchLabels)) {
        sel.matchLabels = Object.fromEntries(
          Object.entries(s.matchLabels).filter((e): e is [string, string] => typeof e[1] === 'string'),
        );
      }
      if (Array.isArray(s.matchExpressions)) {
        sel.matchExpressions = s.matchExpressions
          .filter(isRecord)
          .map((e) => ({ key: str(e.key), operator: str(e.operator), values: strings(e.values) }));
      }
      return sel;
    });
  }
  return role;
}

function parseBinding(v: Record<string, unknown>): Binding | undefined {
  if (!isRecord(v.roleRef)) return undefined;
  const md = metadataOf(v);
  const subjects = Array.isArray(v.subjects)
    ? v.subjects.filter(isRecord).map((s) => {
        const subject: Subject = { kind: str(s.kind), name: str(s.name) };
        if (typeof s.namespace === 'string' && s.namespace) subject.namespace = s.namespace;
        return subject;
      })
    : [];
  const binding: Binding = {
    name: md.name,
    roleRef: { kind: str(v.roleRef.kind), name: str(v.roleRef.name) },
    subjects,
  };
  if (md.namespace) binding.namespace = md.namespace;
  return binding;
}

function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  const ml = sel.matchLabels ?? {};
  const me = sel.matchExpressions ?? [];
  // An empty selector in an aggregation rule selects nothing (as the aggregation controller does).
  if (Object.keys(ml).length === 0 && me.length === 0) return false;
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of me) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key] ?? '';
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Subjects (appliesToUser) and descriptions (the reason strings)

const SA_PREFIX = 'system:serviceaccount:';

function appliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.name === `${SA_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

function describeBinding(b: Binding, subject: Subject, clusterScoped: boolean): string {
  if (!clusterScoped && b.namespace) {
    return `RoleBinding ${JSON.stringify(`${b.name}/${b.namespace}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, b.namespace)}`;
  }
  return `ClusterRoleBinding ${JSON.stringify(b.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution

class RuleResolver {
  private clusterRoles: Role[] | undefined;
  constructor(private readonly source: RbacSource) {}

  private allClusterRoles(): Role[] {
    this.clusterRoles ??= this.source
      .list('clusterroles')
      .map(toRole)
      .filter((r): r is Role => r !== undefined);
    return this.clusterRoles;
  }

  /** The rules of a role reference, or an error string like RBAC's (`clusterrole.rbac… "x" not found`). */
  rulesFor(ref: RoleRef, namespace: string): PolicyRule[] | string {
    if (ref.kind === 'ClusterRole') {
      const all = this.allClusterRoles();
      const role = all.find((r) => r.name === ref.name);
      if (!role) return `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
      if (!role.aggregationSelectors) return role.rules;
      // Aggregated ClusterRoles: the union of the rules of every ClusterRole the selectors pick (what the
      // clusterrole-aggregation controller writes into `rules`), plus whatever was written there already.
      const picked = all.filter(
        (r) => r.name !== role.name && role.aggregationSelectors?.some((s) => selectorMatches(s, r.labels)),
      );
      return [...role.rules, ...picked.flatMap((r) => r.rules)];
    }
    if (ref.kind === 'Role') {
      if (!namespace) return `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
      const role = this.source
        .list('roles', namespace)
        .map(toRole)
        .find((r) => r?.name === ref.name && (r.namespace === namespace || r.namespace === ''));
      if (!role) return `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
      return role.rules;
    }
    return `unsupported role reference kind: ${JSON.stringify(ref.kind)}`;
  }

  clusterRoleBindings(): Binding[] {
    return this.source
      .list('clusterrolebindings')
      .map(toBinding)
      .filter((b): b is Binding => b !== undefined);
  }

  roleBindings(namespace: string): Binding[] {
    return this.source
      .list('rolebindings', namespace)
      .map(toBinding)
      .filter((b): b is Binding => b !== undefined && b.namespace === namespace);
  }

  /**
   * Visits every rule that applies to `user` in `namespace` ('' = cluster-wide bindings only), in RBAC's order:
   * ClusterRoleBindings, then RoleBindings of the namespace. The visitor returns false to stop.
   */
  visit(user: UserInfo, namespace: string, visitor: (source: string, rule: PolicyRule) => boolean, errors: string[]) {
    for (const b of this.clusterRoleBindings()) {
      const subject = b.subjects.find((s) => appliesToUser(user, s, ''));
      if (!subject) continue;
      const rules = this.rulesFor(b.roleRef, '');
      if (typeof rules === 'string') {
        errors.push(rules);
        continue;
      }
      const description = describeBinding(b, subject, true);
      for (const rule of rules) if (!visitor(description, rule)) return;
    }
    if (!namespace) return;
    for (const b of this.roleBindings(namespace)) {
      const subject = b.subjects.find((s) => appliesToUser(user, s, namespace));
      if (!subject) continue;
      const rules = this.rulesFor(b.roleRef, namespace);
      if (typeof rules === 'string') {
        errors.push(rules);
        continue;
      }
      const description = describeBinding(b, subject, false);
      for (const rule of rules) if (!visitor(description, rule)) return;
    }
  }
}

function errorReason(errors: string[]): string {
  if (errors.length === 0) return '';
  return errors.length === 1 ? `RBAC: ${errors[0]}` : `RBAC: [${errors.join(', ')}]`;
}

/** The RBAC authorizer. It reads the stored objects on every decision, so changes apply at once. */
export function createRbacAuthorizer(source: RbacSource): Authorizer {
  return {
    authorize(a) {
      // kube-apiserver puts a privileged-group authorizer before RBAC: system:masters may do anything, whatever the
      // bindings say, and the decision carries no reason.
      if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
      const resolver = new RuleResolver(source);
      const errors: string[] = [];
      let reason = '';
      resolver.visit(
        a.user,
        a.resourceRequest ? (a.namespace ?? '') : '',
        (description, rule) => {
          if (!ruleAllows(a, rule)) return true;
          reason = `RBAC: allowed by ${description}`;
          return false;
        },
        errors,
      );
      if (reason) return { allowed: true, reason };
      return { allowed: false, reason: errorReason(errors) };
    },
    roleRules(kind, name, namespace) {
      const rules = new RuleResolver(source).rulesFor({ kind, name }, namespace);
      return typeof rules === 'string' ? undefined : rules;
    },
  };
}

/** The rules that apply to a user in a namespace (SelfSubjectRulesReview), split as the API reports them. */
export function rulesForUser(
  source: RbacSource,
  user: UserInfo,
  namespace: string,
): { resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[]; incomplete: boolean; evaluationError: string } {
  const resourceRules: PolicyRule[] = [];
  const nonResourceRules: PolicyRule[] = [];
  const errors: string[] = [];
  if (user.groups.includes('system:masters')) {
    // The privileged-group authorizer's rules come first, as in the apiserver's union of rule resolvers.
    resourceRules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    nonResourceRules.push({ verbs: ['*'], nonResourceURLs: ['*'] });
  }
  new RuleResolver(source).visit(
    user,
    namespace,
    (_d, rule) => {
      if (rule.resources && rule.resources.length > 0) {
        const r: PolicyRule = { verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources };
        if (rule.resourceNames && rule.resourceNames.length > 0) r.resourceNames = rule.resourceNames;
        resourceRules.push(r);
      }
      if (rule.nonResourceURLs && rule.nonResourceURLs.length > 0) {
        nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
      }
      return true;
    },
    errors,
  );
  return { resourceRules, nonResourceRules, incomplete: errors.length > 0, evaluationError: errors.join(', ') };
}

/**
 * The object name a list or watch request is limited to by `fieldSelector=metadata.name=NAME`
 * (RequestInfoFactory's RequiresExactMatch), or undefined. Names that are not valid path segments are ignored.
 */
export function nameFromFieldSelector(selector: string): string | undefined {
  for (const term of selector.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (!m || m[1] === undefined) continue;
    const name = m[1];
    if (name === '' || name === '.' || name === '..' || /[/%]/.test(name)) return undefined;
    return name;
  }
  return undefined;
}

/** `User "bob" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope` */
export function forbiddenDetail(a: RequestAttributes): string {
  if (!a.resourceRequest) return `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
}

/** The CertificateApproval / CertificateSigning admission check: `signers` by name, then `<domain>/*`. */
export function isAuthorizedForSigner(
  authz: Authorizer,
  user: UserInfo,
  verb: 'approve' | 'sign' | 'attest',
  signerName: string,
): boolean {
  const attrs = (name: string): RequestAttributes => ({
    user,
    verb,
    resourceRequest: true,
    apiGroup: 'certificates.k8s.io',
    resource: 'signers',
    name,
    path: '',
  });
  if (authz.authorize(attrs(signerName)).allowed) return true;
  const domain = signerName.split('/')[0] ?? signerName;
  return authz.authorize(attrs(`${domain}/*`)).allowed;
}

// ---------------------------------------------------------------------------------------------------------------
// Access reviews (authorization.k8s.io/v1) and impersonation, as pure functions the server calls.

/** spec of a SelfSubjectAccessReview / SubjectAccessReview (the attribute part). */
export interface AccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** Answers an access review for `user`: the `status` of the review object, or an error message (→ 400/422). */
export function accessReviewStatus(
  authz: Authorizer,
  user: UserInfo,
  spec: AccessReviewSpec,
): { allowed: boolean; denied?: boolean; reason?: string } | { error: string } {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if (ra && nra) return { error: 'spec.resourceAttributes and spec.nonResourceAttributes may not both be set' };
  if (!ra && !nra) return { error: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' };
  const attrs: RequestAttributes = ra
    ? {
        user,
        verb: ra.verb ?? '',
        resourceRequest: true,
        apiGroup: ra.group ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource ?? '',
        namespace: ra.namespace ?? '',
        name: ra.name ?? '',
        path: '',
      }
    : { user, verb: nra?.verb ?? '', resourceRequest: false, apiGroup: '', path: nra?.path ?? '' };
  const d = authz.authorize(attrs);
  const status: { allowed: boolean; reason?: string } = { allowed: d.allowed };
  if (d.reason) status.reason = d.reason;
  return status;
}

/** Impersonation headers of a request (Impersonate-User, Impersonate-Group, Impersonate-Uid, Impersonate-Extra-*). */
export interface ImpersonationHeaders {
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Reads the Impersonate-* headers from Node's lower-cased header object; undefined when none is present. */
export function impersonationFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): ImpersonationHeaders | undefined {
  const list = (v: string | string[] | undefined): string[] =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',').map((p) => p.trim()));
  const out: ImpersonationHeaders = {};
  let any = false;
  const user = headers['impersonate-user'];
  if (user !== undefined) {
    out.user = Array.isArray(user) ? (user[0] ?? '') : user;
    any = true;
  }
  const groups = list(headers['impersonate-group']).filter((g) => g !== '');
  if (headers['impersonate-group'] !== undefined) {
    out.groups = groups;
    any = true;
  }
  const uid = headers['impersonate-uid'];
  if (uid !== undefined) {
    out.uid = Array.isArray(uid) ? (uid[0] ?? '') : uid;
    any = true;
  }
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith('impersonate-extra-') || v === undefined) continue;
    out.extra ??= {};
    out.extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = list(v);
    any = true;
  }
  return any ? out : undefined;
}

/**
 * Checks and applies impersonation (the apiserver's WithImpersonation filter): the requester needs `impersonate` on
 * users / groups / serviceaccounts / uids / userextras. Returns the user to act as, or a 403 `message` and
 * `details` for a Status body. Impersonating a user without groups adds `system:authenticated`, as real servers do.
 */
export function resolveImpersonation(
  authz: Authorizer,
  requester: UserInfo,
  h: ImpersonationHeaders,
):
  | { ok: true; user: UserInfo }
  | { ok: false; status: 400 | 403; message: string; details?: { name?: string; group: string; kind: string } } {
  if (!h.user) {
    if ((h.groups && h.groups.length > 0) || h.uid || h.extra) {
      // The real message prints the requested user.Info with Go's %#v.
      const goStrings = (v: string[] | undefined) =>
        v?.length ? `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}` : '[]string(nil)';
      const extra = h.extra
        ? `map[string][]string{${Object.entries(h.extra)
            .map(([k, v]) => `${JSON.stringify(k)}:${goStrings(v)}`)
            .join(', ')}}`
        : 'map[string][]string(nil)';
      const info = `&user.DefaultInfo{Name:"", UID:${JSON.stringify(h.uid ?? '')}, Groups:${goStrings(h.groups)}, Extra:${extra}}`;
      return { ok: false, status: 400, message: `requested ${info} without impersonating a user name` };
    }
    return { ok: true, user: requester };
  }
  const check = (
    group: string,
    resource: string,
    name: string,
    namespace = '',
    subresource = '',
  ): { ok: false; status: 403; message: string; details: { name: string; group: string; kind: string } } | null => {
    const attrs: RequestAttributes = {
      user: requester,
      verb: 'impersonate',
      resourceRequest: true,
      apiGroup: group,
      resource,
      subresource,
      namespace,
      name,
      path: '',
    };
    if (authz.authorize(attrs).allowed) return null;
    const qualified = group ? `${resource}.${group}` : resource;
    return {
      ok: false,
      status: 403,
      message: `${qualified} ${JSON.stringify(name)} is forbidden: ${forbiddenDetail(attrs)}`,
      details: { name, group, kind: resource },
    };
  };

  const groups: string[] = [];
  if (h.user.startsWith(SA_PREFIX)) {
    const [ns, name] = h.user.slice(SA_PREFIX.length).split(':');
    const denied = check('', 'serviceaccounts', name ?? '', ns ?? '');
    if (denied) return denied;
    if (!h.groups || h.groups.length === 0) groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  } else {
    const denied = check('', 'users', h.user);
    if (denied) return denied;
  }
  for (const g of h.groups ?? []) {
    const denied = check('', 'groups', g);
    if (denied) return denied;
    groups.push(g);
  }
  if (h.uid) {
    const denied = check('authentication.k8s.io', 'uids', h.uid);
    if (denied) return denied;
  }
  for (const [key, values] of Object.entries(h.extra ?? {})) {
    for (const v of values) {
      const denied = check('authentication.k8s.io', 'userextras', v, '', key);
      if (denied) return denied;
    }
  }
  if (h.user !== 'system:anonymous' && !groups.includes('system:authenticated')) groups.push('system:authenticated');
  const user: UserInfo = { name: h.user, groups };
  if (h.uid) user.uid = h.uid;
  if (h.extra) user.extra = h.extra;
  return { ok: true, user };
}

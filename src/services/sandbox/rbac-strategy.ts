// The registry strategies of the RBAC objects: defaulting and validation as in pkg/apis/rbac (v1 defaults,
// validation.go), and the privilege-escalation check of the RBAC storage (a user may only create or change a role,
// or bind one, if they hold its permissions already, have `escalate` / `bind`, or are in system:masters).
import type { Authorizer, PolicyRule, RequestAttributes, UserInfo } from './authz.js';
import { ApiError, type FieldError, field, GoValue, notFound, qualified } from './errors.js';
import { dns1123SubdomainErrors, pathSegmentNameErrors } from './csr.js';
import type { KObject } from './store.js';
import { asRecord, type Json, type Strategy, type StrategyContext } from './strategy.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const MASTERS = 'system:masters';

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strs(v: unknown): string[] {
  return list(v).filter((s): s is string => typeof s === 'string');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function rulesOf(obj: KObject): PolicyRule[] {
  return list(obj.rules).map((r) => {
    const rec = asRecord(r) ?? {};
    const rule: PolicyRule = { verbs: strs(rec.verbs) };
    if (rec.apiGroups !== undefined) rule.apiGroups = strs(rec.apiGroups);
    if (rec.resources !== undefined) rule.resources = strs(rec.resources);
    if (rec.resourceNames !== undefined) rule.resourceNames = strs(rec.resourceNames);
    if (rec.nonResourceURLs !== undefined) rule.nonResourceURLs = strs(rec.nonResourceURLs);
    return rule;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Validation (pkg/apis/rbac/validation/validation.go)

function validatePolicyRule(rule: Json, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (strs(rule.verbs).length === 0) errs.push(field.required(`${path}.verbs`));
  const urls = strs(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) {
      errs.push(field.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    }
    if (strs(rule.apiGroups).length > 0 || strs(rule.resources).length > 0 || strs(rule.resourceNames).length > 0) {
      errs.push(
        field.invalid(
          `${path}.nonResourceURLs`,
          urls,
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    }
    return errs;
  }
  if (list(rule.apiGroups).length === 0) {
    errs.push(field.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  }
  if (strs(rule.resources).length === 0) {
    errs.push(field.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  }
  return errs;
}

function validateRole(obj: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  list(obj.rules).forEach((r, i) => {
    errs.push(...validatePolicyRule(asRecord(r) ?? {}, namespaced, `rules[${i}]`));
  });
  return errs;
}

function roleRefValue(ref: Json): GoValue {
  return new GoValue(
    `rbac.RoleRef{APIGroup:${JSON.stringify(str(ref.apiGroup))}, Kind:${JSON.stringify(str(ref.kind))}, Name:${JSON.stringify(str(ref.name))}}`,
  );
}

function validateBinding(obj: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = asRecord(obj.roleRef) ?? {};
  if (str(ref.apiGroup) !== RBAC_GROUP)
    errs.push(field.notSupported('roleRef.apiGroup', str(ref.apiGroup), [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(str(ref.kind))) errs.push(field.notSupported('roleRef.kind', str(ref.kind), kinds));
  if (!str(ref.name)) errs.push(field.required('roleRef.name'));
  else {
    for (const msg of pathSegmentNameErrors(str(ref.name)))
      errs.push(field.invalid('roleRef.name', str(ref.name), msg));
  }
  list(obj.subjects).forEach((s, i) => {
    const subject = asRecord(s) ?? {};
    const path = `subjects[${i}]`;
    const kind = str(subject.kind);
    if (!str(subject.name)) errs.push(field.required(`${path}.name`));
    if (kind === 'ServiceAccount') {
      // ValidateServiceAccountName: a DNS-1123 subdomain.
      if (str(subject.name)) {
        for (const msg of dns1123SubdomainErrors(str(subject.name))) {
          errs.push(field.invalid(`${path}.name`, str(subject.name), msg));
        }
      }
      if (str(subject.apiGroup)) errs.push(field.notSupported(`${path}.apiGroup`, str(subject.apiGroup), ['']));
      if (!namespaced && !str(subject.namespace)) errs.push(field.required(`${path}.namespace`));
    } else if (kind === 'User' || kind === 'Group') {
      if (str(subject.apiGroup) !== RBAC_GROUP) {
        errs.push(field.notSupported(`${path}.apiGroup`, str(subject.apiGroup), [RBAC_GROUP]));
      }
    } else {
      errs.push(field.notSupported(`${path}.kind`, kind, ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

/** v1 defaulting: roleRef.apiGroup, and the apiGroup of User and Group subjects. */
function defaultBinding(obj: KObject): void {
  const ref = asRecord(obj.roleRef);
  if (ref && !ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of list(obj.subjects)) {
    const subject = asRecord(s);
    if (!subject || subject.apiGroup) continue;
    // A ServiceAccount's default is "", which JSON omits.
    if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = RBAC_GROUP;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Escalation (pkg/registry/rbac/validation/rule.go ConfirmNoEscalation; policybased storages)

/** Splits rules into single grants (one verb, group, resource, name or URL), as BreakdownRule does. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        }
      }
    }
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

/** Whether the user's own rules grant one broken-down rule (a literal `*` must be held as `*`). */
function holds(authz: Authorizer, user: UserInfo, atom: PolicyRule, namespace: string): boolean {
  const verb = atom.verbs[0] ?? '';
  const url = atom.nonResourceURLs?.[0];
  if (url !== undefined) {
    return authz.authorize({ user, verb, resourceRequest: false, apiGroup: '', path: url }).allowed;
  }
  const resource = atom.resources?.[0] ?? '';
  const slash = resource.indexOf('/');
  const attrs: RequestAttributes = {
    user,
    verb,
    resourceRequest: true,
    apiGroup: atom.apiGroups?.[0] ?? '',
    resource: slash >= 0 ? resource.slice(0, slash) : resource,
    subresource: slash >= 0 ? resource.slice(slash + 1) : '',
    namespace,
    name: atom.resourceNames?.[0] ?? '',
    path: '',
  };
  return authz.authorize(attrs).allowed;
}

const goList = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

/** PolicyRule CompactString: `{APIGroups:["certificates.k8s.io"], Resources:["signers"], Verbs:["approve"]}`. */
function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goList(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${goList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Merges broken-down rules that differ only in their verb (CompactRules). */
function compact(atoms: PolicyRule[]): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  for (const a of atoms) {
    const key = JSON.stringify([a.apiGroups, a.resources, a.resourceNames, a.nonResourceURLs]);
    const existing = byKey.get(key);
    if (existing) existing.verbs.push(...a.verbs);
    else byKey.set(key, { ...a, verbs: [...a.verbs] });
  }
  return [...byKey.values()];
}

/** The rules the user would grant without holding them (empty when there is no escalation). */
export function missingRights(authz: Authorizer, user: UserInfo, rules: PolicyRule[], namespace: string): PolicyRule[] {
  return compact(rules.flatMap(breakdown).filter((atom) => !holds(authz, user, atom, namespace)));
}

function escalationMessage(user: UserInfo, missing: PolicyRule[]): string {
  const lines = missing.map(compactString).sort();
  return `user ${JSON.stringify(user.name)} (groups=${goList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
}

function forbiddenEscalation(resource: string, name: string, detail: string): ApiError {
  return new ApiError(
    403,
    'Forbidden',
    `${qualified(resource, RBAC_GROUP)} ${JSON.stringify(name)} is forbidden: ${detail}`,
    {
      name,
      group: RBAC_GROUP,
      kind: resource,
    },
  );
}

function allowedBy(
  ctx: StrategyContext,
  verb: 'escalate' | 'bind',
  resource: string,
  name: string,
  ns: string,
): boolean {
  if (ctx.user.groups.includes(MASTERS)) return true;
  return ctx.authz.authorize({
    user: ctx.user,
    verb,
    resourceRequest: true,
    apiGroup: RBAC_GROUP,
    resource,
    namespace: ns,
    name,
    path: '',
  }).allowed;
}

function admitRole(obj: KObject, ctx: StrategyContext, resource: 'roles' | 'clusterroles'): void {
  const name = obj.metadata.name ?? '';
  const ns = obj.metadata.namespace ?? '';
  if (allowedBy(ctx, 'escalate', resource, name, ns)) return;
  const missing = missingRights(ctx.authz, ctx.user, rulesOf(obj), ns);
  if (missing.length > 0) throw forbiddenEscalation(resource, name, escalationMessage(ctx.user, missing));
}

function admitBinding(obj: KObject, ctx: StrategyContext, resource: 'rolebindings' | 'clusterrolebindings'): void {
  const name = obj.metadata.name ?? '';
  const ns = obj.metadata.namespace ?? '';
  const ref = asRecord(obj.roleRef) ?? {};
  const kind = str(ref.kind) === 'Role' ? 'Role' : 'ClusterRole';
  const roleResource = kind === 'Role' ? 'roles' : 'clusterroles';
  if (allowedBy(ctx, 'bind', roleResource, str(ref.name), kind === 'Role' ? ns : '')) return;
  const rules = ctx.authz.roleRules?.(kind, str(ref.name), ns);
  if (!rules) throw notFound(roleResource, RBAC_GROUP, str(ref.name));
  const missing = missingRights(ctx.authz, ctx.user, rules, ns);
  if (missing.length > 0) throw forbiddenEscalation(resource, name, escalationMessage(ctx.user, missing));
}

function sameRoleRef(a: unknown, b: unknown): boolean {
  const x = asRecord(a) ?? {};
  const y = asRecord(b) ?? {};
  return str(x.apiGroup) === str(y.apiGroup) && str(x.kind) === str(y.kind) && str(x.name) === str(y.name);
}

export function roleStrategy(namespaced: boolean): Strategy {
  const resource = namespaced ? 'roles' : 'clusterroles';
  return {
    validateCreate: (obj) => validateRole(obj, namespaced),
    validateUpdate: (obj) => validateRole(obj, namespaced),
    admitCreate: (obj, ctx) => admitRole(obj, ctx, resource),
    admitUpdate: (obj, _old, _sub, ctx) => admitRole(obj, ctx, resource),
  };
}

export function bindingStrategy(namespaced: boolean): Strategy {
  const resource = namespaced ? 'rolebindings' : 'clusterrolebindings';
  return {
    prepareCreate: (obj) => defaultBinding(obj),
    prepareUpdate: (obj) => defaultBinding(obj),
    validateCreate: (obj) => validateBinding(obj, namespaced),
    validateUpdate: (obj, old) => {
      const errs = validateBinding(obj, namespaced);
      if (!sameRoleRef(obj.roleRef, old.roleRef)) {
        errs.push(field.invalid('roleRef', roleRefValue(asRecord(obj.roleRef) ?? {}), 'cannot change roleRef'));
      }
      return errs;
    },
    admitCreate: (obj, ctx) => admitBinding(obj, ctx, resource),
    admitUpdate: (obj, _old, _sub, ctx) => admitBinding(obj, ctx, resource),
  };
}

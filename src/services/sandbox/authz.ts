// Authorization for the sandbox: RBAC (rbac.authorization.k8s.io/v1 objects stored in the sandbox) decides every
// request, and the CSR admission checks for the `approve` / `sign` verbs on `signers` use the same rules.
// STUB (interface fixed; the RBAC engineer replaces the body): allows everything except writes by `viewer`.

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
}

export function createRbacAuthorizer(_source: RbacSource): Authorizer {
  return {
    authorize(a) {
      const readOnly = ['get', 'list', 'watch'].includes(a.verb);
      if (a.user.name === 'viewer' && !readOnly) return { allowed: false, reason: '' };
      return { allowed: true, reason: 'stub authorizer' };
    },
  };
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
  verb: 'approve' | 'sign',
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

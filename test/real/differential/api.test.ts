// Discovery, OpenAPI, watches, RBAC and the signer verbs, impersonation, and the other resources the sandbox serves
// (namespaces, configmaps, secrets, leases, service accounts, pods, webhooks, CRDs, APIServices): the sandbox against
// a real kube-apiserver 1.37, row by row.
import { type Answer, type Case, differential, statusOf, VIEWER } from './harness.js';
import { b64, CSR_PATH, condition, csr, PEM, TABLE, withConditions } from './fixtures.js';

const JANE = { user: 'jane', groups: ['developers'] };
const BOB = { user: 'bob' };
const merge = { 'content-type': 'application/merge-patch+json' };
const json = { 'content-type': 'application/json-patch+json' };
const smp = { 'content-type': 'application/strategic-merge-patch+json' };
const AGGREGATED =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const SSR = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const NS = '/api/v1/namespaces/diff';
const CM = `${NS}/configmaps`;
const SECRETS = `${NS}/secrets`;
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/diff/leases';
const SA = `${NS}/serviceaccounts`;
const PODS = `${NS}/pods`;
const LABELLED = '?labelSelector=diff%3Dyes';

/** The sandbox's groups: each must be in the real /apis with the same preferred version. */
const GROUPS = [
  'certificates.k8s.io',
  'coordination.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'rbac.authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
];

function body(a: Answer): Record<string, unknown> {
  return (a.body ?? {}) as Record<string, unknown>;
}

const ssar = (verb: string, resource: string, name = '', group = 'certificates.k8s.io', extra = {}) => ({
  kind: 'SelfSubjectAccessReview',
  apiVersion: 'authorization.k8s.io/v1',
  spec: { resourceAttributes: { group, resource, verb, name, ...extra } },
});
const allowed = (a: Answer) => ({ code: a.code, status: body(a).status });
/** The decision only: the viewer's bindings are named differently by the sandbox and the launcher. */
const decision = (a: Answer) => ({ code: a.code, allowed: (body(a).status as { allowed?: boolean })?.allowed });

const role = (name: string, rules: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels: { diff: 'yes' } },
  rules,
});
const bind = (name: string, roleName: string, subject: Record<string, string>) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name, labels: { diff: 'yes' } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects: [subject],
});
const cm = (name: string, data: Record<string, string> = { a: '1' }, extra = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { diff: 'yes' } },
  data,
  ...extra,
});
const secret = (name: string, type: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, labels: { diff: 'yes' } },
  type,
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const lease = (name: string, holder: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, labels: { diff: 'yes' } },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
});

const cases: Case[] = [
  // discovery
  { name: 'GET /api', path: '/api', omit: ['serverAddressByClientCIDRs'] },
  {
    name: 'GET /apis: the sandbox groups and their preferred versions',
    path: '/apis',
    pick: (a) => {
      const groups = (body(a).groups ?? []) as { name: string; preferredVersion: unknown }[];
      return {
        code: a.code,
        kind: body(a).kind,
        groups: GROUPS.map((g) => groups.find((x) => x.name === g)?.preferredVersion),
      };
    },
  },
  {
    name: 'GET /apis/certificates.k8s.io/v1: the CSR resources',
    path: '/apis/certificates.k8s.io/v1',
    pick: (a) => ({
      code: a.code,
      groupVersion: body(a).groupVersion,
      csr: ((body(a).resources ?? []) as { name: string }[])
        .filter((r) => r.name.startsWith('certificatesigningrequests'))
        .map((r) => ({ ...r, storageVersionHash: undefined })),
    }),
  },
  {
    name: 'GET /api/v1: namespaces, pods, secrets, configmaps, serviceaccounts entries',
    path: '/api/v1',
    pick: (a) => ({
      code: a.code,
      entries: ((body(a).resources ?? []) as { name: string }[])
        .filter((r) =>
          ['namespaces', 'pods', 'pods/status', 'secrets', 'configmaps', 'serviceaccounts'].includes(r.name),
        )
        .map((r) => ({ ...r, storageVersionHash: undefined }))
        .sort((x, y) => x.name.localeCompare(y.name)),
    }),
  },
  {
    name: 'GET /apis/coordination.k8s.io/v1: leases',
    path: '/apis/coordination.k8s.io/v1',
    pick: (a) => ({
      code: a.code,
      leases: ((body(a).resources ?? []) as { name: string }[])
        .filter((r) => r.name === 'leases')
        .map((r) => ({ ...r, storageVersionHash: undefined })),
    }),
  },
  {
    name: 'aggregated discovery (kubectl 1.37 Accept) of /apis',
    path: '/apis',
    headers: { accept: AGGREGATED },
    known: 'aggregated discovery is not served; clients fall back to the plain documents',
    pick: (a) => ({ code: a.code, type: a.contentType.split(';')[0], kind: body(a).kind }),
  },
  { name: 'GET /apis/nope.example.com/v1: NotFound', path: '/apis/nope.example.com/v1', pick: statusOf },
  { name: 'GET /apis/certificates.k8s.io/v9: NotFound', path: '/apis/certificates.k8s.io/v9', pick: statusOf },
  { name: 'GET /healthz', path: '/healthz', pick: (a) => ({ code: a.code, body: a.body }) },
  // OpenAPI
  {
    name: 'OpenAPI v3 index names the certificates group document',
    path: '/openapi/v3',
    pick: (a) => ({
      code: a.code,
      certificates: typeof (body(a).paths as Record<string, { serverRelativeURL?: string }>)?.[
        'apis/certificates.k8s.io/v1'
      ]?.serverRelativeURL,
    }),
  },
  {
    name: 'OpenAPI v3 certificates document: the CSR schema and its GVK',
    path: '/openapi/v3/apis/certificates.k8s.io/v1',
    known: 'the sandbox serves a minimal document (operations with fieldValidation), no schemas',
    pick: (a) => {
      const schemas = (body(a).components as { schemas?: Record<string, Record<string, unknown>> })?.schemas?.[
        'io.k8s.api.certificates.v1.CertificateSigningRequest'
      ];
      return {
        code: a.code,
        gvk: schemas?.['x-kubernetes-group-version-kind'],
        required: (schemas?.properties as Record<string, unknown> | undefined)?.spec !== undefined,
      };
    },
  },
  {
    name: 'OpenAPI v2',
    path: '/openapi/v2',
    // kubectl ≤ 1.26 needs it for `create -f`; the sandbox's has no definitions (kubectl then skips validation).
    pick: (a) => ({ code: a.code, swagger: body(a).swagger, title: (body(a).info as { title?: string })?.title }),
  },
  // namespaces
  {
    name: 'create namespace diff',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'diff', labels: { diff: 'yes' } } },
  },
  { name: 'get namespace diff', path: '/api/v1/namespaces/diff' },
  { name: 'namespace Table', path: '/api/v1/namespaces/diff', headers: { accept: TABLE } },
  {
    name: 'namespace with an invalid name',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } },
  },
  {
    name: 'create a namespace as the viewer',
    method: 'POST',
    path: '/api/v1/namespaces',
    as: VIEWER,
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
  },
  {
    name: 'configmap in a missing namespace',
    method: 'POST',
    path: '/api/v1/namespaces/nope/configmaps',
    body: cm('c'),
  },
  // configmaps
  { name: 'create configmap', method: 'POST', path: CM, body: cm('c1') },
  { name: 'get configmap', path: `${CM}/c1` },
  { name: 'configmap Table', path: `${CM}/c1`, headers: { accept: TABLE } },
  { name: 'configmap with a bad key', method: 'POST', path: CM, body: cm('c-bad', { 'a b': '1' }) },
  {
    name: 'configmap with a key in data and binaryData',
    method: 'POST',
    path: CM,
    body: cm('c-both', { a: '1' }, { binaryData: { a: b64('x') } }),
  },
  { name: 'immutable configmap', method: 'POST', path: CM, body: cm('c-imm', { a: '1' }, { immutable: true }) },
  {
    name: 'change an immutable configmap',
    method: 'PATCH',
    path: `${CM}/c-imm`,
    headers: merge,
    body: { data: { a: '2' } },
  },
  {
    name: 'strategic merge patch of a configmap',
    method: 'PATCH',
    path: `${CM}/c1`,
    headers: smp,
    body: { data: { b: '2' }, metadata: { labels: { smp: 'yes' } } },
  },
  {
    name: 'JSON patch removing a configmap key',
    method: 'PATCH',
    path: `${CM}/c1`,
    headers: json,
    body: [{ op: 'remove', path: '/data/a' }],
  },
  { name: 'list configmaps by label', path: `${CM}${LABELLED}`, omit: ['metadata.resourceVersion'] },
  { name: 'configmaps as the viewer', path: `${CM}${LABELLED}`, as: VIEWER, omit: ['metadata.resourceVersion'] },
  {
    name: 'configmaps field selector metadata.name',
    path: `${CM}?fieldSelector=metadata.name%3Dc1`,
    pick: (a) => ({ code: a.code, n: (body(a).items as unknown[] | undefined)?.length }),
  },
  { name: 'configmaps field selector data.a: unsupported', path: `${CM}?fieldSelector=data.a%3D1`, pick: statusOf },
  // secrets
  {
    name: 'create a TLS secret',
    method: 'POST',
    path: SECRETS,
    body: secret('s-tls', 'kubernetes.io/tls', { 'tls.crt': 'c', 'tls.key': 'k' }),
  },
  {
    name: 'TLS secret without tls.key',
    method: 'POST',
    path: SECRETS,
    body: secret('s-bad', 'kubernetes.io/tls', { 'tls.crt': 'c' }),
  },
  {
    name: 'secret with stringData',
    method: 'POST',
    path: SECRETS,
    body: { ...secret('s-str', 'Opaque', { a: '1' }), stringData: { b: 'two' } },
  },
  { name: 'secret Table', path: `${SECRETS}/s-tls`, headers: { accept: TABLE } },
  { name: 'secrets as the viewer: Forbidden', path: SECRETS, as: VIEWER },
  {
    name: 'change the type of a secret',
    method: 'PATCH',
    path: `${SECRETS}/s-str`,
    headers: merge,
    body: { type: 'kubernetes.io/tls' },
  },
  // leases
  { name: 'create lease', method: 'POST', path: LEASES, body: lease('l1', 'a') },
  { name: 'lease Table', path: `${LEASES}/l1`, headers: { accept: TABLE } },
  {
    name: 'lease update with a stale resourceVersion: Conflict',
    method: 'PUT',
    path: `${LEASES}/l1`,
    body: { ...lease('l1', 'b'), metadata: { name: 'l1', resourceVersion: '2' } },
  },
  {
    name: 'lease update without resourceVersion',
    method: 'PUT',
    path: `${LEASES}/l1`,
    body: lease('l1', 'b'),
  },
  {
    name: 'lease with a negative duration',
    method: 'POST',
    path: LEASES,
    body: { ...lease('l-neg', 'a'), spec: { leaseDurationSeconds: -1 } },
  },
  // service accounts
  {
    name: 'create service account',
    method: 'POST',
    path: SA,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', labels: { diff: 'yes' } } },
  },
  { name: 'service account Table', path: `${SA}/robot`, headers: { accept: TABLE } },
  {
    name: 'service account token request',
    known: 'no TokenRequest: the sandbox authenticates client certificates only',
    method: 'POST',
    path: `${SA}/robot/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    pick: (a) => ({ code: a.code, kind: body(a).kind, token: typeof (body(a).status as { token?: unknown })?.token }),
  },
  // pods
  {
    name: 'create a pod',
    method: 'POST',
    path: PODS,
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', labels: { diff: 'yes' } },
      spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] },
    },
    pick: (a) => ({
      code: a.code,
      phase: (body(a).status as { phase?: string })?.phase,
      containers: ((body(a).spec as { containers?: { name: string; image: string }[] })?.containers ?? []).map((c) => [
        c.name,
        c.image,
      ]),
    }),
  },
  {
    name: 'pod defaults (dnsPolicy, restartPolicy, schedulerName, tolerations, token volume)',
    path: `${PODS}/p1`,
    known: 'no pod defaulting or admission (ServiceAccount token volume, DefaultTolerationSeconds)',
    pick: (a) => ({ spec: body(a).spec }),
  },
  {
    name: 'pod without containers',
    method: 'POST',
    path: PODS,
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p-empty' }, spec: { containers: [] } },
    pick: statusOf,
  },
  {
    name: 'pod status by merge patch',
    method: 'PATCH',
    path: `${PODS}/p1/status`,
    headers: merge,
    body: { status: { phase: 'Running' } },
    pick: (a) => ({ code: a.code, phase: (body(a).status as { phase?: string })?.phase }),
  },
  {
    name: 'pods field selector status.phase',
    path: `${PODS}?fieldSelector=status.phase%3DRunning`,
    pick: (a) => ({ code: a.code, n: (body(a).items as unknown[] | undefined)?.length }),
  },
  {
    name: 'pods field selector spec.nodeName',
    path: `${PODS}?fieldSelector=spec.nodeName%3Dn1`,
    pick: (a) => ({ code: a.code, n: (body(a).items as unknown[] | undefined)?.length }),
  },
  { name: 'pods field selector unsupported', path: `${PODS}?fieldSelector=spec.foo%3Dx`, pick: statusOf },
  // RBAC and the signer verbs
  {
    name: 'create ClusterRole with approve on example.com/*',
    method: 'POST',
    path: `${RBAC}/clusterroles`,
    body: role('diff:approver', [
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['certificatesigningrequests'],
        verbs: ['get', 'list', 'watch', 'create'],
      },
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['certificatesigningrequests/approval', 'certificatesigningrequests/status'],
        verbs: ['update', 'patch'],
      },
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['signers'],
        resourceNames: ['example.com/*'],
        verbs: ['approve'],
      },
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['signers'],
        resourceNames: ['example.com/serving'],
        verbs: ['sign'],
      },
    ]),
  },
  {
    name: 'bind it to jane',
    method: 'POST',
    path: `${RBAC}/clusterrolebindings`,
    body: bind('diff:approver:jane', 'diff:approver', {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'User',
      name: 'jane',
    }),
  },
  { name: 'ClusterRole Table', path: `${RBAC}/clusterroles/diff:approver`, headers: { accept: TABLE } },
  {
    name: 'ClusterRoleBinding Table',
    path: `${RBAC}/clusterrolebindings/diff:approver:jane`,
    headers: { accept: TABLE },
  },
  {
    name: 'role with a rule without verbs',
    method: 'POST',
    path: `${RBAC}/clusterroles`,
    body: role('diff:bad', [{ apiGroups: [''], resources: ['pods'], verbs: [] }]),
  },
  {
    name: 'binding with a bad roleRef kind',
    method: 'POST',
    path: `${RBAC}/clusterrolebindings`,
    body: {
      ...bind('diff:badref', 'x', { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'x' }),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Pod', name: 'x' },
    },
  },
  {
    name: 'SSAR: jane may approve example.com/serving',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('approve', 'signers', 'example.com/serving'),
    pick: allowed,
  },
  {
    name: 'SSAR: jane may approve example.com/other (wildcard)',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('approve', 'signers', 'example.com/other'),
    pick: allowed,
  },
  {
    name: 'SSAR: jane may not approve example.org/x',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('approve', 'signers', 'example.org/x'),
    pick: allowed,
  },
  {
    name: 'SSAR: jane may sign example.com/serving',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('sign', 'signers', 'example.com/serving'),
    pick: allowed,
  },
  {
    name: 'SSAR: jane may not sign example.com/other',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('sign', 'signers', 'example.com/other'),
    pick: allowed,
  },
  {
    name: 'SSAR: the literal example.com/* name',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: ssar('approve', 'signers', 'example.com/*'),
    pick: allowed,
  },
  {
    name: 'SSAR: bob may not create CSRs',
    method: 'POST',
    path: SSAR,
    as: BOB,
    body: ssar('create', 'certificatesigningrequests'),
    pick: allowed,
  },
  {
    name: 'SSAR: viewer may list CSRs',
    method: 'POST',
    path: SSAR,
    as: VIEWER,
    body: ssar('list', 'certificatesigningrequests'),
    pick: decision,
  },
  {
    name: 'SSAR: admin may approve anything',
    method: 'POST',
    path: SSAR,
    body: ssar('approve', 'signers', 'kubernetes.io/kube-apiserver-client'),
    pick: allowed,
  },
  {
    name: 'SSAR: namespaced configmap get for viewer',
    method: 'POST',
    path: SSAR,
    as: VIEWER,
    body: ssar('get', 'configmaps', 'c1', '', { namespace: 'diff' }),
    pick: decision,
  },
  {
    name: 'SSAR without attributes',
    method: 'POST',
    path: SSAR,
    as: JANE,
    body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: {} },
    pick: statusOf,
  },
  { name: 'jane creates a CSR', method: 'POST', path: CSR_PATH, as: JANE, body: csr('d-rbac') },
  {
    name: 'jane creates one for example.org',
    method: 'POST',
    path: CSR_PATH,
    as: JANE,
    body: csr('d-org', { signerName: 'example.org/x' }),
  },
  {
    name: 'jane approves her example.com CSR',
    method: 'PUT',
    path: `${CSR_PATH}/d-rbac/approval`,
    as: JANE,
    body: withConditions('d-rbac', [condition('Approved')]),
  },
  {
    name: 'jane may not approve the example.org one',
    method: 'PUT',
    path: `${CSR_PATH}/d-org/approval`,
    as: JANE,
    body: withConditions('d-org', [condition('Approved')]),
  },
  {
    name: 'jane denies the example.org one: also the approve verb',
    method: 'PATCH',
    path: `${CSR_PATH}/d-org/approval`,
    as: JANE,
    headers: merge,
    body: { status: { conditions: [condition('Denied')] } },
  },
  {
    name: 'bob may not create a CSR',
    method: 'POST',
    path: CSR_PATH,
    as: BOB,
    body: csr('d-bob'),
  },
  // impersonation
  {
    name: 'whoami',
    method: 'POST',
    path: SSR,
    body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' },
  },
  {
    name: 'whoami impersonating jane with a group and extra',
    method: 'POST',
    path: SSR,
    headers: { 'impersonate-user': 'jane', 'impersonate-group': 'developers', 'impersonate-extra-scopes': 'view' },
    body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' },
  },
  {
    name: 'whoami impersonating a service account',
    method: 'POST',
    path: SSR,
    headers: { 'impersonate-user': 'system:serviceaccount:diff:robot' },
    body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' },
  },
  {
    name: 'whoami impersonating a node',
    method: 'POST',
    path: SSR,
    headers: { 'impersonate-user': 'system:node:n1', 'impersonate-group': 'system:nodes' },
    body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' },
  },
  {
    name: 'impersonating the viewer to create a CSR: Forbidden as viewer',
    method: 'POST',
    path: CSR_PATH,
    headers: { 'impersonate-user': 'viewer' },
    body: csr('d-imp'),
  },
  {
    name: 'impersonating jane to approve',
    method: 'PATCH',
    path: `${CSR_PATH}/d-org/approval`,
    headers: { 'impersonate-user': 'jane' },
    body: { status: { conditions: [condition('Approved')] } },
  },
  {
    name: 'a CSR created as an impersonated service account',
    method: 'POST',
    path: CSR_PATH,
    headers: { 'impersonate-user': 'system:serviceaccount:diff:robot' },
    body: csr('d-sa'),
  },
  {
    name: 'the viewer may not impersonate',
    known: '1.37 constrained impersonation words the refusal by the target request (impersonate-on:user-info:list)',
    method: 'GET',
    path: CSR_PATH,
    as: VIEWER,
    headers: { 'impersonate-user': 'admin' },
  },
  {
    name: 'the viewer may not impersonate a group',
    known: '1.37 constrained impersonation words the refusal by the target request (impersonate-on:user-info:list)',
    method: 'GET',
    path: CSR_PATH,
    as: VIEWER,
    headers: { 'impersonate-user': 'viewer', 'impersonate-group': 'system:masters' },
  },
  {
    name: 'impersonating a group without a user',
    method: 'GET',
    path: CSR_PATH,
    headers: { 'impersonate-group': 'developers' },
    pick: statusOf,
  },
  // watches
  {
    name: 'watch CSRs from now with timeoutSeconds=1: no events',
    path: `${CSR_PATH}?watch=true&labelSelector=diff%3Dnone&timeoutSeconds=1`,
    watch: { ms: 5000 },
  },
  {
    name: 'watch CSRs without resourceVersion: the current ones as ADDED',
    path: `${CSR_PATH}?watch=true&labelSelector=diff%3Dyes&timeoutSeconds=1`,
    watch: { ms: 5000 },
    sort: [''],
  },
  {
    name: 'watch with sendInitialEvents and bookmarks',
    path: `${CSR_PATH}?watch=true&labelSelector=diff%3Dyes&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
    watch: { ms: 5000 },
    pick: (a) => ({
      code: a.code,
      events: (a.body as { type: string; object: { metadata: unknown } }[]).map((e) => [
        e.type,
        e.type === 'BOOKMARK' ? e.object.metadata : undefined,
      ]),
    }),
  },
  {
    name: 'sendInitialEvents without resourceVersionMatch',
    path: `${CSR_PATH}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`,
    watch: { ms: 3000 },
  },
  {
    // etcd is not compacted within a test, so a real server replays from revision 1: so must the sandbox's history.
    name: 'watch from resourceVersion=1 replays the history',
    path: `${CSR_PATH}?watch=true&resourceVersion=1&timeoutSeconds=1`,
    watch: { ms: 5000 },
    pick: (a) => ({
      code: a.code,
      events: (a.body as { type: string; object: { metadata: { name?: string } } }[]).map((e) => [
        e.type,
        e.object.metadata.name,
      ]),
    }),
  },
  {
    name: 'a bookmark object',
    path: `${CSR_PATH}?watch=true&labelSelector=diff%3Dyes&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
    watch: { ms: 5000 },
    pick: (a) => (a.body as { type: string; object: unknown }[]).find((e) => e.type === 'BOOKMARK'),
  },
  {
    name: 'watch a single CSR by name',
    path: `${CSR_PATH}?watch=true&fieldSelector=metadata.name%3Dd-rbac&timeoutSeconds=1`,
    watch: { ms: 5000 },
  },
  {
    name: 'watch in Table form',
    path: `${CSR_PATH}?watch=true&fieldSelector=metadata.name%3Dd-rbac&timeoutSeconds=1`,
    headers: { accept: TABLE },
    watch: { ms: 5000 },
  },
  {
    name: 'list with resourceVersionMatch but no resourceVersion',
    path: `${CSR_PATH}?resourceVersionMatch=NotOlderThan`,
    pick: statusOf,
  },
  {
    name: 'list with resourceVersionMatch=Exact and resourceVersion=0',
    path: `${CSR_PATH}?resourceVersion=0&resourceVersionMatch=Exact`,
    pick: statusOf,
  },
  {
    name: 'list with an unknown resourceVersionMatch',
    path: `${CSR_PATH}?resourceVersion=1&resourceVersionMatch=Newest`,
    pick: statusOf,
  },
  { name: 'list with sendInitialEvents', path: `${CSR_PATH}?sendInitialEvents=true`, pick: statusOf },
  {
    name: 'watch with resourceVersionMatch but no sendInitialEvents',
    path: `${CSR_PATH}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`,
    watch: { ms: 3000 },
  },
  {
    name: 'list with resourceVersion=0',
    path: `${CSR_PATH}?resourceVersion=0&labelSelector=diff%3Dyes`,
    omit: ['metadata.resourceVersion'],
  },
  // webhooks, CRDs, APIServices
  {
    name: 'create a validating webhook configuration',
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'diff-hook', labels: { diff: 'yes' } },
      webhooks: [],
    },
  },
  {
    name: 'create an APIService',
    method: 'POST',
    path: '/apis/apiregistration.k8s.io/v1/apiservices',
    body: {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1.diff.example.com', labels: { diff: 'yes' } },
      spec: {
        group: 'diff.example.com',
        version: 'v1',
        groupPriorityMinimum: 100,
        versionPriority: 10,
        insecureSkipTLSVerify: true,
        service: { namespace: 'diff', name: 'x', port: 443 },
      },
    },
    pick: (a) => ({ code: a.code, spec: body(a).spec }),
  },
  {
    name: 'an APIService with a name not version.group',
    method: 'POST',
    path: '/apis/apiregistration.k8s.io/v1/apiservices',
    body: {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'wrong' },
      spec: { group: 'diff.example.com', version: 'v1', groupPriorityMinimum: 100, versionPriority: 10 },
    },
    pick: statusOf,
  },
  // What the renewal radar reads (docs/certs.md): caBundle of each webhook, of a CRD's conversion webhook, of an
  // APIService, and the watches over them.
  {
    name: 'watch validating webhook configurations from the start (radar)',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?watch=true&labelSelector=radar%3Dyes',
    watch: { untilEvents: 1, ms: 3000 },
    before: async (s) => {
      const hook = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'radar-watched', labels: { radar: 'yes', diff: 'yes' } },
        webhooks: [],
      };
      for (const target of ['sandbox', 'real'] as const) {
        await s.send(target, {
          name: 'seed',
          method: 'POST',
          path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
          body: hook,
        });
      }
    },
  },
  {
    name: 'a validating webhook with a caBundle (radar)',
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'radar-validating', labels: { diff: 'yes' } },
      webhooks: [
        {
          name: 'policy.radar.example.com',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          clientConfig: { url: 'https://radar.example.com/validate', caBundle: b64(PEM) },
        },
      ],
    },
    pick: (a) => ({ code: a.code, webhooks: body(a).webhooks }),
  },
  {
    name: 'a mutating webhook with a caBundle and a service (radar)',
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'radar-mutating', labels: { diff: 'yes' } },
      webhooks: [
        {
          name: 'inject.radar.example.com',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          clientConfig: { service: { namespace: 'diff', name: 'radar', path: '/mutate' }, caBundle: b64(PEM) },
        },
      ],
    },
    pick: (a) => ({ code: a.code, webhooks: body(a).webhooks }),
  },
  {
    name: 'list mutating webhook configurations by label (radar)',
    path: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations${LABELLED}`,
    omit: ['metadata.resourceVersion'],
    pick: (a) => ({
      code: a.code,
      names: ((body(a).items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    }),
  },
  {
    name: 'a webhook caBundle that is not PEM (radar: shown as unparseable)',
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'radar-garbage', labels: { diff: 'yes' } },
      webhooks: [
        {
          name: 'garbage.radar.example.com',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          clientConfig: { url: 'https://radar.example.com/x', caBundle: b64('not a certificate') },
        },
      ],
    },
    pick: (a) => ({
      code: a.code,
      caBundle: (body(a).webhooks as { clientConfig: { caBundle?: string } }[] | undefined)?.[0]?.clientConfig.caBundle,
    }),
  },
  {
    name: 'a CRD with a conversion webhook caBundle (radar)',
    method: 'POST',
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      // Not labelled diff=yes: the row that lists CRDs by that label stays as it was (the real server adds a status).
      metadata: { name: 'gadgets.radar.example.com', labels: { radar: 'yes' } },
      spec: {
        group: 'radar.example.com',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
          {
            name: 'v2',
            served: true,
            storage: false,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
        conversion: {
          strategy: 'Webhook',
          webhook: {
            conversionReviewVersions: ['v1'],
            clientConfig: { service: { namespace: 'diff', name: 'radar', path: '/convert' }, caBundle: b64(PEM) },
          },
        },
      },
    },
    pick: (a) => ({ code: a.code, conversion: (body(a).spec as { conversion?: unknown } | undefined)?.conversion }),
  },
  {
    name: 'an APIService with a caBundle (radar)',
    method: 'POST',
    path: '/apis/apiregistration.k8s.io/v1/apiservices',
    body: {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      // Not radar.example.com: kube-apiserver registers v1.radar.example.com itself for the CRD above (409).
      metadata: { name: 'v1.radar-aggregated.example.com', labels: { diff: 'yes' } },
      spec: {
        group: 'radar-aggregated.example.com',
        version: 'v1',
        groupPriorityMinimum: 100,
        versionPriority: 10,
        caBundle: b64(PEM),
        service: { namespace: 'diff', name: 'radar', port: 443 },
      },
    },
    pick: (a) => ({ code: a.code, spec: body(a).spec }),
  },
  {
    name: 'list CRDs by label',
    path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions${LABELLED}`,
    omit: ['metadata.resourceVersion'],
  },
  // deletes
  { name: 'delete a configmap', method: 'DELETE', path: `${CM}/c1`, pick: statusOf },
  {
    name: 'deletecollection of configmaps by label',
    method: 'DELETE',
    path: `${CM}${LABELLED}`,
    pick: (a) => ({ code: a.code, kind: body(a).kind }),
  },
  {
    name: 'delete a CSR returns the object',
    method: 'DELETE',
    path: `${CSR_PATH}/d-org`,
    omit: ['metadata.deletionTimestamp'],
  },
  { name: 'viewer may not delete', method: 'DELETE', path: `${CSR_PATH}/d-rbac`, as: VIEWER },
  {
    name: 'delete the namespace',
    method: 'DELETE',
    path: '/api/v1/namespaces/diff',
    known: 'namespaces are deleted at once (no Terminating phase, no namespace controller)',
    pick: (a) => ({ code: a.code, phase: (body(a).status as { phase?: string })?.phase }),
  },
];

void PEM;
differential(cases);

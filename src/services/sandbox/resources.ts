// The resources the sandbox serves: names, scope, verbs, subresources, strategies and field selectors, from which
// routing and discovery are derived.
import {
  configMapStrategy,
  namespaceStrategy,
  leaseStrategy,
  apiServiceStrategy,
  crdStrategy,
  nodeStrategy,
  webhookConfigStrategy,
  plainStrategy,
  podStrategy,
  secretStrategy,
  statusSplitStrategy,
} from './core.js';
import { csrStrategy } from './csr.js';
import { bindingStrategy, roleStrategy } from './rbac-strategy.js';
import { CTB_RESOURCE, ctbAtVersion, ctbStrategy, PCR_RESOURCE, pcrAtVersion, pcrStrategy } from './pcr.js';
import type { KObject } from './store.js';
import type { Strategy } from './strategy.js';

export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, the URL segment. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Subresource name → its verbs. */
  subresources: Record<string, string[]>;
  strategy: Strategy;
  /** Field labels accepted by field selectors (besides the metadata ones). */
  fieldLabels: string[];
  /** Only served once enableApiGroup(group) was called (a CRD "installed"). */
  optional?: boolean;
  /** Supports deletecollection. */
  deleteCollection?: boolean;
  /** Create-only virtual resource (reviews), not stored. */
  virtual?: boolean;
  /** DELETE answers with the object instead of a Status. */
  returnDeletedObject?: boolean;
  /** AllowUnconditionalUpdate() == false: a PUT must carry metadata.resourceVersion (leases). */
  requireResourceVersion?: boolean;
  /**
   * Served at several versions from one storage: objects are stored at `storageVersion` (whatever version wrote
   * them, as the real server converts) and `atVersion` renders a stored object at a served version.
   */
  storageVersion?: string;
  atVersion?: (obj: KObject, version: string) => KObject;
}

const CRUD = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const CRUDC = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB = ['get', 'patch', 'update'];
const META_NS = ['metadata.name', 'metadata.namespace'];

export const RESOURCES: ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    verbs: CRUD,
    shortNames: ['ns'],
    subresources: { status: SUB },
    strategy: namespaceStrategy,
    fieldLabels: ['metadata.name', 'status.phase'],
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: CRUDC,
    shortNames: ['po'],
    categories: ['all'],
    subresources: { status: SUB, log: ['get'] },
    strategy: podStrategy,
    fieldLabels: [
      ...META_NS,
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    deleteCollection: true,
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    verbs: CRUDC,
    shortNames: ['no'],
    subresources: { status: SUB },
    strategy: nodeStrategy,
    fieldLabels: ['metadata.name', 'spec.unschedulable'],
    deleteCollection: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    verbs: CRUDC,
    shortNames: ['sa'],
    subresources: {},
    strategy: plainStrategy,
    fieldLabels: META_NS,
    deleteCollection: true,
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    verbs: CRUDC,
    subresources: {},
    strategy: secretStrategy,
    fieldLabels: [...META_NS, 'type'],
    deleteCollection: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    verbs: CRUDC,
    shortNames: ['cm'],
    subresources: {},
    strategy: configMapStrategy,
    fieldLabels: META_NS,
    deleteCollection: true,
  },
  {
    group: 'certificates.k8s.io',
    version: 'v1',
    resource: 'certificatesigningrequests',
    singular: 'certificatesigningrequest',
    kind: 'CertificateSigningRequest',
    namespaced: false,
    verbs: CRUDC,
    shortNames: ['csr'],
    subresources: { approval: SUB, status: SUB },
    strategy: csrStrategy,
    fieldLabels: ['metadata.name', 'spec.signerName'],
    deleteCollection: true,
  },
  // PodCertificateRequests and ClusterTrustBundles: GA in 1.37 (v1), v1beta1 served too, one storage.
  ...['v1', 'v1beta1'].flatMap((version): ResourceDef[] => [
    {
      group: 'certificates.k8s.io',
      version,
      resource: CTB_RESOURCE,
      singular: 'clustertrustbundle',
      kind: 'ClusterTrustBundle',
      namespaced: false,
      verbs: CRUDC,
      subresources: {},
      strategy: ctbStrategy,
      fieldLabels: ['metadata.name', 'spec.signerName'],
      deleteCollection: true,
      requireResourceVersion: true,
      storageVersion: 'v1',
      atVersion: ctbAtVersion,
    },
    {
      group: 'certificates.k8s.io',
      version,
      resource: PCR_RESOURCE,
      singular: 'podcertificaterequest',
      kind: 'PodCertificateRequest',
      namespaced: true,
      verbs: CRUDC,
      subresources: { status: SUB },
      strategy: pcrStrategy(version),
      fieldLabels: ['metadata.name', 'spec.signerName', 'spec.podName', 'spec.nodeName'],
      deleteCollection: true,
      requireResourceVersion: true,
      storageVersion: 'v1',
      atVersion: pcrAtVersion,
    },
  ]),
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    singular: 'lease',
    kind: 'Lease',
    namespaced: true,
    verbs: CRUDC,
    subresources: {},
    strategy: leaseStrategy,
    requireResourceVersion: true,
    fieldLabels: META_NS,
    deleteCollection: true,
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'selfsubjectreviews',
    singular: 'selfsubjectreview',
    kind: 'SelfSubjectReview',
    namespaced: false,
    verbs: ['create'],
    subresources: {},
    strategy: plainStrategy,
    fieldLabels: [],
    virtual: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectaccessreviews',
    singular: 'selfsubjectaccessreview',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
    verbs: ['create'],
    subresources: {},
    strategy: plainStrategy,
    fieldLabels: [],
    virtual: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectrulesreviews',
    singular: 'selfsubjectrulesreview',
    kind: 'SelfSubjectRulesReview',
    namespaced: false,
    verbs: ['create'],
    subresources: {},
    strategy: plainStrategy,
    fieldLabels: [],
    virtual: true,
  },
  ...(
    [
      ['clusterroles', 'clusterrole', 'ClusterRole', false],
      ['clusterrolebindings', 'clusterrolebinding', 'ClusterRoleBinding', false],
      ['roles', 'role', 'Role', true],
      ['rolebindings', 'rolebinding', 'RoleBinding', true],
    ] as const
  ).map(
    ([resource, singular, kind, namespaced]): ResourceDef => ({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource,
      singular,
      kind,
      namespaced,
      verbs: CRUDC,
      subresources: {},
      strategy: resource.endsWith('bindings') ? bindingStrategy(namespaced) : roleStrategy(namespaced),
      fieldLabels: namespaced ? META_NS : ['metadata.name'],
      deleteCollection: true,
    }),
  ),
  // What the renewal radar reads caBundles from (kubectl api-resources: the api-extensions category).
  ...(['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'] as const).map(
    (resource): ResourceDef => ({
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      resource,
      singular: resource.slice(0, -1),
      kind: resource.startsWith('validating') ? 'ValidatingWebhookConfiguration' : 'MutatingWebhookConfiguration',
      namespaced: false,
      verbs: CRUDC,
      categories: ['api-extensions'],
      subresources: {},
      strategy: webhookConfigStrategy,
      fieldLabels: ['metadata.name'],
      deleteCollection: true,
    }),
  ),
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    verbs: CRUDC,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: { status: SUB },
    strategy: crdStrategy,
    fieldLabels: ['metadata.name'],
    deleteCollection: true,
  },
  {
    group: 'apiregistration.k8s.io',
    version: 'v1',
    resource: 'apiservices',
    singular: 'apiservice',
    kind: 'APIService',
    namespaced: false,
    verbs: CRUDC,
    categories: ['api-extensions'],
    subresources: { status: SUB },
    strategy: apiServiceStrategy,
    fieldLabels: ['metadata.name'],
    deleteCollection: true,
  },
  {
    group: 'operator.tigera.io',
    version: 'v1',
    resource: 'tigerastatuses',
    singular: 'tigerastatus',
    kind: 'TigeraStatus',
    namespaced: false,
    verbs: CRUDC,
    subresources: { status: SUB },
    strategy: statusSplitStrategy,
    fieldLabels: ['metadata.name'],
    optional: true,
    deleteCollection: true,
  },
  {
    group: 'operator.tigera.io',
    version: 'v1',
    resource: 'installations',
    singular: 'installation',
    kind: 'Installation',
    namespaced: false,
    verbs: CRUDC,
    subresources: { status: SUB },
    strategy: statusSplitStrategy,
    fieldLabels: ['metadata.name'],
    optional: true,
    deleteCollection: true,
  },
];

export const GROUP_ORDER = [
  '',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'rbac.authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'operator.tigera.io',
];

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The versions a group serves, the preferred (v1) first. */
export function groupVersions(group: string): string[] {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === group).map((r) => r.version))];
  return versions.sort((a, b) => (a === 'v1' ? -1 : b === 'v1' ? 1 : a.localeCompare(b)));
}

/** `certificates.k8s.io/v1`, or `v1` for the core group. */
export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

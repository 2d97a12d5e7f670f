// Decodes `application/vnd.kubernetes.protobuf` request bodies into the JSON the sandbox stores. kubectl's typed
// clients (create clusterrolebinding / role / secret / configmap / namespace, auth can-i, certificate approve) send
// built-in objects this way: the "k8s\0" magic, a runtime.Unknown envelope, then the object's generated.proto
// message. Only the kinds the sandbox serves are described; field numbers are those of k8s.io/api.

export class ProtobufError extends Error {
  constructor(
    readonly status: 400 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A field: JSON name and type; `ptr` keeps a zero number (a pointer field in Go). */
interface Field {
  name: string;
  type: string;
  repeated?: boolean;
  ptr?: boolean;
}

type Schema = Record<number, Field>;

const f = (name: string, type: string, opts: { repeated?: boolean; ptr?: boolean } = {}): Field => ({
  name,
  type,
  ...opts,
});
const strings = (name: string) => f(name, 'string', { repeated: true });

// Types: 'string', 'bytes' (base64 in JSON), 'int', 'bool', 'time' (meta.v1.Time / MicroTime), 'map:<value type>',
// or the name of another message below.
const MESSAGES: Record<string, Schema> = {
  // runtime
  Unknown: {
    1: f('typeMeta', 'RuntimeTypeMeta'),
    2: f('raw', 'bytes'),
    3: f('contentEncoding', 'string'),
    4: f('contentType', 'string'),
  },
  RuntimeTypeMeta: { 1: f('apiVersion', 'string'), 2: f('kind', 'string') },
  // meta.k8s.io/v1
  ObjectMeta: {
    1: f('name', 'string'),
    2: f('generateName', 'string'),
    3: f('namespace', 'string'),
    4: f('selfLink', 'string'),
    5: f('uid', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('generation', 'int'),
    8: f('creationTimestamp', 'time'),
    9: f('deletionTimestamp', 'time'),
    10: f('deletionGracePeriodSeconds', 'int', { ptr: true }),
    11: f('labels', 'map:string'),
    12: f('annotations', 'map:string'),
    13: f('ownerReferences', 'OwnerReference', { repeated: true }),
    14: strings('finalizers'),
  },
  OwnerReference: {
    1: f('kind', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('controller', 'bool'),
    7: f('blockOwnerDeletion', 'bool'),
  },
  LabelSelector: {
    1: f('matchLabels', 'map:string'),
    2: f('matchExpressions', 'LabelSelectorRequirement', { repeated: true }),
  },
  LabelSelectorRequirement: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: strings('values') },
  ExtraValue: { 1: strings('items') },
  // rbac.authorization.k8s.io/v1
  ClusterRole: {
    1: f('metadata', 'ObjectMeta'),
    2: f('rules', 'PolicyRule', { repeated: true }),
    3: f('aggregationRule', 'AggregationRule'),
  },
  Role: { 1: f('metadata', 'ObjectMeta'), 2: f('rules', 'PolicyRule', { repeated: true }) },
  ClusterRoleBinding: {
    1: f('metadata', 'ObjectMeta'),
    2: f('subjects', 'Subject', { repeated: true }),
    3: f('roleRef', 'RoleRef'),
  },
  RoleBinding: {
    1: f('metadata', 'ObjectMeta'),
    2: f('subjects', 'Subject', { repeated: true }),
    3: f('roleRef', 'RoleRef'),
  },
  AggregationRule: { 1: f('clusterRoleSelectors', 'LabelSelector', { repeated: true }) },
  PolicyRule: {
    1: strings('verbs'),
    2: strings('apiGroups'),
    3: strings('resources'),
    4: strings('resourceNames'),
    5: strings('nonResourceURLs'),
  },
  RoleRef: { 1: f('apiGroup', 'string'), 2: f('kind', 'string'), 3: f('name', 'string') },
  Subject: { 1: f('kind', 'string'), 2: f('apiGroup', 'string'), 3: f('name', 'string'), 4: f('namespace', 'string') },
  // authorization.k8s.io/v1
  SelfSubjectAccessReview: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'SelfSubjectAccessReviewSpec') },
  SelfSubjectAccessReviewSpec: {
    1: f('resourceAttributes', 'ResourceAttributes'),
    2: f('nonResourceAttributes', 'NonResourceAttributes'),
  },
  SubjectAccessReview: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'SubjectAccessReviewSpec') },
  LocalSubjectAccessReview: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'SubjectAccessReviewSpec') },
  SubjectAccessReviewSpec: {
    1: f('resourceAttributes', 'ResourceAttributes'),
    2: f('nonResourceAttributes', 'NonResourceAttributes'),
    3: f('user', 'string'),
    4: strings('groups'),
    5: f('extra', 'map:ExtraValue'),
    6: f('uid', 'string'),
  },
  SelfSubjectRulesReview: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'SelfSubjectRulesReviewSpec') },
  SelfSubjectRulesReviewSpec: { 1: f('namespace', 'string') },
  ResourceAttributes: {
    1: f('namespace', 'string'),
    2: f('verb', 'string'),
    3: f('group', 'string'),
    4: f('version', 'string'),
    5: f('resource', 'string'),
    6: f('subresource', 'string'),
    7: f('name', 'string'),
  },
  NonResourceAttributes: { 1: f('path', 'string'), 2: f('verb', 'string') },
  // certificates.k8s.io/v1
  CertificateSigningRequest: {
    1: f('metadata', 'ObjectMeta'),
    2: f('spec', 'CertificateSigningRequestSpec'),
    3: f('status', 'CertificateSigningRequestStatus'),
  },
  CertificateSigningRequestSpec: {
    1: f('request', 'bytes'),
    2: f('username', 'string'),
    3: f('uid', 'string'),
    4: strings('groups'),
    5: strings('usages'),
    6: f('extra', 'map:ExtraValue'),
    7: f('signerName', 'string'),
    8: f('expirationSeconds', 'int', { ptr: true }),
  },
  CertificateSigningRequestStatus: {
    1: f('conditions', 'CertificateSigningRequestCondition', { repeated: true }),
    2: f('certificate', 'bytes'),
  },
  CertificateSigningRequestCondition: {
    1: f('type', 'string'),
    2: f('reason', 'string'),
    3: f('message', 'string'),
    4: f('lastUpdateTime', 'time'),
    5: f('lastTransitionTime', 'time'),
    6: f('status', 'string'),
  },
  // core/v1
  Namespace: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'NamespaceSpec') },
  NamespaceSpec: { 1: strings('finalizers') },
  Secret: {
    1: f('metadata', 'ObjectMeta'),
    2: f('data', 'map:bytes'),
    3: f('type', 'string'),
    4: f('stringData', 'map:string'),
    5: f('immutable', 'bool'),
  },
  ConfigMap: {
    1: f('metadata', 'ObjectMeta'),
    2: f('data', 'map:string'),
    3: f('binaryData', 'map:bytes'),
    4: f('immutable', 'bool'),
  },
  ServiceAccount: {
    1: f('metadata', 'ObjectMeta'),
    2: f('secrets', 'ObjectReference', { repeated: true }),
    3: f('imagePullSecrets', 'LocalObjectReference', { repeated: true }),
    4: f('automountServiceAccountToken', 'bool'),
  },
  ObjectReference: {
    1: f('kind', 'string'),
    2: f('namespace', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('fieldPath', 'string'),
  },
  LocalObjectReference: { 1: f('name', 'string') },
  // coordination.k8s.io/v1
  Lease: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'LeaseSpec') },
  LeaseSpec: {
    1: f('holderIdentity', 'string'),
    2: f('leaseDurationSeconds', 'int', { ptr: true }),
    3: f('acquireTime', 'time'),
    4: f('renewTime', 'time'),
    5: f('leaseTransitions', 'int', { ptr: true }),
    6: f('strategy', 'string'),
    7: f('preferredHolder', 'string'),
  },
};

/** Kinds whose protobuf bodies the sandbox decodes. */
export const PROTOBUF_KINDS: readonly string[] = [
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'SelfSubjectAccessReview',
  'SubjectAccessReview',
  'LocalSubjectAccessReview',
  'SelfSubjectRulesReview',
  'CertificateSigningRequest',
  'Namespace',
  'Secret',
  'ConfigMap',
  'ServiceAccount',
  'Lease',
];

// ---------------------------------------------------------------------------------------------------------------
// Wire format

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError(400, 'The protobuf body ends inside a number.');
      const byte = this.buf[this.pos++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtobufError(400, 'The protobuf body holds a number longer than 64 bits.');
    }
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtobufError(400, 'The protobuf body ends inside a field.');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtobufError(400, `The protobuf body uses wire type ${wireType}, which Kubernetes never sends.`);
    if (this.pos > this.buf.length) throw new ProtobufError(400, 'The protobuf body ends inside a field.');
  }
}

/** int64 as a signed JavaScript number (two's complement over 64 bits). */
function signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

function timeString(msg: Buffer): string | undefined {
  const r = new Reader(msg);
  let seconds = 0;
  let nanos = 0;
  while (!r.done) {
    const tag = Number(r.varint());
    if (tag >> 3 === 1 && (tag & 7) === 0) seconds = signed(r.varint());
    else if (tag >> 3 === 2 && (tag & 7) === 0) nanos = signed(r.varint());
    else r.skip(tag & 7);
  }
  if (seconds === 0 && nanos === 0) return undefined;
  const d = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
  const iso = d.toISOString();
  if (nanos % 1e9 === 0) return iso.replace(/\.\d{3}Z$/, 'Z');
  // MicroTime keeps microseconds, as its JSON form does.
  return iso.replace(/\.\d{3}Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`);
}

function scalar(type: string, wireType: number, r: Reader): unknown {
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes().toString('base64');
    case 'int':
      return signed(r.varint());
    case 'bool':
      return r.varint() !== 0n;
    case 'time':
      return timeString(r.bytes());
    default:
      if (wireType !== 2) throw new ProtobufError(400, `The protobuf field for ${type} is not length-delimited.`);
      return decodeMessage(type, r.bytes());
  }
}

function expectedWireType(type: string): number {
  return type === 'int' || type === 'bool' ? 0 : 2;
}

function mapEntry(valueType: string, msg: Buffer): [string, unknown] {
  const r = new Reader(msg);
  let key = '';
  let value: unknown = valueType === 'string' ? '' : valueType === 'bytes' ? '' : {};
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    if (field === 1 && (tag & 7) === 2) key = r.bytes().toString('utf8');
    else if (field === 2 && (tag & 7) === 2) {
      const v = scalar(valueType, 2, r);
      // ExtraValue is a list in JSON.
      value = valueType === 'ExtraValue' ? ((v as { items?: string[] }).items ?? []) : v;
    } else r.skip(tag & 7);
  }
  return [key, value];
}

/** Go's omitempty for what arrives: '' and non-pointer zeros are dropped; the bools here are all pointers. */
function isEmpty(v: unknown, field: Field): boolean {
  if (v === undefined || v === '') return true;
  if (v === 0) return !field.ptr;
  return false;
}

function decodeMessage(name: string, buf: Buffer): Record<string, unknown> {
  const schema = MESSAGES[name];
  if (!schema) throw new ProtobufError(415, `The sandbox cannot decode protobuf for ${name}; send JSON instead.`);
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >> 3;
    const wireType = tag & 7;
    const field = schema[num];
    if (!field) {
      r.skip(wireType);
      continue;
    }
    if (field.type.startsWith('map:')) {
      if (wireType !== 2) throw new ProtobufError(400, `The protobuf map ${field.name} is not length-delimited.`);
      const [k, v] = mapEntry(field.type.slice(4), r.bytes());
      const map = (out[field.name] ??= {}) as Record<string, unknown>;
      map[k] = v;
      continue;
    }
    if (wireType !== expectedWireType(field.type)) {
      // A packed repeated number, or a type mismatch: Kubernetes sends neither for these messages.
      throw new ProtobufError(400, `The protobuf field ${field.name} has wire type ${wireType}.`);
    }
    const v = scalar(field.type, wireType, r);
    if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(v);
    } else if (!isEmpty(v, field)) {
      out[field.name] = v;
    }
  }
  return out;
}

/** Decodes a kubernetes protobuf request body to the object's JSON (apiVersion and kind included). */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError(400, 'The protobuf body does not start with the Kubernetes "k8s\\0" prefix.');
  }
  const unknown = decodeMessage('Unknown', body.subarray(MAGIC.length));
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  if (unknown.contentEncoding) {
    throw new ProtobufError(
      415,
      `The protobuf body is encoded with ${String(unknown.contentEncoding)}; send it plain.`,
    );
  }
  const kind = typeMeta.kind ?? '';
  if (!PROTOBUF_KINDS.includes(kind)) {
    throw new ProtobufError(415, `The sandbox cannot decode protobuf for kind "${kind}"; send JSON instead.`);
  }
  const raw = Buffer.from(typeof unknown.raw === 'string' ? unknown.raw : '', 'base64');
  const obj = decodeMessage(kind, raw);
  return { apiVersion: typeMeta.apiVersion ?? '', kind, ...obj };
}

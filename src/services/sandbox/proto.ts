// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into JSON objects, for the
// kinds kubectl writes through its typed clients: CertificateSigningRequest (certificate approve/deny), Namespace,
// Secret and ConfigMap (kubectl create namespace/secret/configmap). Field numbers from k8s.io/api generated.proto.

type Scalar = 'string' | 'bytes' | 'int32' | 'int64' | 'bool' | 'time';
type FieldType = Scalar | { msg: Schema } | { map: Scalar | { msg: Schema } };
interface Schema {
  [field: number]: [name: string, type: FieldType, repeated?: boolean];
}

const TIME: Schema = { 1: ['seconds', 'int64'], 2: ['nanos', 'int32'] };
const OWNER_REF: Schema = {
  1: ['kind', 'string'],
  3: ['name', 'string'],
  4: ['uid', 'string'],
  5: ['apiVersion', 'string'],
  6: ['controller', 'bool'],
  7: ['blockOwnerDeletion', 'bool'],
};
const OBJECT_META: Schema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int64'],
  8: ['creationTimestamp', 'time'],
  9: ['deletionTimestamp', 'time'],
  10: ['deletionGracePeriodSeconds', 'int64'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  13: ['ownerReferences', { msg: OWNER_REF }, true],
  14: ['finalizers', 'string', true],
};
const EXTRA_VALUE: Schema = { 1: ['items', 'string', true] };
const CSR_CONDITION: Schema = {
  1: ['type', 'string'],
  2: ['reason', 'string'],
  3: ['message', 'string'],
  4: ['lastUpdateTime', 'time'],
  5: ['lastTransitionTime', 'time'],
  6: ['status', 'string'],
};
const CSR: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: [
    'spec',
    {
      msg: {
        1: ['request', 'bytes'],
        2: ['username', 'string'],
        3: ['uid', 'string'],
        4: ['groups', 'string', true],
        5: ['usages', 'string', true],
        6: ['extra', { map: { msg: EXTRA_VALUE } }],
        7: ['signerName', 'string'],
        8: ['expirationSeconds', 'int32'],
      },
    },
  ],
  3: ['status', { msg: { 1: ['conditions', { msg: CSR_CONDITION }, true], 2: ['certificate', 'bytes'] } }],
};
const NAMESPACE: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: ['spec', { msg: { 1: ['finalizers', 'string', true] } }],
  3: ['status', { msg: { 1: ['phase', 'string'] } }],
};
const SECRET: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: ['data', { map: 'bytes' }],
  3: ['type', 'string'],
  4: ['stringData', { map: 'string' }],
  5: ['immutable', 'bool'],
};
const CONFIG_MAP: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: ['data', { map: 'string' }],
  3: ['binaryData', { map: 'bytes' }],
  4: ['immutable', 'bool'],
};

// rbac.authorization.k8s.io/v1 and authorization.k8s.io/v1 (kubectl create clusterrole/clusterrolebinding/role/
// rolebinding, kubectl auth can-i).
const POLICY_RULE: Schema = {
  1: ['verbs', 'string', true],
  2: ['apiGroups', 'string', true],
  3: ['resources', 'string', true],
  4: ['resourceNames', 'string', true],
  5: ['nonResourceURLs', 'string', true],
};
const LABEL_SELECTOR: Schema = {
  1: ['matchLabels', { map: 'string' }],
  2: [
    'matchExpressions',
    { msg: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'string', true] } },
    true,
  ],
};
const ROLE: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: ['rules', { msg: POLICY_RULE }, true],
  3: ['aggregationRule', { msg: { 1: ['clusterRoleSelectors', { msg: LABEL_SELECTOR }, true] } }],
};
const BINDING: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: [
    'subjects',
    { msg: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] } },
    true,
  ],
  3: ['roleRef', { msg: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] } }],
};
const RESOURCE_ATTRIBUTES: Schema = {
  1: ['namespace', 'string'],
  2: ['verb', 'string'],
  3: ['group', 'string'],
  4: ['version', 'string'],
  5: ['resource', 'string'],
  6: ['subresource', 'string'],
  7: ['name', 'string'],
};
const ACCESS_REVIEW: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: [
    'spec',
    {
      msg: {
        1: ['resourceAttributes', { msg: RESOURCE_ATTRIBUTES }],
        2: ['nonResourceAttributes', { msg: { 1: ['path', 'string'], 2: ['verb', 'string'] } }],
        3: ['user', 'string'],
        4: ['groups', 'string', true],
        5: ['extra', { map: { msg: EXTRA_VALUE } }],
        6: ['uid', 'string'],
      },
    },
  ],
};
const RULES_REVIEW: Schema = {
  1: ['metadata', { msg: OBJECT_META }],
  2: ['spec', { msg: { 1: ['namespace', 'string'] } }],
};

const KINDS: Record<string, Schema> = {
  'certificates.k8s.io/v1/CertificateSigningRequest': CSR,
  'v1/Namespace': NAMESPACE,
  'v1/Secret': SECRET,
  'v1/ConfigMap': CONFIG_MAP,
  'rbac.authorization.k8s.io/v1/ClusterRole': ROLE,
  'rbac.authorization.k8s.io/v1/Role': ROLE,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'authorization.k8s.io/v1/SelfSubjectAccessReview': ACCESS_REVIEW,
  'authorization.k8s.io/v1/SubjectAccessReview': ACCESS_REVIEW,
  'authorization.k8s.io/v1/LocalSubjectAccessReview': ACCESS_REVIEW,
  'authorization.k8s.io/v1/SelfSubjectRulesReview': RULES_REVIEW,
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: ['metadata', { msg: OBJECT_META }] },
};

export class ProtoError extends Error {}

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
      if (this.pos >= this.buf.length) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtoError('varint too long');
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtoError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtoError(`unsupported wire type ${wire}`);
  }
}

function toSigned(v: bigint, bits: 32 | 64): number {
  return Number(BigInt.asIntN(bits, v));
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function scalar(type: Scalar, wire: number, r: Reader): unknown {
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes().toString('base64');
    case 'int32':
      return toSigned(r.varint(), 32);
    case 'int64':
      return toSigned(r.varint(), 64);
    case 'bool':
      return r.varint() !== 0n;
    case 'time': {
      // A zero Time (always written for non-pointer fields) is "unset", as JSON's null.
      const t = decodeMessage(r.bytes(), TIME) as { seconds?: number };
      return t.seconds ? rfc3339(t.seconds) : undefined;
    }
    default:
      r.skip(wire);
      return undefined;
  }
}

function value(type: Scalar | { msg: Schema }, wire: number, r: Reader): unknown {
  return typeof type === 'string' ? scalar(type, wire, r) : decodeMessage(r.bytes(), type.msg);
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const fieldNo = tag >> 3;
    const wire = tag & 7;
    const def = schema[fieldNo];
    if (!def) {
      r.skip(wire);
      continue;
    }
    const [name, type, repeated] = def;
    if (typeof type === 'object' && 'map' in type) {
      const entry = new Reader(r.bytes());
      let key = '';
      let val: unknown;
      while (!entry.done) {
        const t = Number(entry.varint());
        if (t >> 3 === 1) key = entry.bytes().toString('utf8');
        else if (t >> 3 === 2) val = value(type.map, t & 7, entry);
        else entry.skip(t & 7);
      }
      const m = (out[name] ?? {}) as Record<string, unknown>;
      m[key] = val ?? (type.map === 'string' || type.map === 'bytes' ? '' : {});
      out[name] = m;
      continue;
    }
    const v = value(type, wire, r);
    // omitempty, as the JSON encoding would (typed clients always send metadata.generation 0); inside a list an
    // empty string is a value (apiGroups: [""] is the core group)
    if (v === undefined || (!repeated && (v === '' || (type === 'int64' && v === 0)))) continue;
    if (repeated) {
      const list = (out[name] ?? []) as unknown[];
      list.push(v);
      out[name] = list;
    } else out[name] = v;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const UNKNOWN: Schema = {
  1: ['typeMeta', { msg: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] } }],
  2: ['raw', 'bytes'],
};

/** Decodes a protobuf-encoded object; throws ProtoError for kinds the sandbox cannot decode. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtoError('missing the k8s protobuf prefix');
  const env = decodeMessage(body.subarray(4), UNKNOWN) as {
    typeMeta?: { apiVersion?: string; kind?: string };
    raw?: string;
  };
  const apiVersion = env.typeMeta?.apiVersion ?? '';
  const kind = env.typeMeta?.kind ?? '';
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema) throw new ProtoError(`protobuf bodies of ${kind || 'this kind'} are not supported; send JSON`);
  const obj = decodeMessage(Buffer.from(env.raw ?? '', 'base64'), schema);
  return { apiVersion, kind, ...obj, metadata: obj.metadata ?? {} };
}

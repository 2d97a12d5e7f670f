import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtobufObject, ProtoError } from '../../../src/services/sandbox/proto.js';

// Request bodies captured from kubectl v1.32 (typed clients send protobuf), as hex.
const FIXTURES = {
  // kubectl create clusterrolebinding csr-approver --clusterrole=csr-approver --user=bob --group=g1 --serviceaccount=ns1:sa1
  clusterRoleBinding:
    '6b3873000a320a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311212436c7573746572526f6c6542696e64696e6712c8010a1c0a0c6373722d617070726f76657212001a0022002a0032003800420012280a04557365721219726261632e617574686f72697a6174696f6e2e6b38732e696f1a03626f62220012280a0547726f75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a0267312200121c0a0e536572766963654163636f756e7412001a0373613122036e73311a360a19726261632e617574686f72697a6174696f6e2e6b38732e696f120b436c7573746572526f6c651a0c6373722d617070726f7665721a002200',
  // kubectl auth can-i approve signers.certificates.k8s.io/example.com/serving (no discovery: resource kept verbatim)
  selfSubjectAccessReview:
    '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577126a0a100a0012001a0022002a00320038004200124c0a4a0a0764656661756c741207617070726f76651a0022002a1b7369676e6572732e6365727469666963617465732e6b38732e696f32003a136578616d706c652e636f6d2f73657276696e671a08080012001a0020001a002200',
  // kubectl create role pod-reader3 --verb=get,list --resource=pods,pods/log --resource-name=web -n team-a
  role: '6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c6512470a210a0b706f642d7265616465723312001a067465616d2d6122002a0032003800420012220a036765740a046c69737412001a04706f64731a08706f64732f6c6f6722037765621a002200',
  // kubectl create secret generic s1 --from-literal=a=b -n ns1
  secret:
    '6b3873000a0c0a027631120653656372657412210a150a02733112001a036e733122002a0032003800420012060a01611201621a001a002200',
  // kubectl create configmap c1 --from-literal=a=b
  configMap:
    '6b3873000a0f0a0276311209436f6e6669674d6170121c0a120a02633112001a0022002a0032003800420012060a01611201621a002200',
  // kubectl create ns nsx
  namespace:
    '6b3873000a0f0a02763112094e616d657370616365121b0a130a036e737812001a0022002a0032003800420012001a020a001a002200',
};

/** Decoded, without metadata.generation (typed clients always send 0, which JSON would omit). */
const decode = (hex: string) => {
  const obj = decodeProtobufObject(Buffer.from(hex, 'hex'));
  const { generation: _zero, ...metadata } = (obj.metadata ?? {}) as Record<string, unknown>;
  return { ...obj, metadata };
};

describe('decodeProtobufObject', () => {
  it('decodes what kubectl create clusterrolebinding sends', () => {
    assert.deepEqual(decode(FIXTURES.clusterRoleBinding), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'csr-approver' },
      subjects: [
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'g1' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'ns1' },
      ],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-approver' },
    });
  });

  it('keeps the core group "" in a Role\'s apiGroups', () => {
    assert.deepEqual(decode(FIXTURES.role), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'pod-reader3', namespace: 'team-a' },
      rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: ['web'] }],
    });
  });

  it('decodes a SelfSubjectAccessReview', () => {
    assert.deepEqual(decode(FIXTURES.selfSubjectAccessReview), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: {
        resourceAttributes: {
          namespace: 'default',
          verb: 'approve',
          resource: 'signers.certificates.k8s.io',
          name: 'example.com/serving',
        },
      },
    });
  });

  it('decodes a Secret (data as base64), a ConfigMap and a Namespace', () => {
    assert.deepEqual(decode(FIXTURES.secret), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's1', namespace: 'ns1' },
      data: { a: Buffer.from('b').toString('base64') },
    });
    assert.deepEqual(decode(FIXTURES.configMap), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c1' },
      data: { a: 'b' },
    });
    assert.deepEqual(decode(FIXTURES.namespace), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'nsx' },
      spec: {},
      status: {},
    });
  });

  it('refuses bodies without the prefix, truncated ones and unknown kinds', () => {
    const refused = (b: Buffer) => assert.throws(() => decodeProtobufObject(b), ProtoError);
    refused(Buffer.from('{"kind":"Secret"}'));
    const crb = Buffer.from(FIXTURES.clusterRoleBinding, 'hex');
    refused(crb.subarray(0, crb.length - 20));
    // An envelope for a Pod: kubectl never sends one, and the sandbox does not decode it.
    const pod = Buffer.concat([
      Buffer.from('6b387300', 'hex'),
      Buffer.from([0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03]),
      Buffer.from('Pod'),
      Buffer.from([0x12, 0x00]),
    ]);
    refused(pod);
  });
});

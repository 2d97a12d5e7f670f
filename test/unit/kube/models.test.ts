// The explicit model sets of services/kube (models-csr.ts, models-pod.ts) against the whole of client-node: every
// model class reachable from a root must be in its set, or deserialize would leave that part as raw JSON (strings
// instead of Dates). Fails after a client-node upgrade that adds a nested type; add the named classes to the set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { deserialize, type ModelClass, type ModelSet } from '../../../src/services/kube/deserialize.js';
import { configMapType, csrType, secretType } from '../../../src/services/kube/models-csr.js';
import { namespaceType, podType } from '../../../src/services/kube/models-pod.js';

const all = k8s as unknown as Record<string, unknown>;

function modelClass(name: string): ModelClass | undefined {
  const c = all[name];
  if (typeof c !== 'function') return undefined;
  return 'getAttributeTypeMap' in c && typeof c.getAttributeTypeMap === 'function' ? (c as ModelClass) : undefined;
}

function reachable(root: string): Set<string> {
  const seen = new Set<string>();
  const visit = (type: string): void => {
    if (type.startsWith('Array<')) {
      visit(type.slice(6, -1));
      return;
    }
    if (type.startsWith('{ [key: string]: ')) {
      visit(type.slice('{ [key: string]: '.length, -'; }'.length));
      return;
    }
    const cls = modelClass(type);
    if (!cls || seen.has(type)) return;
    seen.add(type);
    for (const attr of cls.getAttributeTypeMap()) visit(attr.type);
  };
  visit(root);
  return seen;
}

describe('kube model sets', () => {
  for (const set of [csrType, secretType, configMapType, podType, namespaceType] as ModelSet[]) {
    it(`${set.typeName}: every reachable model class is in the set, and is client-node's own`, () => {
      const missing = [...reachable(set.typeName)].filter((n) => !set.classes[n]);
      assert.deepEqual(missing, [], `add to the model set: ${missing.join(', ')}`);
      for (const [name, cls] of Object.entries(set.classes)) assert.equal(cls, all[name], name);
    });
  }

  it('deserializes a CSR into model instances with Dates', () => {
    const csr = deserialize<k8s.V1CertificateSigningRequest>(
      {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'a', creationTimestamp: '2026-01-02T03:04:05Z', labels: { x: 'y' } },
        spec: { request: 'UkVR', signerName: 'example.com/s', usages: ['server auth'], extra: { k: ['v'] } },
        status: { conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: '2026-01-02T03:04:06Z' }] },
      },
      csrType,
    );
    assert.ok(csr instanceof k8s.V1CertificateSigningRequest);
    assert.ok(csr.metadata instanceof k8s.V1ObjectMeta);
    assert.deepEqual(csr.metadata?.creationTimestamp, new Date('2026-01-02T03:04:05Z'));
    assert.deepEqual(csr.metadata?.labels, { x: 'y' });
    assert.deepEqual(csr.spec.extra, { k: ['v'] });
    const cond = csr.status?.conditions?.[0];
    assert.ok(cond instanceof k8s.V1CertificateSigningRequestCondition);
    assert.deepEqual(cond.lastUpdateTime, new Date('2026-01-02T03:04:06Z'));
  });

  it('deserializes nested pod types (container states)', () => {
    const pod = deserialize<k8s.V1Pod>(
      {
        metadata: { name: 'p', namespace: 'n' },
        spec: { containers: [{ name: 'c', image: 'i' }] },
        status: {
          initContainerStatuses: [
            {
              name: 'init',
              image: 'i',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { running: { startedAt: '2026-01-02T03:04:05Z' } },
            },
          ],
        },
      },
      podType,
    );
    assert.ok(pod instanceof k8s.V1Pod);
    const state = pod.status?.initContainerStatuses?.[0]?.state;
    assert.ok(state instanceof k8s.V1ContainerState);
    assert.deepEqual(state.running?.startedAt, new Date('2026-01-02T03:04:05Z'));
  });

  it('follows model types that refer to themselves, and keeps nulls, unknown types and raw maps as they are', () => {
    class Tree {
      label?: string;
      static getAttributeTypeMap() {
        return [
          { name: 'label', baseName: 'label', type: 'string' },
          { name: 'createdAt', baseName: 'created', type: 'Date' },
          { name: 'children', baseName: 'children', type: 'Array<Tree>' },
          { name: 'byName', baseName: 'byName', type: '{ [key: string]: Tree; }' },
          { name: 'other', baseName: 'other', type: 'NotInTheSet' },
        ];
      }
    }
    const set = { typeName: 'Tree', classes: { Tree } } as unknown as ModelSet;
    const tree = deserialize<Tree & Record<string, unknown>>(
      {
        label: 'root',
        created: '2026-01-02T03:04:05Z',
        children: [{ label: 'a', children: [{ label: 'a1' }] }, null],
        byName: { b: { label: 'b', created: '2026-01-02T03:04:06Z' } },
        other: { raw: true },
        unknownField: 1,
      },
      set,
    );
    assert.ok(tree instanceof Tree);
    assert.deepEqual(tree.createdAt, new Date('2026-01-02T03:04:05Z'));
    const children = tree.children as unknown[];
    assert.ok(children[0] instanceof Tree);
    assert.ok(((children[0] as Record<string, unknown[]>).children?.[0] as object) instanceof Tree);
    assert.equal(children[1], null);
    const b = (tree.byName as Record<string, Record<string, unknown>>).b;
    assert.ok(b instanceof Tree);
    assert.deepEqual(b?.createdAt, new Date('2026-01-02T03:04:06Z'));
    assert.deepEqual(tree.other, { raw: true });
    assert.equal('unknownField' in tree, false);
    assert.equal(deserialize(null, set), null);
  });
});

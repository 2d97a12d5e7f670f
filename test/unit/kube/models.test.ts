// The explicit model sets of services/kube (models-csr.ts, models-pod.ts) against the whole of client-node: every
// model class reachable from a root must be in its set, or deserialize would leave that part as raw JSON (strings
// instead of Dates). Fails after a client-node upgrade that adds a nested type; add the named classes to the set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
// client-node's own deserializer, as the oracle (the package has no exports map; see docs/performance.md).
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { deserialize, type ModelClass, type ModelSet } from '../../../src/services/kube/deserialize.js';
import { configMapType, csrType, secretType } from '../../../src/services/kube/models-csr.js';
import { namespaceType, podType } from '../../../src/services/kube/models-pod.js';
import { startSandbox } from '../../../src/services/sandbox/index.js';

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

/** Model objects as plain data: prototypes dropped, Dates as {date} (so a string is not equal to a Date). */
function plain(value: unknown): unknown {
  if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString() };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = plain((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Raw JSON for `type` with every attribute present (two levels of model types deep, then left out). */
function filled(type: string, seed: number, depth: number): unknown {
  if (type.startsWith('Array<'))
    return [filled(type.slice(6, -1), seed, depth), filled(type.slice(6, -1), seed + 1, depth)];
  if (type.startsWith('{ [key: string]: ')) {
    return { k1: filled(type.slice('{ [key: string]: '.length, -'; }'.length), seed, depth) };
  }
  if (type === 'Date') return new Date(Date.UTC(2026, 0, 1 + seed, seed, 4, 5)).toISOString().replace('.000Z', 'Z');
  if (type === 'string') return `s${seed}`;
  if (type === 'boolean') return seed % 2 === 0;
  if (type === 'number') return seed;
  if (type === 'IntOrString') return seed % 2 ? seed : `${seed}%`;
  const cls = modelClass(type);
  if (!cls) return { any: seed };
  if (depth > 4) return undefined;
  const out: Record<string, unknown> = {};
  for (const a of cls.getAttributeTypeMap()) {
    const v = filled(a.type, seed, depth + 1);
    if (v !== undefined) out[a.baseName] = v;
  }
  return out;
}

describe('kube model sets', () => {
  for (const set of [csrType, secretType, configMapType, podType, namespaceType] as ModelSet[]) {
    it(`${set.typeName}: every reachable model class is in the set, and is client-node's own`, () => {
      const missing = [...reachable(set.typeName)].filter((n) => !set.classes[n]);
      assert.deepEqual(missing, [], `add to the model set: ${missing.join(', ')}`);
      for (const [name, cls] of Object.entries(set.classes)) assert.equal(cls, all[name], name);
    });
  }

  it('deserializes a CSR: Dates for timestamps, in place, everything else as parsed', () => {
    const raw = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'a', creationTimestamp: '2026-01-02T03:04:05Z', labels: { x: 'y' } },
      spec: { request: 'UkVR', signerName: 'example.com/s', usages: ['server auth'], extra: { k: ['v'] } },
      status: { conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: '2026-01-02T03:04:06Z' }] },
    };
    const csr = deserialize<k8s.V1CertificateSigningRequest>(raw, csrType);
    assert.equal(csr, raw, 'converted in place: no second copy of every object');
    assert.deepEqual(csr.metadata?.creationTimestamp, new Date('2026-01-02T03:04:05Z'));
    assert.deepEqual(csr.metadata?.labels, { x: 'y' });
    assert.deepEqual(csr.spec.extra, { k: ['v'] });
    assert.deepEqual(csr.status?.conditions?.[0]?.lastUpdateTime, new Date('2026-01-02T03:04:06Z'));
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
    assert.deepEqual(
      pod.status?.initContainerStatuses?.[0]?.state?.running?.startedAt,
      new Date('2026-01-02T03:04:05Z'),
    );
  });

  // The oracle: client-node's own ObjectSerializer, on objects with every attribute of every model of a set
  // filled in (so every timestamp, however deep, is there), and on the sandbox's scenario objects.
  for (const set of [csrType, podType, namespaceType, secretType, configMapType] as ModelSet[]) {
    it(`${set.typeName}: the same values as client-node's ObjectSerializer, every attribute filled in`, () => {
      for (const seed of [1, 2, 3]) {
        const raw = filled(set.typeName, seed, 0);
        const expected = ObjectSerializer.deserialize(structuredClone(raw), set.typeName, '');
        assert.deepStrictEqual(plain(deserialize(structuredClone(raw), set)), plain(expected));
      }
    });
  }

  it("the sandbox's scenario objects: the same values as client-node's ObjectSerializer", async () => {
    const sandbox = await startSandbox({ scenarios: ['calico-rollout', 'hostile'], scale: { csrs: 50, pods: 50 } });
    try {
      const store = sandbox.cluster('east').api.store;
      let checked = 0;
      for (const [kind, set] of [
        ['certificatesigningrequests', csrType],
        ['pods', podType],
        ['namespaces', namespaceType],
        ['secrets', secretType],
        ['configmaps', configMapType],
      ] as const) {
        for (const { obj } of store.list(kind)) {
          const expected = ObjectSerializer.deserialize(structuredClone(obj), set.typeName, '');
          assert.deepStrictEqual(plain(deserialize(structuredClone(obj), set)), plain(expected), kind);
          checked++;
        }
      }
      assert.ok(checked > 100, `only ${checked} objects`);
    } finally {
      await sandbox.stop();
    }
  });

  it('follows model types that refer to themselves, and keeps nulls, unknown types, raw maps and unknown fields', () => {
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
        children: [{ label: 'a', children: [{ label: 'a1', created: '2026-01-02T03:04:07Z' }] }, null],
        byName: { b: { label: 'b', created: '2026-01-02T03:04:06Z' } },
        other: { raw: true },
        unknownField: 1,
      },
      set,
    );
    // A renamed attribute (TS name differs from the JSON name) moves to its TS name.
    assert.deepEqual(tree.createdAt, new Date('2026-01-02T03:04:05Z'));
    assert.equal('created' in tree, false);
    const children = tree.children as Record<string, unknown>[];
    assert.deepEqual(
      (children[0]?.children as Record<string, unknown>[] | undefined)?.[0]?.createdAt,
      new Date('2026-01-02T03:04:07Z'),
    );
    assert.equal(children[1], null);
    const b = (tree.byName as Record<string, Record<string, unknown>>).b;
    assert.deepEqual(b?.createdAt, new Date('2026-01-02T03:04:06Z'));
    assert.deepEqual(tree.other, { raw: true });
    // Fields the client does not know are kept (client-node drops them): a read-modify-write keeps them too.
    assert.equal(tree.unknownField, 1);
    assert.equal(deserialize(null, set), null);
  });
});

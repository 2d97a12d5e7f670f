import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  applyPatch,
  PatchError,
  patchTypeFromContentType,
  strategicMergeKeysFor,
} from '../../../src/services/sandbox/patch.js';

function status(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e.status;
    throw e;
  }
  return undefined;
}

describe('patchTypeFromContentType', () => {
  it('maps the three patch media types and nothing else', () => {
    assert.equal(patchTypeFromContentType('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeFromContentType('application/json-patch+json'), 'json');
    assert.equal(patchTypeFromContentType('application/strategic-merge-patch+json'), 'strategic');
    assert.equal(patchTypeFromContentType('application/apply-patch+yaml'), undefined);
    assert.equal(patchTypeFromContentType('application/json'), undefined);
  });
});

describe('merge patch (RFC 7386)', () => {
  // The examples of RFC 7386 appendix A.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      assert.deepEqual(applyPatch('merge', target, patch), expected);
    });
  }

  it('never mutates or shares the target', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), (target, patch) => {
        const before = structuredClone(target);
        const out = applyPatch('merge', target, patch);
        assert.deepEqual(target, before);
        if (out && typeof out === 'object') {
          for (const v of Object.values(out)) {
            if (v && typeof v === 'object' && target && typeof target === 'object') {
              assert.ok(!Object.values(target).includes(v));
            }
          }
        }
      }),
    );
  });

  it('is refused (400) unless the patch is an object', () => {
    assert.equal(
      status(() => applyPatch('merge', {}, [1])),
      400,
    );
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { name: 'x', annotations: { 'a/b': '1' } }, list: [1, 2, 3] };

  it('adds, removes, replaces, moves, copies and tests', () => {
    const out = applyPatch('json', doc, [
      { op: 'test', path: '/metadata/name', value: 'x' },
      { op: 'add', path: '/metadata/annotations/c~1d', value: '2' },
      { op: 'replace', path: '/metadata/annotations/a~1b', value: '3' },
      { op: 'add', path: '/list/1', value: 9 },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'remove', path: '/list/0' },
      { op: 'copy', from: '/metadata/name', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
    ]);
    assert.deepEqual(out, {
      metadata: { name: 'x', annotations: { 'a/b': '3', 'c/d': '2' } },
      list: [9, 2, 3, 4],
      moved: 'x',
    });
    assert.deepEqual(doc.list, [1, 2, 3]);
  });

  it('adds the annotations map when it is missing, and replaces the root', () => {
    assert.deepEqual(
      applyPatch('json', { metadata: {} }, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]),
      {
        metadata: { annotations: { a: 'b' } },
      },
    );
    assert.deepEqual(applyPatch('json', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
  });

  it('fails with 422 on a missing parent, a failed test, a bad index or an unknown op; 400 when not a list', () => {
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'remove', path: '/metadata/labels' }])),
      422,
    );
    // evanphx/json-patch v4, as the apiserver runs it: replacing a missing key of an object adds it.
    assert.deepEqual(applyPatch('json', { a: 1 }, [{ op: 'replace', path: '/nope', value: 1 }]), { a: 1, nope: 1 });
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'add', path: '/a/b/c', value: 1 }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'test', path: '/metadata/name', value: 'y' }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'add', path: '/list/7', value: 1 }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'add', path: '/list/01', value: 1 }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'frobnicate', path: '/x' }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'add', path: '/x' }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, [{ op: 'move', from: '/metadata', path: '/metadata/x' }])),
      422,
    );
    assert.equal(
      status(() => applyPatch('json', doc, { op: 'add' })),
      400,
    );
  });

  it('applies nothing when an operation fails (the target is untouched)', () => {
    const target = { a: 1 };
    assert.throws(() =>
      applyPatch('json', target, [
        { op: 'add', path: '/b', value: 2 },
        { op: 'test', path: '/a', value: 2 },
      ]),
    );
    assert.deepEqual(target, { a: 1 });
  });
});

describe('strategic merge patch', () => {
  const csr = {
    metadata: { name: 'c', finalizers: ['a'], annotations: { x: '1' } },
    spec: { usages: ['digital signature', 'server auth'] },
    status: {
      conditions: [
        { type: 'Approved', status: 'True', reason: 'R' },
        { type: 'Custom', status: 'False' },
      ],
    },
  };
  const keys = strategicMergeKeysFor('certificatesigningrequests');

  it('merges conditions by type, appends new ones, replaces other lists, unions finalizers', () => {
    const out = applyPatch(
      'strategic',
      csr,
      {
        metadata: { annotations: { y: '2', x: null }, finalizers: ['b', 'a'] },
        spec: { usages: ['client auth'] },
        status: {
          conditions: [
            { type: 'Custom', status: 'True' },
            { type: 'Failed', status: 'True' },
          ],
        },
      },
      keys,
    );
    assert.deepEqual(out, {
      metadata: { name: 'c', finalizers: ['a', 'b'], annotations: { y: '2' } },
      spec: { usages: ['client auth'] },
      status: {
        conditions: [
          { type: 'Approved', status: 'True', reason: 'R' },
          { type: 'Custom', status: 'True' },
          { type: 'Failed', status: 'True' },
        ],
      },
    });
    assert.equal(csr.status.conditions.length, 2);
  });

  it('replaces a merge-keyed list without a key table (it is then an ordinary list)', () => {
    const out = applyPatch('strategic', csr, {
      status: { conditions: [{ type: 'Failed', status: 'True' }] },
    }) as typeof csr;
    assert.deepEqual(out.status.conditions, [{ type: 'Failed', status: 'True' }]);
  });

  it('honours $patch delete / replace and $deleteFromPrimitiveList', () => {
    const out = applyPatch(
      'strategic',
      csr,
      {
        metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
        status: { conditions: [{ type: 'Custom', $patch: 'delete' }] },
      },
      keys,
    ) as typeof csr;
    assert.deepEqual(out.metadata.finalizers, []);
    assert.deepEqual(out.status.conditions, [{ type: 'Approved', status: 'True', reason: 'R' }]);
    const replaced = applyPatch(
      'strategic',
      csr,
      {
        status: { conditions: [{ $patch: 'replace' }, { type: 'New', status: 'True' }] },
        metadata: { annotations: { $patch: 'replace', z: '3' } },
      },
      keys,
    ) as typeof csr;
    assert.deepEqual(replaced.status.conditions, [{ type: 'New', status: 'True' }]);
    assert.deepEqual(replaced.metadata.annotations, { z: '3' });
    const dropped = applyPatch(
      'strategic',
      csr,
      { metadata: { annotations: { $patch: 'delete' } } },
      keys,
    ) as typeof csr;
    assert.equal('annotations' in dropped.metadata, false);
  });

  it('merges pod containers by name and their env by name, keeping the rest', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }] },
          { name: 'side', image: 's:1' },
        ],
        tolerations: [{ key: 'x' }],
      },
    };
    const out = applyPatch(
      'strategic',
      pod,
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
          containers: [{ name: 'app', image: 'a:2', env: [{ name: 'B', value: '2' }] }],
          tolerations: [{ key: 'y' }],
        },
      },
      strategicMergeKeysFor('pods'),
    );
    assert.deepEqual(out, {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'a:2',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'side', image: 's:1' },
        ],
        tolerations: [{ key: 'y' }],
      },
    });
  });

  it('keeps only $retainKeys', () => {
    const out = applyPatch(
      'strategic',
      { spec: { strategy: { type: 'A', rollingUpdate: { x: 1 } } } },
      {
        spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } },
      },
    );
    assert.deepEqual(out, { spec: { strategy: { type: 'Recreate' } } });
  });

  it('refuses (400) items without the merge key, unknown directives and non-object patches', () => {
    assert.equal(
      status(() => applyPatch('strategic', csr, { status: { conditions: [{ status: 'True' }] } }, keys)),
      400,
    );
    assert.equal(
      status(() => applyPatch('strategic', csr, { status: { $patch: 'explode' } }, keys)),
      400,
    );
    assert.equal(
      status(() => applyPatch('strategic', csr, [], keys)),
      400,
    );
  });

  it('never mutates the target, even when merging nested keyed lists', () => {
    const pod = {
      spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }] },
      metadata: { finalizers: ['f'] },
    };
    const before = structuredClone(pod);
    const out = applyPatch(
      'strategic',
      pod,
      {
        metadata: { finalizers: ['g'] },
        spec: { containers: [{ name: 'a', image: 'y', env: [{ name: 'E', value: '2' }] }] },
      },
      strategicMergeKeysFor('pods'),
    ) as typeof pod;
    assert.deepEqual(pod, before);
    assert.equal(out.spec.containers[0]?.env[0]?.value, '2');
    out.spec.containers[0]?.env.push({ name: 'F', value: '3' });
    assert.deepEqual(pod, before);
  });

  it('equals a merge patch when there are no lists or directives', () => {
    const scalarMap = fc.dictionary(
      fc.string({ maxLength: 3 }).filter((k) => !k.startsWith('$')),
      fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    );
    const doc = fc.dictionary(
      fc.string({ maxLength: 3 }).filter((k) => !k.startsWith('$')),
      fc.oneof(fc.string(), scalarMap),
    );
    fc.assert(
      fc.property(doc, doc, (target, patch) => {
        assert.deepEqual(applyPatch('strategic', target, patch), applyPatch('merge', target, patch));
      }),
    );
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotKind } from '../../../src/services/kube/snapshot-map.js';

function same(view: ReadonlyMap<string, number>, expected: Map<string, number>) {
  assert.deepEqual([...view], [...expected]);
  assert.deepEqual([...view.keys()], [...expected.keys()]);
  assert.deepEqual([...view.values()], [...expected.values()]);
  assert.equal(view.size, expected.size);
  const seen: [string, number][] = [];
  view.forEach((v, k) => {
    seen.push([k, v]);
  });
  assert.deepEqual(seen, [...expected]);
  for (const k of ['k0', 'k1', 'k5', 'k17', 'k99', 'absent']) {
    assert.equal(view.has(k), expected.has(k), k);
    assert.equal(view.get(k), expected.get(k), k);
  }
}

test('snapshots behave like copies of a Map (order, values, deletes, re-adds), and stay immutable', () => {
  let seed = 7;
  const random = (n: number) => {
    // A 32-bit LCG (a float product would lose the low bits), taking its better high bits.
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 16) % n;
  };
  const kind = new SnapshotKind<number>();
  const truth = new Map<string, number>();
  const taken: [ReadonlyMap<string, number>, Map<string, number>][] = [];
  for (let round = 0; round < 300; round++) {
    const ops = round < 3 ? 200 : random(12);
    for (let i = 0; i < ops; i++) {
      const key = `k${random(round < 3 ? 400 : 120)}`;
      if (random(3) === 0) assert.equal(kind.delete(key), truth.delete(key));
      else {
        kind.set(key, round * 1000 + i);
        truth.set(key, round * 1000 + i);
      }
    }
    if (round === 150) {
      kind.clear();
      truth.clear();
    }
    const view = kind.snapshot();
    assert.equal(kind.snapshot(), view, 'the same object while nothing changed');
    same(view, truth);
    if (round % 10 === 0) taken.push([view, new Map(truth)]);
  }
  for (const [view, expected] of taken) same(view, expected);
});

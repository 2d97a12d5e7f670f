// The CSR order is updated from the previous one using the store's record of what changed (changedKeys); after any
// sequence of adds, updates and deletes in two contexts it must equal an order sorted from scratch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { csrKey, csrOrder, type OrderInput } from '../../../src/app/order.js';
import { changedKeys, SnapshotKind } from '../../../src/services/kube/snapshot-map.js';
import { csr, snapshot } from './fixtures.js';

/** A seeded generator (mulberry32), so a failure replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

function input(maps: Record<string, ReadonlyMap<string, V1CertificateSigningRequest>>): OrderInput {
  const snapshots = Object.fromEntries(Object.entries(maps).map(([c, m]) => [c, { ...snapshot(c, []), csrs: m }]));
  return { contexts: Object.keys(maps), snapshots, health: {}, filter: { text: '', invert: false }, scope: {} };
}

const STATES = ['Pending', 'Approved', 'Denied', 'Issued'] as const;

test('an order kept up to date from changed keys equals a fresh sort, through adds, updates, deletes and rebases', () => {
  const random = rng(11);
  const kinds = {
    east: new SnapshotKind<V1CertificateSigningRequest>(),
    west: new SnapshotKind<V1CertificateSigningRequest>(),
  };
  for (let round = 0; round < 400; round++) {
    for (const [context, kind] of Object.entries(kinds)) {
      // A big first list, then small batches, with now and then a burst large enough to copy the base again (300),
      // or to sort the new entries on their own and merge them (700: more than 256 new entries).
      const ops = round === 0 ? 600 : round % 97 === 0 ? (round % 2 ? 300 : 700) : random(8);
      for (let i = 0; i < ops; i++) {
        const name = `${context}-csr-${random(700)}`;
        if (random(4) === 0) kind.delete(name);
        else kind.set(name, csr(name, { ageSeconds: random(50), state: STATES[random(4)]! }));
      }
    }
    const maps = { east: kinds.east.snapshot(), west: kinds.west.snapshot() };
    const got = csrOrder(input(maps)).entries.map((e) => e.key);
    // The documented order, computed here on its own: pending first, then oldest, then context, then name.
    const expected = Object.entries(maps)
      .flatMap(([context, m]) => [...m].map(([name, c]) => ({ context, name, c })))
      .map(({ context, name, c }) => ({
        key: csrKey(context, name),
        context,
        name,
        pending: (c.status?.conditions ?? []).length === 0 && !c.status?.certificate,
        created: new Date(c.metadata!.creationTimestamp!).getTime(),
      }))
      .sort(
        (a, b) =>
          Number(b.pending) - Number(a.pending) ||
          a.created - b.created ||
          (a.context < b.context ? -1 : a.context > b.context ? 1 : 0) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      )
      .map((e) => e.key);
    assert.deepEqual(got, expected, `round ${round}`);
    assert.equal(got.length, maps.east.size + maps.west.size);
  }
});

test('changedKeys names exactly the keys whose value differs, and says when it cannot tell', () => {
  const random = rng(5);
  const kind = new SnapshotKind<number>();
  let before = kind.snapshot();
  let told = 0;
  for (let round = 0; round < 300; round++) {
    const ops = round === 0 ? 500 : round % 50 === 0 ? 200 : random(10);
    for (let i = 0; i < ops; i++) {
      const key = `k${random(600)}`;
      if (random(3) === 0) kind.delete(key);
      else kind.set(key, round * 1000 + i);
    }
    const after = kind.snapshot();
    const changed = changedKeys(before, after);
    if (changed) {
      told++;
      for (const key of new Set([...before.keys(), ...after.keys()])) {
        if (before.get(key) !== after.get(key)) assert.ok(changed.has(key), `round ${round}: ${key} changed`);
      }
      for (const key of changed) assert.notEqual(before.get(key), after.get(key), `round ${round}: ${key} did not`);
    }
    before = after;
  }
  // Most rounds are small batches over the same base, where it must answer.
  assert.ok(told > 250, `answered ${told} of 300`);
  assert.equal(changedKeys(new Map([['a', 1]]), new Map([['a', 1]])), undefined);
  const same = kind.snapshot();
  assert.equal(changedKeys(same, same)?.size, 0);
});

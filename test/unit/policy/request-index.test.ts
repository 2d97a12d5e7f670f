// The request index the TUI and the controller keep across store snapshots: brought up to date from what changed,
// it must answer exactly as an index built afresh over the same CSRs (the oracle), through adds, replacements
// (a new resourceVersion, another key) and deletes.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';
import { SnapshotKind } from '../../../src/services/kube/snapshot-map.js';
import { digestsOf, decodeCsr } from '../../../src/services/pki/index.js';
import { indexRequests, type RequestLike, RequestIndexCache } from '../../../src/services/policy/index.js';
import { identityKey, requesterKey } from '../../../src/services/policy/requests.js';
import { makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' };

describe('RequestIndexCache (kept up to date from snapshot changes)', () => {
  test('answers as an index built afresh, through adds, replacements and deletes', async () => {
    const keys = await Promise.all(
      [0, 1, 2].map(async () => (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair),
    );
    const requests = await Promise.all(
      keys.flatMap((k) =>
        ['alice', 'bob'].map(async (cn) => Buffer.from(await makeCsr({ CN: [cn] }, { keys: k })).toString('base64')),
      ),
    );
    const digests = await Promise.all(
      requests.map(async (r) => digestsOf(await decodeCsr(Buffer.from(r, 'base64').toString('utf8')))!),
    );
    const users = ['alice', 'bob', 'mallory'];
    let rv = 0;
    const csr = (name: string, i: number, user: string): RequestLike & { metadata: { resourceVersion: string } } => ({
      metadata: { name, uid: `uid-${name}`, creationTimestamp: new Date(1_000_000 + i), resourceVersion: String(++rv) },
      spec: { request: requests[i % requests.length]!, signerName: 'example.com/serving', username: user },
    });
    const kind = new SnapshotKind<RequestLike>();
    const cache = new RequestIndexCache();
    // A deterministic walk: each step adds, replaces or deletes one CSR, then every lookup is compared.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 300; step++) {
      const name = `csr-${next(40)}`;
      if (kind.working.has(name) && next(3) === 0) kind.delete(name);
      else kind.set(name, csr(name, next(requests.length), users[next(users.length)]!));
      const map = kind.snapshot();
      const kept = cache.of([{ context: 'east', csrs: map }]);
      const fresh = indexRequests([{ context: 'east', requests: [...map.values()] }]);
      for (const [i, d] of digests.entries()) {
        const names = (rs: readonly { name: string }[]) => rs.map((r) => r.name).sort();
        assert.deepEqual(names(kept.withKey(d.key)), names(fresh.withKey(d.key)), `step ${step}: withKey ${i}`);
        for (const user of users) {
          const self = { context: 'east', uid: `uid-${name}`, username: user, subject: d.subject };
          assert.deepEqual(
            kept.keyHeldByOthers(d.key, self, 100).count,
            fresh.keyHeldByOthers(d.key, self, 100).count,
            `step ${step}: keyHeldByOthers ${i} ${user}`,
          );
          const who = { context: 'east', signerName: 'example.com/serving', username: user };
          assert.deepEqual(
            names(kept.forIdentity(identityKey(who, d))),
            names(fresh.forIdentity(identityKey(who, d))),
            `step ${step}: forIdentity`,
          );
          assert.deepEqual(
            [...kept.createdBy(requesterKey(who))].sort(),
            [...fresh.createdBy(requesterKey(who))].sort(),
            `step ${step}: createdBy`,
          );
        }
      }
    }
    // The walk did exercise all three kinds of change, through overlays and recopied bases alike.
    assert.ok(rv > 200);
  });
});

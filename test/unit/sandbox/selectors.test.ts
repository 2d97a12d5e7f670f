// Label and field selector parsing, and the store's list order, history and expiry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/services/sandbox/errors.js';
import { parseFieldSelector, parseLabelSelector } from '../../../src/services/sandbox/selectors.js';
import { Store } from '../../../src/services/sandbox/store.js';

describe('label selectors', () => {
  it('supports =, ==, !=, in, notin, exists and !exists, ANDed', () => {
    const l = { app: 'web', tier: 'front' };
    assert.equal(parseLabelSelector('app=web')(l), true);
    assert.equal(parseLabelSelector('app==web,tier=front')(l), true);
    assert.equal(parseLabelSelector('app!=web')(l), false);
    assert.equal(parseLabelSelector('app in (api, web)')(l), true);
    assert.equal(parseLabelSelector('app notin (api,web)')(l), false);
    assert.equal(parseLabelSelector('tier')(l), true);
    assert.equal(parseLabelSelector('!tier')(l), false);
    assert.equal(parseLabelSelector('missing!=x')(l), true);
    assert.equal(parseLabelSelector('')(l), true);
  });

  it('rejects nonsense with 400', () => {
    assert.throws(
      () => parseLabelSelector('a b c'),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });
});

describe('field selectors', () => {
  it('accepts only supported labels', () => {
    const m = parseFieldSelector('spec.signerName=example.com/x,metadata.name!=a', [
      'metadata.name',
      'spec.signerName',
    ]);
    assert.equal(m({ 'metadata.name': 'b', 'spec.signerName': 'example.com/x' }), true);
    assert.equal(m({ 'metadata.name': 'a', 'spec.signerName': 'example.com/x' }), false);
    assert.throws(
      () => parseFieldSelector('spec.username=bob', ['metadata.name', 'spec.signerName']),
      (e: unknown) =>
        e instanceof ApiError && e.code === 400 && e.message === 'field label not supported: spec.username',
    );
    // Kinds with only the metadata labels get apimachinery's default conversion and its wording (kube 1.37).
    assert.throws(
      () => parseFieldSelector('data.a=1', ['metadata.name', 'metadata.namespace']),
      (e: unknown) =>
        e instanceof ApiError &&
        e.message === '"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });
});

describe('store', () => {
  it('lists sorted by namespace/name and keeps a bounded history', () => {
    const s = new Store(3);
    for (const n of ['b', 'a', 'c']) s.put('things', { metadata: { name: n } }, 'ADDED');
    assert.deepEqual(
      s.list('things').map((e) => e.name),
      ['a', 'b', 'c'],
    );
    const start = s.resourceVersion;
    s.put('things', { metadata: { name: 'a', labels: { x: 'y' } } }, 'MODIFIED');
    s.delete('things', '', 'b');
    const w = s.watch('things', start, () => {});
    assert.ok('replay' in w);
    assert.deepEqual(
      w.replay.map((e) => e.type),
      ['MODIFIED', 'DELETED'],
    );
    w.cancel();
    assert.ok('expired' in s.watch('things', start - 3, () => {}));
    s.expireHistory();
    assert.ok('expired' in s.watch('things', s.resourceVersion - 1, () => {}));
    assert.ok('replay' in s.watch('things', s.resourceVersion, () => {}));
  });
});

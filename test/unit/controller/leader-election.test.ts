import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createLeaderElector, type LeaderElector } from '../../../src/services/controller/leader-election.js';
import { MemoryLeases, waitFor } from './memory-lease-api.js';

const timings = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const started: LeaderElector[] = [];

function candidate(store: MemoryLeases, identity: string) {
  const api = store.client();
  const events: string[] = [];
  const elector = createLeaderElector({
    ...timings,
    namespace: 'certdesk',
    name: 'certdesk-controller',
    identity,
    leaseApi: api,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  started.push(elector);
  elector.start();
  return { elector, api, events };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});

describe('leader election', () => {
  it('creates the lease with holder, times and zero transitions, then renews it', async () => {
    const store = new MemoryLeases();
    const a = candidate(store, 'a');
    await a.elector.whenLeading();
    assert.equal(a.elector.isLeader(), true);
    const first = store.peek('certdesk', 'certdesk-controller');
    assert.equal(first?.spec?.holderIdentity, 'a');
    assert.equal(first?.spec?.leaseDurationSeconds, 1);
    assert.equal(first?.spec?.leaseTransitions, 0);
    assert.match(String(first?.spec?.renewTime), /\.\d{6}Z$/, 'MicroTime has six fractional digits');
    const firstRenew = Date.parse(String(first?.spec?.renewTime));
    await waitFor(
      () => Date.parse(String(store.peek('certdesk', 'certdesk-controller')?.spec?.renewTime)) > firstRenew,
      2000,
      'a renewal',
    );
    const later = store.peek('certdesk', 'certdesk-controller');
    assert.equal(later?.spec?.acquireTime, first?.spec?.acquireTime, 'acquireTime stays while the holder renews');
  });

  it('elects exactly one of several candidates', async () => {
    const store = new MemoryLeases();
    const cs = ['a', 'b', 'c'].map((id) => candidate(store, id));
    await Promise.race(cs.map((c) => c.elector.whenLeading()));
    await new Promise((r) => setTimeout(r, 300)); // let the others try a few retry periods
    assert.equal(cs.filter((c) => c.elector.isLeader()).length, 1);
  });

  it('takes over when the holder stops renewing, within the lease duration, and counts the transition', async () => {
    const store = new MemoryLeases();
    const a = candidate(store, 'a');
    await a.elector.whenLeading();
    const b = candidate(store, 'b');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(b.elector.isLeader(), false);
    a.api.down(true); // the leader loses the API server: it must stop acting before b may start
    const lostAfter = await waitFor(() => !a.elector.isLeader(), 2000, 'a to stop leading');
    assert.ok(lostAfter <= timings.renewDeadlineMs + 150, `a stopped leading after ${lostAfter} ms`);
    await waitFor(() => b.elector.isLeader(), timings.leaseDurationMs * 2 + 500, 'b to lead');
    assert.equal(a.elector.isLeader(), false, 'never two leaders');
    const lease = store.peek('certdesk', 'certdesk-controller');
    assert.equal(lease?.spec?.holderIdentity, 'b');
    assert.equal(lease?.spec?.leaseTransitions, 1);
    a.api.down(false);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.elector.isLeader(), false, 'a comes back as a follower');
    assert.deepEqual(a.events, ['started', 'stopped']);
  });

  it('releases the lease on stop so that another candidate takes over at once', async () => {
    const store = new MemoryLeases();
    const a = candidate(store, 'a');
    await a.elector.whenLeading();
    const b = candidate(store, 'b');
    await new Promise((r) => setTimeout(r, 150));
    await a.elector.stop();
    assert.equal(store.peek('certdesk', 'certdesk-controller')?.spec?.holderIdentity, '');
    const took = await waitFor(() => b.elector.isLeader(), 2000, 'b to lead');
    assert.ok(took < timings.leaseDurationMs, `b took over ${took} ms after the release`);
  });

  it('refuses timings where the renew deadline is not below the lease duration', () => {
    assert.throws(
      () =>
        createLeaderElector({
          namespace: 'n',
          name: 'l',
          identity: 'x',
          leaseApi: new MemoryLeases().client(),
          leaseDurationMs: 1000,
          renewDeadlineMs: 1000,
        }),
      /lease duration must be longer/,
    );
  });

  it('gives up leading when a renewal lands after the renew deadline, then leads again', async () => {
    const store = new MemoryLeases();
    const a = candidate(store, 'a');
    await a.elector.whenLeading();
    a.api.slow(timings.renewDeadlineMs / 2 + 50); // get + replace: the renewal lands after the deadline
    await waitFor(() => a.events.includes('stopped'), 3000, 'a to give up');
    a.api.slow(0);
    await waitFor(() => a.events.filter((e) => e === 'started').length === 2, 3000, 'a to lead again');
    assert.equal(a.elector.isLeader(), true);
  });
});

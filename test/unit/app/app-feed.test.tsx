// How store batches become frames while contexts list (src/app/app.tsx, the feed): a context that finishes its
// first list while another is still listing waits briefly so both show in one frame; a context that is unreachable
// or retrying is not "listing" and holds nobody back; CSR pages are not drawn one by one while the first list is
// under way (for up to 3 s), and the whole table is drawn as soon as every context's CSRs are in. Ordering comes from timers, not from sleeping: each test
// schedules the next store event before the feed's own timer would fire, so the assertions do not depend on speed.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import { App } from '../../../src/app/app.js';
import type { InsightCache } from '../../../src/app/insights.js';
import type { TuiState } from '../../../src/app/store.js';
import type { ClusterStore, ContextSnapshot, StoreBatch } from '../../../src/services/kube/api-types.js';
import type { ConnectionState } from '../../../src/services/kube/types.js';
import type { CertWatch } from '../../../src/services/certs/watch.js';
import { waitFor } from '../../helpers/sandbox.js';
import { csr, NOW, snapshot } from './fixtures.js';

/** A store of two contexts whose snapshots and batches the test sets. */
function scriptedStore() {
  const snaps: Record<string, ContextSnapshot> = {
    east: { ...snapshot('east', []), synced: false, connection: { phase: 'connecting' } },
    west: { ...snapshot('west', []), synced: false, connection: { phase: 'connecting' } },
  };
  const listeners = new Set<(b: StoreBatch) => void>();
  const store: ClusterStore = {
    start() {},
    stop() {},
    reconnect() {},
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    snapshot: (c) => snaps[c] as ContextSnapshot,
    contexts: () => ['east', 'west'],
    whenSynced: async () => true,
    releaseRest() {
      released.push(frames?.length ?? -1);
    },
  };
  /** The number of frames drawn at each releaseRest() call (set `frames` to count them). */
  const released: number[] = [];
  let frames: TuiState[] | undefined;
  const emit = (
    context: string,
    names: string[],
    extra: { synced?: boolean; csrsListed?: boolean; connection?: ConnectionState },
  ) => {
    const before = snaps[context] as ContextSnapshot;
    const csrs = [...before.csrs.values(), ...names.map((n, i) => csr(n, { ageSeconds: 10 + i }))];
    snaps[context] = {
      ...snapshot(context, csrs, before.version + 1),
      synced: extra.synced ?? before.synced,
      connection: extra.connection ?? before.connection,
      ...(extra.csrsListed || before.csrsListed ? { csrsListed: true } : {}),
    };
    const change = { context, upserted: { csrs: names }, deleted: {}, ...extra };
    for (const l of listeners) l({ changes: [change] });
  };
  return {
    store,
    emit,
    released,
    countFrames: (f: TuiState[]) => {
      frames = f;
    },
  };
}

const noInsights = { insight: () => undefined, certificate: () => undefined, capability: () => undefined };

function startApp(store: ClusterStore, certs?: CertWatch) {
  const frames: TuiState[] = [];
  const instance = render(
    <App
      store={store}
      {...(certs ? { certs } : {})}
      insights={noInsights as unknown as InsightCache}
      effects={{ contexts: new Map(), store } as never}
      places={{ config: '/tmp/c', auditLog: '/tmp/a', caRegistry: '/tmp/r' }}
      color={false}
      now={() => NOW}
      onFrame={(s) => {
        frames.push(s);
      }}
    />,
  );
  return { instance, frames };
}

const csrCount = (s: TuiState, context: string) => s.snapshots[context]?.csrs.size ?? 0;

describe('App feed while contexts list', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });

  it('two contexts finishing their lists close together show in one frame', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    cleanup = () => instance.unmount();
    await waitFor(() => frames.length > 0, 'the first frame');
    emit('east', ['e-1', 'e-2'], { synced: true, connection: { phase: 'live', since: NOW } });
    // West finishes 30 ms later: well inside the 250 ms that east's frame waits for it.
    await new Promise((r) => setTimeout(r, 30));
    emit('west', ['w-1'], { synced: true, connection: { phase: 'live', since: NOW } });
    await waitFor(() => frames.some((f) => csrCount(f, 'west') === 1), 'both contexts on screen');
    const firstWithEast = frames.find((f) => csrCount(f, 'east') > 0);
    assert.equal(firstWithEast && csrCount(firstWithEast, 'west'), 1, 'east was drawn alone before west arrived');
  });

  it('an unreachable context holds neither the first frame of another nor its later redraws', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    cleanup = () => instance.unmount();
    await waitFor(() => frames.length > 0, 'the first frame');
    emit('west', [], { connection: { phase: 'unreachable', message: 'connection refused', nextAttemptAt: NOW } });
    emit('east', ['e-1'], { synced: true, connection: { phase: 'live', since: NOW } });
    await waitFor(() => frames.some((f) => csrCount(f, 'east') === 1), 'east on screen');
    // A new CSR in east: drawn with the normal redraw interval (250 ms), not the listing one (1 s). The marker
    // timer is set right after the batch, so it fires after a 250 ms redraw and before a 1 s one.
    emit('east', ['e-2'], {});
    let markerFired = false;
    const marker = setTimeout(() => {
      markerFired = true;
    }, 600);
    try {
      await waitFor(() => frames.some((f) => csrCount(f, 'east') === 2), 'the new CSR on screen');
      assert.equal(markerFired, false, 'the new CSR waited for the slow listing redraw rate');
    } finally {
      clearTimeout(marker);
    }
  });

  it('pages of a first CSR list are not drawn one by one; the whole table is drawn as soon as the CSRs are in', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    cleanup = () => instance.unmount();
    await waitFor(() => frames.length > 0, 'the first frame');
    emit('east', ['e-1'], {});
    emit('west', ['w-1'], {});
    emit('east', ['e-2'], {});
    // A negative can only be checked over a while: past the listing redraw interval (1 s) and a clock tick, which
    // drew the pages before.
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(
      frames.some((f) => csrCount(f, 'east') + csrCount(f, 'west') > 0),
      false,
      'a page was drawn before the list was complete',
    );
    emit('east', ['e-3'], { csrsListed: true });
    emit('west', ['w-2'], { csrsListed: true });
    // At once: before a 150 ms marker, where the listing redraw would take up to 1 s.
    let markerFired = false;
    const marker = setTimeout(() => {
      markerFired = true;
    }, 150);
    try {
      await waitFor(() => frames.some((f) => csrCount(f, 'east') === 3 && csrCount(f, 'west') === 2), 'the table');
      assert.equal(markerFired, false, 'the complete table waited for a redraw timer');
    } finally {
      clearTimeout(marker);
    }
  });

  it("the other kinds are let go once every context's CSRs are on screen, not before", async () => {
    const { store, emit, released, countFrames } = scriptedStore();
    const { instance, frames } = startApp(store);
    countFrames(frames);
    cleanup = () => instance.unmount();
    await waitFor(() => frames.length > 0, 'the first frame');
    emit('east', ['e-1'], { csrsListed: true });
    await waitFor(() => frames.some((f) => csrCount(f, 'east') === 1), 'east on screen');
    assert.deepEqual(released, [], 'let go while west was still listing its CSRs');
    emit('west', ['w-1'], { csrsListed: true });
    await waitFor(() => released.length > 0, 'the other kinds let go');
    const drawnAt = frames.findIndex((f) => csrCount(f, 'west') === 1);
    assert.ok(drawnAt >= 0 && (released[0] ?? -1) > drawnAt, 'let go before the table with both contexts was drawn');
  });

  it('a first CSR list that takes longer than 3 s is drawn as it arrives', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    cleanup = () => instance.unmount();
    await waitFor(() => frames.length > 0, 'the first frame');
    emit('east', ['e-1'], {});
    await waitFor(() => frames.some((f) => csrCount(f, 'east') === 1), 'the first page, after the hold', 6000);
  });
});

/** A certificates watch still decoding (no context synced); bump() announces a new version. */
function scriptedCerts() {
  let version = 1;
  const listeners = new Set<() => void>();
  const certs = {
    start() {},
    stop() {},
    subscribe: (l: () => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    records: () => [],
    version: () => version,
    skipped: () => [],
    synced: () => false,
    focus() {},
    unchecked: () => 0,
  } satisfies CertWatch;
  const bump = () => {
    version++;
    for (const l of listeners) l();
  };
  return { certs, bump };
}

/** Both contexts listed and drawn, with a certificates watch still decoding (version 1). */
async function listedWithCerts() {
  const { store, emit } = scriptedStore();
  const { certs, bump } = scriptedCerts();
  const { instance, frames } = startApp(store, certs);
  const live = { synced: true, csrsListed: true, connection: { phase: 'live', since: NOW } } as const;
  emit('east', ['e-1', 'e-2', 'e-3'], live);
  emit('west', ['w-1'], live);
  await waitFor(() => frames.some((f) => f.certs?.version === 1 && csrCount(f, 'east') === 3), 'the lists drawn');
  return { instance, frames, bump };
}

describe('App counts while contexts list (issue 24)', () => {
  it('draws no clock frames while every table is still listing; the clock runs once rows are shown', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    try {
      await waitFor(() => frames.length > 0, 'the first frame');
      // Longer than the clock's second: a frame of the empty screen would be drawn in it.
      const before = frames.length;
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(frames.length, before, 'frames while nothing was listed');
      emit('east', ['e-1'], { csrsListed: true });
      emit('west', ['w-1'], { csrsListed: true });
      await waitFor(() => frames.some((f) => csrCount(f, 'west') === 1), 'the table');
      const drawn = frames.length;
      await waitFor(() => frames.length > drawn, 'a clock frame');
    } finally {
      instance.unmount();
    }
  });

  it('no count is drawn before its list is in: `…` beside the rows, `init …` until the pods are listed', async () => {
    const { store, emit } = scriptedStore();
    const { instance, frames } = startApp(store);
    try {
      const header = () => (instance.lastFrame() ?? '').split('\n')[0] ?? '';
      const headers: string[] = [];
      const seen = setInterval(() => headers.push(header()), 5);
      try {
        await waitFor(() => frames.length > 0, 'the first frame');
        emit('east', ['e-1', 'e-2'], { csrsListed: true });
        emit('west', ['w-1'], { csrsListed: true });
        await waitFor(() => frames.some((f) => csrCount(f, 'west') === 1), 'the table');
        assert.match(header(), /east ◐ syncing… west ◐ syncing…/);
        // The CSRs are counted within a health pass (1 s), the pods are not: pending shows, init waits.
        await waitFor(() => / pending 3 /.test(header()), 'the pending count');
        assert.match(header(), / init … /);
        assert.match(instance.lastFrame() ?? '', /Init …/);
        emit('east', [], { synced: true, connection: { phase: 'live', since: NOW } });
        emit('west', [], { synced: true, connection: { phase: 'live', since: NOW } });
        await waitFor(() => / init 0 /.test(header()), 'the init count once the pods are listed');
      } finally {
        clearInterval(seen);
      }
      assert.ok(headers.length > 0);
      for (const h of headers) assert.doesNotMatch(h, /pending 0|init 0 .*syncing|stalled 0 .*connecting/, h);
    } finally {
      instance.unmount();
    }
  });
});

describe('App feed while certificates are being decoded', () => {
  it("a key's frame does not carry the certificates' redraw; it lands once the keys stop", async () => {
    const { instance, frames, bump } = await listedWithCerts();
    try {
      // Let the last redraw age past half a feed interval, so the key would take pending data along.
      await new Promise((r) => setTimeout(r, 200));
      bump();
      const before = frames.length;
      instance.stdin.write('j');
      await waitFor(() => frames.slice(before).some((f) => f.cursorIndex.csrs === 1), "the key's frame");
      const keyFrame = frames.slice(before).find((f) => f.cursorIndex.csrs === 1);
      assert.equal(keyFrame?.certs?.version, 1, "the certificates' redraw waited");
      await waitFor(
        () => frames.some((f) => f.certs?.version === 2),
        'the certificates redrawn once keys stopped',
        5000,
      );
    } finally {
      instance.unmount();
    }
  });

  it('keys that keep coming hold it at most 3 s, and then it is drawn between two keys, not in one', async () => {
    const { instance, frames, bump } = await listedWithCerts();
    try {
      bump();
      const started = performance.now();
      // A key every 200 ms for 4 s, j and k in turn: keys that keep coming (under the 300 ms of quiet the feed
      // waits for), with room after each key's frame for the 30 ms timer even on a loaded machine (at 120 ms apart,
      // a timer late by ~90 ms once met the next key and React drew both in one frame).
      for (let i = 0; performance.now() - started < 4000; i++) {
        instance.stdin.write(i % 2 ? 'k' : 'j');
        await new Promise((r) => setTimeout(r, 200));
        if (frames.some((f) => f.certs?.version === 2)) break;
      }
      const at = frames.findIndex((f) => f.certs?.version === 2);
      assert.ok(at > 0, 'the certificates were redrawn while the keys kept coming');
      assert.equal(
        frames[at]?.cursorIndex.csrs,
        frames[at - 1]?.cursorIndex.csrs,
        "the certificates' frame is not a key's frame",
      );
    } finally {
      instance.unmount();
    }
  });
});

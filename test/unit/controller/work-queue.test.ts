import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorkQueue } from '../../../src/services/controller/work-queue.js';

describe('work queue', () => {
  it('never hands one key to two workers and reruns a key re-added while in progress', async () => {
    const running = new Set<string>();
    let overlaps = 0;
    const runs: string[] = [];
    const q = createWorkQueue(
      async (key) => {
        if (running.has(key)) overlaps++;
        running.add(key);
        runs.push(key);
        await new Promise((r) => setTimeout(r, 20));
        running.delete(key);
        return 'done';
      },
      { concurrency: 4 },
    );
    q.add('a');
    q.add('a'); // deduplicated while queued
    await new Promise((r) => setTimeout(r, 5));
    q.add('a'); // in progress: runs once more afterwards
    q.add('b');
    await q.whenIdle();
    assert.equal(overlaps, 0);
    assert.deepEqual(runs.sort(), ['a', 'a', 'b']);
  });

  it('retries with backoff until the worker succeeds', async () => {
    let attempts = 0;
    const q = createWorkQueue(async () => (++attempts < 3 ? 'retry' : 'done'), { backoffInitialMs: 5 });
    q.add('x');
    await q.whenIdle();
    assert.equal(attempts, 3);
  });

  it('shutDown waits for the work in flight and drops the rest', async () => {
    let finished = 0;
    const q = createWorkQueue(
      async () => {
        await new Promise((r) => setTimeout(r, 30));
        finished++;
        return 'done';
      },
      { concurrency: 1 },
    );
    q.add('1');
    q.add('2');
    await new Promise((r) => setTimeout(r, 5));
    await q.shutDown();
    assert.equal(finished, 1);
  });
});

// A keyed work queue like client-go's: a key is queued at most once, a key being processed is never handed to a
// second worker (re-adds while processing run again afterwards), and failed keys come back after a per-key
// exponential backoff.

export interface WorkQueueOptions {
  /** Parallel workers. @default 4 */
  concurrency?: number;
  /** First retry delay, ms. @default 200 */
  backoffInitialMs?: number;
  /** Longest retry delay, ms. @default 30000 */
  backoffMaxMs?: number;
}

/** What the worker says about a key: done (forget its backoff) or retry later. */
export type WorkResult = 'done' | 'retry';

export interface WorkQueue {
  add(key: string): void;
  /** Adds after the key's backoff (and doubles it). */
  addRateLimited(key: string): void;
  /** Keys waiting or in progress. */
  size(): number;
  /** Resolves when nothing is queued, in progress or waiting for a retry. */
  whenIdle(): Promise<void>;
  /** Stops handing out keys; resolves when in-flight work has finished. */
  shutDown(): Promise<void>;
}

export function createWorkQueue(
  worker: (key: string) => Promise<WorkResult>,
  options: WorkQueueOptions = {},
): WorkQueue {
  const concurrency = options.concurrency ?? 4;
  const initial = options.backoffInitialMs ?? 200;
  const max = options.backoffMaxMs ?? 30_000;
  const queue: string[] = [];
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  function checkIdle(): void {
    if (queue.length || processing.size || timers.size) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function pump(): void {
    while (!stopped && processing.size < concurrency && queue.length) {
      const key = queue.shift() as string;
      queued.delete(key);
      processing.add(key);
      const run = (async () => {
        let result: WorkResult;
        try {
          result = await worker(key);
        } catch {
          result = 'retry';
        }
        processing.delete(key);
        if (result === 'done') failures.delete(key);
        else addRateLimited(key);
        if (dirty.delete(key)) add(key);
      })();
      inFlight.add(run);
      void run.finally(() => {
        inFlight.delete(run);
        pump();
        checkIdle();
      });
    }
  }

  function add(key: string): void {
    if (stopped) return;
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    const timer = timers.get(key);
    if (timer) {
      clearTimeout(timer);
      timers.delete(key);
    }
    queued.add(key);
    queue.push(key);
    pump();
  }

  function addRateLimited(key: string): void {
    if (stopped || timers.has(key)) return;
    const n = failures.get(key) ?? 0;
    failures.set(key, n + 1);
    const delay = Math.min(max, initial * 2 ** n) * (0.8 + Math.random() * 0.4);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
      checkIdle();
    }, delay);
    timers.set(key, timer);
  }

  return {
    add,
    addRateLimited,
    size: () => queue.length + processing.size + timers.size,
    whenIdle() {
      if (!queue.length && !processing.size && !timers.size) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async shutDown() {
      stopped = true;
      queue.length = 0;
      queued.clear();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all([...inFlight]);
      checkIdle();
    },
  };
}

// A list+watch reflector for one resource path of one context, in the manner of client-go's Reflector:
// paginated list → watch from the list's resourceVersion (bookmarks on) → resume the watch from the last seen
// resourceVersion when the server ends it → relist at once on 410 Expired, diffing against what it already
// delivered so nothing is lost or announced twice → on any other error, capped exponential backoff with jitter.
import type { ClusterContext } from './api-types.js';
import { backoffDelay, KubeHttpError, type KubeStatus, toKubeError } from './errors.js';
import { requestJson, type WatchEvent, watchStream } from './transport.js';
import type { KubeError } from './types.js';

export type ReflectorStatus =
  | { phase: 'connecting' }
  | { phase: 'live' }
  | { phase: 'error'; error: KubeError; nextAttemptAt: number; attempt: number };

export interface ReflectorSink {
  upsert(key: string, raw: Record<string, unknown>): void;
  remove(key: string): void;
  status(status: ReflectorStatus): void;
  /** Called after every completed list (first sync and relists). */
  listed(): void;
  /** Counts lists, watches opened, and 410 Expired answers (for tests, benchmarks and the status line). */
  count(what: 'lists' | 'watches' | 'expired'): void;
}

export interface ReflectorOptions {
  context: ClusterContext;
  /** Collection path, e.g. /apis/certificates.k8s.io/v1/certificatesigningrequests */
  path: string;
  keyOf(raw: Record<string, unknown>): string;
  fieldSelector?: string;
  pageSize: number;
  backoff: { initialMs: number; maxMs: number };
  watchTimeoutSeconds: number;
  connectTimeoutMs: number;
  /** Stop (resolve run) instead of retrying when the path answers 404 (an API group that went away). */
  stopOnNotFound?: boolean;
}

interface ObjectList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Record<string, unknown>[];
}

function metaOf(raw: Record<string, unknown>): { resourceVersion?: string; name?: string; namespace?: string } {
  return (raw.metadata ?? {}) as { resourceVersion?: string; name?: string; namespace?: string };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Reflector {
  /** key → resourceVersion of what the sink holds. */
  private readonly known = new Map<string, string>();
  private resourceVersion: string | undefined;
  private attempt = 0;
  private expiredInARow = 0;
  private running: Promise<void> = Promise.resolve();
  /** Ends the backoff wait under way, if any (retryNow). */
  private wake: (() => void) | undefined;
  /** Set when the path answered 404 and stopOnNotFound is on. */
  notFound = false;

  constructor(
    private readonly options: ReflectorOptions,
    private readonly sink: ReflectorSink,
  ) {}

  /**
   * When waiting out a backoff after an error, tries again now, from the first backoff step: the server has just
   * answered another request of the same context (it is back), so the rest need not wait up to the longest backoff.
   */
  retryNow(): void {
    if (!this.wake) return;
    this.attempt = 0;
    this.wake();
  }

  /** Starts (or restarts, once the previous run has wound down) the loop until `signal` aborts. */
  start(signal: AbortSignal): Promise<void> {
    const previous = this.running;
    this.running = previous.then(() => this.loop(signal));
    return this.running;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    this.attempt = 0;
    this.notFound = false;
    if (!signal.aborted) this.sink.status({ phase: 'connecting' });
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list(signal);
        if (signal.aborted) return;
        await this.watch(signal);
      } catch (err) {
        if (signal.aborted) return;
        const error = toKubeError(err, this.options.context.name);
        // "Too large resource version" (504): the server is behind us, e.g. restored or replaced; relist.
        const tooNew = error.kind === 'timeout' && /too large resource version/i.test(error.message);
        if ((error.kind === 'gone' || tooNew) && this.expiredInARow < 3) {
          // 410 Expired / Gone: our resourceVersion is too old; relist now, diffing against what we delivered.
          this.expiredInARow++;
          this.sink.count('expired');
          this.resourceVersion = undefined;
          continue;
        }
        if (error.kind === 'gone' || tooNew) this.resourceVersion = undefined;
        if (error.kind === 'not-found' && this.options.stopOnNotFound) {
          this.notFound = true;
          return;
        }
        const { initialMs, maxMs } = this.options.backoff;
        const delay = error.kind === 'forbidden' ? maxMs : backoffDelay(this.attempt, initialMs, maxMs);
        this.attempt++;
        this.sink.status({ phase: 'error', error, nextAttemptAt: Date.now() + delay, attempt: this.attempt });
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          void sleep(delay, signal).then(resolve);
        });
        this.wake = undefined;
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const { context, path, pageSize, fieldSelector, keyOf } = this.options;
    const seen = new Set<string>();
    let cont: string | undefined;
    let listVersion: string | undefined;
    const fetchPage = (token: string | undefined) =>
      requestJson<ObjectList>(context, {
        path,
        query: { limit: pageSize, continue: token, fieldSelector },
        timeoutMs: 60_000,
        connectTimeoutMs: this.options.connectTimeoutMs,
        signal,
      });
    let next = fetchPage(undefined);
    do {
      const page = await next;
      if (signal.aborted) return;
      listVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
      // Ask for the next page before handling this one, so the server and the client work at the same time.
      if (cont) {
        next = fetchPage(cont);
        next.catch(() => {}); // a failure is seen when it is awaited; this only avoids an unhandled rejection
      }
      const apiVersion = page.apiVersion;
      const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -4) : undefined;
      for (const item of page.items ?? []) {
        if (apiVersion && item.apiVersion === undefined) item.apiVersion = apiVersion;
        if (kind && item.kind === undefined) item.kind = kind;
        const key = keyOf(item);
        seen.add(key);
        const rv = metaOf(item).resourceVersion ?? '';
        if (this.known.get(key) === rv) continue;
        this.known.set(key, rv);
        this.sink.upsert(key, item);
      }
    } while (cont);
    for (const key of [...this.known.keys()]) {
      if (!seen.has(key)) {
        this.known.delete(key);
        this.sink.remove(key);
      }
    }
    this.resourceVersion = listVersion ?? '0';
    this.sink.count('lists');
    this.sink.listed();
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const { context, path, fieldSelector, keyOf, watchTimeoutSeconds, connectTimeoutMs } = this.options;
    const started = Date.now();
    let events = 0;
    let live = false;
    const markLive = () => {
      if (live) return;
      live = true;
      this.sink.count('watches');
      this.attempt = 0;
      this.sink.status({ phase: 'live' });
    };
    // The stream is open once headers arrive; mark live right after the promise below has connected.
    const streamed = watchStream(
      context,
      {
        path,
        query: {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: watchTimeoutSeconds,
          fieldSelector,
        },
        connectTimeoutMs,
        idleTimeoutMs: (watchTimeoutSeconds + 30) * 1000,
        signal,
        onOpen: markLive,
      },
      (event: WatchEvent) => {
        if (signal.aborted) return;
        events++;
        markLive();
        const obj = event.object;
        if (event.type === 'ERROR') {
          const status = obj as KubeStatus;
          throw new KubeHttpError(status.code ?? 500, status);
        }
        const rv = metaOf(obj).resourceVersion;
        if (event.type === 'BOOKMARK') {
          if (rv) this.resourceVersion = rv;
          return;
        }
        const key = keyOf(obj);
        if (event.type === 'DELETED') {
          if (this.known.delete(key)) this.sink.remove(key);
        } else if (this.known.get(key) !== (rv ?? '')) {
          this.known.set(key, rv ?? '');
          this.sink.upsert(key, obj);
        }
        if (rv) this.resourceVersion = rv;
        this.expiredInARow = 0;
      },
    );
    await streamed;
    // A server that ends watches at once, with nothing to say, gets the backoff treatment instead of a hot loop.
    if (!signal.aborted && events === 0 && Date.now() - started < 1000) {
      const delay = backoffDelay(this.attempt++, this.options.backoff.initialMs, this.options.backoff.maxMs);
      await sleep(delay, signal);
    }
  }
}

// Leader election over a coordination.k8s.io/v1 Lease, with client-go's semantics: acquire, renew every retry
// period, give up leading when renewals fail for the renew deadline, take over a lease whose holder has not been
// seen renewing for the lease duration, release on shutdown. Optimistic concurrency via resourceVersion.
import { toKubeError } from '../kube/index.js';
import { timeoutOptions } from './request-options.js';
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';

/** The subset of CoordinationV1Api the elector needs (tests may pass an in-memory one). */
export interface LeaseApi {
  /** Resolves undefined when the lease does not exist. */
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  /** Rejects with a LeaseConflict when it already exists. */
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Rejects with a LeaseConflict when `lease.metadata.resourceVersion` is stale. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

/** Someone else wrote the lease first (HTTP 409). */
export class LeaseConflict extends Error {
  constructor(message = 'the lease was modified by another candidate') {
    super(message);
    this.name = 'LeaseConflict';
  }
}

export interface LeaderElectionTimings {
  /** How long a candidate waits after last seeing the holder renew before taking over. @default 15000 */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leading. @default 10000 */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. @default 2000 */
  retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaderElectionOptions extends Partial<LeaderElectionTimings> {
  namespace: string;
  name: string;
  /** This candidate's holderIdentity, unique among replicas (pod name + random suffix). */
  identity: string;
  /** Either a KubeConfig (a CoordinationV1Api is made from it) or a LeaseApi. */
  kubeConfig?: KubeConfig;
  leaseApi?: LeaseApi;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes ('' when nobody holds it). */
  onNewLeader?: (identity: string) => void;
  log?: (line: string) => void;
  /** Milliseconds clock. @default Date.now */
  now?: () => number;
}

export interface LeaderElector {
  /** Starts campaigning in the background. */
  start(): void;
  /** True while this replica holds the lease and renewed it within the renew deadline: the write fence. */
  isLeader(): boolean;
  /** The holder last observed ('' when none). */
  currentLeader(): string;
  /** Resolves when this replica becomes leader (or rejects when stopped first). */
  whenLeading(): Promise<void>;
  /**
   * Stops campaigning and, when leading, releases the lease so another replica takes over at once.
   * `release: false` walks away without releasing (as a crash would): the others wait for the lease to expire.
   */
  stop(options?: { release?: boolean }): Promise<void>;
}

/** A LeaseApi over HTTPS for one KubeConfig, each call bounded by `timeoutMs`. */
export function createLeaseApi(kubeConfig: KubeConfig, timeoutMs = 5_000): LeaseApi {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const options = timeoutOptions(timeoutMs);
  const conflict = (err: unknown): never => {
    if (err instanceof ApiException && err.code === 409) throw new LeaseConflict();
    throw err;
  };
  return {
    async get(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name }, options);
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }, options).catch(conflict),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }, options).catch(conflict),
  };
}

function toMillis(t: unknown): number | undefined {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** A Kubernetes MicroTime on the wire: RFC 3339 with six fractional digits. */
export function microTime(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}

function describe(err: unknown): string {
  if (err instanceof LeaseConflict) return err.message;
  return toKubeError(err).message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Adds up to 20% jitter, as client-go's wait.JitterUntil does. */
function jitter(ms: number): number {
  return ms * (1 + Math.random() * 0.2);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createLeaderElector(options: LeaderElectionOptions): LeaderElector {
  const timings: LeaderElectionTimings = {
    leaseDurationMs: options.leaseDurationMs ?? DEFAULT_TIMINGS.leaseDurationMs,
    renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_TIMINGS.renewDeadlineMs,
    retryPeriodMs: options.retryPeriodMs ?? DEFAULT_TIMINGS.retryPeriodMs,
  };
  if (timings.leaseDurationMs <= timings.renewDeadlineMs)
    throw new Error('The lease duration must be longer than the renew deadline.');
  if (timings.renewDeadlineMs <= timings.retryPeriodMs * 1.2)
    throw new Error('The renew deadline must be longer than the retry period (plus 20% jitter).');
  const leaseApi =
    options.leaseApi ?? (options.kubeConfig ? createLeaseApi(options.kubeConfig, timings.renewDeadlineMs) : undefined);
  if (!leaseApi) throw new Error('Leader election needs a kubeConfig or a leaseApi.');
  const api: LeaseApi = leaseApi;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const { namespace, name, identity } = options;
  const leaseSeconds = Math.max(1, Math.ceil(timings.leaseDurationMs / 1000));

  const abort = new AbortController();
  let running: Promise<void> | undefined;
  let leading = false;
  let lastRenewAt = 0;
  let observed: V1Lease | undefined;
  let observedKey = '';
  let observedAt = 0;
  let leader = '';
  let lastError = '';
  let leadingWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  function observe(lease: V1Lease | undefined): void {
    observed = lease;
    const spec = lease?.spec;
    const key = `${spec?.holderIdentity ?? ''}|${toMillis(spec?.renewTime) ?? ''}|${lease?.metadata?.resourceVersion ?? ''}`;
    if (key !== observedKey) {
      observedKey = key;
      observedAt = now();
    }
    const holder = spec?.holderIdentity ?? '';
    if (holder !== leader) {
      leader = holder;
      options.onNewLeader?.(holder);
    }
  }

  /** client-go's tryAcquireOrRenew: true when this replica holds the lease after the call. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = now();
    const current = await api.get(namespace, name);
    if (!current) {
      const created = await api.create(namespace, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: microTime(t),
          renewTime: microTime(t),
          leaseTransitions: 0,
        },
      });
      observe(created);
      return true;
    }
    observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldByMe = holder === identity;
    const duration = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (holder && !heldByMe && observedAt + duration > now()) return false;
    const updated = await api.replace(namespace, name, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...current.metadata, name, namespace },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: heldByMe && spec.acquireTime ? microTime(toMillis(spec.acquireTime) ?? t) : microTime(t),
        renewTime: microTime(t),
        leaseTransitions: heldByMe ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    });
    observe(updated);
    return true;
  }

  async function attempt(): Promise<boolean> {
    try {
      const held = await withTimeout(tryAcquireOrRenew(), timings.renewDeadlineMs);
      lastError = '';
      return held;
    } catch (err) {
      // A conflict only means another candidate wrote first: normal, not worth a line. Others once per change.
      const line = `lease ${namespace}/${name}: ${describe(err)}`;
      if (!(err instanceof LeaseConflict) && line !== lastError) log(line);
      lastError = line;
      return false;
    }
  }

  function becomeLeader(): void {
    leading = true;
    lastRenewAt = now();
    log(`lease ${namespace}/${name}: ${identity} is leading`);
    for (const w of leadingWaiters) w.resolve();
    leadingWaiters = [];
    options.onStartedLeading?.();
  }

  function stopLeading(why: string): void {
    if (!leading) return;
    leading = false;
    log(`lease ${namespace}/${name}: ${identity} stopped leading (${why})`);
    options.onStoppedLeading?.();
  }

  async function campaign(): Promise<void> {
    const signal = abort.signal;
    while (!signal.aborted) {
      while (!signal.aborted && !leading) {
        if (await attempt()) {
          if (!signal.aborted) becomeLeader();
          break;
        }
        await sleep(jitter(timings.retryPeriodMs), signal);
      }
      while (!signal.aborted && leading) {
        await sleep(timings.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await attempt()) {
          // A renewal that lands after the renew deadline comes too late: the fence had lapsed and writes were
          // refused meanwhile. Give up leading and re-acquire (at once, the lease is ours), so that
          // onStartedLeading runs again and the controller re-queues what it skipped.
          if (now() - lastRenewAt >= timings.renewDeadlineMs) stopLeading('renewed after the renew deadline');
          else lastRenewAt = now();
        } else if (observed?.spec?.holderIdentity && observed.spec.holderIdentity !== identity) {
          stopLeading(`the lease is now held by ${observed.spec.holderIdentity}`);
        } else if (now() - lastRenewAt >= timings.renewDeadlineMs) {
          stopLeading(`no renewal within ${timings.renewDeadlineMs} ms`);
        }
      }
    }
  }

  async function release(): Promise<void> {
    if (!observed || observed.spec?.holderIdentity !== identity) return;
    const t = now();
    try {
      await withTimeout(
        api.replace(namespace, name, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...observed.metadata, name, namespace },
          spec: {
            ...observed.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: microTime(t),
            renewTime: microTime(t),
          },
        }),
        timings.renewDeadlineMs,
      );
      log(`lease ${namespace}/${name}: released by ${identity}`);
    } catch (err) {
      log(`lease ${namespace}/${name}: could not release (${describe(err)}); it expires in ${leaseSeconds} s`);
    }
  }

  return {
    start() {
      if (!running) running = campaign();
    },
    isLeader() {
      return leading && now() - lastRenewAt < timings.renewDeadlineMs;
    },
    currentLeader: () => leader,
    whenLeading() {
      if (leading) return Promise.resolve();
      if (abort.signal.aborted) return Promise.reject(new Error('leader election stopped'));
      return new Promise((resolve, reject) => leadingWaiters.push({ resolve, reject }));
    },
    async stop(stopOptions = {}) {
      abort.abort();
      await running;
      const wasLeading = leading;
      stopLeading('shutting down');
      for (const w of leadingWaiters) w.reject(new Error('leader election stopped'));
      leadingWaiters = [];
      if (stopOptions.release !== false && (wasLeading || observed?.spec?.holderIdentity === identity)) await release();
    },
  };
}

// The live per-context store: a reflector (list+watch) per followed kind and context, a connection state per
// context, changes batched for subscribers (keys only, never the whole world), and immutable snapshots that are
// copied lazily, only for the kinds that changed since the last snapshot.
import type { V1CertificateSigningRequest, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type {
  ClusterContext,
  ClusterStore,
  ClusterStoreOptions,
  ContextChange,
  ContextSnapshot,
  NodeAddresses,
  StoreBatch,
  StoreKind,
  TigeraStatus,
} from './api-types.js';
import { backoffDelay, toKubeError } from './errors.js';
import { deserialize, type ModelSet } from './deserialize.js';
import { csrType } from './models-csr.js';
import { namespaceType, podType } from './models-pod.js';
import { Reflector, type ReflectorStatus } from './reflector.js';
import { SnapshotKind } from './snapshot-map.js';
import { type PodCertificateApis, podCertificateApis, type WireCtb, type WirePcr } from './pod-certificates.js';
import { requestJson } from './transport.js';
import type { ConnectionState, KubeError } from './types.js';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const TIGERA_GROUP_PATH = '/apis/operator.tigera.io/v1';
const TIGERA_PATH = `${TIGERA_GROUP_PATH}/tigerastatuses`;

type AnyObject = V1CertificateSigningRequest | V1Pod | V1Namespace | TigeraStatus | NodeAddresses | WirePcr | WireCtb;

type KindState<T> = SnapshotKind<T>;

/** Errors that say the server could not be reached or answer, as opposed to one that says no (403, 404…). */
const REACHABILITY: ReadonlySet<string> = new Set(['unreachable', 'timeout', 'server']);

function kindState<T>(): KindState<T> {
  return new SnapshotKind<T>();
}

interface PendingChange {
  upserted: Map<StoreKind, Set<string>>;
  deleted: Map<StoreKind, Set<string>>;
  connection?: ConnectionState;
  synced?: boolean;
  csrsListed?: boolean;
  tigeraInstalled?: boolean;
}

interface ReflectorSlot {
  kind: StoreKind;
  reflector: Reflector;
  status: ReflectorStatus;
  listed: boolean;
}

interface ContextState {
  ctx: ClusterContext;
  csrs: KindState<V1CertificateSigningRequest>;
  pods: KindState<V1Pod>;
  namespaces: KindState<V1Namespace>;
  nodes: KindState<NodeAddresses>;
  tigera: KindState<TigeraStatus>;
  tigeraInstalled: boolean | undefined;
  pcrs: KindState<WirePcr>;
  trustBundles: KindState<WireCtb>;
  podCertificateApis: PodCertificateApis | undefined;
  /** The PCR and trust-bundle reflectors of the versions served (made once discovery has answered). */
  podCertSlots: ReflectorSlot[];
  slots: ReflectorSlot[];
  tigeraSlot: ReflectorSlot | undefined;
  connection: ConnectionState;
  synced: boolean;
  errors: Partial<Record<StoreKind, KubeError>>;
  counters: { lists: number; watches: number; expired: number };
  version: number;
  snapshot: ContextSnapshot | undefined;
  abort: AbortController | undefined;
  /** Starts the kinds other than CSRs (once per start of the context): after the CSRs' first list, or its failure,
   * once no other context is still listing its CSRs (see csrsIn). */
  startRest: () => void;
  /** Its CSRs' first list since the context (re)started is neither done nor failed. */
  listingCsrs: boolean;
  addSlot: <T extends AnyObject>(
    kind: StoreKind,
    path: string,
    target: KindState<T>,
    typeName: ModelSet | undefined,
    keyOf: (raw: Record<string, unknown>) => string,
    extra?: { stopOnNotFound?: boolean },
  ) => ReflectorSlot;
}

function nameKey(raw: Record<string, unknown>): string {
  return String((raw.metadata as { name?: string } | undefined)?.name ?? '');
}

function namespacedKey(raw: Record<string, unknown>): string {
  const m = (raw.metadata ?? {}) as { name?: string; namespace?: string };
  return `${m.namespace ?? ''}/${m.name ?? ''}`;
}

/** Keeps a Node's name and addresses: the rest of its status (images, conditions) is large and unused here. */
function nodeAddresses(raw: Record<string, unknown>): NodeAddresses {
  const m = (raw.metadata ?? {}) as { name?: string; uid?: string; resourceVersion?: string };
  const addresses = ((raw.status as { addresses?: unknown[] } | undefined)?.addresses ?? []).flatMap((a) => {
    const { type, address } = (a ?? {}) as { type?: unknown; address?: unknown };
    return typeof type === 'string' && typeof address === 'string' ? [{ type, address }] : [];
  });
  return {
    metadata: {
      name: m.name ?? '',
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    },
    status: { addresses },
  };
}

function sameConnection(a: ConnectionState, b: ConnectionState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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

/** How long a context whose CSRs are in waits for the others' before listing its other kinds (see csrsIn). */
const REST_WAIT_MS = 2000;

/** Creates a store over these contexts; nothing happens until start(). */
export function createClusterStore(contexts: ClusterContext[], options: ClusterStoreOptions = {}): ClusterStore {
  const batchMs = options.batchMs ?? 50;
  // While TigeraStatus is not served, discovery is asked again this often (one small GET; objects are never polled).
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 60_000;
  const followPods = options.pods ?? true;
  const followTigera = options.tigera ?? true;
  const followPodCertificates = options.podCertificates ?? true;
  const backoff = { initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000 };
  const reflectorBase = {
    pageSize: options.pageSize ?? 500,
    backoff,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
  };

  const states = new Map<string, ContextState>();
  const listeners = new Set<(batch: StoreBatch) => void>();
  const pending = new Map<string, PendingChange>();
  const syncWaiters = new Set<() => void>();
  let flushTimer: NodeJS.Timeout | undefined;
  /** Contexts whose CSRs are in, with what starts their other kinds (see csrsIn). */
  const restWaiting = new Map<ContextState, () => void>();
  let restTimer: NodeJS.Timeout | undefined;
  /** The other kinds also wait for releaseRest() (options.holdRest), once. */
  let restHeld = options.holdRest === true;
  let started = false;
  let stopped = false;

  function pendingFor(context: string): PendingChange {
    let p = pending.get(context);
    if (!p) {
      p = { upserted: new Map(), deleted: new Map() };
      pending.set(context, p);
    }
    if (!flushTimer && !stopped) flushTimer = setTimeout(flush, batchMs);
    return p;
  }

  function touch(state: ContextState) {
    state.version++;
    state.snapshot = undefined;
  }

  function noteKey(state: ContextState, kind: StoreKind, key: string, op: 'upsert' | 'delete') {
    const p = pendingFor(state.ctx.name);
    const into = op === 'upsert' ? p.upserted : p.deleted;
    const outOf = op === 'upsert' ? p.deleted : p.upserted;
    outOf.get(kind)?.delete(key);
    let set = into.get(kind);
    if (!set) {
      set = new Set();
      into.set(kind, set);
    }
    set.add(key);
  }

  function flush() {
    flushTimer = undefined;
    if (stopped || pending.size === 0) return;
    const changes: ContextChange[] = [];
    for (const [context, p] of pending) {
      const change: ContextChange = { context, upserted: {}, deleted: {} };
      for (const [kind, keys] of p.upserted) if (keys.size) change.upserted[kind] = [...keys];
      for (const [kind, keys] of p.deleted) if (keys.size) change.deleted[kind] = [...keys];
      if (p.connection) change.connection = p.connection;
      if (p.synced !== undefined) change.synced = p.synced;
      if (p.csrsListed) change.csrsListed = true;
      if (p.tigeraInstalled !== undefined) change.tigeraInstalled = p.tigeraInstalled;
      changes.push(change);
    }
    pending.clear();
    const batch: StoreBatch = { changes };
    for (const listener of [...listeners]) {
      try {
        listener(batch);
      } catch {
        // A failing subscriber must not stop the others or the informers.
      }
    }
  }

  function sinkFor<T extends AnyObject>(
    state: ContextState,
    kind: StoreKind,
    target: KindState<T>,
    typeName: ModelSet | ((raw: Record<string, unknown>) => T) | undefined,
    slot: () => ReflectorSlot,
  ) {
    return {
      upsert(key: string, raw: Record<string, unknown>) {
        const value = typeof typeName === 'function' ? typeName(raw) : typeName ? deserialize<T>(raw, typeName) : raw;
        target.set(key, value as T);
        touch(state);
        noteKey(state, kind, key, 'upsert');
      },
      remove(key: string) {
        if (!target.delete(key)) return;
        touch(state);
        noteKey(state, kind, key, 'delete');
      },
      status(status: ReflectorStatus) {
        const s = slot();
        const wasFailing = s.status.phase === 'error' && REACHABILITY.has(s.status.error.kind);
        s.status = status;
        if (status.phase === 'error') state.errors[kind] = status.error;
        else if (status.phase === 'live') delete state.errors[kind];
        // The server answers again: the context's other kinds waiting out a backoff for the same reason retry now
        // (after a 30 s outage their backoff reached 30 s; the person would watch "failing" that long for nothing).
        if (status.phase === 'live' && wasFailing) wakeFailing(state);
        if (status.phase === 'error' && kind === 'csrs') state.startRest();
        recompute(state);
      },
      count(what: 'lists' | 'watches' | 'expired') {
        state.counters[what]++;
        touch(state);
      },
      listed() {
        const s = slot();
        if (kind === 'csrs' && !s.listed) pendingFor(state.ctx.name).csrsListed = true;
        if (!s.listed && (kind === 'pcrs' || kind === 'trustBundles')) {
          // podCertificatesListed is read from the slots: a new snapshot, and a batch that says so.
          touch(state);
          pendingFor(state.ctx.name);
        }
        s.listed = true;
        delete state.errors[kind];
        if (kind === 'csrs') state.startRest();
        recompute(state);
      },
    };
  }

  function wakeFailing(state: ContextState): void {
    for (const other of [...state.slots, ...state.podCertSlots, ...(state.tigeraSlot ? [state.tigeraSlot] : [])]) {
      if (other.status.phase === 'error' && REACHABILITY.has(other.status.error.kind)) other.reflector.retryNow();
    }
  }

  function connectionOf(state: ContextState): ConnectionState {
    const slots = state.slots;
    const failing = slots.filter(
      (s): s is ReflectorSlot & { status: Extract<ReflectorStatus, { phase: 'error' }> } => s.status.phase === 'error',
    );
    const csrSlot = slots.find((s) => s.kind === 'csrs');
    const relevant = failing.filter(
      (s) =>
        (s.status.error.kind !== 'forbidden' || s.kind === 'csrs') &&
        !(s.kind === 'nodes' && s.status.error.kind === 'not-found'),
    );
    const worst = relevant.find((s) => s.kind === 'csrs') ?? relevant[0];
    if (worst) {
      const { error, nextAttemptAt, attempt } = worst.status;
      if (error.kind === 'forbidden') return { phase: 'forbidden', message: error.message };
      if (error.kind === 'unreachable' || (error.kind === 'timeout' && error.status === undefined)) {
        return { phase: 'unreachable', message: error.message, nextAttemptAt };
      }
      return { phase: 'retrying', lastError: error.message, nextAttemptAt, attempt };
    }
    const settled = slots.every(
      (s) => s.status.phase === 'live' || (s.status.phase === 'error' && s.status.error.kind === 'forbidden'),
    );
    if (csrSlot?.status.phase !== 'live' || !settled) return { phase: 'connecting' };
    return state.connection.phase === 'live' ? state.connection : { phase: 'live', since: Date.now() };
  }

  function syncedOf(state: ContextState): boolean {
    // A kind the user may not read does not hold the rest back; nor do Nodes on a server that serves none.
    const settled = (s: ReflectorSlot) =>
      s.listed ||
      (s.status.phase === 'error' &&
        ((s.status.error.kind === 'forbidden' && s.kind !== 'csrs') ||
          (s.status.error.kind === 'not-found' && s.kind === 'nodes')));
    if (!state.slots.every(settled)) return false;
    if (!followTigera) return true;
    if (state.tigeraInstalled === undefined) return false;
    return !state.tigeraInstalled || !state.tigeraSlot || settled(state.tigeraSlot);
  }

  function recompute(state: ContextState) {
    if (stopped) return;
    const connection = connectionOf(state);
    if (!sameConnection(connection, state.connection)) {
      state.connection = connection;
      touch(state);
      pendingFor(state.ctx.name).connection = connection;
    }
    const synced = syncedOf(state);
    if (synced !== state.synced) {
      state.synced = synced;
      touch(state);
      pendingFor(state.ctx.name).synced = synced;
      if (synced) for (const w of [...syncWaiters]) w();
    }
  }

  function setTigeraInstalled(state: ContextState, installed: boolean) {
    if (state.tigeraInstalled === installed) return;
    state.tigeraInstalled = installed;
    if (!installed && state.tigera.size) {
      for (const key of state.tigera.working.keys()) noteKey(state, 'tigeraStatuses', key, 'delete');
      state.tigera.clear();
    }
    touch(state);
    pendingFor(state.ctx.name).tigeraInstalled = installed;
    recompute(state);
  }

  for (const ctx of contexts) {
    if (states.has(ctx.name)) continue;
    const state: ContextState = {
      ctx,
      csrs: kindState(),
      pods: kindState(),
      namespaces: kindState(),
      nodes: kindState(),
      tigera: kindState(),
      tigeraInstalled: undefined,
      pcrs: kindState(),
      trustBundles: kindState(),
      podCertificateApis: undefined,
      podCertSlots: [],
      slots: [],
      tigeraSlot: undefined,
      connection: { phase: 'connecting' },
      synced: false,
      errors: {},
      counters: { lists: 0, watches: 0, expired: 0 },
      version: 0,
      snapshot: undefined,
      abort: undefined,
      startRest: () => {},
      listingCsrs: false,
      addSlot: undefined as unknown as ContextState['addSlot'],
    };
    const addSlot = <T extends AnyObject>(
      kind: StoreKind,
      path: string,
      target: KindState<T>,
      typeName: ModelSet | ((raw: Record<string, unknown>) => T) | undefined,
      keyOf: (raw: Record<string, unknown>) => string,
      extra: { stopOnNotFound?: boolean } = {},
    ): ReflectorSlot => {
      const slot: ReflectorSlot = {
        kind,
        status: { phase: 'connecting' },
        listed: false,
        reflector: undefined as unknown as Reflector,
      };
      slot.reflector = new Reflector(
        { context: ctx, path, keyOf, ...reflectorBase, ...extra },
        sinkFor(state, kind, target, typeName, () => slot),
      );
      return slot;
    };
    state.slots.push(addSlot('csrs', CSR_PATH, state.csrs, csrType, nameKey));
    if (followPods) {
      if (options.namespaces?.length) {
        for (const ns of [...new Set(options.namespaces)]) {
          state.slots.push(
            addSlot('pods', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, state.pods, podType, namespacedKey),
          );
        }
      } else {
        state.slots.push(addSlot('pods', '/api/v1/pods', state.pods, podType, namespacedKey));
      }
      state.slots.push(addSlot('namespaces', '/api/v1/namespaces', state.namespaces, namespaceType, nameKey));
    }
    if (options.nodes) {
      state.slots.push(addSlot('nodes', '/api/v1/nodes', state.nodes, nodeAddresses, nameKey));
    }
    state.addSlot = addSlot;
    if (followTigera) {
      state.tigeraSlot = addSlot('tigeraStatuses', TIGERA_PATH, state.tigera, undefined, nameKey, {
        stopOnNotFound: true,
      });
    }
    states.set(ctx.name, state);
  }

  async function tigeraLoop(state: ContextState, signal: AbortSignal) {
    const slot = state.tigeraSlot;
    if (!slot) return;
    let attempt = 0;
    while (!signal.aborted) {
      let installed: boolean | undefined;
      try {
        const group = await requestJson<{ resources?: { name?: string }[] }>(state.ctx, {
          path: TIGERA_GROUP_PATH,
          timeoutMs: reflectorBase.connectTimeoutMs,
          signal,
        });
        installed = (group?.resources ?? []).some((r) => r.name === 'tigerastatuses');
      } catch (err) {
        if (signal.aborted) return;
        const error = toKubeError(err, state.ctx.name);
        if (error.kind === 'not-found') installed = false;
        else {
          // The other reflectors report connection trouble; here we only wait and ask again.
          await sleep(backoffDelay(attempt++, backoff.initialMs, backoff.maxMs), signal);
          continue;
        }
      }
      attempt = 0;
      if (signal.aborted) return;
      setTigeraInstalled(state, installed);
      if (installed) {
        slot.listed = false;
        await slot.reflector.start(signal);
        if (signal.aborted) return;
        // The reflector stopped: the group went away (404). Forget what it held and check discovery again.
        setTigeraInstalled(state, false);
      } else {
        await sleep(discoveryIntervalMs, signal);
      }
    }
  }

  function setPodCertificateApis(state: ContextState, apis: PodCertificateApis) {
    const same = JSON.stringify(apis) === JSON.stringify(state.podCertificateApis);
    if (same) return;
    state.podCertificateApis = apis;
    for (const [kind, target] of [
      ['pcrs', state.pcrs],
      ['trustBundles', state.trustBundles],
    ] as const) {
      for (const key of target.working.keys()) noteKey(state, kind, key, 'delete');
      target.clear();
    }
    state.podCertSlots = [];
    touch(state);
  }

  /**
   * PodCertificateRequests and ClusterTrustBundles at the version discovery names (v1, v1beta1, …): followed with the
   * same reflector as CSRs where served; where not, discovery is asked again now and then. Never fatal: a cluster
   * without them shows none, and their errors are kept per kind like any other.
   */
  async function podCertLoop(state: ContextState, signal: AbortSignal) {
    let attempt = 0;
    while (!signal.aborted) {
      const found = await podCertificateApis(state.ctx);
      if (signal.aborted) return;
      if (!found.ok && found.error.kind !== 'forbidden' && found.error.kind !== 'not-found') {
        await sleep(backoffDelay(attempt++, backoff.initialMs, backoff.maxMs), signal);
        continue;
      }
      attempt = 0;
      const apis = found.ok ? found.value : {};
      setPodCertificateApis(state, apis);
      const group = '/apis/certificates.k8s.io';
      const slots: ReflectorSlot[] = [];
      if (apis.podCertificateRequests) {
        const base = `${group}/${apis.podCertificateRequests}`;
        const paths = options.namespaces?.length
          ? [...new Set(options.namespaces)].map(
              (ns) => `${base}/namespaces/${encodeURIComponent(ns)}/podcertificaterequests`,
            )
          : [`${base}/podcertificaterequests`];
        for (const path of paths) {
          slots.push(state.addSlot('pcrs', path, state.pcrs, undefined, namespacedKey, { stopOnNotFound: true }));
        }
      }
      if (apis.clusterTrustBundles) {
        const path = `${group}/${apis.clusterTrustBundles}/clustertrustbundles`;
        slots.push(
          state.addSlot('trustBundles', path, state.trustBundles, undefined, nameKey, { stopOnNotFound: true }),
        );
      }
      state.podCertSlots = slots;
      touch(state);
      pendingFor(state.ctx.name);
      if (slots.length === 0) {
        await sleep(discoveryIntervalMs, signal);
        continue;
      }
      // Until one of them stops (the API went away: 404) or the context is stopped.
      await Promise.race(slots.map((slot) => slot.reflector.start(signal)));
      if (signal.aborted) return;
      // Ask discovery again (a served version may have changed); what was held is replaced.
      state.podCertificateApis = undefined;
    }
  }

  function startContext(state: ContextState) {
    state.abort?.abort();
    const abort = new AbortController();
    state.abort = abort;
    for (const slot of state.slots) slot.status = { phase: 'connecting' };
    // CSRs first: the other kinds' lists (pods above all, often larger) would compete with them for the server, the
    // network and this thread's JSON parsing, and the CSR table is what a person came for.
    const [csrSlot, ...rest] = state.slots;
    let restStarted = false;
    const startRest = () => {
      if (restStarted || abort.signal.aborted) return;
      restStarted = true;
      for (const slot of rest) void slot.reflector.start(abort.signal);
      if (state.tigeraSlot) void tigeraLoop(state, abort.signal);
      if (followPodCertificates) void podCertLoop(state, abort.signal);
    };
    state.listingCsrs = csrSlot !== undefined;
    state.startRest = () => csrsIn(state, startRest);
    if (csrSlot) void csrSlot.reflector.start(abort.signal);
    else state.startRest();
    recompute(state);
  }

  /**
   * A context's CSRs are in (or their list failed). Its other kinds start once no context is still listing CSRs, or
   * REST_WAIT_MS after the first was in: one context's pods (often several times its CSRs' bytes) would otherwise
   * compete with the others' CSR lists for the servers and for this thread's JSON parsing, and the CSR table of
   * every context is what is drawn first (it was 0.2-0.4 s of the TUI's first frame at 2 × 10,000 CSRs). With
   * `holdRest` they also wait for releaseRest(): the TUI draws the table before their connections are opened.
   */
  function csrsIn(state: ContextState, startRest: () => void) {
    state.listingCsrs = false;
    restWaiting.set(state, startRest);
    if (restHeld || [...states.values()].some((s) => s.listingCsrs)) {
      restTimer ??= setTimeout(releaseRest, REST_WAIT_MS);
      return;
    }
    releaseRest();
  }

  function releaseRest() {
    restHeld = false;
    clearTimeout(restTimer);
    restTimer = undefined;
    const due = [...restWaiting.values()];
    restWaiting.clear();
    for (const start of due) start();
  }

  function stateOf(context: string): ContextState {
    const state = states.get(context);
    if (!state) {
      throw new Error(`Context "${context}" is not in this store (have: ${[...states.keys()].join(', ')}).`);
    }
    return state;
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      for (const state of states.values()) startContext(state);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      // Aborting closes every watch and list; the context's keep-alive agent stays for writes that may still be in
      // flight on the same context (its idle sockets do not keep the process alive).
      for (const state of states.values()) state.abort?.abort();
      clearTimeout(flushTimer);
      flushTimer = undefined;
      clearTimeout(restTimer);
      restTimer = undefined;
      restWaiting.clear();
      pending.clear();
      listeners.clear();
      for (const w of [...syncWaiters]) w();
    },
    reconnect(context?: string) {
      if (!started || stopped) return;
      const targets = context ? [stateOf(context)] : [...states.values()];
      for (const state of targets) startContext(state);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    snapshot(context: string): ContextSnapshot {
      const state = stateOf(context);
      if (state.snapshot) return state.snapshot;
      const snapshot: ContextSnapshot = {
        context,
        version: state.version,
        csrs: state.csrs.snapshot(),
        pods: state.pods.snapshot(),
        namespaces: state.namespaces.snapshot(),
        nodes: state.nodes.snapshot(),
        tigeraStatuses: state.tigeraInstalled === false ? 'not-installed' : state.tigera.snapshot(),
        ...(followPodCertificates
          ? {
              pcrs: state.pcrs.snapshot(),
              trustBundles: state.trustBundles.snapshot(),
              ...(state.podCertificateApis ? { podCertificateApis: state.podCertificateApis } : {}),
              podCertificatesListed:
                state.podCertificateApis !== undefined && state.podCertSlots.every((s) => s.listed),
            }
          : {}),
        connection: state.connection,
        synced: state.synced,
        csrsListed: state.slots[0]?.listed ?? false,
        errors: { ...state.errors },
        counters: { ...state.counters },
      };
      state.snapshot = snapshot;
      return snapshot;
    },
    contexts() {
      return [...states.keys()];
    },
    whenSynced(context?: string, timeoutMs = 60_000): Promise<boolean> {
      const targets = context ? [stateOf(context)] : [...states.values()];
      const done = () => targets.every((s) => s.synced);
      if (done()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const check = () => {
          if (stopped) finish(false);
          else if (done()) finish(true);
        };
        const finish = (value: boolean) => {
          clearTimeout(timer);
          syncWaiters.delete(check);
          resolve(value);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        syncWaiters.add(check);
      });
    },
    releaseRest() {
      if (!restHeld) return;
      restHeld = false;
      // A context still listing its CSRs keeps the others waiting, as without holdRest (REST_WAIT_MS at most).
      if (restWaiting.size > 0 && ![...states.values()].some((s) => s.listingCsrs)) releaseRest();
    },
  };
}

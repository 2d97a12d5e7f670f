// The radar, live: list+watch reflectors (services/kube's, one per context and kind) over Secrets, ConfigMaps,
// webhook configurations, CRDs, APIServices and CSRs, each object decoded once per resourceVersion (the reflector
// announces only changed ones) in time slices of a few milliseconds so key presses never wait behind 10,000
// Secrets. An object's data is dropped once decoded (its key checked against its certificate then); only its
// records are kept. Chains are verified later, in the same slices: first those of the records on screen (focus),
// then the rest; until then a record is `pending`.
import { setMaxListeners } from 'node:events';
import type { RegistryOptions } from '../config/ca-registry.js';
import type { ClusterContext, ClusterStore, StoreBatch } from '../kube/api-types.js';
import { getIfPresent, type RawObject } from '../kube/list.js';
import { Reflector, type ReflectorStatus } from '../kube/reflector.js';
import { bySoonestExpiry, checkRecord, inspectPemDeferred, type PemInput } from './inspect.js';
import {
  addAnchors,
  apiServiceInputs,
  configMapAnchor,
  configMapInputs,
  crdInputs,
  csrInputs,
  installationAnchor,
  pcrInputs,
  secretInputs,
  trustBundleAnchor,
  trustBundleInputs,
  webhookInputs,
} from './objects.js';
import { CALICO_PATH, dedupeRootCa, type SkippedSource, scanKubeconfigUsers, scanRegistry } from './scan.js';
import type { Anchors, CertRecord } from './types.js';

export interface CertWatchOptions {
  /** @default 500 */
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** @default 300 */
  watchTimeoutSeconds?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
  registry?: RegistryOptions;
  /** Longest stretch of decoding before the event loop gets a turn, ms. @default 8 */
  sliceMs?: number;
  /**
   * Verify every record's chain in the background once decoding is done; false: only the focused records' (a tool
   * that shows one screen, tests). @default true
   */
  checkAll?: boolean;
  /** Follow only these namespaces' Secrets and ConfigMaps (one watch per namespace); default: all. */
  namespaces?: string[];
  /**
   * The desk's own store: the CSRs it already follows are read from it (its batches name what changed) instead of
   * being listed and watched a second time. Without it the watch has its own CSR reflector (tests, tools).
   */
  store?: Pick<ClusterStore, 'subscribe' | 'snapshot'>;
}

export interface CertWatch {
  start(): void;
  stop(): void;
  /** Called (at most once per decoding slice) when records changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Every record, soonest expiry first; the same array until something changes. */
  records(): readonly CertRecord[];
  /** Grows with every change. */
  version(): number;
  /** Sources not read per context (403 named once), and whether a context's first lists are done. */
  skipped(): readonly SkippedSource[];
  synced(context: string): boolean;
  /** The records shown now: their chains are verified before any other's (the last call wins). */
  focus(records: readonly CertRecord[]): void;
  /** How many records wait for their chain check. */
  unchecked(): number;
}

interface KindSpec {
  resource: string;
  path: string;
  namespaced: boolean;
  inputs(ctx: string, raw: RawObject, anchors: ReadonlyMap<string, Anchors>, calicoSigner?: string): PemInput[];
  /** The store's kind for the same objects, when the desk's store follows them. */
  storeKind?: 'csrs' | 'pcrs' | 'trustBundles';
  /** Only from the desk's store (its version is found by discovery there); skipped without one. */
  storeOnly?: boolean;
}

const KINDS: KindSpec[] = [
  { resource: 'configmaps', path: '/api/v1/configmaps', namespaced: true, inputs: (c, r) => configMapInputs(c, r) },
  {
    resource: 'secrets',
    path: '/api/v1/secrets',
    namespaced: true,
    inputs: (c, r, a, s) => secretInputs(c, r, a, s),
  },
  {
    resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io',
    path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
    namespaced: false,
    inputs: (c, r) => webhookInputs(c, 'ValidatingWebhookConfiguration', r),
  },
  {
    resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io',
    path: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    namespaced: false,
    inputs: (c, r) => webhookInputs(c, 'MutatingWebhookConfiguration', r),
  },
  {
    resource: 'customresourcedefinitions.apiextensions.k8s.io',
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    namespaced: false,
    inputs: (c, r) => crdInputs(c, r),
  },
  {
    resource: 'apiservices.apiregistration.k8s.io',
    path: '/apis/apiregistration.k8s.io/v1/apiservices',
    namespaced: false,
    inputs: (c, r) => apiServiceInputs(c, r),
  },
  {
    resource: 'certificatesigningrequests.certificates.k8s.io',
    path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    namespaced: false,
    inputs: (c, r, a) => csrInputs(c, r, a),
    storeKind: 'csrs',
  },
  {
    resource: 'clustertrustbundles.certificates.k8s.io',
    path: '',
    namespaced: false,
    inputs: (c, r) => trustBundleInputs(c, r),
    storeKind: 'trustBundles',
    storeOnly: true,
  },
  {
    resource: 'podcertificaterequests.certificates.k8s.io',
    path: '',
    namespaced: true,
    inputs: (c, r, a) => pcrInputs(c, r, a),
    storeKind: 'pcrs',
    storeOnly: true,
  },
];

/** kube-root-ca.crt is copied into every namespace: its records are grouped by CA and context. */
function rootKey(r: CertRecord): string | undefined {
  return r.location.kind === 'ConfigMap' && r.location.name === 'kube-root-ca.crt' && r.cert
    ? `${r.context}|${r.cert.fingerprint}`
    : undefined;
}

/** Two arrays sorted by bySoonestExpiry, merged into a new one. */
function mergeSorted(a: readonly CertRecord[], b: readonly CertRecord[]): CertRecord[] {
  if (b.length === 0) return a as CertRecord[];
  const out = new Array<CertRecord>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = bySoonestExpiry(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

function keyOf(raw: RawObject): string {
  const m = (raw.metadata ?? {}) as { name?: string; namespace?: string };
  return `${m.namespace ?? ''}/${m.name ?? ''}`;
}

export function createCertWatch(contexts: readonly ClusterContext[], options: CertWatchOptions = {}): CertWatch {
  const sliceMs = options.sliceMs ?? 8;
  const checkAll = options.checkAll ?? true;
  const listeners = new Set<() => void>();
  /** `${context}|${resource}|${ns/name}` → the object's records. */
  const byObject = new Map<string, CertRecord[]>();
  const skipped: SkippedSource[] = [];
  const anchorsOf = new Map<string, Map<string, Anchors>>();
  const calicoSignerOf = new Map<string, string>();
  const pendingLists = new Map<string, number>();
  const queue: { context: string; kind: KindSpec; key: string; raw?: RawObject }[] = [];
  const queued = new Map<string, number>();
  /** Records whose chain is not verified yet, in the order they came; `focused` go first. */
  const unchecked = new Set<CertRecord>();
  let focused: readonly CertRecord[] = [];
  let version = 0;
  // The order is kept incrementally: records in `main` stay sorted; a feed merges in what was added (sorted) and
  // leaves out what was removed, instead of sorting 44,000 records for every redraw. kube-root-ca.crt copies are
  // grouped apart (one record per CA and context is shown).
  let main: CertRecord[] = [];
  let added: CertRecord[] = [];
  const removed = new Set<CertRecord>();
  const roots = new Map<string, Map<string, CertRecord>>();
  let rootsDirty = false;
  let reps: CertRecord[] = [];
  let sorted: CertRecord[] | undefined;
  let draining: NodeJS.Immediate | undefined;
  let abort: AbortController | undefined;
  let stopped = false;

  const changed = () => {
    version++;
    sorted = undefined;
  };
  const place = (records: readonly CertRecord[], add: boolean) => {
    for (const r of records) {
      if (!add) unchecked.delete(r);
      else if (r.pending) unchecked.add(r);
      const root = rootKey(r);
      if (root === undefined) {
        if (add) added.push(r);
        else removed.add(r);
        continue;
      }
      const group = roots.get(root) ?? new Map<string, CertRecord>();
      roots.set(root, group);
      if (add) group.set(r.id, r);
      else if (group.get(r.id) === r) group.delete(r.id);
      if (group.size === 0) roots.delete(root);
      rootsDirty = true;
    }
  };
  const setRecords = (id: string, records: CertRecord[] | undefined) => {
    const old = byObject.get(id);
    if (old) place(old, false);
    if (records?.length) {
      byObject.set(id, records);
      place(records, true);
    } else byObject.delete(id);
  };
  const notify = () => {
    for (const l of listeners) {
      try {
        l();
      } catch {
        // a failing listener does not stop the others
      }
    }
  };

  /**
   * Verifies a record's chain. kube-root-ca.crt is shown through a copy of its group's first record (dedupeRootCa):
   * the whole group is checked (one check, shared by content) and the copy made again.
   */
  const check = (r: CertRecord): boolean => {
    unchecked.delete(r);
    if (!checkRecord(r)) return false;
    const root = rootKey(r);
    if (root !== undefined) {
      for (const g of roots.get(root)?.values() ?? []) {
        unchecked.delete(g);
        checkRecord(g);
      }
      rootsDirty = true;
    }
    return true;
  };
  const drain = () => {
    draining = undefined;
    const until = performance.now() + sliceMs;
    let any = false;
    let checked = false;
    // What is on screen first: a handful of records, each a signature check or two.
    for (const r of focused) if (r.pending) checked = check(r) || checked;
    while (queue.length > 0 && performance.now() < until) {
      const item = queue.shift()!;
      queued.set(item.context, (queued.get(item.context) ?? 1) - 1);
      const id = `${item.context}|${item.kind.resource}|${item.key}`;
      any = true;
      if (!item.raw) {
        setRecords(id, undefined);
        continue;
      }
      const anchors = anchorsOf.get(item.context) ?? new Map();
      if (item.kind.resource === 'configmaps' || item.kind.storeKind === 'trustBundles') {
        const found = item.kind.storeKind ? trustBundleAnchor(item.raw) : configMapAnchor(item.raw);
        if (found) {
          addAnchors(anchors, found.signerName, found.anchors);
          refeed(item.context, found.signerName);
        }
      }
      const records = item.kind
        .inputs(item.context, item.raw, anchors, calicoSignerOf.get(item.context))
        .flatMap((i) => inspectPemDeferred(i));
      // The object (a Secret's data included) is not referenced past this point.
      item.raw = undefined;
      setRecords(id, records);
    }
    // Then, with the time left (at least one when nothing was decoded), the rest in the order they came.
    if (checkAll) {
      for (const r of unchecked) {
        if ((any || checked) && performance.now() >= until) break;
        checked = check(r) || checked;
      }
    }
    if (any || rootsDirty) changed();
    // A check changes no record's place in the order: the same sorted array stays, with a new version.
    else if (checked) version++;
    if (any || checked) notify();
    if (queue.length > 0 || (checkAll && unchecked.size > 0)) draining = setImmediate(drain);
  };
  const enqueue = (context: string, kind: KindSpec, key: string, raw?: RawObject) => {
    queue.push({ context, kind, key, ...(raw ? { raw } : {}) });
    queued.set(context, (queued.get(context) ?? 0) + 1);
    draining ??= setImmediate(drain);
  };

  /** Kinds read from the desk's store, per context, once that context's anchors are known. */
  const storeFed = new Map<string, { kind: KindSpec; listed: boolean }[]>();
  const storeObjects = (context: string, kind: KindSpec): ReadonlyMap<string, unknown> | undefined =>
    kind.storeKind ? options.store?.snapshot(context)[kind.storeKind] : undefined;
  const storeListed = (context: string, kind: KindSpec): boolean => {
    const snap = options.store?.snapshot(context);
    // A store that does not follow pod certificates says nothing of them (undefined): nothing to wait for.
    return kind.storeKind === 'csrs' ? snap?.csrsListed === true : snap?.podCertificatesListed !== false;
  };
  const followStore = (context: string, kind: KindSpec) => {
    const entry = { kind, listed: storeListed(context, kind) };
    storeFed.set(context, [...(storeFed.get(context) ?? []), entry]);
    for (const [name, obj] of storeObjects(context, kind) ?? []) enqueue(context, kind, `/${name}`, obj as RawObject);
    if (entry.listed) pendingLists.set(context, (pendingLists.get(context) ?? 1) - 1);
  };
  /**
   * A signer's CA just published (a trust bundle or an annotated ConfigMap, listed after the requests it issued):
   * its CSRs and PCRs from the store are decoded again against it (the store still holds them; Secrets are not).
   */
  const refeed = (context: string, signerName: string) => {
    for (const { kind } of storeFed.get(context) ?? []) {
      if (kind.storeKind === 'trustBundles') continue;
      for (const [name, obj] of storeObjects(context, kind) ?? []) {
        if ((obj as { spec?: { signerName?: string } }).spec?.signerName === signerName) {
          enqueue(context, kind, `/${name}`, obj as RawObject);
        }
      }
    }
  };
  const onStoreBatch = (batch: StoreBatch) => {
    for (const change of batch.changes) {
      for (const entry of storeFed.get(change.context) ?? []) {
        const kind = entry.kind;
        const objects = storeObjects(change.context, kind);
        for (const name of change.upserted[kind.storeKind!] ?? []) {
          const obj = objects?.get(name);
          if (obj) enqueue(change.context, kind, `/${name}`, obj as RawObject);
        }
        for (const name of change.deleted[kind.storeKind!] ?? []) enqueue(change.context, kind, `/${name}`);
        if (!entry.listed && storeListed(change.context, kind)) {
          entry.listed = true;
          pendingLists.set(change.context, (pendingLists.get(change.context) ?? 1) - 1);
          changed();
          notify();
        }
      }
    }
  };
  let offStore: (() => void) | undefined;

  const startContext = async (ctx: ClusterContext, signal: AbortSignal) => {
    const anchors = new Map<string, Anchors>();
    anchorsOf.set(ctx.name, anchors);
    const registry = await scanRegistry(options);
    for (const [s, a] of registry.anchors) addAnchors(anchors, s, a);
    const inst = await getIfPresent(ctx, CALICO_PATH);
    if (inst.ok && inst.value) {
      const found = installationAnchor(inst.value);
      if (found) {
        calicoSignerOf.set(ctx.name, found.signerName);
        addAnchors(anchors, found.signerName, found.anchors);
      }
    }
    if (signal.aborted) return;
    const paths = (kind: KindSpec) =>
      kind.namespaced && options.namespaces?.length
        ? options.namespaces.map((ns) => kind.path.replace(/\/([a-z]+)$/, `/namespaces/${encodeURIComponent(ns)}/$1`))
        : [kind.path];
    const fromStore = KINDS.filter((kind) => options.store && kind.storeKind);
    const work = KINDS.filter((kind) => !fromStore.includes(kind) && !kind.storeOnly).flatMap((kind) =>
      paths(kind).map((path) => ({ kind, path })),
    );
    pendingLists.set(ctx.name, work.length + fromStore.length);
    for (const kind of fromStore) followStore(ctx.name, kind);
    for (const { kind, path } of work) {
      let listed = false;
      const done = () => {
        if (listed) return;
        listed = true;
        pendingLists.set(ctx.name, (pendingLists.get(ctx.name) ?? 1) - 1);
        changed();
        notify();
      };
      const reflector = new Reflector(
        {
          context: ctx,
          path,
          keyOf,
          pageSize: options.pageSize ?? 500,
          backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
          watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
          connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
          stopOnNotFound: true,
        },
        {
          upsert: (key, raw) => enqueue(ctx.name, kind, key, raw),
          remove: (key) => enqueue(ctx.name, kind, key),
          listed: done,
          count: () => {},
          status: (s: ReflectorStatus) => {
            if (s.phase !== 'error') return;
            // Forbidden: named once; anything else is retried by the reflector and shown by the main store.
            if (
              s.error.kind === 'forbidden' &&
              !skipped.some((x) => x.context === ctx.name && x.resource === kind.resource)
            ) {
              skipped.push({ context: ctx.name, resource: kind.resource, forbidden: true, message: s.error.message });
              done();
            }
          },
        },
      );
      void reflector.start(signal).then(() => {
        if (reflector.notFound) done();
      });
    }
  };

  return {
    start() {
      if (abort || stopped) return;
      abort = new AbortController();
      const signal = abort.signal;
      // Seven reflectors per context wait on this one signal.
      setMaxListeners(0, signal);
      void Promise.all([scanKubeconfigUsers(contexts), scanRegistry(options)]).then(([users, registry]) => {
        if (signal.aborted) return;
        place([...users, ...registry.records], true);
        changed();
        notify();
      });
      offStore = options.store?.subscribe(onStoreBatch);
      for (const ctx of contexts) void startContext(ctx, signal);
    },
    stop() {
      stopped = true;
      offStore?.();
      abort?.abort();
      if (draining) clearImmediate(draining);
      draining = undefined;
      queue.length = 0;
      queued.clear();
      unchecked.clear();
      focused = [];
      listeners.clear();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    records() {
      if (!sorted) {
        if (added.length > 0 || removed.size > 0) {
          const kept = removed.size > 0 ? main.filter((r) => !removed.has(r)) : main;
          const fresh = added.filter((r) => !removed.has(r)).sort(bySoonestExpiry);
          main = mergeSorted(kept, fresh);
          added = [];
          removed.clear();
        }
        if (rootsDirty) {
          rootsDirty = false;
          reps = dedupeRootCa([...roots.values()].flatMap((g) => [...g.values()])).sort(bySoonestExpiry);
        }
        sorted = reps.length > 0 ? mergeSorted(main, reps) : main;
      }
      return sorted;
    },
    version: () => version,
    skipped: () => skipped,
    synced: (context) => pendingLists.get(context) === 0 && !queued.get(context),
    focus(records) {
      focused = records;
      if (!stopped && records.some((r) => r.pending)) draining ??= setImmediate(drain);
    },
    unchecked: () => unchecked.size,
  };
}

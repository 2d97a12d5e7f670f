// The radar, live: list+watch reflectors (services/kube's, one per context and kind) over Secrets, ConfigMaps,
// webhook configurations, CRDs, APIServices and CSRs, each object decoded once per resourceVersion (the reflector
// announces only changed ones) in time slices of a few milliseconds so key presses never wait behind 10,000
// Secrets. An object's data is dropped once decoded; only its records are kept.
import { setMaxListeners } from 'node:events';
import type { RegistryOptions } from '../config/ca-registry.js';
import type { ClusterContext } from '../kube/api-types.js';
import { getIfPresent, type RawObject } from '../kube/list.js';
import { Reflector, type ReflectorStatus } from '../kube/reflector.js';
import { bySoonestExpiry, inspectPem, type PemInput } from './inspect.js';
import {
  addAnchors,
  apiServiceInputs,
  configMapAnchor,
  configMapInputs,
  crdInputs,
  csrInputs,
  installationAnchor,
  secretInputs,
  webhookInputs,
} from './objects.js';
import { dedupeRootCa, type SkippedSource, scanKubeconfigUsers, scanRegistry } from './scan.js';
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
  /** Follow only these namespaces' Secrets and ConfigMaps (one watch per namespace); default: all. */
  namespaces?: string[];
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
}

interface KindSpec {
  resource: string;
  path: string;
  namespaced: boolean;
  inputs(ctx: string, raw: RawObject, anchors: ReadonlyMap<string, Anchors>, calicoSigner?: string): PemInput[];
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
  },
];

function keyOf(raw: RawObject): string {
  const m = (raw.metadata ?? {}) as { name?: string; namespace?: string };
  return `${m.namespace ?? ''}/${m.name ?? ''}`;
}

export function createCertWatch(contexts: readonly ClusterContext[], options: CertWatchOptions = {}): CertWatch {
  const sliceMs = options.sliceMs ?? 8;
  const listeners = new Set<() => void>();
  /** `${context}|${resource}|${ns/name}` → the object's records. */
  const byObject = new Map<string, CertRecord[]>();
  const local: CertRecord[] = [];
  const skipped: SkippedSource[] = [];
  const anchorsOf = new Map<string, Map<string, Anchors>>();
  const calicoSignerOf = new Map<string, string>();
  const pendingLists = new Map<string, number>();
  const queue: { context: string; kind: KindSpec; key: string; raw?: RawObject }[] = [];
  let version = 0;
  let sorted: CertRecord[] | undefined;
  let draining: NodeJS.Immediate | undefined;
  let abort: AbortController | undefined;
  let stopped = false;

  const changed = () => {
    version++;
    sorted = undefined;
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

  const drain = () => {
    draining = undefined;
    const until = performance.now() + sliceMs;
    let any = false;
    while (queue.length > 0 && performance.now() < until) {
      const item = queue.shift()!;
      const id = `${item.context}|${item.kind.resource}|${item.key}`;
      any = true;
      if (!item.raw) {
        byObject.delete(id);
        continue;
      }
      const anchors = anchorsOf.get(item.context) ?? new Map();
      if (item.kind.resource === 'configmaps') {
        const found = configMapAnchor(item.raw);
        if (found) addAnchors(anchors, found.signerName, found.anchors);
      }
      const records = item.kind
        .inputs(item.context, item.raw, anchors, calicoSignerOf.get(item.context))
        .flatMap((i) => inspectPem(i));
      // The object (a Secret's data included) is not referenced past this point.
      item.raw = undefined;
      if (records.length > 0) byObject.set(id, records);
      else byObject.delete(id);
    }
    if (any) {
      changed();
      notify();
    }
    if (queue.length > 0) draining = setImmediate(drain);
  };
  const enqueue = (context: string, kind: KindSpec, key: string, raw?: RawObject) => {
    queue.push({ context, kind, key, ...(raw ? { raw } : {}) });
    draining ??= setImmediate(drain);
  };

  const startContext = async (ctx: ClusterContext, signal: AbortSignal) => {
    const anchors = new Map<string, Anchors>();
    anchorsOf.set(ctx.name, anchors);
    const registry = await scanRegistry(options);
    for (const [s, a] of registry.anchors) addAnchors(anchors, s, a);
    const inst = await getIfPresent(ctx, '/apis/operator.tigera.io/v1/installations/default');
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
    const work = KINDS.flatMap((kind) => paths(kind).map((path) => ({ kind, path })));
    pendingLists.set(ctx.name, work.length);
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
        local.push(...users, ...registry.records);
        changed();
        notify();
      });
      for (const ctx of contexts) void startContext(ctx, signal);
    },
    stop() {
      stopped = true;
      abort?.abort();
      if (draining) clearImmediate(draining);
      draining = undefined;
      queue.length = 0;
      listeners.clear();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    records() {
      if (!sorted) {
        sorted = [...local];
        for (const rs of byObject.values()) for (const r of rs) sorted.push(r);
        sorted = dedupeRootCa(sorted.sort(bySoonestExpiry));
      }
      return sorted;
    },
    version: () => version,
    skipped: () => skipped,
    synced: (context) => pendingLists.get(context) === 0 && queue.every((q) => q.context !== context),
  };
}

// The in-memory storage of one simulated cluster, etcd-like: one cluster-wide resourceVersion counter, objects kept
// with their serialized JSON (lists are concatenations, no re-serialization), and per-resource bounded event
// histories for watches (a resourceVersion older than the history gets 410 Expired).

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface Entry {
  readonly obj: KObject;
  readonly json: string;
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  entry: Entry;
  /** The previous version, for MODIFIED (selectors turn leaving objects into DELETED). */
  prev?: Entry;
}

export type Listener = (event: StoreEvent) => void;

class Table {
  readonly items = new Map<string, Entry>();
  sorted: Entry[] | null = null;
  readonly history: StoreEvent[] = [];
  /** A watch from a resourceVersion below this gets 410 Expired. */
  horizon = 0;
  readonly listeners = new Set<Listener>();
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** The object with the key order of the real server's JSON: kind, apiVersion, metadata (ObjectMeta order), rest. */
export function canonical(obj: KObject): KObject {
  const { kind, apiVersion, metadata, ...rest } = obj;
  const meta: ObjectMeta = {};
  for (const k of META_ORDER) if (metadata[k] !== undefined) meta[k] = metadata[k];
  for (const [k, v] of Object.entries(metadata)) if (!(k in meta) && v !== undefined) meta[k] = v;
  return {
    ...(kind !== undefined ? { kind } : {}),
    ...(apiVersion !== undefined ? { apiVersion } : {}),
    metadata: meta,
    ...rest,
  };
}

export class Store {
  private rv: number;
  /** Continue tokens from before this resourceVersion get 410 Expired (set by expireHistory, like a compaction). */
  compactedRv = 0;
  private readonly tables = new Map<string, Table>();

  constructor(
    private readonly historySize = 1000,
    startRv = 100,
  ) {
    this.rv = startRv;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private table(resource: string): Table {
    let t = this.tables.get(resource);
    if (!t) {
      t = new Table();
      this.tables.set(resource, t);
    }
    return t;
  }

  get(resource: string, namespace: string, name: string): Entry | undefined {
    return this.table(resource).items.get(keyOf(namespace, name));
  }

  /** Every object of the resource (in one namespace when given), sorted by namespace/name like etcd keys. */
  list(resource: string, namespace?: string): Entry[] {
    const t = this.table(resource);
    if (!t.sorted) {
      t.sorted = [...t.items.values()].sort((a, b) =>
        a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
      );
    }
    if (namespace === undefined) return t.sorted;
    return t.sorted.filter((e) => e.namespace === namespace);
  }

  count(resource: string): number {
    return this.table(resource).items.size;
  }

  /** Stores a new version (sets metadata.resourceVersion) and notifies watchers. */
  put(resource: string, input: KObject, type: 'ADDED' | 'MODIFIED'): Entry {
    const t = this.table(resource);
    const rv = ++this.rv;
    input.metadata.resourceVersion = String(rv);
    const obj = canonical(input);
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const key = keyOf(namespace, name);
    const prev = t.items.get(key);
    const entry: Entry = { obj, json: JSON.stringify(obj), namespace, name, rv };
    t.items.set(key, entry);
    if (!prev) t.sorted = null;
    else if (t.sorted) {
      const i = t.sorted.indexOf(prev);
      if (i >= 0) t.sorted[i] = entry;
      else t.sorted = null;
    }
    this.emit(t, prev ? { type, rv, entry, prev } : { type, rv, entry });
    return entry;
  }

  /** Bulk insert without history or notification (scale preloading). */
  preload(resource: string, objects: KObject[]): void {
    const t = this.table(resource);
    for (const input of objects) {
      const rv = ++this.rv;
      input.metadata.resourceVersion = String(rv);
      const obj = canonical(input);
      const namespace = obj.metadata.namespace ?? '';
      const name = obj.metadata.name ?? '';
      t.items.set(keyOf(namespace, name), { obj, json: JSON.stringify(obj), namespace, name, rv });
    }
    t.sorted = null;
    t.history.length = 0;
    t.horizon = this.rv;
  }

  delete(resource: string, namespace: string, name: string): Entry | undefined {
    const t = this.table(resource);
    const key = keyOf(namespace, name);
    const prev = t.items.get(key);
    if (!prev) return undefined;
    t.items.delete(key);
    t.sorted = null;
    const rv = ++this.rv;
    const obj: KObject = { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rv) } };
    const entry: Entry = { obj, json: JSON.stringify(obj), namespace, name, rv };
    this.emit(t, { type: 'DELETED', rv, entry });
    return entry;
  }

  private emit(t: Table, event: StoreEvent): void {
    t.history.push(event);
    if (t.history.length > this.historySize) {
      const dropped = t.history.splice(0, t.history.length - this.historySize);
      t.horizon = dropped[dropped.length - 1]?.rv ?? t.horizon;
    }
    for (const l of t.listeners) {
      try {
        l(event);
      } catch {
        // one broken watcher must not fail the write or starve the others
      }
    }
  }

  /**
   * Subscribes to a resource's events after `fromRv` (inclusive of nothing at or before it).
   * Returns the replayed history, or 'expired' with the oldest servable version when fromRv is too old.
   */
  watch(
    resource: string,
    fromRv: number | undefined,
    listener: Listener,
  ): { replay: StoreEvent[]; cancel: () => void } | { expired: number } {
    const t = this.table(resource);
    let replay: StoreEvent[] = [];
    if (fromRv !== undefined) {
      if (fromRv < t.horizon) return { expired: t.horizon };
      replay = t.history.filter((e) => e.rv > fromRv);
    }
    t.listeners.add(listener);
    return { replay, cancel: () => t.listeners.delete(listener) };
  }

  /** Forgets every event: a watch from any resourceVersion older than now gets 410 Expired. */
  expireHistory(): void {
    this.compactedRv = this.rv;
    for (const t of this.tables.values()) {
      t.history.length = 0;
      t.horizon = this.rv;
    }
  }

  /** Resources whose tables exist (for namespace cascade deletion). */
  resources(): string[] {
    return [...this.tables.keys()];
  }
}

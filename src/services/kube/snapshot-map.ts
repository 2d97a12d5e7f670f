// The immutable maps a store snapshot hands out, without copying a whole kind on every batch.
// A kind keeps a full copy (the base) plus what changed since: values replaced, base keys deleted, keys added. A
// snapshot is the base and copies of those (small) changes; the base is copied again only once the changes reach
// an eighth of it. Copying 10,000 CSRs per batch put ~0.5 MB straight into V8's large-object space (old
// generation, freed only by a full GC) 20 times a second per context; see docs/kube.md ("Memory").
// Iteration order is a Map's: base keys in their order (deleted ones skipped, replaced ones with the new value),
// then added keys in insertion order (a key deleted and set again moves to the end, as in a Map).

/** A read-only Map made of a base and the changes made since it was copied. */
class OverlayMap<T> implements ReadonlyMap<string, T> {
  constructor(
    readonly base: ReadonlyMap<string, T>,
    readonly replaced: ReadonlyMap<string, T>,
    readonly deleted: ReadonlySet<string>,
    readonly added: ReadonlyMap<string, T>,
    readonly size: number,
  ) {}

  /** Calls `visit` with each key this overlay changes relative to its base. */
  changed(visit: (key: string) => void): void {
    for (const key of this.replaced.keys()) visit(key);
    for (const key of this.deleted) visit(key);
    for (const key of this.added.keys()) visit(key);
  }

  get(key: string): T | undefined {
    if (this.added.has(key)) return this.added.get(key);
    if (this.deleted.has(key)) return undefined;
    return this.replaced.has(key) ? this.replaced.get(key) : this.base.get(key);
  }

  has(key: string): boolean {
    return this.added.has(key) || (!this.deleted.has(key) && this.base.has(key));
  }

  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.base) {
      if (this.deleted.has(key)) continue;
      callback.call(thisArg, this.replaced.has(key) ? (this.replaced.get(key) as T) : value, key, this);
    }
    for (const [key, value] of this.added) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[string, T]> {
    return new OverlayIterator(this.base.entries(), this.replaced, this.deleted, this.added.entries(), (e) => e);
  }

  keys(): MapIterator<string> {
    return new OverlayIterator(this.base.entries(), this.replaced, this.deleted, this.added.entries(), (e) => e[0]);
  }

  values(): MapIterator<T> {
    return new OverlayIterator(this.base.entries(), this.replaced, this.deleted, this.added.entries(), (e) => e[1]);
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }
}

/**
 * Iterates an OverlayMap without a generator: a generator's steps allocated a tuple and a result object per entry
 * on top of the Map iterator's own, for every pass over 10,000 CSRs. Inherits %IteratorPrototype% so that it is
 * iterable and has the iterator helpers where Node has them, as a Map's iterator does.
 */
class OverlayIterator<T, R> {
  private inBase = true;

  constructor(
    private readonly base: Iterator<[string, T]>,
    private readonly replaced: ReadonlyMap<string, T>,
    private readonly deleted: ReadonlySet<string>,
    private readonly added: Iterator<[string, T]>,
    private readonly pick: (entry: [string, T]) => R,
  ) {}

  next(): IteratorResult<R, undefined> {
    if (this.inBase) {
      for (let step = this.base.next(); !step.done; step = this.base.next()) {
        const key = step.value[0];
        if (this.deleted.has(key)) continue;
        const entry: [string, T] = this.replaced.has(key) ? [key, this.replaced.get(key) as T] : step.value;
        return { done: false, value: this.pick(entry) };
      }
      this.inBase = false;
    }
    const step = this.added.next();
    return step.done ? { done: true, value: undefined } : { done: false, value: this.pick(step.value) };
  }

  [Symbol.iterator](): this {
    return this;
  }
}
Object.setPrototypeOf(
  OverlayIterator.prototype,
  Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object,
);

/**
 * The keys whose entry differs between two snapshots of one kind (added, deleted or replaced by another value),
 * found without a pass over every entry when both come from the same base copy: only the keys either one changed
 * since that copy are compared. Undefined when they do not (the base was copied again in between, or the maps are
 * not snapshots): compare in full then.
 */
export function changedKeys<T>(from: ReadonlyMap<string, T>, to: ReadonlyMap<string, T>): Set<string> | undefined {
  if (from === to) return new Set();
  const fromBase = from instanceof OverlayMap ? (from.base as ReadonlyMap<string, T>) : from;
  const toBase = to instanceof OverlayMap ? (to.base as ReadonlyMap<string, T>) : to;
  if (fromBase !== toBase) return undefined;
  const keys = new Set<string>();
  const visit = (key: string) => {
    if (from.get(key) !== to.get(key) || from.has(key) !== to.has(key)) keys.add(key);
  };
  if (from instanceof OverlayMap) from.changed(visit);
  if (to instanceof OverlayMap) to.changed(visit);
  return keys;
}

/** The full copy a snapshot is made from (the map itself when it is one): snapshots with the same base can be
 * compared with changedKeys. */
export function snapshotBase<T>(map: ReadonlyMap<string, T>): object {
  return map instanceof OverlayMap ? map.base : map;
}

/** The objects of one kind: a working Map written by the reflector, and immutable snapshots of it on demand. */
export class SnapshotKind<T> {
  /** Everything, as it is now. */
  readonly working = new Map<string, T>();
  private base: Map<string, T> = new Map();
  private readonly replaced = new Map<string, T>();
  private readonly deleted = new Set<string>();
  private readonly added = new Map<string, T>();
  private published: ReadonlyMap<string, T> = this.base;
  private dirty = false;

  set(key: string, value: T): void {
    this.working.set(key, value);
    if (this.added.has(key)) this.added.set(key, value);
    else if (this.base.has(key) && !this.deleted.has(key)) this.replaced.set(key, value);
    else this.added.set(key, value);
    this.dirty = true;
  }

  delete(key: string): boolean {
    if (!this.working.delete(key)) return false;
    if (!this.added.delete(key) && this.base.has(key)) {
      this.deleted.add(key);
      this.replaced.delete(key);
    }
    this.dirty = true;
    return true;
  }

  clear(): void {
    for (const key of [...this.working.keys()]) this.delete(key);
  }

  get size(): number {
    return this.working.size;
  }

  /** An immutable view of the objects now; the same object while nothing changed. */
  snapshot(): ReadonlyMap<string, T> {
    if (!this.dirty) return this.published;
    this.dirty = false;
    const changes = this.replaced.size + this.deleted.size + this.added.size;
    if (changes > Math.max(64, this.base.size / 8)) {
      this.base = new Map(this.working);
      this.replaced.clear();
      this.deleted.clear();
      this.added.clear();
      this.published = this.base;
    } else {
      this.published = new OverlayMap(
        this.base,
        new Map(this.replaced),
        new Set(this.deleted),
        new Map(this.added),
        this.working.size,
      );
    }
    return this.published;
  }
}

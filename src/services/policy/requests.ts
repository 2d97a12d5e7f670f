// The other requests the desk has seen (every context it follows, and the audit log's decisions), indexed for the
// findings that compare a request with the rest: superseded, key-reuse and request-storm. Reading a request's key
// and subject digests walks a few DER headers (pki requestDigests), remembered by UID, so an index of 10,000
// requests is built in milliseconds and only when one of those findings asks.
import { changedKeys } from '../kube/snapshot-map.js';
import { type RequestDigests, requestDigests } from '../pki/decode.js';

/** The parts of a CertificateSigningRequest the index reads (client-node model or plain JSON). */
export interface RequestLike {
  metadata?: { name?: string; uid?: string; creationTimestamp?: Date | string };
  spec?: {
    request?: string;
    signerName?: string;
    username?: string;
    extra?: Record<string, string[]>;
  };
}

export interface SeenRequest {
  context: string;
  name: string;
  uid: string;
  username: string;
  signerName: string;
  /** The pod that asked (`namespace/name`), from spec.extra or a Calico-style name; absent for others. */
  pod?: string;
  /** Milliseconds since the epoch; NaN when unknown. */
  created: number;
  /** `cluster`: a CSR the desk follows; `audit`: a decision in the audit log (the CSR may be gone since). */
  source: 'cluster' | 'audit';
  digests: () => RequestDigests | undefined;
}

const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
const SA_PREFIX = 'system:serviceaccount:';
const digestCache = new Map<string, RequestDigests | undefined>();
/** Each CSR object (a store's snapshots keep unchanged objects) is read once: its SeenRequest, digests included. */
const seenCache = new WeakMap<object, SeenRequest>();

/** The pod that asked for a request (`namespace/name`), when a service account of a named pod asked. */
export function requestingPod(req: RequestLike): string | undefined {
  const user = req.spec?.username ?? '';
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const namespace = user.slice(SA_PREFIX.length).split(':')[0] ?? '';
  const parts = (req.metadata?.name ?? '').split(':');
  const pod = req.spec?.extra?.[POD_NAME_KEY]?.[0] ?? (parts.length >= 2 && parts[0] === namespace ? parts[1] : '');
  return pod ? `${namespace}/${pod}` : undefined;
}

function created(t: Date | string | undefined): number {
  return t === undefined ? Number.NaN : new Date(t).getTime();
}

/** A request's digests: by UID across its resourceVersions (the request is immutable), read on first use. */
function digestsByUid(uid: string, request: string): RequestDigests | undefined {
  const key = `${uid}\u0000${request.length}`;
  if (uid && digestCache.has(key)) return digestCache.get(key);
  const d = requestDigests(request);
  if (digestCache.size > 200_000) digestCache.clear();
  if (uid) digestCache.set(key, d);
  return d;
}

/** One CSR as the index sees it; its digests are read on first use and remembered. */
export function seenRequest(context: string, req: RequestLike): SeenRequest {
  const hit = seenCache.get(req);
  if (hit?.context === context) return hit;
  const uid = req.metadata?.uid ?? '';
  const pod = requestingPod(req);
  let digests: { value: RequestDigests | undefined } | undefined;
  const seen: SeenRequest = {
    context,
    name: req.metadata?.name ?? '',
    uid,
    username: req.spec?.username ?? '',
    signerName: req.spec?.signerName ?? '',
    ...(pod ? { pod } : {}),
    created: created(req.metadata?.creationTimestamp),
    source: 'cluster',
    digests: () => {
      digests ??= { value: digestsByUid(uid, req.spec?.request ?? '') };
      return digests.value;
    },
  };
  seenCache.set(req, seen);
  return seen;
}

/**
 * The identity a request asks a certificate for: same signer, same requester (the pod when one asked), same subject.
 * A node or a pod asks only for itself, so its newer request supersedes the older even when its addresses changed;
 * anyone else (a broker such as istiod, a person) may ask for many identities, often with an empty subject, so for
 * them the SANs count too (RequestDigests.names).
 */
export function identityKey(
  r: Pick<SeenRequest, 'context' | 'signerName' | 'username' | 'pod'>,
  digests: Pick<RequestDigests, 'subject' | 'names'>,
): string {
  const self = r.pod !== undefined || r.username.startsWith('system:node:');
  return `${r.context}\u0000${r.signerName}\u0000${r.pod ? `pod:${r.pod}` : `user:${r.username}`}\u0000${self ? digests.subject : digests.names}`;
}

/** Who asked, for request-storm: the pod when one is named, else the user (per context). */
export function requesterKey(r: Pick<SeenRequest, 'context' | 'username' | 'pod'>): string {
  return `${r.context}\u0000${r.pod ? `pod:${r.pod}` : `user:${r.username}`}`;
}

/** The requests that hold one public key, with how many each (username, subject) holds. */
interface KeyGroup {
  all: Set<SeenRequest>;
  holders: Map<string, number>;
  /** By context and uid, to leave a request itself out. */
  byUid: Map<string, Set<SeenRequest>>;
}

const holderKey = (username: string, subject: string) => `${username}\u0000${subject}`;

/**
 * The index of one source (a context's CSRs, or the audit log's requests). Its lookups are built on first use and
 * then kept up to date request by request, so a context where one CSR changed costs one CSR, not ten thousand.
 */
class IndexPart {
  private keys?: Map<string, KeyGroup>;
  private identities?: Map<string, Set<SeenRequest>>;
  private requesters?: Map<string, Set<SeenRequest>>;
  /** The requests by the source's key (a CSR's name in its map; the position for the audit log's). */
  readonly requests = new Map<string, SeenRequest>();

  constructor(entries: Iterable<[string, SeenRequest]>) {
    for (const [k, r] of entries) this.requests.set(k, r);
  }

  /** Replaces (or removes, with undefined) the request under a source key. */
  set(key: string, r: SeenRequest | undefined): void {
    const old = this.requests.get(key);
    if (old === r) return;
    if (old) this.unindex(old);
    if (r) {
      this.requests.set(key, r);
      this.index(r);
    } else this.requests.delete(key);
  }

  private index(r: SeenRequest): void {
    const d = this.keys || this.identities ? r.digests() : undefined;
    if (this.keys && d?.key) {
      let group = this.keys.get(d.key);
      if (!group) {
        group = { all: new Set(), holders: new Map(), byUid: new Map() };
        this.keys.set(d.key, group);
      }
      group.all.add(r);
      add(group.byUid, `${r.context}\u0000${r.uid}`, r);
      const h = holderKey(r.username, d.subject);
      group.holders.set(h, (group.holders.get(h) ?? 0) + 1);
    }
    if (this.identities && d && r.source === 'cluster') add(this.identities, identityKey(r, d), r);
    if (this.requesters && r.source === 'cluster') add(this.requesters, requesterKey(r), r);
  }

  private unindex(r: SeenRequest): void {
    const d = this.keys || this.identities ? r.digests() : undefined;
    const group = d?.key ? this.keys?.get(d.key) : undefined;
    if (group && d && group.all.delete(r)) {
      remove(group.byUid, `${r.context}\u0000${r.uid}`, r);
      const h = holderKey(r.username, d.subject);
      const n = (group.holders.get(h) ?? 1) - 1;
      if (n > 0) group.holders.set(h, n);
      else group.holders.delete(h);
      if (group.all.size === 0) this.keys?.delete(d.key);
    }
    if (this.identities && d) remove(this.identities, identityKey(r, d), r);
    if (this.requesters) remove(this.requesters, requesterKey(r), r);
  }

  keyGroup(key: string): KeyGroup | undefined {
    if (!this.keys) {
      this.keys = new Map();
      const identities = this.identities;
      const requesters = this.requesters;
      // index() fills every lookup already built: build this one alone.
      this.identities = undefined;
      this.requesters = undefined;
      for (const r of this.requests.values()) this.index(r);
      this.identities = identities;
      this.requesters = requesters;
    }
    return this.keys.get(key);
  }

  forIdentity(identity: string): Iterable<SeenRequest> {
    if (!this.identities) {
      this.identities = new Map();
      for (const r of this.requests.values()) {
        const d = r.digests();
        if (d && r.source === 'cluster') add(this.identities, identityKey(r, d), r);
      }
    }
    return this.identities.get(identity) ?? [];
  }

  createdBy(requester: string): Iterable<SeenRequest> {
    if (!this.requesters) {
      this.requesters = new Map();
      for (const r of this.requests.values()) if (r.source === 'cluster') add(this.requesters, requesterKey(r), r);
    }
    return this.requesters.get(requester) ?? [];
  }
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set?.delete(value) && set.size === 0) map.delete(key);
}

/** A part over a context's CSRs (by name) or any list of requests. */
function partOf(context: string, requests: Iterable<RequestLike> | ReadonlyMap<string, RequestLike>): IndexPart {
  const map =
    !Array.isArray(requests) && typeof (requests as Partial<ReadonlyMap<string, RequestLike>>).entries === 'function'
      ? (requests as ReadonlyMap<string, RequestLike>)
      : undefined;
  const entries: [string, SeenRequest][] = map
    ? Array.from(map.entries(), ([k, r]) => [k, seenRequest(context, r)])
    : Array.from(requests as Iterable<RequestLike>, (r, i) => [String(i), seenRequest(context, r)]);
  return new IndexPart(entries);
}

/** A part over requests known otherwise (the audit log's). */
function partOfSeen(more: readonly SeenRequest[]): IndexPart {
  return new IndexPart(more.map((r, i) => [String(i), r]));
}

export class RequestIndex {
  constructor(private readonly parts: readonly IndexPart[]) {}

  /** Requests whose public key has this digest. */
  withKey(key: string): readonly SeenRequest[] {
    return this.parts.flatMap((p) => [...(p.keyGroup(key)?.all ?? [])]);
  }

  /**
   * Requests holding this public key for another identity: another username, or the same username with another
   * subject (a request known only by its key, from the audit log, counts only under another username); never
   * `self` (the same uid in the same context). The count is exact; `some` holds the first `max` of them.
   */
  keyHeldByOthers(
    key: string,
    self: { context: string; uid: string; username: string; subject: string },
    max = 3,
  ): { count: number; some: SeenRequest[] } {
    const sameIdentity = (r: SeenRequest) => {
      if (r.username !== self.username) return false;
      const theirs = r.digests()?.subject;
      return theirs === undefined || theirs === '' || theirs === self.subject;
    };
    const isSelf = (r: SeenRequest) => r.uid === self.uid && r.context === self.context;
    let count = 0;
    const some: SeenRequest[] = [];
    for (const part of this.parts) {
      const group = part.keyGroup(key);
      if (!group) continue;
      // Counted from the group's tallies (a key held by thousands costs the same as one held once)…
      count +=
        group.all.size -
        (group.holders.get(holderKey(self.username, self.subject)) ?? 0) -
        (self.subject === '' ? 0 : (group.holders.get(holderKey(self.username, '')) ?? 0)) -
        [...(group.byUid.get(`${self.context}\u0000${self.uid}`) ?? [])].filter((r) => !sameIdentity(r)).length;
      // …and named from its first few.
      for (const r of group.all) {
        if (some.length >= max) break;
        if (!isSelf(r) && !sameIdentity(r)) some.push(r);
      }
    }
    return { count, some };
  }

  /** Requests for this identity (identityKey). */
  forIdentity(identity: string): readonly SeenRequest[] {
    return this.parts.flatMap((p) => [...p.forIdentity(identity)]);
  }

  /** Creation times of a requester's requests (requesterKey), in the cluster. */
  createdBy(requester: string): readonly number[] {
    return this.parts.flatMap((p) => [...p.createdBy(requester)].map((r) => r.created));
  }
}

/** Builds an index over the requests of each context, plus requests known from elsewhere (the audit log). */
export function indexRequests(
  sources: Iterable<{ context: string; requests: Iterable<RequestLike> }>,
  more: readonly SeenRequest[] = [],
): RequestIndex {
  const parts = [...sources].map((s) => partOf(s.context, s.requests));
  return new RequestIndex(more.length ? [partOfSeen(more), ...parts] : parts);
}

/**
 * One index for a face (the TUI, the controller), kept while the sources are the same objects and brought up to
 * date from what changed when they are not: a store's snapshots are immutable, and two snapshots of one kind say
 * which names differ (changedKeys). The index is updated in place, so read it when the findings are made.
 */
export class RequestIndexCache {
  private readonly contexts = new Map<string, { csrs: ReadonlyMap<string, RequestLike>; part: IndexPart }>();
  private audit: { more: readonly SeenRequest[]; part: IndexPart } | undefined;
  private last: { maps: unknown[]; more: readonly SeenRequest[]; index: RequestIndex } | undefined;

  of(
    sources: readonly { context: string; csrs: ReadonlyMap<string, RequestLike> }[],
    more: readonly SeenRequest[] = [],
  ): RequestIndex {
    const last = this.last;
    if (
      last &&
      last.more === more &&
      last.maps.length === sources.length &&
      sources.every((s, i) => last.maps[i] === s.csrs)
    )
      return last.index;
    const parts = sources.map(({ context, csrs }) => {
      const known = this.contexts.get(context);
      if (known?.csrs === csrs) return known.part;
      const changed = known && changedKeys(known.csrs, csrs);
      if (known && changed) {
        for (const name of changed) {
          const r = csrs.get(name);
          known.part.set(name, r ? seenRequest(context, r) : undefined);
        }
        known.csrs = csrs;
        return known.part;
      }
      const part = partOf(context, csrs);
      this.contexts.set(context, { csrs, part });
      return part;
    });
    if (this.audit?.more !== more) this.audit = { more, part: partOfSeen(more) };
    const index = new RequestIndex(more.length ? [this.audit.part, ...parts] : parts);
    this.last = { maps: sources.map((s) => s.csrs), more, index };
    return index;
  }
}

/** The audit log's approvals and signatures that name a key (keySha256), as requests the desk has seen. */
export function auditedRequests(
  entries: readonly {
    context: string;
    csrName?: string;
    csrUid?: string;
    signer?: string;
    action: string;
    requester?: string;
    keySha256?: string;
    time: string;
  }[],
): SeenRequest[] {
  const out: SeenRequest[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.keySha256 || (e.action !== 'approve' && e.action !== 'sign')) continue;
    const id = `${e.context}\u0000${e.csrUid ?? e.csrName}\u0000${e.keySha256}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const key = e.keySha256;
    out.push({
      context: e.context,
      name: e.csrName ?? '',
      uid: e.csrUid ?? '',
      username: e.requester ?? '',
      signerName: e.signer ?? '',
      created: Date.parse(e.time),
      source: 'audit',
      digests: () => ({ key, subject: '', names: '' }),
    });
  }
  return out;
}

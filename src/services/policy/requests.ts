// The other requests the desk has seen (every context it follows, and the audit log's decisions), indexed for the
// findings that compare a request with the rest: superseded, key-reuse and request-storm. Reading a request's key
// and subject digests walks a few DER headers (pki requestDigests), remembered by UID, so an index of 10,000
// requests is built in milliseconds and only when one of those findings asks.
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

/** One CSR as the index sees it; its digests are read on first use and remembered by UID. */
export function seenRequest(context: string, req: RequestLike): SeenRequest {
  const uid = req.metadata?.uid ?? '';
  const pod = requestingPod(req);
  return {
    context,
    name: req.metadata?.name ?? '',
    uid,
    username: req.spec?.username ?? '',
    signerName: req.spec?.signerName ?? '',
    ...(pod ? { pod } : {}),
    created: created(req.metadata?.creationTimestamp),
    source: 'cluster',
    digests: () => {
      const key = `${uid}\u0000${(req.spec?.request ?? '').length}`;
      if (uid && digestCache.has(key)) return digestCache.get(key);
      const d = requestDigests(req.spec?.request ?? '');
      if (digestCache.size > 200_000) digestCache.clear();
      if (uid) digestCache.set(key, d);
      return d;
    },
  };
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

export class RequestIndex {
  private keys?: Map<string, SeenRequest[]>;
  private identities?: Map<string, SeenRequest[]>;
  private requesters?: Map<string, number[]>;

  constructor(readonly all: readonly SeenRequest[]) {}

  /** Requests whose public key has this digest. */
  withKey(key: string): readonly SeenRequest[] {
    if (!this.keys) {
      this.keys = new Map();
      for (const r of this.all) {
        const k = r.digests()?.key;
        if (k) push(this.keys, k, r);
      }
    }
    return this.keys.get(key) ?? [];
  }

  /** Requests for this identity (identityKey). */
  forIdentity(identity: string): readonly SeenRequest[] {
    if (!this.identities) {
      this.identities = new Map();
      for (const r of this.all) {
        const d = r.digests();
        if (d && r.source === 'cluster') push(this.identities, identityKey(r, d), r);
      }
    }
    return this.identities.get(identity) ?? [];
  }

  /** Creation times of a requester's requests (requesterKey), in the cluster. */
  createdBy(requester: string): readonly number[] {
    if (!this.requesters) {
      this.requesters = new Map();
      for (const r of this.all) if (r.source === 'cluster') push(this.requesters, requesterKey(r), r.created);
    }
    return this.requesters.get(requester) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Builds an index over the requests of each context, plus requests known from elsewhere (the audit log). */
export function indexRequests(
  sources: Iterable<{ context: string; requests: Iterable<RequestLike> }>,
  more: readonly SeenRequest[] = [],
): RequestIndex {
  const all: SeenRequest[] = [...more];
  for (const { context, requests } of sources) for (const r of requests) all.push(seenRequest(context, r));
  return new RequestIndex(all);
}

/**
 * Keeps one index while the sources are the same objects (a store's snapshots are immutable and replaced when they
 * change), so every finding of a frame or a controller pass shares one.
 */
export class RequestIndexCache {
  private last: { maps: unknown[]; more: readonly SeenRequest[]; index: RequestIndex } | undefined;
  /** Grows each time the index is rebuilt: findings that read it are stale when it moved. */
  version = 0;

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
    const index = indexRequests(
      sources.map((s) => ({ context: s.context, requests: s.csrs.values() })),
      more,
    );
    this.last = { maps: sources.map((s) => s.csrs), more, index };
    this.version++;
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

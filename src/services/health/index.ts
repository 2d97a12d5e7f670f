// Per-context health, computed from a store snapshot (pure, no I/O): TigeraStatus conditions, pods held in Init
// linked to the CSR they wait on, the signer backlog (approved but unissued), and the pending queue.
// Keys (namespace, pod and CSR names, signer names) are raw cluster text so they can index the snapshot: pass them
// through terminalSafe before display. Free text (status, reason, message) is already terminal-safe.
import type { V1CertificateSigningRequest, V1CertificateSigningRequestCondition, V1Pod } from '@kubernetes/client-node';
import type { ContextSnapshot, TigeraStatus } from '../kube/api-types.js';
import { type CsrState, csrCondition, csrState } from '../kube/csr-state.js';
import { changedKeys, snapshotBase } from '../kube/snapshot-map.js';
import { terminalSafe } from '../text/sanitize.js';
import { isPodInInit, podStatusText } from './pod-status.js';

export { csrCondition, csrState, type CsrState } from '../kube/csr-state.js';
export { isPodInInit, podStatusText } from './pod-status.js';

export interface TigeraConditionView {
  /** True | False | Unknown */
  status: string;
  reason: string;
  message: string;
  /** lastTransitionTime, ms since the epoch, when given. */
  since?: number;
}

export interface TigeraComponentHealth {
  /** The TigeraStatus name (raw key), e.g. `calico`, `apiserver`. */
  name: string;
  available?: TigeraConditionView;
  progressing?: TigeraConditionView;
  degraded?: TigeraConditionView;
  /** Available True and Degraded not True. */
  healthy: boolean;
  /** The newest lastTransitionTime among the conditions (kubectl's SINCE), ms since the epoch. */
  since?: number;
}

/** How a pod in Init was linked to its CSR. */
export type CsrLink = 'pod-uid' | 'pod-name' | 'csr-name' | 'service-account';

export interface PodInInit {
  namespace: string;
  name: string;
  /** kubectl's STATUS text, e.g. `Init:0/1`, `Init:CrashLoopBackOff` (terminal-safe). */
  status: string;
  /** When the pod was created, ms since the epoch; its age is `podAge(row, now)` (a row stays the same object for
   * as long as its pod and CSR do, so the Init pane is not rebuilt every second just to age it). */
  created?: number;
  /** The CSR it most likely waits on (raw key into snapshot.csrs), newest first when several match. */
  csrName?: string;
  csrState?: CsrState;
  /** kubectl's CONDITION text of that CSR. */
  csrCondition?: string;
  linkedBy?: CsrLink;
}

export interface SignerBacklog {
  signerName: string;
  /** Approved, not Denied or Failed, no certificate yet. */
  approvedUnissued: number;
  /** ms since the oldest of those was approved (or created, when the approval time is unknown). */
  oldestAge: number;
  oldestCsr: string;
  /** oldestAge is above the stall threshold: nobody is signing for this signer. */
  stalled: boolean;
  /** Pending CSRs for this signer. */
  pending: number;
}

export interface ContextHealth {
  context: string;
  tigera: TigeraComponentHealth[] | 'not-installed';
  podsInInit: PodInInit[];
  signerBacklog: SignerBacklog[];
  pendingCount: number;
  /** ms; undefined when nothing is pending. */
  oldestPendingAge?: number;
  oldestPendingCsr?: string;
  /** When (ms since the epoch) the ages above were computed: a display later adds the time since (`ageNow`). */
  at: number;
  /** False when counted before the context's pods were all listed (its CSRs were): `podsInInit` is then not yet
   * known, only the CSRs' counts are. Absent once synced. */
  podsListed?: false;
  /** Why the pods could not be listed (forbidden to this user, say): `podsInInit` is then empty, not "none". */
  podsError?: string;
}

/** An age from a health pass, as of `now` (a pass runs every few seconds; the clock on screen every second). */
export function ageNow(health: Pick<ContextHealth, 'at'>, age: number, now: number): number {
  return age + Math.max(0, now - health.at);
}

export interface HealthOptions {
  /** An approved-but-unissued CSR older than this marks its signer stalled. @default 120000 (2 minutes) */
  stallAfterMs?: number;
}

const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';
const SA_PREFIX = 'system:serviceaccount:';

function time(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

function conditionView(status: TigeraStatus, type: string): TigeraConditionView | undefined {
  const c = status.status?.conditions?.find((x) => x.type === type);
  if (!c) return undefined;
  const since = time(c.lastTransitionTime);
  return {
    status: terminalSafe(c.status),
    reason: terminalSafe(c.reason ?? ''),
    message: terminalSafe(c.message ?? ''),
    ...(since !== undefined ? { since } : {}),
  };
}

export function tigeraHealth(statuses: ReadonlyMap<string, TigeraStatus>): TigeraComponentHealth[] {
  const out: TigeraComponentHealth[] = [];
  for (const [name, status] of statuses) {
    const available = conditionView(status, 'Available');
    const progressing = conditionView(status, 'Progressing');
    const degraded = conditionView(status, 'Degraded');
    const times = [available, progressing, degraded].map((c) => c?.since).filter((t): t is number => t !== undefined);
    out.push({
      name,
      ...(available ? { available } : {}),
      ...(progressing ? { progressing } : {}),
      ...(degraded ? { degraded } : {}),
      healthy: available?.status === 'True' && degraded?.status !== 'True',
      ...(times.length ? { since: Math.max(...times) } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function extraValue(csr: V1CertificateSigningRequest, key: string): string | undefined {
  const v = csr.spec?.extra?.[key];
  return v?.[0];
}

/** `system:serviceaccount:<ns>:<name>` → namespace, else undefined. */
function serviceAccountNamespace(username: string | undefined): { namespace: string; name: string } | undefined {
  if (!username?.startsWith(SA_PREFIX)) return undefined;
  const [namespace, name] = username.slice(SA_PREFIX.length).split(':');
  return namespace && name ? { namespace, name } : undefined;
}

interface CsrIndex {
  byUid: Map<string, V1CertificateSigningRequest[]>;
  byPodKey: Map<string, V1CertificateSigningRequest[]>; // ns/pod from spec.extra pod-name + SA namespace
  byNameKey: Map<string, V1CertificateSigningRequest[]>; // ns/pod from the Calico name `<ns>:<pod>:…`
  byPodName: Map<string, V1CertificateSigningRequest[]>; // pod from `<secret>:<pod>` (newer operators)
  bySa: Map<string, V1CertificateSigningRequest[]>; // ns/sa
}

function push(map: Map<string, V1CertificateSigningRequest[]>, key: string, csr: V1CertificateSigningRequest) {
  const list = map.get(key);
  if (list) list.push(csr);
  else map.set(key, [csr]);
}

/** The index keys of one CSR object (objects are immutable: computed once per object). */
interface CsrKeys {
  uid?: string;
  podKey?: string;
  sa?: string;
  nameKey?: string;
  podName?: string;
}
const csrKeysCache = new WeakMap<V1CertificateSigningRequest, CsrKeys>();

function csrKeys(name: string, csr: V1CertificateSigningRequest): CsrKeys {
  let keys = csrKeysCache.get(csr);
  if (keys) return keys;
  keys = {};
  const uid = extraValue(csr, POD_UID_EXTRA);
  if (uid) keys.uid = uid;
  const sa = serviceAccountNamespace(csr.spec?.username);
  const podName = extraValue(csr, POD_NAME_EXTRA);
  if (podName && sa) keys.podKey = `${sa.namespace}/${podName}`;
  if (sa) keys.sa = `${sa.namespace}/${sa.name}`;
  const parts = name.split(':');
  if (parts.length >= 3 && parts[0] && parts[1]) keys.nameKey = `${parts[0]}/${parts[1]}`;
  if (parts.length === 2 && parts[1]) keys.podName = parts[1];
  csrKeysCache.set(csr, keys);
  return keys;
}

function addToIndex(index: CsrIndex, name: string, csr: V1CertificateSigningRequest): void {
  const k = csrKeys(name, csr);
  if (k.uid) push(index.byUid, k.uid, csr);
  if (k.podKey) push(index.byPodKey, k.podKey, csr);
  if (k.sa) push(index.bySa, k.sa, csr);
  if (k.nameKey) push(index.byNameKey, k.nameKey, csr);
  if (k.podName) push(index.byPodName, k.podName, csr);
}

function pull(
  map: Map<string, V1CertificateSigningRequest[]>,
  key: string | undefined,
  csr: V1CertificateSigningRequest,
) {
  if (key === undefined) return true;
  const list = map.get(key);
  const at = list ? list.indexOf(csr) : -1;
  if (!list || at < 0) return false;
  list.splice(at, 1);
  if (list.length === 0) map.delete(key);
  return true;
}

function removeFromIndex(index: CsrIndex, name: string, csr: V1CertificateSigningRequest): boolean {
  const k = csrKeys(name, csr);
  return (
    pull(index.byUid, k.uid, csr) &&
    pull(index.byPodKey, k.podKey, csr) &&
    pull(index.bySa, k.sa, csr) &&
    pull(index.byNameKey, k.nameKey, csr) &&
    pull(index.byPodName, k.podName, csr)
  );
}

// Snapshot maps are immutable, so an index built for one stays valid for as long as that map is in use.
const indexCache = new WeakMap<ReadonlyMap<string, V1CertificateSigningRequest>, CsrIndex>();
/** Per base copy of a kind (one per context, until the store copies it again): the newest index and the map it
 * describes. The next snapshot's index is that one updated in place. */
const newestIndex = new WeakMap<object, { csrs: ReadonlyMap<string, V1CertificateSigningRequest>; index: CsrIndex }>();

/** Above this many changed CSRs, build the index again rather than update it. */
const INCREMENTAL_LIMIT = 512;

function indexCsrs(csrs: ReadonlyMap<string, V1CertificateSigningRequest>): CsrIndex {
  let index = indexCache.get(csrs);
  if (index) return index;
  const base = snapshotBase(csrs);
  const newest = newestIndex.get(base);
  if (newest) {
    // Updated in place below (or left half-updated if that fails): it no longer describes its old map.
    indexCache.delete(newest.csrs);
    index = updatedIndex(newest.csrs, newest.index, csrs);
  }
  index ??= buildIndex(csrs);
  indexCache.set(csrs, index);
  newestIndex.set(base, { csrs, index });
  return index;
}

/**
 * `index` (of `from`) updated in place to describe `to`, when the store can tell which CSRs changed between the two
 * (a health pass a second no longer re-indexes 10,000 CSRs per context); undefined when it cannot.
 */
function updatedIndex(
  from: ReadonlyMap<string, V1CertificateSigningRequest>,
  index: CsrIndex,
  to: ReadonlyMap<string, V1CertificateSigningRequest>,
): CsrIndex | undefined {
  const changed = changedKeys(from, to);
  if (!changed || changed.size > INCREMENTAL_LIMIT) return undefined;
  for (const name of changed) {
    const before = from.get(name);
    const after = to.get(name);
    if (before === after) continue;
    // The index no longer matches `from` once this starts: drop it if anything is off, and build afresh.
    if (before && !removeFromIndex(index, name, before)) return undefined;
    if (after) addToIndex(index, name, after);
  }
  return index;
}

function buildIndex(csrs: ReadonlyMap<string, V1CertificateSigningRequest>): CsrIndex {
  const index: CsrIndex = {
    byUid: new Map(),
    byPodKey: new Map(),
    byNameKey: new Map(),
    byPodName: new Map(),
    bySa: new Map(),
  };
  csrs.forEach((csr, name) => {
    addToIndex(index, name, csr);
  });
  return index;
}

function newest(list: V1CertificateSigningRequest[] | undefined): V1CertificateSigningRequest | undefined {
  if (!list?.length) return undefined;
  let best = list[0]!;
  let bestTime = time(best.metadata?.creationTimestamp) ?? 0;
  for (const c of list) {
    const t = time(c.metadata?.creationTimestamp) ?? 0;
    // Ties (timestamps have one-second resolution) go to the greater name, whatever the list's order.
    if (t > bestTime || (t === bestTime && (c.metadata?.name ?? '') > (best.metadata?.name ?? ''))) {
      best = c;
      bestTime = t;
    }
  }
  return best;
}

/** What a health pass needs of one pod object, worked out once per object (objects are immutable). */
interface PodFacts {
  /** kubectl's STATUS (raw). */
  status: string;
  /** Held in Init: the rest is filled only then. */
  inInit: boolean;
  /** `namespace/name` */
  key: string;
  /** `namespace/serviceAccount` */
  saKey: string;
  /** The row of the last pass, with the CSR and the link it was built from. */
  row?: PodInInit;
  rowCsr?: V1CertificateSigningRequest;
  rowBy?: CsrLink;
}
const podFactsCache = new WeakMap<V1Pod, PodFacts>();

function podFacts(pod: V1Pod): PodFacts {
  let facts = podFactsCache.get(pod);
  if (facts) return facts;
  const status = podStatusText(pod);
  const inInit = isPodInInit(status);
  const ns = pod.metadata?.namespace ?? '';
  facts = {
    status,
    inInit,
    key: inInit ? `${ns}/${pod.metadata?.name ?? ''}` : '',
    saKey: inInit ? `${ns}/${pod.spec?.serviceAccountName ?? 'default'}` : '',
  };
  podFactsCache.set(pod, facts);
  return facts;
}

function linkPod(
  pod: V1Pod,
  facts: PodFacts,
  index: CsrIndex,
): { csr: V1CertificateSigningRequest; by: CsrLink } | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid;
  const key = facts.key;
  // Strongest link first; each lookup runs only when the ones before it found nothing (no closures: this runs for
  // every pod in Init on every health pass).
  let found = newest(uid ? index.byUid.get(uid) : undefined);
  if (found) return { csr: found, by: 'pod-uid' };
  found = newest(index.byPodKey.get(key));
  if (found) return { csr: found, by: 'pod-name' };
  found = newest(index.byNameKey.get(key));
  if (found) return { csr: found, by: 'csr-name' };
  const byName = index.byPodName.get(name);
  if (byName) {
    found = newest(
      byName.filter((c) => {
        const who = serviceAccountNamespace(c.spec?.username);
        return !who || who.namespace === ns;
      }),
    );
    if (found) return { csr: found, by: 'csr-name' };
  }
  const bySa = index.bySa.get(facts.saKey);
  if (bySa) {
    found = newest(bySa.filter((c) => (c.metadata?.name ?? '').includes(name)));
    if (found) return { csr: found, by: 'service-account' };
  }
  return undefined;
}

interface CsrQueues {
  backlog: SignerBacklog[];
  pendingCount: number;
  oldestPendingAge?: number;
  oldestPendingCsr?: string;
}

/** One pass over the CSRs: the signer backlog and the pending queue (conditions scanned once per CSR). */
function csrQueues(
  csrs: ReadonlyMap<string, V1CertificateSigningRequest>,
  now: number,
  stallAfterMs: number,
): CsrQueues {
  const bySigner = new Map<string, SignerBacklog>();
  const entry = (signerName: string): SignerBacklog => {
    let e = bySigner.get(signerName);
    if (!e) {
      e = { signerName, approvedUnissued: 0, oldestAge: 0, oldestCsr: '', stalled: false, pending: 0 };
      bySigner.set(signerName, e);
    }
    return e;
  };
  let pendingCount = 0;
  let oldestPendingAge: number | undefined;
  let oldestPendingCsr: string | undefined;
  csrs.forEach((csr, name) => {
    let approved: V1CertificateSigningRequestCondition | undefined;
    let decidedOrFailed = false;
    for (const c of csr.status?.conditions ?? []) {
      if (c.type === 'Approved') approved = c;
      else if (c.type === 'Denied' || c.type === 'Failed') decidedOrFailed = true;
    }
    if (decidedOrFailed || csr.status?.certificate) return;
    const signer = csr.spec?.signerName ?? '';
    if (!approved) {
      entry(signer).pending++;
      pendingCount++;
      const created = time(csr.metadata?.creationTimestamp);
      const age = created === undefined ? 0 : Math.max(0, now - created);
      if (oldestPendingAge === undefined || age > oldestPendingAge) {
        oldestPendingAge = age;
        oldestPendingCsr = name;
      }
      return;
    }
    const since =
      time(approved.lastTransitionTime) ?? time(approved.lastUpdateTime) ?? time(csr.metadata?.creationTimestamp);
    const age = since === undefined ? 0 : Math.max(0, now - since);
    const e = entry(signer);
    e.approvedUnissued++;
    if (age >= e.oldestAge) {
      e.oldestAge = age;
      e.oldestCsr = name;
    }
  });
  for (const e of bySigner.values()) e.stalled = e.approvedUnissued > 0 && e.oldestAge > stallAfterMs;
  const backlog = [...bySigner.values()].sort(
    (x, y) => y.oldestAge - x.oldestAge || x.signerName.localeCompare(y.signerName),
  );
  return {
    backlog,
    pendingCount,
    ...(oldestPendingAge !== undefined ? { oldestPendingAge, oldestPendingCsr } : {}),
  };
}

/** The signer backlog over a set of CSRs: approved, unissued, not Denied or Failed; worst first. */
export function signerBacklog(
  csrs: ReadonlyMap<string, V1CertificateSigningRequest>,
  now: number,
  stallAfterMs = 120_000,
): SignerBacklog[] {
  return csrQueues(csrs, now, stallAfterMs).backlog;
}

/** A pod row's age at `now`, ms (0 when the creation time is unknown or ahead of the clock). */
export function podAge(row: Pick<PodInInit, 'created'>, now: number): number {
  return row.created === undefined ? 0 : Math.max(0, now - row.created);
}

/** Oldest first (unknown creation times last), then namespace and name. */
function byAge(a: PodInInit, b: PodInInit): number {
  return (
    (a.created ?? Number.POSITIVE_INFINITY) - (b.created ?? Number.POSITIVE_INFINITY) ||
    a.namespace.localeCompare(b.namespace) ||
    a.name.localeCompare(b.name)
  );
}

/** The last pass's Init rows per base copy of the pods (one per context): when a pass finds the very same rows, it
 * returns that array, so the Init pane's order is not rebuilt either. */
const lastRows = new WeakMap<object, { rows: PodInInit[]; members: Set<PodInInit> }>();

function podsInInitOf(snapshot: ContextSnapshot, index: CsrIndex): PodInInit[] {
  const rows: PodInInit[] = [];
  for (const pod of snapshot.pods.values()) {
    const facts = podFacts(pod);
    if (!facts.inInit) continue;
    const link = linkPod(pod, facts, index);
    let row = facts.row;
    if (!row || facts.rowCsr !== link?.csr || facts.rowBy !== link?.by) {
      const created = time(pod.metadata?.creationTimestamp);
      row = {
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        status: terminalSafe(facts.status),
        ...(created !== undefined ? { created } : {}),
        ...(link
          ? {
              csrName: link.csr.metadata?.name ?? '',
              csrState: csrState(link.csr),
              csrCondition: csrCondition(link.csr),
              linkedBy: link.by,
            }
          : {}),
      };
      facts.row = row;
      facts.rowCsr = link?.csr;
      facts.rowBy = link?.by;
    }
    rows.push(row);
  }
  const base = snapshotBase(snapshot.pods);
  const last = lastRows.get(base);
  if (last && last.rows.length === rows.length && rows.every((r) => last.members.has(r))) return last.rows;
  rows.sort(byAge);
  lastRows.set(base, { rows, members: new Set(rows) });
  return rows;
}

/** Computes the health of one context from its snapshot at `now` (ms since the epoch). */
export function computeHealth(snapshot: ContextSnapshot, now: number, options: HealthOptions = {}): ContextHealth {
  const index = indexCsrs(snapshot.csrs);
  const podsInInit = podsInInitOf(snapshot, index);

  const queues = csrQueues(snapshot.csrs, now, options.stallAfterMs ?? 120_000);

  return {
    context: snapshot.context,
    tigera: snapshot.tigeraStatuses === 'not-installed' ? 'not-installed' : tigeraHealth(snapshot.tigeraStatuses),
    podsInInit,
    signerBacklog: queues.backlog,
    pendingCount: queues.pendingCount,
    ...(queues.oldestPendingAge !== undefined
      ? { oldestPendingAge: queues.oldestPendingAge, oldestPendingCsr: queues.oldestPendingCsr }
      : {}),
    at: now,
    ...(snapshot.synced ? {} : { podsListed: false as const }),
    ...(snapshot.errors.pods ? { podsError: snapshot.errors.pods.message } : {}),
  };
}

export { humanDuration } from '../text/duration.js';

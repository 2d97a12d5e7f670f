// The orders of the lists (CSRs pending first then oldest; pods in Init), filtered by scope and `/` filter.
// Memoised on the identity of their inputs so that key presses and 200 events/s stay cheap with 10,000 CSRs
// per context: a context re-sorts only when its own snapshot changed.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { ContextHealth, PodInInit } from '../services/health/index.js';
import { csrState } from '../services/kube/csr-state.js';
import type { ContextSnapshot } from '../services/kube/api-types.js';
import { changedKeys } from '../services/kube/index.js';
import { ageNow, humanDuration } from '../services/health/index.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { type PolicyTrial, policyTestNote, verdictText } from '../services/actions/policy-test.js';
import type { SectionVm, Tone } from '../views/models.js';

const SEP = '\u0000';

/** A CSR's identity across contexts. */
export function csrKey(context: string, name: string): string {
  return `${context}${SEP}${name}`;
}

export function parseCsrKey(key: string): { context: string; name: string } {
  const at = key.indexOf(SEP);
  return at < 0 ? { context: '', name: key } : { context: key.slice(0, at), name: key.slice(at + 1) };
}

export interface CsrEntry {
  key: string;
  context: string;
  name: string;
  pending: boolean;
  created: number;
  csr: V1CertificateSigningRequest;
  /** Lower-case text the `/` filter searches (raw: matched, never displayed); made by haystackOf when first
   * searched, not for every entry of a first list. */
  haystack?: string;
  /** Position in the newest order that holds this entry (checked against it before use). */
  position: number;
  /** The pass of sortedEntries that last found this entry unchanged (in place of a 10,000-entry Set per pass). */
  seenInPass: number;
}

/** The inputs the orders read (a TuiState has them all). */
export interface OrderInput {
  contexts: string[];
  /** Contexts that reach the same cluster as an earlier one (see TuiState.aliases): not listed twice. */
  aliases?: Readonly<Record<string, string>>;
  snapshots: Readonly<Record<string, ContextSnapshot>>;
  health: Readonly<Record<string, ContextHealth>>;
  filter: { text: string; invert: boolean };
  scope: { context?: string; namespace?: string; signer?: string };
  /** Column order (Shift plus a letter); default pending first, then oldest. */
  sort?: { column: SortColumn; reverse: boolean };
  /** The last `:policy test FILE` (its section closes the Health pane). */
  policyTrial?: PolicyTrial;
}

/** How many requests of a dry run the Health pane lists (the rest are counted). */
const TRIAL_ROWS = 30;

/** The Health pane's section for `:policy test FILE`: where the policy would decide differently. Terminal-safe. */
function trialSection(t: PolicyTrial): SectionVm {
  const lines: { text: string; tone?: Tone }[] = [
    {
      text: `${terminalSafe(policyTestNote(t))} (${terminalSafe(t.file)}; :policy clear)`,
      tone: t.rows.length ? 'warn' : 'ok',
    },
  ];
  for (const r of t.rows.slice(0, TRIAL_ROWS)) {
    const taken = r.taken ? `${r.taken}${r.takenBy === 'audit' ? ' (audit)' : ''}` : 'pending';
    lines.push({
      text: `${terminalSafe(r.context)}/${terminalSafe(r.name, { maxLength: 80 })}: taken ${taken} · policy ${verdictText(r.policy)} · default ${verdictText(r.default)}`,
      tone: r.policy.verdict === 'deny' ? 'bad' : 'warn',
    });
  }
  if (t.rows.length > TRIAL_ROWS)
    lines.push({ text: `… and ${t.rows.length - TRIAL_ROWS} more (certdesk policy test)` });
  return { label: 'Policy test', lines };
}

export type SortColumn = 'pending' | 'context' | 'name' | 'age' | 'signer' | 'requestor';

const sortKey: Record<Exclude<SortColumn, 'pending' | 'age'>, (e: CsrEntry) => string> = {
  context: (e) => e.context,
  name: (e) => e.name,
  signer: (e) => e.csr.spec?.signerName ?? '',
  requestor: (e) => e.csr.spec?.username ?? '',
};

/** The entries in a column's order (ties: the default order, which `entries` is already in). A new array. */
function sortedBy(entries: readonly CsrEntry[], sort: { column: SortColumn; reverse: boolean }): CsrEntry[] {
  const dir = sort.reverse ? -1 : 1;
  if (sort.column === 'pending') return sort.reverse ? entries.slice().reverse() : entries.slice();
  if (sort.column === 'age') return entries.slice().sort((a, b) => dir * (b.created - a.created));
  const key = sortKey[sort.column];
  const keyed = entries.map((e, i) => ({ e, i, k: key(e) }));
  keyed.sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.i - b.i));
  return keyed.map((x) => x.e);
}

/** Position lookup by key. */
export interface KeyIndex {
  get(key: string): number | undefined;
  has(key: string): boolean;
}

/** Row keys in display order (an array satisfies it). */
export interface KeyList {
  readonly length: number;
  at(index: number): string | undefined;
}

export interface CsrOrder {
  entries: readonly CsrEntry[];
  /** A view over `entries` (no second 20,000-entry array per change). */
  keys: KeyList;
  index: KeyIndex;
}

function compareEntries(a: CsrEntry, b: CsrEntry): number {
  if (a.pending !== b.pending) return a.pending ? -1 : 1;
  if (a.created !== b.created) return a.created - b.created;
  if (a.context !== b.context) return a.context < b.context ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const sortedByContext = new WeakMap<ReadonlyMap<string, V1CertificateSigningRequest>, CsrEntry[]>();
/** Entries of a context by CSR name, reused across snapshots when the CSR object did not change. */
const entryCache = new WeakMap<V1CertificateSigningRequest, CsrEntry>();

function entryOf(context: string, name: string, csr: V1CertificateSigningRequest): CsrEntry {
  const cached = entryCache.get(csr);
  if (cached && cached.context === context) return cached;
  const at = csr.metadata?.creationTimestamp;
  const created = at instanceof Date ? at.getTime() : at ? new Date(at).getTime() : 0;
  const entry: CsrEntry = {
    key: csrKey(context, name),
    context,
    name,
    pending: csrState(csr) === 'Pending',
    created: Number.isFinite(created) ? created : 0,
    csr,
    position: -1,
    seenInPass: 0,
  };
  entryCache.set(csr, entry);
  return entry;
}

function haystackOf(e: CsrEntry): string {
  e.haystack ??= `${e.context} ${e.name} ${e.csr.spec?.signerName ?? ''} ${e.csr.spec?.username ?? ''}`.toLowerCase();
  return e.haystack;
}

/** The previous sorted list per context, to update in place of a full sort when few CSRs changed. */
const previousSorted = new Map<string, { csrs: ReadonlyMap<string, V1CertificateSigningRequest>; list: CsrEntry[] }>();

function insertSorted(list: CsrEntry[], entry: CsrEntry): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(list[mid]!, entry) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
}

/** Removes `entry` from a list sorted by compareEntries; false when it is not there. */
function removeSorted(list: CsrEntry[], entry: CsrEntry): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(list[mid]!, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== entry) return false;
  list.splice(lo, 1);
  return true;
}

/** Above this many changed CSRs, sort again rather than insert one by one. */
const INCREMENTAL_LIMIT = 256;

/**
 * The new list from the previous one and the CSRs that changed between the two snapshots (the store tells which
 * without a pass over all of them): one copy of the list, then a binary search per change. Undefined when that
 * does not apply.
 */
function updatedList(
  context: string,
  previous: { csrs: ReadonlyMap<string, V1CertificateSigningRequest>; list: CsrEntry[] },
  csrs: ReadonlyMap<string, V1CertificateSigningRequest>,
): CsrEntry[] | undefined {
  const changed = changedKeys(previous.csrs, csrs);
  if (!changed || changed.size > INCREMENTAL_LIMIT) return undefined;
  const list = previous.list.slice();
  for (const name of changed) {
    const before = previous.csrs.get(name);
    const after = csrs.get(name);
    if (before === after) continue;
    if (before) {
      const entry = entryCache.get(before);
      if (!entry || entry.context !== context || entry.name !== name || !removeSorted(list, entry)) return undefined;
    }
    if (after) insertSorted(list, entryOf(context, name, after));
  }
  return list.length === csrs.size ? list : undefined;
}

let sortPass = 0;

function sortedEntries(context: string, csrs: ReadonlyMap<string, V1CertificateSigningRequest>): CsrEntry[] {
  const cached = sortedByContext.get(csrs);
  if (cached) return cached;
  // A first list (after the empty one of the "connecting" frames) is sorted in one go.
  const previous = previousSorted.get(context)?.list.length ? previousSorted.get(context) : undefined;
  let list = previous ? updatedList(context, previous, csrs) : undefined;
  if (previous && !list) {
    // Entries are cached by CSR object: an unchanged CSR keeps its entry. Find what changed in one pass, marking
    // the kept entries with this pass's number (a Set of 10,000 entries per batch went to V8's large-object space).
    const pass = ++sortPass;
    let kept = 0;
    const added: CsrEntry[] = [];
    for (const [name, csr] of csrs) {
      const known = entryCache.get(csr);
      if (known && known.context === context && known.name === name) {
        if (known.seenInPass !== pass) {
          known.seenInPass = pass;
          kept++;
        }
      } else added.push(entryOf(context, name, csr));
    }
    const next = previous.list.filter((e) => e.seenInPass === pass);
    // Every kept entry must come from the previous list; otherwise sort from scratch.
    if (next.length === kept) {
      if (added.length < INCREMENTAL_LIMIT) {
        for (const e of added) insertSorted(next, e);
        list = next;
      } else {
        // Many new entries (a first list arriving page by page): sort only them and merge, instead of sorting the
        // whole list again at every redraw.
        list = mergeSorted([next, added.sort(compareEntries)]);
      }
    }
  }
  if (!list) {
    list = [];
    for (const [name, csr] of csrs) list.push(entryOf(context, name, csr));
    list.sort(compareEntries);
  }
  sortedByContext.set(csrs, list);
  previousSorted.set(context, { csrs, list });
  return list;
}

function mergeSorted(lists: CsrEntry[][]): CsrEntry[] {
  let merged: CsrEntry[] = lists[0] ?? [];
  for (let l = 1; l < lists.length; l++) {
    const other = lists[l]!;
    const out: CsrEntry[] = new Array(merged.length + other.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < merged.length && j < other.length) {
      out[k++] = compareEntries(merged[i]!, other[j]!) <= 0 ? merged[i++]! : other[j++]!;
    }
    while (i < merged.length) out[k++] = merged[i++]!;
    while (j < other.length) out[k++] = other[j++]!;
    merged = out;
  }
  return merged;
}

function inNamespace(entry: CsrEntry, namespace: string): boolean {
  return (
    entry.name.startsWith(`${namespace}:`) ||
    (entry.csr.spec?.username ?? '').startsWith(`system:serviceaccount:${namespace}:`)
  );
}

let lastCsrInputs: unknown[] = [];
let lastCsrOrder: CsrOrder = { entries: [], keys: [], index: new Map() };

/**
 * Lookup without building a 20,000-entry Map on every change: a key leads to its CSR in the snapshot, the CSR to
 * its (cached) entry, and the entry knows its position in the newest order.
 */
function keyIndex(input: OrderInput, entries: readonly CsrEntry[]): KeyIndex {
  const get = (key: string) => {
    const { context, name } = parseCsrKey(key);
    const csr = input.snapshots[context]?.csrs.get(name);
    const entry = csr ? entryCache.get(csr) : undefined;
    if (!entry || entries[entry.position] !== entry) return undefined;
    return entry.position;
  };
  return { get, has: (key) => get(key) !== undefined };
}

function sameInputs(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Scoped contexts in display order. */
export function scopedContexts(input: OrderInput): string[] {
  if (input.scope.context) return input.contexts.filter((c) => c === input.scope.context);
  const aliases = input.aliases ?? {};
  return input.contexts.filter((c) => aliases[c] === undefined);
}

/** The CSR list as shown: scope (context, namespace, signer), then the `/` filter; pending first, then oldest. */
export function csrOrder(input: OrderInput): CsrOrder {
  const contexts = scopedContexts(input);
  const maps = contexts.map((c) => input.snapshots[c]?.csrs);
  const inputs = [
    ...contexts,
    ...maps,
    input.filter.text,
    input.filter.invert,
    input.scope.namespace,
    input.scope.signer,
    input.sort?.column,
    input.sort?.reverse,
  ];
  if (sameInputs(inputs, lastCsrInputs)) return lastCsrOrder;
  const lists = contexts.map((c, i) => {
    const csrs = maps[i];
    return csrs ? sortedEntries(c, csrs) : [];
  });
  let entries = mergeSorted(lists);
  const { namespace, signer } = input.scope;
  const needle = input.filter.text.toLowerCase();
  if (namespace || signer || needle) {
    entries = entries.filter((e) => {
      if (signer && e.csr.spec?.signerName !== signer) return false;
      if (namespace && !inNamespace(e, namespace)) return false;
      if (needle) {
        const hit = haystackOf(e).includes(needle) || csrState(e.csr).toLowerCase().includes(needle);
        return input.filter.invert ? !hit : hit;
      }
      return true;
    });
  }
  if (input.sort && (input.sort.column !== 'pending' || input.sort.reverse)) entries = sortedBy(entries, input.sort);
  for (let i = 0; i < entries.length; i++) entries[i]!.position = i;
  const shown = entries;
  const keys: KeyList = { length: shown.length, at: (i) => shown[i]?.key };
  lastCsrInputs = inputs;
  lastCsrOrder = { entries, keys, index: keyIndex(input, entries) };
  return lastCsrOrder;
}

export interface InitEntry {
  key: string;
  context: string;
  pod: PodInInit;
  /** The key of the CSR it waits on, when linked. */
  csrKey?: string;
}

export interface InitOrder {
  entries: readonly InitEntry[];
  keys: readonly string[];
  byKey: ReadonlyMap<string, InitEntry>;
  index: ReadonlyMap<string, number>;
}

let lastInitInputs: unknown[] = [];
let lastInitOrder: InitOrder = { entries: [], keys: [], byKey: new Map(), index: new Map() };

/** Pods held in Init (oldest first, per context in order), scoped by context, namespace and the `/` filter. */
export function initOrder(input: OrderInput): InitOrder {
  const contexts = scopedContexts(input);
  // The rows, not the health objects: a health pass a second that finds the same pods returns the same array.
  const rows = contexts.map((c) => input.health[c]?.podsInInit);
  const inputs = [...contexts, ...rows, input.filter.text, input.filter.invert, input.scope.namespace];
  if (sameInputs(inputs, lastInitInputs)) return lastInitOrder;
  const needle = input.filter.text.toLowerCase();
  const entries: InitEntry[] = [];
  contexts.forEach((context, i) => {
    for (const pod of rows[i] ?? []) {
      if (input.scope.namespace && pod.namespace !== input.scope.namespace) continue;
      if (needle) {
        const hit = `${context} ${pod.namespace}/${pod.name} ${pod.csrName ?? ''}`.toLowerCase().includes(needle);
        if (hit === input.filter.invert) continue;
      }
      entries.push({
        key: `${context}${SEP}${pod.namespace}/${pod.name}`,
        context,
        pod,
        ...(pod.csrName ? { csrKey: csrKey(context, pod.csrName) } : {}),
      });
    }
  });
  lastInitInputs = inputs;
  lastInitOrder = {
    entries,
    keys: entries.map((e) => e.key),
    byKey: new Map(entries.map((e) => [e.key, e])),
    index: new Map(entries.map((e, i) => [e.key, i])),
  };
  return lastInitOrder;
}

function conditionText(name: string, c: { status: string } | undefined): string {
  if (!c) return `${name} ?`;
  return `${name} ${c.status}`;
}

/** Errors about reaching the server rather than about one kind. */
const NETWORK_ERRORS = new Set(['unreachable', 'timeout', 'tls']);

/** The Health pane's lines per context: TigeraStatus components, then the signer backlog. Terminal-safe. */
export function healthSections(input: OrderInput & { now: number }): SectionVm[] {
  const sections: SectionVm[] = [];
  for (const context of scopedContexts(input)) {
    const h = input.health[context];
    const lines: { text: string; tone?: Tone }[] = [];
    // A context that is not live says why here in full (the header has room for a few words only).
    const connection = input.snapshots[context]?.connection;
    let said: string | undefined;
    if (connection?.phase === 'retrying') {
      said = connection.lastError;
      lines.push({ text: `retrying: ${terminalSafe(connection.lastError)} (r reconnects now)`, tone: 'warn' });
    } else if (connection?.phase === 'unreachable' || connection?.phase === 'forbidden') {
      said = connection.message;
      lines.push({ text: `${connection.phase}: ${terminalSafe(connection.message)} (r reconnects now)`, tone: 'bad' });
    }
    // A kind whose error is the connection's own (the CSRs of a server that never answered) is not said twice; while
    // the connection itself fails, a kind's network error is from an earlier attempt (before a reconnect) and is not
    // said either. A kind's own refusal (forbidden) still is: it is about this user, not about the connection.
    const connected = said === undefined;
    for (const [kind, error] of Object.entries(input.snapshots[context]?.errors ?? {})) {
      if (!error || error.message === said || (!connected && NETWORK_ERRORS.has(error.kind))) continue;
      lines.push({ text: `${kind} not followed: ${terminalSafe(error.message)}`, tone: 'warn' });
    }
    // The contexts shown as this one (same cluster, another user: the header's `viewer=east`) say their own trouble
    // here too: the header has room for a few words only.
    for (const other of input.contexts) {
      if (input.aliases?.[other] !== context) continue;
      const snap = input.snapshots[other];
      const c = snap?.connection;
      const own = terminalSafe(other);
      let otherSaid: string | undefined;
      if (c?.phase === 'retrying') {
        otherSaid = c.lastError;
        lines.push({ text: `${own}: retrying: ${terminalSafe(c.lastError)}`, tone: 'warn' });
      } else if (c?.phase === 'unreachable' || c?.phase === 'forbidden') {
        otherSaid = c.message;
        lines.push({ text: `${own}: ${c.phase}: ${terminalSafe(c.message)}`, tone: 'bad' });
      }
      for (const [kind, error] of Object.entries(snap?.errors ?? {})) {
        if (error && error.message !== otherSaid)
          lines.push({ text: `${own}: ${kind} not followed: ${terminalSafe(error.message)}`, tone: 'warn' });
      }
    }
    if (!h) {
      lines.push({ text: 'waiting for the first sync…', tone: 'muted' });
    } else {
      if (h.tigera === 'not-installed') lines.push({ text: 'TigeraStatus not installed', tone: 'muted' });
      else if (h.tigera.length === 0) lines.push({ text: 'no TigeraStatus objects yet', tone: 'muted' });
      else {
        for (const t of h.tigera) {
          const since = t.since ? `  ${humanDuration(input.now - t.since)}` : '';
          const degraded = t.degraded?.status === 'True' ? `  Degraded True ${t.degraded.reason}` : '';
          lines.push({
            text: `${terminalSafe(t.name)}  ${conditionText('Available', t.available)}  ${conditionText('Progressing', t.progressing)}${degraded}${since}`,
            tone: t.healthy ? 'ok' : t.degraded?.status === 'True' ? 'bad' : 'warn',
          });
        }
      }
      for (const b of h.signerBacklog) {
        if (b.approvedUnissued === 0) continue;
        lines.push({
          text: `signer ${terminalSafe(b.signerName)}: ${b.approvedUnissued} approved, unissued ${humanDuration(ageNow(h, b.oldestAge, input.now))}${b.stalled ? ' (stalled)' : ''}`,
          tone: b.stalled ? 'bad' : 'warn',
        });
      }
      const oldest =
        h.oldestPendingAge !== undefined ? `, oldest ${humanDuration(ageNow(h, h.oldestPendingAge, input.now))}` : '';
      lines.push({ text: `${h.pendingCount} pending${oldest}`, tone: h.pendingCount > 0 ? 'warn' : 'muted' });
    }
    sections.push({ label: terminalSafe(context), lines });
  }
  if (input.policyTrial) sections.push(trialSection(input.policyTrial));
  return sections;
}

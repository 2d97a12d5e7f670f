// The TUI's state and its pure reducer: cursor and panes, modes (inspect, help, filter, command, dialogs), bulk
// marks, notices, and an outbox of effects (approve, deny, sign, export, reconnect) that src/app/app.tsx runs.
// No I/O and no clock here: time arrives in actions.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { ContextSnapshot } from '../services/kube/api-types.js';
import type { WirePcr } from '../services/kube/pod-certificates.js';
import type { PolicyTrial } from '../services/actions/policy-test.js';
import type { ContextHealth } from '../services/health/index.js';
import type { FindingLevel } from '../services/policy/types.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { healthLabelWidth, PANES, type PaneId, screenLayout, wrapLine } from '../views/layout.js';
import type { SectionVm, Tone } from '../views/models.js';
import { type CertFeed, type CertsAction, type CertsView, certHealthLine, certsReducer, openCerts } from './certs.js';
import { openPcrs, type PcrsAction, type PcrsView, pcrHealthLines, pcrsReducer } from './pcrs.js';
import {
  csrKey,
  csrOrder,
  healthSections,
  initOrder,
  type KeyList,
  parseCsrKey,
  type SortColumn,
  scopedContexts,
} from './order.js';

export type { SortColumn } from './order.js';

export type { PaneId } from '../views/layout.js';

export interface DialogField {
  id: string;
  label: string;
  value: string;
  /** A CA key's PIN or passphrase (id `secret:SIGNER`): shown masked, never kept in a dialog given back. */
  secret?: boolean;
}

export type DialogAction =
  | 'approve'
  | 'deny'
  | 'delete'
  | 'sign'
  | 'approve-sign'
  | 'export-secret'
  | 'export-configmap'
  | 'kubeconfig'
  | 'pcr-issue'
  | 'pcr-deny'
  | 'pcr-fail'
  /** The PCR view's E: the signer's CA from the registry as its ClusterTrustBundle. */
  | 'pcr-trust-bundle';

/** The one rule for a deny reason, as the dialog states it and checks it (a Kubernetes condition reason). */
export const DENY_REASON_RULE = 'one CamelCase word: a capital letter, then letters and digits, at most 64';
const DENY_REASON = /^[A-Z][A-Za-z0-9]{0,63}$/;

/** A confirmation or form. Details and preview are built (and made terminal-safe) by whoever opens it. */
export interface DialogState {
  action: DialogAction;
  /** CSR keys (see csrKey) acted on. */
  targets: string[];
  /** Keys left out of a bulk action, with the reason shown in the details. */
  skipped: string[];
  /** The worst finding among the targets: `fail` asks for the CSR's name, `warn` for a second key (y). */
  guard: FindingLevel;
  /** The name to type when guard is `fail` (raw: compared with what the person types). */
  confirmName?: string;
  typed: string;
  fields: DialogField[];
  field: number;
  title: string;
  details: SectionVm[];
  preview?: string[];
  error?: string;
  /** Why the action cannot go ahead (no CA for the signer, not allowed …): Enter shows it instead. */
  blocked?: string;
  /** Keys that close this dialog and open another verb's dialog on the same CSR, e.g. `A` and `a` from a sign
   * dialog whose CSR is not approved yet (its message names them); `^D` is Ctrl-D (a dialog with text fields). */
  switchKeys?: Partial<Record<string, DialogAction>>;
  /** Per target key: the object shown (writes are bound to it) and the failing codes the typed name accepts. */
  bound?: Record<string, Pick<CsrRef, 'csr' | 'overrides'>>;
  /** Export: the signer whose CA is exported, and its context. */
  signer?: string;
  context?: string;
  /** Opened from inspect: the UID inspected (the dialog acts only while the CSR under its name still has it). */
  uid?: string | undefined;
  /** A PCR view verb: the PCR shown (writes are bound to it, overrides as for CSRs) and the view to go back to. */
  pcr?: { targets: PcrTarget[]; view: PcrsView };
  /** Targets whose cluster is reached through several contexts → the context to act through (one that may). */
  via?: Record<string, string>;
}

/** What the `d`, `y` and `l` keys show for a pod. */
export type PodView = 'describe' | 'yaml' | 'logs';

export type Mode =
  | { kind: 'list' }
  /** `uid`: the CSR opened; a re-created CSR of the same name is not silently shown in its place. */
  | { kind: 'inspect'; key: string; offset: number; uid?: string | undefined }
  /** A pod of the Pods in Init pane (key as in initOrder). */
  | { kind: 'pod'; view: PodView; key: string; offset: number }
  /** `:ctx` with no name: pick a context (or all). */
  | { kind: 'picker'; items: string[]; index: number }
  | { kind: 'yaml'; key: string; offset: number; from: 'list' | 'inspect' }
  | { kind: 'help'; offset: number }
  | { kind: 'filter'; draft: string }
  | { kind: 'command'; draft: string }
  | { kind: 'dialog'; dialog: DialogState; from: 'list' | 'inspect' }
  | { kind: 'quit-confirm' }
  | { kind: 'certs'; view: CertsView }
  | { kind: 'pcrs'; view: PcrsView };

export interface CsrRef {
  key: string;
  context: string;
  name: string;
  /** The object the person looked at when confirming: the write is bound to it (docs/safety.md). */
  csr?: V1CertificateSigningRequest;
  /** Failing finding codes accepted by typing the CSR's name. */
  overrides?: string[];
}

export type Effect =
  | { id: number; kind: 'approve'; targets: CsrRef[] }
  | { id: number; kind: 'deny'; targets: CsrRef[]; reason: string; message: string }
  | { id: number; kind: 'delete'; targets: CsrRef[] }
  | { id: number; kind: 'policy-test'; file: string }
  /** `secrets`: per signer, the PIN or passphrase typed in the dialog (handed to the key once, then dropped). */
  | { id: number; kind: 'sign'; targets: CsrRef[]; approveFirst: boolean; secrets?: Record<string, string> }
  | {
      id: number;
      kind: 'export-secret';
      target: CsrRef;
      namespace: string;
      name: string;
      keyFile: string;
      outFile: string;
    }
  | {
      id: number;
      kind: 'export-configmap';
      context: string;
      signer: string;
      namespace: string;
      name: string;
      outFile: string;
    }
  | { id: number; kind: 'kubeconfig'; target: CsrRef; keyFile: string; outFile: string; user: string }
  | { id: number; kind: 'reconnect'; context?: string }
  /** Publish a signer's CA from the registry as the ClusterTrustBundle `<signer with : for />:<name>`. */
  | { id: number; kind: 'export-trust-bundle'; context: string; signer: string; name: string; removeOld: boolean }
  /** Issue, deny or mark Failed PodCertificateRequests (the PCR view's `s`, `x`, `f`), each bound to its object. */
  | {
      id: number;
      kind: 'pcr';
      verb: PcrVerb;
      targets: PcrTarget[];
      reason: string;
      message: string;
      secrets?: Record<string, string>;
    };

export type PcrVerb = 'issue' | 'deny' | 'fail';

export interface PcrTarget {
  context: string;
  namespace: string;
  name: string;
  /** The object the person looked at when confirming: the write is bound to it (uid + resourceVersion). */
  pcr?: WirePcr;
  /** Failing finding codes accepted by typing the PCR's name. */
  overrides?: string[];
}

export type EffectRequest = Effect extends infer E ? (E extends Effect ? Omit<E, 'id'> : never) : never;

export interface Scope {
  /** Only this context; undefined = all. */
  context?: string;
  /** Pods in this namespace, and CSRs whose requestor or name points into it. */
  namespace?: string;
  signer?: string;
}

export interface TuiState {
  contexts: string[];
  /** Contexts that reach a cluster an earlier context already reaches (same server and CA) → that context. Their
   * objects are the same objects: shown once, under the first context; verbs act through whichever may act. */
  aliases: Readonly<Record<string, string>>;
  /** When each context stopped being live after it had synced (its rows are stale since then). */
  lostAt: Readonly<Record<string, number>>;
  snapshots: Readonly<Record<string, ContextSnapshot>>;
  health: Readonly<Record<string, ContextHealth>>;
  now: number;
  columns: number;
  rows: number;
  pane: PaneId;
  /** The selected object's key per pane (the selection follows the object when rows move). */
  cursor: Record<PaneId, string | undefined>;
  /** The selected row's index per pane, used when the selected object disappears. */
  cursorIndex: Record<PaneId, number>;
  /** First visible row per pane. */
  top: Record<PaneId, number>;
  marked: ReadonlySet<string>;
  filter: { text: string; invert: boolean };
  scope: Scope;
  mode: Mode;
  notice?: { text: string; until: number };
  status?: { text: string; tone: Tone };
  /** The last `:policy test FILE`: where that policy would decide differently (shown in the Health pane). */
  policyTrial?: PolicyTrial;
  /** Grows when lazily decoded CSRs arrive, so the frame redraws their badges. */
  decodedVersion: number;
  /** The renewal radar's records (services/certs), once its watch has something. */
  certs?: CertFeed;
  sort: { column: SortColumn; reverse: boolean };
  /** The logs shown by `l` (fetched by app.tsx). */
  logs?: { key: string; container: string; lines?: string[]; error?: string };
  /** The dialog behind a running effect, reopened with the error (and what was typed) when the effect fails. */
  reopen?: { effectId: number; mode: Extract<Mode, { kind: 'dialog' }> };
  running: number;
  outbox: Effect[];
  nextEffectId: number;
  quit: boolean;
}

export type Action =
  | { type: 'snapshots'; snapshots: Record<string, ContextSnapshot>; newCsrs?: CsrRef[] }
  | { type: 'health'; health: Record<string, ContextHealth> }
  | { type: 'tick'; now: number }
  | { type: 'resize'; columns: number; rows: number }
  | { type: 'decoded' }
  | { type: 'move'; delta: number }
  | { type: 'move-to'; where: 'first' | 'last' }
  | { type: 'page'; direction: 1 | -1 }
  | { type: 'select-key'; pane: PaneId; key: string }
  | { type: 'next-pane'; direction: 1 | -1 }
  | { type: 'toggle-mark' }
  | { type: 'clear-marks' }
  | { type: 'open-inspect' }
  | { type: 'open-yaml' }
  | { type: 'open-help' }
  | { type: 'back' }
  | { type: 'start-filter' }
  | { type: 'start-command' }
  | { type: 'text-input'; text: string }
  | { type: 'text-backspace' }
  /** Ctrl-U: empties the field being typed. */
  | { type: 'text-clear' }
  | { type: 'sort'; column: SortColumn }
  | { type: 'open-describe' }
  | { type: 'open-logs'; key: string; container: string }
  | { type: 'logs-loaded'; key: string; lines?: string[]; error?: string }
  | { type: 'picker-choose' }
  | { type: 'text-submit' }
  | { type: 'open-dialog'; dialog: DialogState }
  | { type: 'dialog-next-field'; direction: 1 | -1 }
  | { type: 'dialog-submit' }
  | { type: 'dialog-error'; error: string }
  | { type: 'request-effect'; effect: EffectRequest; status?: string }
  | { type: 'effects-taken'; upTo: number }
  | {
      type: 'effect-done';
      /** `ask`: CA key secrets needed and not typed (signer, the words to ask with): the dialog comes back asking. */
      status: { text: string; tone: Tone; trial?: PolicyTrial; ask?: Array<[signer: string, needs: string]> };
      id?: number;
    }
  | { type: 'status'; text: string; tone: Tone }
  | { type: 'quit' }
  | { type: 'quit-confirmed' }
  | { type: 'certs-feed'; feed: CertFeed }
  | { type: 'open-certs' }
  | { type: 'certs'; action: CertsAction }
  | { type: 'open-pcrs' }
  | { type: 'pcrs'; action: PcrsAction };

export interface InitialStateOptions {
  contexts: string[];
  /** Each context's cluster identity (server and CA); contexts with the same one are grouped. */
  clusters?: Readonly<Record<string, string>>;
  columns: number;
  rows: number;
  now: number;
  scope?: Scope;
  /** The first status line (the demo says where its kubeconfig and jane's key are). */
  status?: { text: string; tone: Tone };
}

export function initialState(options: InitialStateOptions): TuiState {
  return {
    contexts: options.contexts,
    aliases: clusterAliases(options.contexts, options.clusters ?? {}),
    lostAt: {},
    snapshots: {},
    health: {},
    now: options.now,
    columns: options.columns,
    rows: options.rows,
    pane: 'csrs',
    cursor: { csrs: undefined, init: undefined, health: undefined },
    cursorIndex: { csrs: 0, init: 0, health: 0 },
    top: { csrs: 0, init: 0, health: 0 },
    marked: new Set(),
    filter: { text: '', invert: false },
    scope: options.scope ?? {},
    mode: { kind: 'list' },
    ...(options.status ? { status: options.status } : {}),
    decodedVersion: 0,
    sort: { column: 'pending', reverse: false },
    running: 0,
    outbox: [],
    nextEffectId: 1,
    quit: false,
  };
}

const NOTICE_MS = 5000;

/** Contexts whose cluster identity an earlier context shares → that earlier context. */
export function clusterAliases(
  contexts: readonly string[],
  clusters: Readonly<Record<string, string>>,
): Record<string, string> {
  const first = new Map<string, string>();
  const aliases: Record<string, string> = {};
  for (const context of contexts) {
    const id = clusters[context];
    if (!id) continue;
    const primary = first.get(id);
    if (primary) aliases[context] = primary;
    else first.set(id, context);
  }
  return aliases;
}

/** A context and the contexts that reach the same cluster through it (itself first). */
export function clusterMembers(state: Pick<TuiState, 'contexts' | 'aliases'>, context: string): string[] {
  const primary = state.aliases[context] ?? context;
  return [primary, ...state.contexts.filter((c) => state.aliases[c] === primary)];
}

function lostAtOf(state: TuiState, snapshots: Record<string, ContextSnapshot>): TuiState['lostAt'] {
  let lostAt = state.lostAt;
  for (const [context, snap] of Object.entries(snapshots)) {
    // A retry's 'connecting' is neither back nor lost: the rows stay stale, and "since" keeps the first loss.
    const phase = snap.connection.phase;
    if (phase === 'live' && lostAt[context] !== undefined) {
      const { [context]: _gone, ...rest } = lostAt;
      lostAt = rest;
    } else if (phase !== 'live' && phase !== 'connecting' && snap.synced && lostAt[context] === undefined) {
      lostAt = { ...lostAt, [context]: state.now };
    }
  }
  return lostAt;
}

/** Keys of the rows of a pane, in display order. */
export function paneKeys(state: TuiState, pane: PaneId): KeyList {
  if (pane === 'csrs') return csrOrder(state).keys;
  if (pane === 'init') return initOrder(state).keys;
  return [];
}

/** Index of the selected row of a pane in its current order (follows the object; falls back to the old index). */
export function cursorPosition(state: TuiState, pane: PaneId): number {
  if (pane === 'health') return state.cursorIndex.health;
  const order = pane === 'csrs' ? csrOrder(state) : initOrder(state);
  const key = state.cursor[pane];
  const at = key === undefined ? undefined : order.index.get(key);
  if (at !== undefined) return at;
  return Math.min(state.cursorIndex[pane], Math.max(0, order.keys.length - 1));
}

/** Visible rows of a pane for the current terminal size. */
export function paneRows(state: TuiState, pane: PaneId): number {
  const layout = screenLayout(state.columns, state.rows, state.pane);
  return pane === 'csrs' ? layout.csrRows : pane === 'init' ? layout.initRows : layout.healthRows;
}

/** First visible row so that `index` is inside the window, moving the previous top as little as possible. */
export function windowTop(index: number, previousTop: number, visible: number, total: number): number {
  let top = previousTop;
  if (index < top) top = index;
  if (index >= top + visible) top = index - visible + 1;
  return Math.max(0, Math.min(top, Math.max(0, total - visible)));
}

/**
 * The Health pane's sections as drawn: per context its connection and TigeraStatus lines, the renewal radar's line
 * and the PodCertificateRequests' lines, each wrapped to the pane's width. Scrolling counts these same lines.
 */
export function healthPane(state: TuiState): SectionVm[] {
  const contexts = scopedContexts(state);
  const sections = healthSections(state).map((s, i) => {
    const context = contexts[i] ?? '';
    const line = certHealthLine(state, context);
    const pcrLines = pcrHealthLines(state, context);
    return line || pcrLines.length ? { ...s, lines: [...s.lines, ...(line ? [line] : []), ...pcrLines] } : s;
  });
  const layout = screenLayout(state.columns, state.rows, state.pane);
  // Inside the borders, after the label column and its space.
  const width = layout.healthColumns - 2 - healthLabelWidth(sections.map((s) => s.label)) - 1;
  return sections.map((s) => ({
    ...s,
    lines: s.lines.flatMap((l) => wrapLine(l.text, width).map((text) => ({ ...l, text }))),
  }));
}

function moveCursor(state: TuiState, target: (index: number, total: number, visible: number) => number): TuiState {
  const pane = state.pane;
  const visible = paneRows(state, pane);
  if (pane === 'health') {
    const total = healthPane(state).reduce((n, s) => n + Math.max(1, s.lines.length), 0);
    const top = Math.max(0, Math.min(target(state.top.health, total, visible), Math.max(0, total - visible)));
    return { ...state, top: { ...state.top, health: top }, cursorIndex: { ...state.cursorIndex, health: top } };
  }
  const keys = paneKeys(state, pane);
  if (keys.length === 0) return state;
  const from = cursorPosition(state, pane);
  const index = Math.max(0, Math.min(keys.length - 1, target(from, keys.length, visible)));
  return {
    ...state,
    cursor: { ...state.cursor, [pane]: keys.at(index) },
    cursorIndex: { ...state.cursorIndex, [pane]: index },
    top: { ...state.top, [pane]: windowTop(index, state.top[pane], visible, keys.length) },
  };
}

function scrollMode(state: TuiState, delta: number): TuiState {
  const m = state.mode;
  if (m.kind === 'inspect' || m.kind === 'yaml' || m.kind === 'help' || m.kind === 'pod') {
    return { ...state, mode: { ...m, offset: Math.max(0, m.offset + delta) } };
  }
  if (m.kind === 'picker') {
    return { ...state, mode: { ...m, index: Math.max(0, Math.min(m.items.length - 1, m.index + delta)) } };
  }
  return state;
}

function selectedCsrKey(state: TuiState): string | undefined {
  if (state.pane !== 'csrs') {
    if (state.pane === 'init') {
      // The highlighted row, also before the cursor was ever moved (no key yet: the row at its index).
      const order = initOrder(state);
      const key = order.keys[cursorPosition(state, 'init')];
      return key === undefined ? undefined : order.byKey.get(key)?.csrKey;
    }
    return undefined;
  }
  const keys = csrOrder(state).keys;
  return keys.at(cursorPosition(state, 'csrs'));
}

/**
 * Pins the selection of the current list pane to the object on its highlighted row. Until the cursor first moves,
 * the selection is a row index (the top row while lists load); acting on that row must make it follow the object:
 * approving the top pending CSR moves it below the pending ones, and `s` next must sign that CSR, not the one that
 * took its row.
 */
function pinSelection(state: TuiState): TuiState {
  const pane = state.pane;
  if (pane === 'health' || state.cursor[pane] !== undefined) return state;
  const key = paneKeys(state, pane).at(cursorPosition(state, pane));
  return key === undefined ? state : { ...state, cursor: { ...state.cursor, [pane]: key } };
}

/** The selected pod's key (Pods in Init pane), or the pod waiting on the focused CSR. */
export function focusedPodKey(state: TuiState): string | undefined {
  if (state.mode.kind === 'pod') return state.mode.key;
  const order = initOrder(state);
  if (state.pane === 'init' && state.mode.kind === 'list') return order.keys[cursorPosition(state, 'init')];
  const csr = focusedCsrKey(state);
  return csr ? order.entries.find((e) => e.csrKey === csr)?.key : undefined;
}

/** The CSR the keys act on: the inspected one, else the selected row (or the CSR of the selected pod). */
export function focusedCsrKey(state: TuiState): string | undefined {
  if (state.mode.kind === 'inspect' || state.mode.kind === 'yaml') return state.mode.key;
  return selectedCsrKey(state);
}

/** The targets of a verb: the bulk selection when there is one (in the CSR pane), else the focused CSR. */
export function actionTargets(state: TuiState): string[] {
  if (state.mode.kind === 'list' && state.pane === 'csrs' && state.marked.size > 0) {
    const order = csrOrder(state);
    return [...state.marked].filter((k) => order.index.has(k) || snapshotHas(state, k));
  }
  const key = focusedCsrKey(state);
  return key ? [key] : [];
}

function snapshotHas(state: TuiState, key: string): boolean {
  const { context, name } = parseCsrKey(key);
  return state.snapshots[context]?.csrs.has(name) ?? false;
}

export function refOf(key: string): CsrRef {
  const { context, name } = parseCsrKey(key);
  return { key, context, name };
}

function pushEffect(state: TuiState, effect: EffectRequest, status?: string): TuiState {
  const id = state.nextEffectId;
  return {
    ...state,
    outbox: [...state.outbox, { ...effect, id } as Effect],
    nextEffectId: id + 1,
    running: effect.kind === 'reconnect' ? state.running : state.running + 1,
    ...(status ? { status: { text: status, tone: 'info' as Tone } } : {}),
  };
}

function effectOfDialog(d: DialogState): EffectRequest | string {
  const refs = d.targets.map((k): CsrRef => {
    const via = d.via?.[k];
    return { ...refOf(k), ...d.bound?.[k], ...(via ? { context: via } : {}) };
  });
  const value = (id: string) => d.fields.find((f) => f.id === id)?.value.trim() ?? '';
  const secretFields = d.fields.filter((f) => f.secret);
  const missing = secretFields.find((f) => f.value === '');
  if (missing) return `Type the ${missing.label} (it is not shown), then ⏎.`;
  const secrets = secretFields.length
    ? { secrets: Object.fromEntries(secretFields.map((f) => [f.id.slice('secret:'.length), f.value])) }
    : {};
  switch (d.action) {
    case 'approve':
      return { kind: 'approve', targets: refs };
    case 'deny':
      if (value('reason') && !DENY_REASON.test(value('reason'))) {
        return `The reason must be ${DENY_REASON_RULE} (e.g. NotOurPod), or empty for CertdeskDeny.`;
      }
      return { kind: 'deny', targets: refs, reason: value('reason'), message: value('message') };
    case 'delete':
      return { kind: 'delete', targets: refs };
    case 'kubeconfig': {
      const target = refs[0];
      if (!target) return 'Nothing to write: select an issued kube-apiserver-client CSR first.';
      if (!value('keyFile')) return "Give the path of the user's private key file (the key made with the CSR).";
      if (!value('outFile')) return 'Give the file to write the kubeconfig to.';
      return { kind: 'kubeconfig', target, keyFile: value('keyFile'), outFile: value('outFile'), user: value('user') };
    }
    case 'sign':
      return { kind: 'sign', targets: refs, approveFirst: false, ...secrets };
    case 'approve-sign':
      return { kind: 'sign', targets: refs, approveFirst: true, ...secrets };
    case 'export-secret': {
      const target = refs[0];
      if (!target) return 'Nothing to export: select an issued CSR first.';
      if (!value('namespace') || !value('name')) return 'Give a namespace and a name for the Secret.';
      if (!value('keyFile')) return "Give the path of the requester's private key file (the key made with the CSR).";
      return {
        kind: 'export-secret',
        target,
        namespace: value('namespace'),
        name: value('name'),
        keyFile: value('keyFile'),
        outFile: value('outFile'),
      };
    }
    case 'pcr-issue':
    case 'pcr-deny':
    case 'pcr-fail': {
      const targets = d.pcr?.targets ?? [];
      if (!targets.length) return 'Nothing to act on: select a PodCertificateRequest first.';
      if (d.action === 'pcr-issue') return { kind: 'pcr', verb: 'issue', targets, reason: '', message: '', ...secrets };
      if (value('reason') && !DENY_REASON.test(value('reason'))) {
        return `The reason must be ${DENY_REASON_RULE} (e.g. NotOurPod), or empty for the default.`;
      }
      const verb = d.action === 'pcr-deny' ? 'deny' : 'fail';
      return { kind: 'pcr', verb, targets, reason: value('reason'), message: value('message') };
    }
    case 'pcr-trust-bundle': {
      const name = value('name') || 'live';
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
        return 'The name after the signer is lowercase letters, digits, - and . (e.g. live).';
      }
      if (!['', 'yes', 'no'].includes(value('removeOld')))
        return 'Type yes to remove the other CAs, or leave it empty.';
      if (!d.signer || !d.context) return 'Nothing to publish: select a PodCertificateRequest of the signer first.';
      return {
        kind: 'export-trust-bundle',
        context: d.context,
        signer: d.signer,
        name,
        removeOld: value('removeOld') === 'yes',
      };
    }
    case 'export-configmap':
      if (!value('namespace') || !value('name')) return 'Give a namespace and a name for the ConfigMap.';
      if (!d.signer || !d.context) return 'Nothing to export: select a CSR whose signer has a CA in the registry.';
      return {
        kind: 'export-configmap',
        context: d.context,
        signer: d.signer,
        namespace: value('namespace'),
        name: value('name'),
        outFile: value('outFile'),
      };
  }
}

const verbing: Record<DialogAction, string> = {
  approve: 'Approving',
  deny: 'Denying',
  delete: 'Deleting',
  sign: 'Signing',
  'approve-sign': 'Approving and signing',
  'export-secret': 'Exporting the Secret',
  'export-configmap': 'Exporting the ConfigMap',
  kubeconfig: 'Writing the kubeconfig',
  'pcr-issue': 'Issuing',
  'pcr-deny': 'Denying',
  'pcr-fail': 'Marking Failed',
  'pcr-trust-bundle': 'Publishing the trust bundle',
};

function proceed(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  const effect = effectOfDialog(d);
  if (typeof effect === 'string') return { ...state, mode: { ...mode, dialog: { ...d, error: effect } } };
  const count = d.targets.length;
  const pcrs = d.action === 'pcr-trust-bundle' ? [] : (d.pcr?.targets ?? []);
  const what =
    pcrs.length > 1
      ? ` ${pcrs.length} PCRs`
      : pcrs[0]
        ? ` ${pcrs[0].namespace}/${pcrs[0].name}`
        : d.action.startsWith('export') || d.action === 'kubeconfig'
          ? ''
          : ` ${count} CSR${count === 1 ? '' : 's'}`;
  const next = pushEffect(state, effect, `${verbing[d.action]}${what}…`);
  const bulk = count > 1 && !d.action.startsWith('export');
  const back = modeBack(next);
  return {
    ...back,
    // A verb on the marked PCRs clears the marks, as for CSRs.
    ...(pcrs.length > 1 && back.mode.kind === 'pcrs'
      ? { mode: { kind: 'pcrs' as const, view: { ...back.mode.view, marked: new Set<string>() } } }
      : {}),
    marked: bulk ? new Set() : next.marked,
    // Given back on failure with what was typed, except the secrets: a wrong PIN is typed again.
    reopen: { effectId: state.nextEffectId, mode: { ...mode, dialog: { ...withoutSecrets(d), error: undefined } } },
  };
}

/** A masked field for each CA key secret nothing else gives (SigningCa.needs), after a `type NAME to confirm`
 * field when a ✗ finding asks for the name (a dialog with fields takes what is typed into its fields; one that comes
 * back asking keeps the name typed before). */
export function withSecrets(d: DialogState, secrets: Array<[signer: string, needs: string]>): DialogState {
  if (secrets.length === 0) return d;
  const confirm =
    d.confirmName !== undefined && !d.fields.some((f) => f.id === 'confirm')
      ? [{ id: 'confirm', label: `type ${terminalSafe(d.confirmName)} to confirm`, value: d.typed }]
      : [];
  return {
    ...d,
    fields: [
      ...d.fields,
      ...confirm,
      ...secrets.map(([signer, needs]) => ({
        id: `secret:${signer}`,
        label: terminalSafe(needs, { maxLength: 120 }),
        value: '',
        secret: true,
      })),
    ],
  };
}

function withoutSecrets(d: DialogState): DialogState {
  if (!d.fields.some((f) => f.secret)) return d;
  const fields = d.fields.map((f) => (f.secret ? { ...f, value: '' } : f));
  return { ...d, fields, field: fields.findIndex((f) => f.secret) };
}

function submitDialog(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  const withError = (error: string): TuiState => ({ ...state, mode: { ...mode, dialog: { ...d, error } } });
  if (d.blocked) return withError(d.blocked);
  if (d.targets.length === 0 && !d.pcr && !d.action.startsWith('export'))
    return withError('Nothing left to act on; esc closes.');
  if (d.guard === 'fail' && d.confirmName !== undefined) {
    // A dialog with fields (a masked PIN) asks for the name in its `confirm` field.
    if ((d.fields.find((f) => f.id === 'confirm')?.value ?? d.typed) !== d.confirmName) {
      return withError(
        `Type the ${d.pcr ? 'PodCertificateRequest' : 'CSR'}'s name exactly to go ahead despite the ✗ finding.`,
      );
    }
    return proceed(state, mode);
  }
  // With a masked field, typing the secret and ⏎ is the second key (the prompt says it goes ahead despite them).
  if (d.guard === 'warn' && d.fields.length === 0) {
    return withError('There are warnings above: press y to go ahead anyway, esc to cancel.');
  }
  return proceed(state, mode);
}

function dialogText(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>, text: string): TuiState {
  const d = mode.dialog;
  if (d.fields.length === 0) {
    if (d.guard === 'fail' && d.confirmName !== undefined) {
      return { ...state, mode: { ...mode, dialog: { ...d, typed: d.typed + text, error: undefined } } };
    }
    if (d.guard === 'warn' && (text === 'y' || text === 'Y')) {
      if (d.blocked) return { ...state, mode: { ...mode, dialog: { ...d, error: d.blocked } } };
      return proceed(state, mode);
    }
    return state;
  }
  const fields = d.fields.map((f, i) => (i === d.field ? { ...f, value: f.value + text } : f));
  return { ...state, mode: { ...mode, dialog: { ...d, fields, error: undefined } } };
}

function dialogClear(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  if (d.fields.length === 0) return { ...state, mode: { ...mode, dialog: { ...d, typed: '' } } };
  const fields = d.fields.map((f, i) => (i === d.field ? { ...f, value: '' } : f));
  return { ...state, mode: { ...mode, dialog: { ...d, fields } } };
}

function dialogBackspace(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  if (d.fields.length === 0) {
    return { ...state, mode: { ...mode, dialog: { ...d, typed: [...d.typed].slice(0, -1).join('') } } };
  }
  const fields = d.fields.map((f, i) => (i === d.field ? { ...f, value: [...f.value].slice(0, -1).join('') } : f));
  return { ...state, mode: { ...mode, dialog: { ...d, fields } } };
}

/** A new filter or scope starts at the top of each list. */
function toFirstRows(state: TuiState): TuiState {
  return {
    ...state,
    cursor: { csrs: undefined, init: undefined, health: undefined },
    cursorIndex: { csrs: 0, init: 0, health: 0 },
    top: { csrs: 0, init: 0, health: 0 },
  };
}

type CommandResult = { state: TuiState; text: string } | { error: string } | TuiState;

/** The `:` commands: one entry each (k9s style). The panes' own commands come from PANES. */
export const COMMANDS: Record<string, { help: string; run: (state: TuiState, arg: string) => CommandResult }> = {
  ctx: {
    help: ':ctx NAME · :ctx all · :ctx (a picker)',
    run: (state, arg) => {
      if (!arg) {
        const items = ['all', ...state.contexts];
        const index = Math.max(0, items.indexOf(state.scope.context ?? 'all'));
        return { ...state, mode: { kind: 'picker', items, index } };
      }
      if (arg === 'all')
        return { state: { ...state, scope: { ...state.scope, context: undefined } }, text: 'All contexts.' };
      if (!state.contexts.includes(arg)) {
        return { error: `No context "${arg}" is loaded; use one of ${state.contexts.join(', ')} or :ctx all.` };
      }
      return { state: { ...state, scope: { ...state.scope, context: arg } }, text: `Context ${arg}.` };
    },
  },
  ns: {
    help: ':ns NAME · :ns all',
    run: (state, arg) =>
      !arg || arg === 'all'
        ? { state: { ...state, scope: { ...state.scope, namespace: undefined } }, text: 'All namespaces.' }
        : { state: { ...state, scope: { ...state.scope, namespace: arg } }, text: `Namespace ${arg}.` },
  },
  signer: {
    help: ':signer NAME · :signer all',
    run: (state, arg) =>
      !arg || arg === 'all'
        ? { state: { ...state, scope: { ...state.scope, signer: undefined } }, text: 'All signers.' }
        : { state: { ...state, scope: { ...state.scope, signer: arg } }, text: `Signer ${arg}.` },
  },
  policy: {
    help: ':policy test FILE · :policy clear',
    run: (state, arg) => {
      const [verb, ...rest] = arg.split(' ');
      const file = rest.join(' ').trim();
      if (verb === 'clear') {
        const { policyTrial: _t, ...rest } = state;
        return { state: rest, text: 'Policy test cleared.' };
      }
      if (verb !== 'test' || !file)
        return { error: 'Give a policy file to try: :policy test FILE (or :policy clear).' };
      // Judged in the background (effects.ts); the Health pane shows where its decisions would differ.
      return { ...pushEffect(state, { kind: 'policy-test', file }, `Trying policy ${file}…`), pane: 'health' };
    },
  },
  certs: { help: ':certs', run: (state) => openCerts(state) },
  pcr: { help: ':pcr', run: (state) => openPcrs(state) },
  q: { help: ':q', run: (state) => reducer(state, { type: 'quit' }) },
};
const ALIASES: Record<string, string> = {
  context: 'ctx',
  namespace: 'ns',
  cert: 'certs',
  certificates: 'certs',
  pcrs: 'pcr',
  podcertificaterequests: 'pcr',
  'q!': 'q',
  quit: 'q',
};

/** Parses and runs a `:` command. */
export function runCommand(state: TuiState, line: string): TuiState {
  const [word = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const base: TuiState = { ...state, mode: { kind: 'list' } };
  if (!word) return base;
  const pane = PANES.find((p) => p.commands.includes(word));
  if (pane) return { ...base, pane: pane.id, status: { text: `${pane.title}.`, tone: 'ok' } };
  const command = COMMANDS[ALIASES[word] ?? word];
  if (!command) {
    const known = [...Object.values(COMMANDS).map((c) => c.help), ...PANES.map((p) => `:${p.commands[0]}`)];
    return { ...base, status: { text: `Unknown command ":${word}"; try ${known.join(', ')}.`, tone: 'bad' } };
  }
  const result = command.run(base, arg);
  if ('error' in result) return { ...base, status: { text: result.error, tone: 'bad' } };
  if ('text' in result) return { ...toFirstRows(result.state), status: { text: result.text, tone: 'ok' } };
  return result;
}

function modeBack(state: TuiState): TuiState {
  const m = state.mode;
  switch (m.kind) {
    case 'yaml':
      return {
        ...state,
        mode:
          m.from === 'inspect'
            ? { kind: 'inspect', key: m.key, offset: 0, uid: uidOf(state, m.key) }
            : { kind: 'list' },
      };
    case 'dialog':
      return {
        ...state,
        mode: m.dialog.pcr
          ? { kind: 'pcrs', view: m.dialog.pcr.view }
          : m.from === 'inspect' && m.dialog.targets.length === 1 && m.dialog.targets[0]
            ? { kind: 'inspect', key: m.dialog.targets[0], offset: 0, uid: m.dialog.uid }
            : { kind: 'list' },
      };
    case 'list':
      return state.marked.size > 0 ? { ...state, marked: new Set() } : state;
    default:
      return { ...state, mode: { kind: 'list' } };
  }
}

function uidOf(state: TuiState, key: string): string | undefined {
  const { context, name } = parseCsrKey(key);
  return state.snapshots[context]?.csrs.get(name)?.metadata?.uid;
}

/** Inspect opened on a CSR that was since deleted and re-created under its name (another UID). */
export function inspectReplaced(state: TuiState): boolean {
  const m = state.mode;
  const key =
    m.kind === 'inspect' ? m.key : m.kind === 'dialog' && m.from === 'inspect' ? m.dialog.targets[0] : undefined;
  const uid = m.kind === 'inspect' ? m.uid : m.kind === 'dialog' ? m.dialog.uid : undefined;
  if (!key || !uid) return false;
  const now = uidOf(state, key);
  return now !== undefined && now !== uid;
}

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'snapshots': {
      let next: TuiState = {
        ...state,
        snapshots: { ...state.snapshots, ...action.snapshots },
        lostAt: lostAtOf(state, action.snapshots),
      };
      const fresh = action.newCsrs ?? [];
      if (fresh.length > 0) {
        const first = fresh[0]!;
        const more = fresh.length > 1 ? ` and ${fresh.length - 1} more` : '';
        next = {
          ...next,
          notice: { text: `New CSR ${first.name} in ${first.context}${more}`, until: state.now + NOTICE_MS },
        };
      }
      return next;
    }
    case 'health':
      return { ...state, health: { ...state.health, ...action.health } };
    case 'tick': {
      const expired = state.notice && state.notice.until <= action.now;
      const { notice: _n, ...rest } = state;
      return expired ? { ...rest, now: action.now } : { ...state, now: action.now };
    }
    case 'resize':
      return { ...state, columns: action.columns, rows: action.rows };
    case 'decoded':
      return { ...state, decodedVersion: state.decodedVersion + 1 };
    case 'move':
      if (state.mode.kind !== 'list') return scrollMode(state, action.delta);
      return moveCursor(state, (i) => i + action.delta);
    case 'move-to':
      if (state.mode.kind !== 'list') {
        const m = state.mode;
        if (m.kind === 'inspect' || m.kind === 'yaml' || m.kind === 'help' || m.kind === 'pod') {
          return { ...state, mode: { ...m, offset: action.where === 'first' ? 0 : Number.MAX_SAFE_INTEGER } };
        }
        return state;
      }
      return moveCursor(state, (_i, total) => (action.where === 'first' ? 0 : total - 1));
    case 'page': {
      const visible = Math.max(1, paneRows(state, state.pane) - 1);
      if (state.mode.kind !== 'list') return scrollMode(state, action.direction * Math.max(1, state.rows - 8));
      return moveCursor(state, (i) => i + action.direction * visible);
    }
    case 'select-key': {
      if (action.pane === 'health') return state;
      const index = (action.pane === 'csrs' ? csrOrder(state) : initOrder(state)).index.get(action.key) ?? -1;
      if (index < 0) return state;
      const visible = paneRows(state, action.pane);
      const total = paneKeys(state, action.pane).length;
      return {
        ...state,
        pane: action.pane,
        cursor: { ...state.cursor, [action.pane]: action.key },
        cursorIndex: { ...state.cursorIndex, [action.pane]: index },
        top: { ...state.top, [action.pane]: windowTop(index, state.top[action.pane], visible, total) },
      };
    }
    case 'next-pane': {
      const i = PANES.findIndex((p) => p.id === state.pane);
      return { ...state, pane: PANES[(i + action.direction + PANES.length) % PANES.length]!.id };
    }
    case 'toggle-mark': {
      if (state.pane !== 'csrs' || state.mode.kind !== 'list') return state;
      const key = selectedCsrKey(state);
      if (!key) return state;
      const marked = new Set(state.marked);
      if (marked.has(key)) marked.delete(key);
      else marked.add(key);
      return moveCursor({ ...state, marked }, (i) => i + 1);
    }
    case 'clear-marks':
      return { ...state, marked: new Set() };
    case 'open-inspect': {
      const key = selectedCsrKey(state);
      if (!key) return { ...state, status: { text: 'No CSR is selected here.', tone: 'warn' } };
      return { ...pinSelection(state), mode: { kind: 'inspect', key, offset: 0, uid: uidOf(state, key) } };
    }
    case 'open-describe': {
      if (state.pane !== 'init') return reducer(state, { type: 'open-inspect' });
      const key = focusedPodKey(state);
      if (!key) return { ...state, status: { text: 'No pod is selected here.', tone: 'warn' } };
      return { ...pinSelection(state), mode: { kind: 'pod', view: 'describe', key, offset: 0 } };
    }
    case 'open-logs':
      return {
        ...pinSelection(state),
        mode: { kind: 'pod', view: 'logs', key: action.key, offset: 0 },
        logs: { key: action.key, container: action.container },
      };
    case 'logs-loaded': {
      if (state.logs?.key !== action.key) return state;
      const lines = action.lines;
      const m = state.mode;
      // Open at the end, as `kubectl logs` shows the newest lines last.
      const offset = lines && m.kind === 'pod' && m.view === 'logs' ? Number.MAX_SAFE_INTEGER : undefined;
      return {
        ...state,
        logs: { ...state.logs, ...(lines ? { lines } : {}), ...(action.error ? { error: action.error } : {}) },
        ...(offset !== undefined && m.kind === 'pod' ? { mode: { ...m, offset } } : {}),
      };
    }
    case 'sort': {
      const same = state.sort.column === action.column;
      const sort = { column: action.column, reverse: same ? !state.sort.reverse : false };
      return { ...state, sort, top: { ...state.top, csrs: 0 } };
    }
    case 'picker-choose': {
      const m = state.mode;
      if (m.kind !== 'picker') return state;
      return runCommand(state, `ctx ${m.items[m.index] ?? 'all'}`);
    }
    case 'open-yaml': {
      if (state.mode.kind === 'list' && state.pane === 'init') {
        const key = focusedPodKey(state);
        if (!key) return { ...state, status: { text: 'No pod is selected here.', tone: 'warn' } };
        return { ...pinSelection(state), mode: { kind: 'pod', view: 'yaml', key, offset: 0 } };
      }
      const key = focusedCsrKey(state);
      if (!key) return { ...state, status: { text: 'No CSR is selected here.', tone: 'warn' } };
      return {
        ...pinSelection(state),
        mode: { kind: 'yaml', key, offset: 0, from: state.mode.kind === 'inspect' ? 'inspect' : 'list' },
      };
    }
    case 'open-help':
      return { ...state, mode: state.mode.kind === 'help' ? { kind: 'list' } : { kind: 'help', offset: 0 } };
    case 'back':
      return modeBack(state);
    case 'start-filter':
      // Starts from the filter in force, so it can be refined (Ctrl-U clears it).
      return {
        ...state,
        mode: { kind: 'filter', draft: `${state.filter.invert ? '!' : ''}${state.filter.text}` },
      };
    case 'start-command':
      return { ...state, mode: { kind: 'command', draft: '' } };
    case 'text-input': {
      const m = state.mode;
      if (m.kind === 'filter') return { ...state, mode: { kind: 'filter', draft: m.draft + action.text } };
      if (m.kind === 'command') return { ...state, mode: { kind: 'command', draft: m.draft + action.text } };
      if (m.kind === 'dialog') return dialogText(state, m, action.text);
      return state;
    }
    case 'text-backspace': {
      const m = state.mode;
      const cut = (s: string) => [...s].slice(0, -1).join('');
      if (m.kind === 'filter') return { ...state, mode: { kind: 'filter', draft: cut(m.draft) } };
      if (m.kind === 'command') return { ...state, mode: { kind: 'command', draft: cut(m.draft) } };
      if (m.kind === 'dialog') return dialogBackspace(state, m);
      return state;
    }
    case 'text-clear': {
      const m = state.mode;
      if (m.kind === 'filter' || m.kind === 'command') return { ...state, mode: { ...m, draft: '' } };
      if (m.kind === 'dialog') return dialogClear(state, m);
      return state;
    }
    case 'text-submit': {
      const m = state.mode;
      if (m.kind === 'filter') {
        const invert = m.draft.startsWith('!');
        const text = invert ? m.draft.slice(1) : m.draft;
        return { ...toFirstRows(state), mode: { kind: 'list' }, filter: { text, invert } };
      }
      if (m.kind === 'command') return runCommand(state, m.draft);
      if (m.kind === 'dialog') return submitDialog(state, m);
      return state;
    }
    case 'open-dialog': {
      const m = state.mode;
      const dialog = m.kind === 'inspect' && m.uid ? { ...action.dialog, uid: m.uid } : action.dialog;
      return {
        ...(m.kind === 'list' ? pinSelection(state) : state),
        mode: { kind: 'dialog', dialog, from: m.kind === 'inspect' ? 'inspect' : 'list' },
      };
    }
    case 'dialog-next-field': {
      const m = state.mode;
      if (m.kind !== 'dialog' || m.dialog.fields.length === 0) return state;
      const n = m.dialog.fields.length;
      return { ...state, mode: { ...m, dialog: { ...m.dialog, field: (m.dialog.field + action.direction + n) % n } } };
    }
    case 'dialog-submit':
      return state.mode.kind === 'dialog' ? submitDialog(state, state.mode) : state;
    case 'dialog-error':
      return state.mode.kind === 'dialog'
        ? { ...state, mode: { ...state.mode, dialog: { ...state.mode.dialog, error: action.error } } }
        : state;
    case 'request-effect':
      return pushEffect(state, action.effect, action.status);
    case 'effects-taken':
      return { ...state, outbox: state.outbox.filter((e) => e.id > action.upTo) };
    case 'effect-done': {
      const { trial, ask: _ask, ...status } = action.status;
      const next = {
        ...state,
        running: Math.max(0, state.running - 1),
        status,
        ...(trial ? { policyTrial: trial } : {}),
      };
      const reopen = state.reopen;
      if (!reopen || action.id === undefined || reopen.effectId !== action.id) return next;
      const { reopen: _r, ...rest } = next;
      // A failed action gives its dialog back with the error and everything typed (a wrong key file path …), when
      // the person is still where the dialog went back to (the PCR view for a PCR's dialog).
      const stayed = reopen.mode.dialog.pcr
        ? state.mode.kind === 'pcrs'
        : state.mode.kind === 'list' || state.mode.kind === 'inspect';
      if (action.status.tone === 'bad' && stayed) {
        const ask = action.status.ask ?? [];
        if (ask.length === 0) {
          return { ...rest, mode: { ...reopen.mode, dialog: { ...reopen.mode.dialog, error: action.status.text } } };
        }
        // A key let go while the dialog was open: back with the field it asks for, on the same request.
        const dialog = withSecrets(reopen.mode.dialog, ask);
        const needs = ask.map(([, n]) => terminalSafe(n, { maxLength: 120 })).join(' and the ');
        const error = `Nothing signed: the ${needs} ${ask.length > 1 ? 'are' : 'is'} needed again (the key was let go while idle); type it, then ⏎.`;
        return {
          ...rest,
          status: { text: error, tone: 'bad' },
          mode: { ...reopen.mode, dialog: { ...dialog, field: dialog.fields.findIndex((f) => f.secret), error } },
        };
      }
      return rest;
    }
    case 'status':
      return { ...state, status: { text: action.text, tone: action.tone } };
    case 'quit':
      if (state.running > 0 && state.mode.kind !== 'quit-confirm') return { ...state, mode: { kind: 'quit-confirm' } };
      return { ...state, quit: true };
    case 'quit-confirmed':
      return { ...state, quit: true };
    case 'certs-feed':
      return { ...state, certs: action.feed };
    case 'open-certs':
      return openCerts(state);
    case 'certs':
      return state.mode.kind === 'certs' ? certsReducer(state, state.mode.view, action.action) : state;
    case 'open-pcrs':
      return openPcrs(state);
    case 'pcrs':
      return state.mode.kind === 'pcrs' ? pcrsReducer(state, state.mode.view, action.action) : state;
  }
}

export { csrKey, parseCsrKey };

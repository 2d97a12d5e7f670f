// The TUI's state and its pure reducer: cursor and panes, modes (inspect, help, filter, command, dialogs), bulk
// marks, notices, and an outbox of effects (approve, deny, sign, export, reconnect) that src/app/app.tsx runs.
// No I/O and no clock here: time arrives in actions.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { ContextSnapshot } from '../services/kube/api-types.js';
import type { ContextHealth } from '../services/health/index.js';
import type { FindingLevel } from '../services/policy/types.js';
import { screenLayout, type PaneId } from '../views/layout.js';
import type { SectionVm, Tone } from '../views/models.js';
import { type CertFeed, type CertsAction, type CertsView, certsReducer, openCerts } from './certs.js';
import { csrKey, csrOrder, healthLineCount, initOrder, type KeyList, parseCsrKey } from './order.js';

export type { PaneId } from '../views/layout.js';

export interface DialogField {
  id: string;
  label: string;
  value: string;
}

export type DialogAction = 'approve' | 'deny' | 'sign' | 'approve-sign' | 'export-secret' | 'export-configmap';

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
   * dialog whose CSR is not approved yet (its message names them). */
  switchKeys?: Partial<Record<string, DialogAction>>;
  /** Per target key: the object shown (writes are bound to it) and the failing codes the typed name accepts. */
  bound?: Record<string, Pick<CsrRef, 'csr' | 'overrides'>>;
  /** Export: the signer whose CA is exported, and its context. */
  signer?: string;
  context?: string;
}

export type Mode =
  | { kind: 'list' }
  | { kind: 'inspect'; key: string; offset: number }
  | { kind: 'yaml'; key: string; offset: number; from: 'list' | 'inspect' }
  | { kind: 'help'; offset: number }
  | { kind: 'filter'; draft: string }
  | { kind: 'command'; draft: string }
  | { kind: 'dialog'; dialog: DialogState; from: 'list' | 'inspect' }
  | { kind: 'quit-confirm' }
  | { kind: 'certs'; view: CertsView };

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
  | { id: number; kind: 'sign'; targets: CsrRef[]; approveFirst: boolean }
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
  | { id: number; kind: 'reconnect'; context?: string };

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
  /** Grows when lazily decoded CSRs arrive, so the frame redraws their badges. */
  decodedVersion: number;
  /** The renewal radar's records (services/certs), once its watch has something. */
  certs?: CertFeed;
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
  | { type: 'text-submit' }
  | { type: 'open-dialog'; dialog: DialogState }
  | { type: 'dialog-next-field'; direction: 1 | -1 }
  | { type: 'dialog-submit' }
  | { type: 'dialog-error'; error: string }
  | { type: 'request-effect'; effect: EffectRequest; status?: string }
  | { type: 'effects-taken'; upTo: number }
  | { type: 'effect-done'; status: { text: string; tone: Tone } }
  | { type: 'status'; text: string; tone: Tone }
  | { type: 'quit' }
  | { type: 'quit-confirmed' }
  | { type: 'certs-feed'; feed: CertFeed }
  | { type: 'open-certs' }
  | { type: 'certs'; action: CertsAction };

export interface InitialStateOptions {
  contexts: string[];
  columns: number;
  rows: number;
  now: number;
  scope?: Scope;
}

export function initialState(options: InitialStateOptions): TuiState {
  return {
    contexts: options.contexts,
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
    decodedVersion: 0,
    running: 0,
    outbox: [],
    nextEffectId: 1,
    quit: false,
  };
}

const NOTICE_MS = 5000;
const PANES: PaneId[] = ['csrs', 'init', 'health'];

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

function moveCursor(state: TuiState, target: (index: number, total: number, visible: number) => number): TuiState {
  const pane = state.pane;
  const visible = paneRows(state, pane);
  if (pane === 'health') {
    const total = healthLineCount(state);
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
  if (m.kind === 'inspect' || m.kind === 'yaml' || m.kind === 'help') {
    return { ...state, mode: { ...m, offset: Math.max(0, m.offset + delta) } };
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
  const refs = d.targets.map((k): CsrRef => ({ ...refOf(k), ...d.bound?.[k] }));
  const value = (id: string) => d.fields.find((f) => f.id === id)?.value.trim() ?? '';
  switch (d.action) {
    case 'approve':
      return { kind: 'approve', targets: refs };
    case 'deny':
      return { kind: 'deny', targets: refs, reason: value('reason'), message: value('message') };
    case 'sign':
      return { kind: 'sign', targets: refs, approveFirst: false };
    case 'approve-sign':
      return { kind: 'sign', targets: refs, approveFirst: true };
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
  sign: 'Signing',
  'approve-sign': 'Approving and signing',
  'export-secret': 'Exporting the Secret',
  'export-configmap': 'Exporting the ConfigMap',
};

function proceed(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  const effect = effectOfDialog(d);
  if (typeof effect === 'string') return { ...state, mode: { ...mode, dialog: { ...d, error: effect } } };
  const count = d.targets.length;
  const what = d.action.startsWith('export') ? '' : ` ${count} CSR${count === 1 ? '' : 's'}`;
  const next = pushEffect(state, effect, `${verbing[d.action]}${what}…`);
  const back: Mode =
    mode.from === 'inspect' && d.targets.length === 1 && d.targets[0]
      ? { kind: 'inspect', key: d.targets[0], offset: 0 }
      : { kind: 'list' };
  const bulk = count > 1 && !d.action.startsWith('export');
  return { ...next, mode: back, marked: bulk ? new Set() : next.marked };
}

function submitDialog(state: TuiState, mode: Extract<Mode, { kind: 'dialog' }>): TuiState {
  const d = mode.dialog;
  const withError = (error: string): TuiState => ({ ...state, mode: { ...mode, dialog: { ...d, error } } });
  if (d.blocked) return withError(d.blocked);
  if (d.targets.length === 0 && !d.action.startsWith('export')) return withError('Nothing left to act on; esc closes.');
  if (d.guard === 'fail' && d.confirmName !== undefined) {
    if (d.typed !== d.confirmName) return withError("Type the CSR's name exactly to go ahead despite the ✗ finding.");
    return proceed(state, mode);
  }
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

/** Parses and runs a `:` command. */
export function runCommand(state: TuiState, line: string): TuiState {
  const [verb = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const base: TuiState = { ...state, mode: { kind: 'list' } };
  const fail = (text: string): TuiState => ({ ...base, status: { text, tone: 'bad' } });
  const ok = (next: TuiState, text: string): TuiState => ({ ...toFirstRows(next), status: { text, tone: 'ok' } });
  switch (verb) {
    case 'q':
    case 'q!':
    case 'quit':
      return reducer(base, { type: 'quit' });
    case 'ctx':
    case 'context': {
      if (!arg || arg === 'all') return ok({ ...base, scope: { ...base.scope, context: undefined } }, 'All contexts.');
      if (!state.contexts.includes(arg)) {
        return fail(`No context "${arg}" is loaded; use one of ${state.contexts.join(', ')} or :ctx all.`);
      }
      return ok({ ...base, scope: { ...base.scope, context: arg } }, `Context ${arg}.`);
    }
    case 'ns':
    case 'namespace':
      if (!arg || arg === 'all')
        return ok({ ...base, scope: { ...base.scope, namespace: undefined } }, 'All namespaces.');
      return ok({ ...base, scope: { ...base.scope, namespace: arg } }, `Namespace ${arg}.`);
    case 'certs':
    case 'cert':
    case 'certificates':
      return openCerts(base);
    case 'signer':
      if (!arg || arg === 'all') return ok({ ...base, scope: { ...base.scope, signer: undefined } }, 'All signers.');
      return ok({ ...base, scope: { ...base.scope, signer: arg } }, `Signer ${arg}.`);
    case '':
      return base;
    default:
      return fail(`Unknown command ":${verb}"; try :ctx NAME, :ctx all, :ns NAME, :signer NAME, :certs or :q.`);
  }
}

function modeBack(state: TuiState): TuiState {
  const m = state.mode;
  switch (m.kind) {
    case 'yaml':
      return { ...state, mode: m.from === 'inspect' ? { kind: 'inspect', key: m.key, offset: 0 } : { kind: 'list' } };
    case 'dialog':
      return {
        ...state,
        mode:
          m.from === 'inspect' && m.dialog.targets.length === 1 && m.dialog.targets[0]
            ? { kind: 'inspect', key: m.dialog.targets[0], offset: 0 }
            : { kind: 'list' },
      };
    case 'list':
      return state.marked.size > 0 ? { ...state, marked: new Set() } : state;
    default:
      return { ...state, mode: { kind: 'list' } };
  }
}

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'snapshots': {
      let next: TuiState = { ...state, snapshots: { ...state.snapshots, ...action.snapshots } };
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
        if (m.kind === 'inspect' || m.kind === 'yaml' || m.kind === 'help') {
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
      const i = PANES.indexOf(state.pane);
      return { ...state, pane: PANES[(i + action.direction + PANES.length) % PANES.length]! };
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
      return { ...pinSelection(state), mode: { kind: 'inspect', key, offset: 0 } };
    }
    case 'open-yaml': {
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
      return { ...state, mode: { kind: 'filter', draft: '' } };
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
    case 'open-dialog':
      return {
        ...(state.mode.kind === 'list' ? pinSelection(state) : state),
        mode: { kind: 'dialog', dialog: action.dialog, from: state.mode.kind === 'inspect' ? 'inspect' : 'list' },
      };
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
    case 'effect-done':
      return { ...state, running: Math.max(0, state.running - 1), status: action.status };
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
  }
}

export { csrKey, parseCsrKey };

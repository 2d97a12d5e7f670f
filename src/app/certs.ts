// The Certificates view (`:certs`, or C): the renewal radar's records across contexts, soonest expiry first,
// filterable like the CSR list; inspect shows the decoded certificate and its chain, what renews it and what to do;
// c / n / p jump to its CSR or PodCertificateRequest, its signer's CSRs, or the pod that mounts it (or that its
// PCR is for). A pure reducer and selectors over TuiState (no I/O): the records arrive from services/certs' live
// watch through the `certs-feed` action.
import type { V1Pod } from '@kubernetes/client-node';
import {
  type CertRecord,
  describeLocation,
  isoSeconds,
  problemsAt,
  type SkippedSource,
} from '../services/certs/index.js';
import { humanDuration } from '../services/text/duration.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { CHROME_ROWS } from '../views/layout.js';
import type { CertRowVm, CertsVm, InspectVm, SectionVm, StyledText, Tone } from '../views/models.js';
import type { Intent, KeyLike } from './keymap.js';
import { csrKey } from './order.js';
import { podWaiting } from './pcrs.js';
import type { TuiState } from './store.js';

/** What "expires soon" means in the view and in Health. */
export const CERT_WINDOW_MS = 30 * 86_400_000;

/** What a record whose chain is not verified yet shows where its problems are. */
const CHECKING = 'checking…';

export interface CertFeed {
  records: readonly CertRecord[];
  version: number;
  skipped: readonly SkippedSource[];
  /** Contexts whose certificate lists are not all in yet (their counts would read 0). */
  scanning?: readonly string[];
}

export interface CertsView {
  index: number;
  top: number;
  filter: string;
  /** The filter being typed (`/`), when it is. */
  draft?: string;
  inspect?: { id: string; offset: number };
}

export type CertsAction =
  | MoveAction
  | { kind: 'inspect' }
  | { kind: 'back' }
  | { kind: 'start-filter' }
  | { kind: 'text'; text: string }
  | { kind: 'backspace' }
  | { kind: 'submit' }
  | { kind: 'jump'; to: 'csr' | 'signer' | 'pod' };

export type MoveAction =
  | { kind: 'move'; delta: number }
  | { kind: 'edge'; where: 'first' | 'last' }
  | { kind: 'page'; direction: 1 | -1 };

/** Where a move, a page or an edge takes a list index or a scroll offset; undefined for other actions. */
export function movedTo(action: { kind: string }, from: number, page: number): number | undefined {
  const a = action as MoveAction;
  if (a.kind === 'move') return from + a.delta;
  if (a.kind === 'page') return from + a.direction * page;
  if (a.kind === 'edge') return a.where === 'first' ? 0 : Number.MAX_SAFE_INTEGER;
  return undefined;
}

const safe = (t: unknown, max?: number) => terminalSafe(t, max === undefined ? {} : { maxLength: max });
const act = (action: CertsAction): Intent => ({ kind: 'action', action: { type: 'certs', action } });

export function openCerts(state: TuiState): TuiState {
  return { ...state, mode: { kind: 'certs', view: { index: 0, top: 0, filter: '' } } };
}

// ------------------------------------------------------------------------------------------------ selection
let memo: { records: readonly CertRecord[]; key: string; out: CertRecord[] } | undefined;

const haystacks = new WeakMap<CertRecord, string>();

function haystack(r: CertRecord): string {
  let text = haystacks.get(r);
  if (text === undefined) {
    const c = r.cert;
    text = [r.context, describeLocation(r.location), c?.subject, c?.issuer, ...(c?.sans ?? []), r.renewal.signerName]
      .join(' ')
      .toLowerCase();
    haystacks.set(r, text);
  }
  return text;
}

/** The records in scope (context, namespace) and matching the filter (`!` inverts), soonest expiry first. */
export function visibleCerts(state: TuiState, filter: string): CertRecord[] {
  const records = state.certs?.records ?? [];
  const { context, namespace } = state.scope;
  const key = `${context ?? ''}|${namespace ?? ''}|${filter}`;
  if (memo && memo.records === records && memo.key === key) return memo.out;
  const invert = filter.startsWith('!');
  const needle = (invert ? filter.slice(1) : filter).toLowerCase();
  // Nothing to leave out: the records as they are (a pass over 44,000 of them per feed is a key press's budget).
  if (!context && !namespace && !needle) return records as CertRecord[];
  const out = records.filter(
    (r) =>
      (!context || r.context === context || r.context === undefined) &&
      (!namespace || r.location.namespace === namespace) &&
      (!needle || haystack(r).includes(needle) !== invert),
  );
  memo = { records, key, out };
  return out;
}

/** Rows of a full-screen list (Certificates, PodCertificateRequests). */
export function listRows(state: TuiState): number {
  // Title line, column headings, borders.
  return Math.max(1, state.rows - CHROME_ROWS - 4);
}

/**
 * The line above the Certificates rows, when there is one: sources not readable (forbidden), or the contexts whose
 * certificates are still being listed and decoded (until then the list is partial and grows).
 */
function certsNote(state: TuiState): string | undefined {
  if (!state.certs) return 'reading certificates…';
  const notes = state.certs.skipped.map(
    (s) => `${safe(s.context ?? 'local')}: ${safe(s.resource)} not readable (forbidden)`,
  );
  const scanning = state.certs.scanning ?? [];
  if (scanning.length) notes.unshift(`reading certificates of ${scanning.map((c) => safe(c)).join(', ')}…`);
  return notes.length ? notes.join('; ') : undefined;
}

/** Rows of the Certificates list: a full-screen list's, less the note's line while there is one. */
function certsRows(state: TuiState): number {
  return Math.max(1, listRows(state) - (certsNote(state) ? 1 : 0));
}

function withView(state: TuiState, view: CertsView): TuiState {
  return { ...state, mode: { kind: 'certs', view } };
}

function moveTo(state: TuiState, view: CertsView, index: number): TuiState {
  const total = visibleCerts(state, view.filter).length;
  const i = Math.max(0, Math.min(total - 1, index));
  const rows = certsRows(state);
  let top = view.top;
  if (i < top) top = i;
  if (i >= top + rows) top = i - rows + 1;
  return withView(state, { ...view, index: Math.max(0, i), top: Math.max(0, top) });
}

function selected(state: TuiState, view: CertsView): CertRecord | undefined {
  if (view.inspect) return (state.certs?.records ?? []).find((r) => r.id === view.inspect?.id);
  return visibleCerts(state, view.filter)[view.index];
}

/** Pods of the Secret's namespace that mount it (volume or projected source). */
export function podsMounting(state: TuiState, r: CertRecord): V1Pod[] {
  if (r.location.kind !== 'Secret' || !r.context) return [];
  const pods = state.snapshots[r.context]?.pods;
  if (!pods) return [];
  const out: V1Pod[] = [];
  for (const pod of pods.values()) {
    if (pod.metadata?.namespace !== r.location.namespace) continue;
    const uses = (pod.spec?.volumes ?? []).some(
      (v) =>
        v.secret?.secretName === r.location.name ||
        (v.projected?.sources ?? []).some((s) => s.secret?.name === r.location.name),
    );
    if (uses) out.push(pod);
  }
  return out;
}

function jump(state: TuiState, view: CertsView, to: 'csr' | 'signer' | 'pod'): TuiState {
  const r = selected(state, view);
  const status = (text: string, tone: Tone = 'warn'): TuiState => ({ ...state, status: { text, tone } });
  if (!r) return status('No certificate is selected.');
  const list: TuiState = { ...state, mode: { kind: 'list' } };
  const pcr = r.renewal.pcr;
  if (to === 'csr' && pcr && r.context) {
    const key = `${pcr.namespace}/${pcr.name}`;
    const found = state.snapshots[r.context]?.pcrs?.get(key);
    if (!found) return status(`PodCertificateRequest ${safe(key)} is no longer in ${safe(r.context)}.`);
    const inspect = { context: r.context, key, uid: found.metadata?.uid, offset: 0 };
    return { ...state, mode: { kind: 'pcrs', view: { index: 0, top: 0, inspect } } };
  }
  if (to === 'csr') {
    if (!r.renewal.csrName || !r.context) {
      return status(
        r.renewal.calico
          ? "No CSR is linked: Calico's key-cert-provisioner requests a new one when the pod restarts (p shows the pods)."
          : 'No CSR issued this certificate; see "What to do" in inspect.',
      );
    }
    const key = csrKey(r.context, r.renewal.csrName);
    if (!state.snapshots[r.context]?.csrs.has(r.renewal.csrName)) {
      return status(`CSR ${safe(r.renewal.csrName)} is no longer in ${safe(r.context)}.`);
    }
    return { ...list, pane: 'csrs', cursor: { ...state.cursor, csrs: key }, mode: { kind: 'inspect', key, offset: 0 } };
  }
  if (to === 'signer') {
    const signer = r.renewal.signerName;
    if (!signer) return status('No signer is known for this certificate.');
    return {
      ...list,
      pane: 'csrs',
      scope: { ...state.scope, signer },
      cursor: { ...state.cursor, csrs: undefined },
      cursorIndex: { ...state.cursorIndex, csrs: 0 },
      top: { ...state.top, csrs: 0 },
      status: { text: `CSRs for signer ${safe(signer)} (:signer all shows every signer).`, tone: 'ok' },
    };
  }
  if (pcr && r.context) {
    const pod = state.snapshots[r.context]?.pods.get(`${pcr.namespace}/${pcr.podName ?? ''}`);
    if (!pod) return status(`The pod ${safe(pcr.namespace)}/${safe(pcr.podName ?? '?')} is not followed by this desk.`);
    return status(
      `Issued for pod ${safe(pcr.namespace)}/${safe(pcr.podName)} (${safe(podWaiting(pod))}): its kubelet requests the next one.`,
      'info',
    );
  }
  const pods = podsMounting(state, r);
  if (pods.length === 0) return status('No pod that this desk follows mounts this certificate.');
  const names = pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  return status(
    `Mounted by ${safe(names.slice(0, 3).join(', '))}${names.length > 3 ? ` and ${names.length - 3} more` : ''}.`,
    'info',
  );
}

export function certsReducer(state: TuiState, view: CertsView, action: CertsAction): TuiState {
  if (view.draft !== undefined) {
    switch (action.kind) {
      case 'text':
        return withView(state, { ...view, draft: view.draft + action.text });
      case 'backspace':
        return withView(state, { ...view, draft: [...view.draft].slice(0, -1).join('') });
      case 'submit':
        return withView(state, { index: 0, top: 0, filter: view.draft });
      case 'back': {
        const { draft: _d, ...rest } = view;
        return withView(state, rest);
      }
      default:
        return state;
    }
  }
  const page = Math.max(1, listRows(state) - 1);
  if (view.inspect) {
    const offset = view.inspect.offset;
    const scroll = (o: number) =>
      withView(state, { ...view, inspect: { id: view.inspect!.id, offset: Math.max(0, o) } });
    const to = movedTo(action, offset, page);
    if (to !== undefined) return scroll(to);
    switch (action.kind) {
      case 'back': {
        const { inspect: _i, ...rest } = view;
        return withView(state, rest);
      }
      case 'jump':
        return jump(state, view, action.to);
      default:
        return state;
    }
  }
  const to = movedTo(action, view.index, Math.max(1, certsRows(state) - 1));
  if (to !== undefined) return moveTo(state, view, to);
  switch (action.kind) {
    case 'inspect': {
      const r = selected(state, view);
      return r ? withView(state, { ...view, inspect: { id: r.id, offset: 0 } }) : state;
    }
    case 'back':
      return { ...state, mode: { kind: 'list' } };
    case 'start-filter':
      return withView(state, { ...view, draft: '' });
    case 'jump':
      return jump(state, view, action.to);
    default:
      return state;
  }
}

/**
 * The keys every full-screen list (Certificates, PodCertificateRequests) shares: pages, moves, back and inspect;
 * 'none' for a key with Ctrl or Alt (a modifier never turns a key into an action, docs/safety.md: Ctrl-C is not c).
 */
export function listViewKey(
  input: string,
  key: KeyLike,
  inspecting: boolean,
): MoveAction | { kind: 'back' } | { kind: 'inspect' } | 'none' | undefined {
  if (key.pageUp || (key.ctrl && input === 'b')) return { kind: 'page', direction: -1 };
  if (key.pageDown || (key.ctrl && input === 'f')) return { kind: 'page', direction: 1 };
  if ((key.ctrl || key.meta) && !key.escape && !key.upArrow && !key.downArrow) return 'none';
  if (key.upArrow || input === 'k') return { kind: 'move', delta: -1 };
  if (key.downArrow || input === 'j') return { kind: 'move', delta: 1 };
  if (key.home || input === 'g') return { kind: 'edge', where: 'first' };
  if (key.end || input === 'G') return { kind: 'edge', where: 'last' };
  if (key.escape || input === 'q' || (inspecting && key.leftArrow)) return { kind: 'back' };
  if (key.return && !inspecting) return { kind: 'inspect' };
  return undefined;
}

/** Keys in the Certificates view (the filter prompt takes text while it is open). */
export function certsKey(view: CertsView, input: string, key: KeyLike): Intent | undefined {
  if (view.draft !== undefined) {
    if (key.return) return act({ kind: 'submit' });
    if (key.escape) return act({ kind: 'back' });
    if (key.backspace || key.delete) return act({ kind: 'backspace' });
    if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow) return undefined;
    const text = input.replace(/[\p{Cc}\p{Cf}]/gu, '');
    return text ? act({ kind: 'text', text }) : undefined;
  }
  const common = listViewKey(input, key, view.inspect !== undefined);
  if (common !== undefined) return common === 'none' ? undefined : act(common);
  if (input === '/' && !view.inspect) return act({ kind: 'start-filter' });
  if (input === 'c') return act({ kind: 'jump', to: 'csr' });
  if (input === 'n') return act({ kind: 'jump', to: 'signer' });
  if (input === 'p') return act({ kind: 'jump', to: 'pod' });
  if (input === ':') return { kind: 'action', action: { type: 'start-command' } };
  return undefined;
}

// ------------------------------------------------------------------------------------------------ view models
function leftText(r: CertRecord, now: number): string {
  if (!r.cert) return '?';
  const left = r.cert.notAfter.getTime() - now;
  return left <= 0 ? `-${humanDuration(-left)}` : humanDuration(left);
}

function toneOf(r: CertRecord, now: number): Tone {
  const problems = problemsAt(r, now, CERT_WINDOW_MS);
  if (problems.some((p) => p.kind !== 'expiring')) return 'bad';
  return problems.length > 0 ? 'warn' : 'plain';
}

function row(r: CertRecord, now: number): CertRowVm {
  const l = r.location;
  return {
    key: r.id,
    context: safe(r.context ?? 'local'),
    where: safe(`${l.kind} ${l.namespace ? `${l.namespace}/` : ''}${l.name}`),
    field: safe(`${l.field}${l.index > 0 ? `#${l.index + 1}` : ''}`),
    subject: r.cert ? safe(r.cert.commonName ?? r.cert.subject) : '<unparseable>',
    left: leftText(r, now),
    problems: safe(
      [...problemsAt(r, now, CERT_WINDOW_MS).map((p) => p.kind), ...(r.pending ? [CHECKING] : [])].join(','),
    ),
    tone: toneOf(r, now),
  };
}

/** The rows the list shows (and the certificate inspected): the radar verifies their chains first. */
export function certsOnScreen(state: TuiState, view: CertsView): CertRecord[] {
  if (view.inspect) return (state.certs?.records ?? []).filter((r) => r.id === view.inspect?.id);
  const all = visibleCerts(state, view.filter);
  const rows = certsRows(state);
  const top = listTop(view, all.length, rows);
  return all.slice(top, top + rows);
}

function listTop(view: CertsView, total: number, rows: number): number {
  return Math.max(0, Math.min(view.top, Math.max(0, total - rows)));
}

export function selectCertsList(state: TuiState, view: CertsView): CertsVm {
  const all = visibleCerts(state, view.filter);
  const rows = certsRows(state);
  const top = listTop(view, all.length, rows);
  const note = certsNote(state);
  const scope = [state.scope.context ?? 'all contexts', state.scope.namespace ? `ns ${state.scope.namespace}` : '']
    .filter(Boolean)
    .join(' · ');
  return {
    title: `Certificates  ${safe(scope)} · soonest expiry first${view.filter ? ` · filter ${safe(view.filter)}` : ''}`,
    rows: all.slice(top, top + rows).map((r) => row(r, state.now)),
    offset: top,
    total: all.length,
    selectedKey: all[view.index]?.id,
    ...(note ? { note } : {}),
    ...(view.draft !== undefined ? { prompt: `/${safe(view.draft)}` } : {}),
  };
}

function advice(state: TuiState, r: CertRecord): StyledText[] {
  const kinds = new Set(problemsAt(r, state.now, CERT_WINDOW_MS).map((p) => p.kind));
  const out: StyledText[] = [];
  const l = r.location;
  if (kinds.has('key-mismatch'))
    out.push({
      text: `${l.field} and its key come from different rotations: write both again, together.`,
      tone: 'bad',
    });
  if (kinds.has('chain-unverified'))
    out.push({
      text: 'Re-issue it from the CA its signer publishes now, or fix the CA bundle beside it.',
      tone: 'bad',
    });
  if (kinds.has('unparseable'))
    out.push({ text: `Replace ${l.field}: it holds no readable certificate.`, tone: 'bad' });
  if (kinds.has('ca-expires-first'))
    out.push({ text: 'Renew the issuing CA first; the certificate stops verifying when the CA ends.', tone: 'warn' });
  if (r.renewal.calico) {
    out.push({
      text: "Calico's key-cert-provisioner requests a new certificate when the pod restarts: restart the pods that mount it (kubectl rollout restart), then approve and sign the new CSR.",
    });
  } else if (r.renewal.pcr) {
    out.push({
      text: `The kubelet asks for a new certificate at the PCR's beginRefreshAt (a new PodCertificateRequest for pod ${safe(r.renewal.pcr.podName ?? '?')}); issue it here (c opens the PCR, then p lists the pending ones).`,
    });
  } else if (r.renewal.csrName) {
    out.push({
      text: `Issued for CSR ${safe(r.renewal.csrName)}: the requester submits a new CSR before it ends; approve and sign it here (c opens the CSR).`,
    });
  } else if (l.kind === 'Secret') {
    out.push({
      text: `Renew: certdesk request …, then certdesk export secret ${safe(l.name)} -n ${safe(l.namespace)} --csr … --key … --overwrite, and restart the pods that mount it.`,
    });
  } else if (l.kind === 'ConfigMap' && l.name === 'kube-root-ca.crt') {
    out.push({
      text: "kube-controller-manager publishes the cluster's CA here: renewing it is a cluster CA rotation.",
    });
  } else if (l.kind === 'ConfigMap') {
    out.push({
      text: `Publish the renewed CA: certdesk export ca-configmap ${safe(l.name)} -n ${safe(l.namespace)} --overwrite.`,
    });
  } else if (l.source === 'webhook') {
    out.push({
      text: `Put the renewed CA in ${safe(l.kind)} ${safe(l.name)} ${safe(l.field)} (the operator or cert-manager's cainjector that owns it usually does).`,
    });
  } else if (l.kind === 'CaRegistry') {
    out.push({
      text: `certdesk ca init (or ca import) a new CA for ${safe(l.name)}, then publish it (certdesk export ca-configmap).`,
    });
  } else if (l.kind === 'Kubeconfig') {
    out.push({
      text: 'Your own client certificate: certdesk request --signer kubernetes.io/kube-apiserver-client, then certdesk kubeconfig.',
    });
  }
  return out;
}

export function selectCertInspect(state: TuiState, id: string): InspectVm {
  const r = (state.certs?.records ?? []).find((x) => x.id === id);
  if (!r) {
    return {
      title: 'Certificate · gone',
      sections: [{ label: 'Gone', lines: [{ text: 'This certificate is no longer where it was.', tone: 'warn' }] }],
      actions: [{ text: 'esc back' }],
    };
  }
  const c = r.cert;
  const sections: SectionVm[] = [
    {
      label: 'Where',
      lines: [
        { text: `${safe(r.context ?? 'this machine')}  ${safe(describeLocation(r.location))}` },
        ...(r.copies ? [{ text: `the same CA in ${r.copies} namespaces`, tone: 'muted' as Tone }] : []),
      ],
    },
  ];
  if (c) {
    sections.push({
      label: 'Certificate',
      lines: [
        { text: `subject ${safe(c.subject) || '(empty)'}` },
        { text: `SANs ${c.sans.length ? safe(c.sans.join(', ')) : '(none)'}` },
        { text: `issuer ${safe(c.issuer)}${c.selfSigned ? ' (self-signed)' : ''}` },
        {
          text: `serial ${safe(c.serial)}   key ${safe(c.keyType)}   sig ${safe(c.signatureAlgorithm)}${c.isCa ? '   CA' : ''}`,
        },
        {
          text: `valid ${isoSeconds(c.notBefore)} → ${isoSeconds(c.notAfter)}   (${leftText(r, state.now)} left)`,
          tone: toneOf(r, state.now),
        },
        { text: `SHA-256 ${safe(c.fingerprint)}`, tone: 'muted' },
      ],
    });
  }
  sections.push({
    label: 'Chain',
    lines: r.pending
      ? [{ text: CHECKING, tone: 'muted' }]
      : r.chain.length
        ? r.chain.map((l) => ({
            text: `↑ ${safe(l.subject)}  until ${isoSeconds(l.notAfter)}  (${safe(l.from)})`,
            tone: l.notAfter.getTime() <= state.now ? ('bad' as Tone) : ('plain' as Tone),
          }))
        : [
            {
              text: c?.selfSigned ? 'self-signed (a root)' : 'no issuer found beside it or published for its signer',
              tone: 'muted',
            },
          ],
  });
  const problems = problemsAt(r, state.now, CERT_WINDOW_MS);
  const pending: StyledText[] = r.pending
    ? [{ text: `${CHECKING} (the chain is not verified yet: what it finds is added here)`, tone: 'muted' }]
    : [];
  sections.push({
    label: 'Problems',
    lines:
      problems.length || pending.length
        ? [
            ...problems.map((p) => ({
              text: `✗ ${safe(p.message)}`,
              tone: p.kind === 'expiring' ? ('warn' as Tone) : ('bad' as Tone),
            })),
            ...pending,
          ]
        : [{ text: '✓ none', tone: 'ok' }],
  });
  const renews: StyledText[] = [];
  if (r.renewal.signerName) renews.push({ text: `signer ${safe(r.renewal.signerName)}` });
  if (r.renewal.csrName) renews.push({ text: `CSR ${safe(r.renewal.csrName)}` });
  if (r.renewal.pcr) {
    const { namespace, name, podName } = r.renewal.pcr;
    renews.push({ text: `PodCertificateRequest ${safe(namespace)}/${safe(name)} for pod ${safe(podName ?? '?')}` });
  }
  if (r.renewal.calico) renews.push({ text: "Calico's key-cert-provisioner (certificates.operator.tigera.io)" });
  for (const p of podsMounting(state, r)) {
    renews.push({
      text: `pod ${safe(p.metadata?.namespace)}/${safe(p.metadata?.name)} mounts it (${safe(p.status?.phase ?? '?')})`,
    });
  }
  if (renews.length) sections.push({ label: 'Renewed by', lines: renews });
  sections.push({ label: 'What to do', lines: advice(state, r) });
  const actions: StyledText[] = [
    r.renewal.pcr ? { text: 'c PCR' } : { text: 'c CSR', ...(r.renewal.csrName ? {} : { tone: 'muted' as Tone }) },
    { text: 'n signer’s CSRs', ...(r.renewal.signerName ? {} : { tone: 'muted' as Tone }) },
    {
      text: r.renewal.pcr ? 'p pod' : 'p pods',
      ...(r.location.kind === 'Secret' || r.renewal.pcr ? {} : { tone: 'muted' as Tone }),
    },
    { text: 'esc back' },
  ];
  return { title: `${safe(describeLocation(r.location))} · ${safe(r.context ?? 'local')}`, sections, actions };
}

type HealthCounts = {
  minute: number;
  version: number;
  counts: Map<string, { due: number; broken: number }>;
  /** Date.now() when counted. */
  at: number;
};
const healthMemo = new WeakMap<readonly CertRecord[], HealthCounts>();
let lastHealth: HealthCounts | undefined;

/** Per context; `version` is the feed's: chain checks land in the same records (same array, new version). */
function healthCounts(
  records: readonly CertRecord[],
  version: number,
  now: number,
): Map<string, { due: number; broken: number }> {
  const minute = Math.floor(now / 60_000);
  const hit = healthMemo.get(records);
  if (hit && hit.minute === minute && hit.version === version) return hit.counts;
  // While tens of thousands of certificates are being decoded the version moves with every slice, and counting
  // them all for every frame cost more than the rest of the frame: a large list is counted at most once a second.
  const last = lastHealth;
  if (last && last.minute === minute && records.length >= 10_000 && Date.now() - last.at < 1000) return last.counts;
  const counts = new Map<string, { due: number; broken: number }>();
  const windowEnd = now + CERT_WINDOW_MS;
  for (const r of records) {
    const c = counts.get(r.context ?? '') ?? { due: 0, broken: 0 };
    counts.set(r.context ?? '', c);
    if (r.cert && r.cert.notAfter.getTime() <= windowEnd) c.due++;
    else if (r.problems.length > 0 || (r.cert && r.cert.notBefore.getTime() > now)) c.broken++;
  }
  lastHealth = { minute, version, counts, at: Date.now() };
  healthMemo.set(records, lastHealth);
  return counts;
}

/** Health: per context, how many certificates expire within the window and how many are broken. */
export function certHealthLine(state: TuiState, context: string): StyledText | undefined {
  const records = state.certs?.records;
  if (!records) return undefined;
  const { due, broken } = healthCounts(records, state.certs?.version ?? 0, state.now).get(context) ?? {
    due: 0,
    broken: 0,
  };
  if (due === 0 && broken === 0) {
    if (state.certs?.scanning?.includes(context)) return { text: 'certificates: scanning…', tone: 'muted' };
    return { text: 'certificates: none due within 30d', tone: 'muted' };
  }
  return {
    text: `certificates: ${due} expire within 30d or expired${broken ? `, ${broken} broken` : ''} (:certs)`,
    tone: 'warn',
  };
}

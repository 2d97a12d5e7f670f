// From state to what the views draw. This is the one place where text from a cluster or a CSR becomes
// terminal-safe for the TUI: every string that reaches a view model passes through `safe` below.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { humanDuration, podAge } from '../services/health/index.js';
import type { ConnectionState, KubeError, SignerCapability } from '../services/kube/index.js';
import { csrCondition, csrState } from '../services/kube/csr-state.js';
import { withTypeMeta } from '../services/kube/wire.js';
import type { DecodedCertificate, DecodedCsr, SubjectAltNames } from '../services/pki/types.js';
import type { Finding, FindingLevel } from '../services/policy/types.js';
import { worstLevel } from '../services/policy/types.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { screenLayout, wrapLine } from '../views/layout.js';
import type {
  ContextBadgeVm,
  CsrBadge,
  CsrRowVm,
  DialogVm,
  HeaderVm,
  HelpGroupVm,
  InitPodRowVm,
  InspectVm,
  KeyHintVm,
  OverlayVm,
  ScreenVm,
  SectionVm,
  StyledText,
  Tone,
} from '../views/models.js';
import { selectCertInspect, selectCertsList } from './certs.js';
import { focusedPcr, type PcrsView, selectPcrInspect, selectPcrsList } from './pcrs.js';
import { type CsrEntry, csrOrder, initOrder, parseCsrKey, scopedContexts } from './order.js';
import { PANES } from '../views/layout.js';
import { describePod, podYaml } from './pods.js';
import {
  COMMANDS,
  DENY_REASON_RULE,
  type DialogState,
  clusterMembers,
  cursorPosition,
  focusedCsrKey,
  healthPane,
  inspectReplaced,
  type TuiState,
  windowTop,
} from './store.js';

/** Requests for this signer are client certificates for people: `e` writes their kubeconfig. */
export const KUBE_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

/** Terminal-safe, single line, optionally cut. */
export function safe(text: unknown, maxLength?: number): string {
  return terminalSafe(text, maxLength === undefined ? {} : { maxLength });
}

/** What the selectors may ask about a CSR beyond the snapshot: decoded request, findings, certificate, access. */
export interface CsrInsights {
  /** Decoded request and findings, when ready; asks for them (asynchronously) when not. */
  insight(context: string, csr: V1CertificateSigningRequest): CsrInsight | undefined;
  /** The issued certificate decoded, when ready (asks for it when not). */
  certificate(context: string, csr: V1CertificateSigningRequest): DecodedCertificate | undefined;
  /** What this user may do for the signer (can-i), when known (asks when not). */
  capability(context: string, signerName: string): { approve?: SignerCapability; sign?: SignerCapability } | undefined;
  /** What issuing, denying and failing a PodCertificateRequest need (sign + update status), when known. */
  pcrCapability?(context: string, signerName: string, namespace: string): SignerCapability | undefined;
  /** What publishing the signer's ClusterTrustBundle needs (attest + create), when known. */
  attestCapability?(context: string, signerName: string): SignerCapability | undefined;
}

export interface CsrInsight {
  decoded?: DecodedCsr;
  /** Why the request could not be decoded (one sentence). */
  error?: string;
  findings: Finding[];
  worst: FindingLevel;
}

export const noInsights: CsrInsights = {
  insight: () => undefined,
  certificate: () => undefined,
  capability: () => undefined,
};

/** Where things live on this machine, for the help screen. */
export interface Places {
  config: string;
  auditLog: string;
  caRegistry: string;
  /** `certdesk demo`: its kubeconfig and jane's private key (the export and kubeconfig dialogs ask for them). */
  demo?: { kubeconfig: string; janeKey: string };
}

/** A context's state in a few words for the header; the whole reason is in the Health pane (healthSections). */
function connectionBadge(
  name: string,
  connection: ConnectionState | undefined,
  synced: boolean,
  now: number,
  errors?: Partial<Record<string, KubeError>>,
  csrsListed?: boolean,
) {
  const badge = (state: string, tone: Tone): ContextBadgeVm => ({ name: safe(name), state, tone });
  if (!connection) return badge('connecting…', 'warn');
  switch (connection.phase) {
    case 'connecting':
      // Its CSRs are in (and drawn) while its other kinds still list: it answers, it is not still connecting.
      return badge(csrsListed ? 'syncing…' : 'connecting…', 'warn');
    case 'live': {
      const failing = Object.keys(errors ?? {}).filter((k) => errors?.[k]);
      if (failing.length)
        return badge(`live, ${failing.length === 1 ? safe(failing[0]) : `${failing.length} kinds`} failing`, 'warn');
      return badge(synced ? 'live' : 'syncing…', synced ? 'ok' : 'warn');
    }
    case 'retrying': {
      const secs = Math.max(0, Math.ceil((connection.nextAttemptAt - now) / 1000));
      return badge(`retrying ${secs}s`, 'warn');
    }
    case 'forbidden':
      return badge('forbidden', 'bad');
    case 'unreachable':
      return badge('unreachable', 'bad');
  }
}

export function selectHeader(state: TuiState): HeaderVm {
  let pending = 0;
  let stalled = 0;
  let init = 0;
  // Counts are shown once every context shown has had a health pass: until then `…`, never a 0 beside rows. A pass
  // made once a context's CSRs were listed but before its pods were counts the CSRs only: `init …` until then.
  let known = true;
  let initKnown = true;
  // Contexts whose CSRs were ever listed: one that never answered (unreachable, forbidden) adds nothing, and with
  // none at all there is nothing to count: `…`, not `pending 0`.
  let counted = 0;
  let healthTone: Tone = 'muted';
  const rank: Record<string, number> = { muted: 0, ok: 1, warn: 2, bad: 3 };
  const worse = (t: Tone) => {
    if ((rank[t] ?? 0) > (rank[healthTone] ?? 0)) healthTone = t;
  };
  const shown = scopedContexts(state);
  const contexts = state.contexts.map((c) => {
    const snap = state.snapshots[c];
    const h = shown.includes(c) ? state.health[c] : undefined;
    if (shown.includes(c) && !h && snap?.connection.phase !== 'forbidden' && snap?.connection.phase !== 'unreachable')
      known = false;
    const answered = h !== undefined && (snap?.csrsListed === true || snap?.synced === true);
    if (answered && h.podsListed === false) initKnown = false;
    if (answered) {
      counted++;
      pending += h.pendingCount;
      init += h.podsInInit.length;
      for (const b of h.signerBacklog) if (b.stalled) stalled++;
      if (h.signerBacklog.some((b) => b.stalled)) worse('bad');
      if (h.tigera !== 'not-installed') {
        for (const t of h.tigera) worse(t.healthy ? 'ok' : t.degraded?.status === 'True' ? 'bad' : 'warn');
      }
    }
    const badge = connectionBadge(
      c,
      snap?.connection,
      snap?.synced ?? false,
      state.now,
      snap?.errors,
      snap?.csrsListed,
    );
    if (badge.tone === 'bad') worse('bad');
    const alias = state.aliases[c];
    return alias ? { ...badge, name: `${safe(c)}=${safe(alias)}` } : badge;
  });
  const fitted = fitContexts(contexts, state.columns);
  if (!known || counted === 0) return { contexts: fitted, healthTone };
  return { contexts: fitted, pending, stalled, ...(initKnown ? { init } : {}), healthTone };
}

/**
 * The contexts as the header line has room for them (views/header.tsx: ` certdesk  ctx:`, then ` NAME ● STATE` each,
 * then the counts): one context's long state must not push the others off the line. Where they do not all fit, the
 * states of contexts that are fine go first (● says it), then every state word (the glyph keeps its tone; Health
 * has the whole reason).
 */
function fitContexts(contexts: ContextBadgeVm[], columns: number): ContextBadgeVm[] {
  const counts = columns < 100 ? 32 : 48;
  const room = columns - 15 - counts;
  const width = (list: ContextBadgeVm[]) => list.reduce((n, c) => n + [...c.name].length + [...c.state].length + 4, 0);
  if (width(contexts) <= room) return contexts;
  const calm = contexts.map((c) => (c.tone === 'ok' ? { ...c, state: '' } : c));
  if (width(calm) <= room) return calm;
  return contexts.map((c) => ({ ...c, state: '' }));
}

function shortRequestor(username: string | undefined): string {
  const u = username ?? '';
  return u.startsWith('system:serviceaccount:') ? `sa:${u.slice('system:serviceaccount:'.length)}` : u;
}

function badgeOf(entry: CsrEntry, insights: CsrInsights): CsrBadge {
  const insight = insights.insight(entry.context, entry.csr);
  const state = csrState(entry.csr);
  if (state === 'Approved') return 'waiting';
  if (!insight) return 'unknown';
  return insight.worst;
}

export function csrRow(entry: CsrEntry, state: TuiState, insights: CsrInsights): CsrRowVm {
  return {
    key: entry.key,
    context: safe(entry.context),
    name: safe(entry.name, 120),
    age: entry.created ? humanDuration(state.now - entry.created) : '?',
    signer: safe(entry.csr.spec?.signerName, 80),
    requestor: safe(shortRequestor(entry.csr.spec?.username), 80),
    condition: csrCondition(entry.csr),
    badge: badgeOf(entry, insights),
    marked: state.marked.has(entry.key),
    ...(state.lostAt[entry.context] !== undefined ? { stale: true } : {}),
  };
}

function initRow(entry: ReturnType<typeof initOrder>['entries'][number], now: number): InitPodRowVm {
  const p = entry.pod;
  const csr = p.csrName ? safe(p.csrName) : '';
  const bad = /Error|BackOff|Denied|Failed/.test(`${p.status} ${p.csrCondition ?? ''}`);
  return {
    key: entry.key,
    context: safe(entry.context),
    pod: `${safe(p.namespace)}/${safe(p.name)}`,
    status: safe(p.status),
    age: humanDuration(podAge(p, now)),
    csr,
    csrCondition: p.csrName ? (p.csrCondition ?? '') : '',
    tone: bad ? 'bad' : 'warn',
  };
}

const sortLabel: Record<TuiState['sort']['column'], string> = {
  pending: 'pending first',
  context: 'by context',
  name: 'by name',
  age: 'by age, newest first',
  signer: 'by signer',
  requestor: 'by requestor',
};

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

function scopeText(state: TuiState): string {
  const sort = `${sortLabel[state.sort.column]}${state.sort.reverse ? ' (reversed)' : ''}`;
  const parts = [state.scope.context ? `ctx ${safe(state.scope.context)}` : 'all contexts', sort];
  for (const [context, at] of Object.entries(state.lostAt)) {
    if (!scopedContexts(state).includes(context)) continue;
    parts.push(`${safe(context)} stale since ${clock(at)} UTC (${humanDuration(state.now - at)})`);
  }
  if (state.scope.namespace) parts.push(`ns ${safe(state.scope.namespace)}`);
  if (state.scope.signer) parts.push(`signer ${safe(state.scope.signer)}`);
  if (state.filter.text) parts.push(`filter ${state.filter.invert ? '!' : ''}${safe(state.filter.text)}`);
  if (state.marked.size) parts.push(`${state.marked.size} selected`);
  return `· ${parts.join(' · ')}`;
}

const FOOTER_LIST: KeyHintVm[] = [
  { key: '↑↓', label: 'move' },
  { key: '⏎', label: 'inspect' },
  { key: 'a', label: 'approve' },
  { key: 'x', label: 'deny' },
  { key: 's', label: 'sign' },
  { key: 'e', label: 'export' },
  { key: 'space', label: 'select' },
  { key: '/', label: 'filter' },
  { key: ':', label: 'command' },
  { key: 'tab', label: 'pane' },
  { key: '?', label: 'help' },
  { key: 'q', label: 'quit' },
];
const FOOTER_SMALL = new Set(['⏎', 'a', 'x', 's', '/', '?']);
/** The Health pane: it reads and scrolls; the CSR verbs act on the CSR pane's rows, not here. */
const FOOTER_HEALTH: KeyHintVm[] = [
  { key: '↑↓', label: 'scroll' },
  { key: 'r', label: 'reconnect' },
  { key: ':', label: 'command' },
  { key: 'tab', label: 'pane' },
  { key: '?', label: 'help' },
  { key: 'q', label: 'quit' },
];
/** The Pods in Init pane: what a k9s user reaches for on a pod. */
const FOOTER_PODS: KeyHintVm[] = [
  { key: '↑↓', label: 'move' },
  { key: '⏎', label: 'its CSR' },
  { key: 'l', label: 'init logs' },
  { key: 'd', label: 'describe' },
  { key: 'y', label: 'yaml' },
  { key: 'a', label: 'approve its CSR' },
  { key: '/', label: 'filter' },
  { key: 'tab', label: 'pane' },
  { key: '?', label: 'help' },
];
const FOOTER_PODS_SMALL = new Set(['⏎', 'l', 'd', 'y', '?']);

function capabilityHint(
  state: TuiState,
  insights: CsrInsights,
): { approve?: string | undefined; sign?: string | undefined } {
  const key = focusedCsrKey(state);
  if (!key) return {};
  const { context, name } = parseCsrKey(key);
  const csr = state.snapshots[context]?.csrs.get(name);
  const signer = csr?.spec?.signerName;
  if (!signer) return {};
  const cap = clusterCapability(state, insights, context, signer);
  const why = (c: SignerCapability | undefined) =>
    c && !c.allowed ? `not allowed: ${safe(c.missing.join(', '), 60)}` : undefined;
  return { approve: why(cap.approve), sign: why(cap.sign) };
}

/**
 * What the contexts reaching a CSR's cluster may do (the dialogs act through one that may, chooseContext): a verb
 * is allowed when one of them may, refused (with the first one's missing permissions) only when every one is known
 * to be refused, unknown otherwise.
 */
function clusterCapability(
  state: TuiState,
  insights: CsrInsights,
  context: string,
  signer: string,
): { approve?: SignerCapability; sign?: SignerCapability } {
  const caps = clusterMembers(state, context).map((c) => insights.capability(c, signer));
  const verb = (v: 'approve' | 'sign') => {
    const all = caps.map((c) => c?.[v]);
    return all.find((c) => c?.allowed) ?? (all.every((c) => c && !c.allowed) ? all[0] : undefined);
  };
  const approve = verb('approve');
  const sign = verb('sign');
  return { ...(approve ? { approve } : {}), ...(sign ? { sign } : {}) };
}

/** The PCR view's keys (the list's, or inspect's); s, x and f dimmed with why when this context may not write the
 * focused PCR's status (every status write needs `sign` on its signer and `update podcertificaterequests/status`). */
function pcrFooter(state: TuiState, view: PcrsView, insights: CsrInsights, small: boolean): KeyHintVm[] {
  const r = focusedPcr(state, view);
  // Through any context that reaches the PCR's cluster (the dialog picks one that may): dimmed when none may.
  const caps = r
    ? clusterMembers(state, r.context).map((c) =>
        insights.pcrCapability?.(c, r.pcr.spec?.signerName ?? '', r.pcr.metadata?.namespace ?? ''),
      )
    : [];
  const cap = caps[0];
  const why =
    cap && caps.every((c) => c && !c.allowed) ? `not allowed: ${safe(cap.missing.join(', '), 60)}` : undefined;
  const verbs: KeyHintVm[] = [
    { key: 's', label: 'issue' },
    { key: 'x', label: 'deny' },
    { key: 'f', label: 'fail' },
  ].map((k) => (why ? { ...k, label: k.key === 's' ? `${k.label} (${why})` : k.label, disabled: true } : k));
  const bundle: KeyHintVm = { key: 'E', label: 'trust bundle' };
  const keys: KeyHintVm[] = view.inspect
    ? [{ key: 'esc', label: 'back' }, { key: '↑↓', label: 'scroll' }, ...verbs, bundle]
    : [
        { key: '↑↓', label: 'move' },
        { key: '⏎', label: 'inspect' },
        ...verbs,
        bundle,
        { key: 'space', label: 'select' },
        { key: ':', label: 'command' },
        { key: 'esc', label: 'back' },
      ];
  return small ? keys.filter((k) => !['↑↓', ':', 'space'].includes(k.key)) : keys;
}

/** The footer's keys: all of them where they fit on the line (` key label ` each), else the few that matter most. */
function fittingFooter(state: TuiState, insights: CsrInsights, columns: number): KeyHintVm[] {
  const all = footerKeys(state, insights, false);
  const width = all.reduce((n, k) => n + [...k.key].length + [...k.label].length + 3, 0);
  return width <= columns ? all : footerKeys(state, insights, true);
}

function footerKeys(state: TuiState, insights: CsrInsights, small: boolean): KeyHintVm[] {
  const m = state.mode;
  switch (m.kind) {
    case 'list': {
      if (state.pane === 'init') return FOOTER_PODS.filter((k) => !small || FOOTER_PODS_SMALL.has(k.key));
      if (state.pane === 'health') return FOOTER_HEALTH;
      const caps = capabilityHint(state, insights);
      const keys = FOOTER_LIST.filter((k) => !small || FOOTER_SMALL.has(k.key)).map((k) => {
        if (k.key === 'a' && caps.approve) return { ...k, label: `approve (${caps.approve})`, disabled: true };
        if (k.key === 's' && caps.sign) return { ...k, label: `sign (${caps.sign})`, disabled: true };
        return k;
      });
      return keys;
    }
    case 'inspect':
      return [
        { key: 'esc', label: 'back' },
        { key: 'a', label: 'approve' },
        { key: 'x', label: 'deny' },
        { key: 's', label: 'sign' },
        { key: 'A', label: 'approve+sign' },
        { key: 'e', label: 'export' },
        { key: 'y', label: 'yaml' },
      ];
    case 'filter':
      return [
        { key: '⏎', label: 'apply' },
        { key: 'esc', label: 'cancel' },
        { key: '!', label: 'first to invert' },
        { key: '^U', label: 'clear' },
      ];
    case 'command':
      return [
        { key: '⏎', label: 'run' },
        { key: 'esc', label: 'cancel' },
        { key: '^U', label: 'clear' },
        ...Object.values(COMMANDS).map((c) => ({ key: c.help.split(' ')[0] ?? '', label: '' })),
        ...PANES.map((p) => ({ key: `:${p.commands[0]}`, label: '' })),
      ];
    case 'dialog': {
      // Field keys only where there are fields (the dialog's own prompt line says the same).
      const fields = m.dialog.fields.length > 0;
      return [
        { key: '⏎', label: 'confirm' },
        ...(fields
          ? [
              { key: 'tab', label: 'next field' },
              { key: '^U', label: 'clear field' },
            ]
          : []),
        { key: 'esc', label: 'cancel' },
      ];
    }
    case 'picker':
      return [
        { key: '↑↓', label: 'choose' },
        { key: '⏎', label: 'switch' },
        { key: 'esc', label: 'cancel' },
      ];
    case 'quit-confirm':
      return [
        { key: 'y', label: 'quit anyway' },
        { key: 'esc', label: 'stay' },
      ];
    case 'pcrs':
      return pcrFooter(state, m.view, insights, small);
    case 'certs':
      return m.view.draft !== undefined
        ? [
            { key: '⏎', label: 'apply' },
            { key: 'esc', label: 'cancel' },
            { key: '!', label: 'first to invert' },
          ]
        : [
            { key: 'esc', label: 'back' },
            ...(m.view.inspect
              ? []
              : [
                  { key: '⏎', label: 'inspect' },
                  { key: '/', label: 'filter' },
                ]),
            { key: 'c', label: 'CSR/PCR' },
            { key: 'n', label: 'signer' },
            { key: 'p', label: 'pods' },
          ];
    default:
      return [
        { key: 'esc', label: 'back' },
        { key: '↑↓', label: 'scroll' },
      ];
  }
}

function sanList(sans: SubjectAltNames): string {
  const parts = [
    ...sans.dns.map((d) => `DNS ${d}`),
    ...sans.ip.map((d) => `IP ${d}`),
    ...sans.uri.map((d) => `URI ${d}`),
    ...sans.email.map((d) => `email ${d}`),
    ...sans.other,
  ];
  return parts.length ? safe(parts.join(', ')) : 'none';
}

const findingGlyph: Record<FindingLevel, string> = { ok: '✓', warn: '!', fail: '✗' };
const findingTone: Record<FindingLevel, Tone> = { ok: 'ok', warn: 'warn', fail: 'bad' };

function time(t: Date | string | undefined): string {
  if (!t) return '';
  const d = t instanceof Date ? t : new Date(t);
  return Number.isFinite(d.getTime()) ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '';
}

/** Inspect (Enter) for one CSR. */
export function selectInspect(state: TuiState, key: string, insights: CsrInsights): InspectVm {
  const { context, name } = parseCsrKey(key);
  const csr = state.snapshots[context]?.csrs.get(name);
  if (!csr) {
    return {
      title: safe(name),
      facts: `· ${safe(context)} · gone`,
      sections: [{ label: 'Gone', lines: [{ text: 'This CSR was deleted from the cluster.', tone: 'warn' }] }],
      actions: [{ text: 'esc back' }],
    };
  }
  if (inspectReplaced(state)) {
    return {
      title: safe(name),
      facts: `· ${safe(context)} · replaced`,
      sections: [
        {
          label: 'Replaced',
          lines: [
            {
              text: `The request you opened was deleted and a new one was created under the same name (UID ${safe(csr.metadata?.uid)}).`,
              tone: 'bad',
            },
            {
              text: 'Nothing here acts on the new request: esc, then Enter on its row to check it afresh.',
              tone: 'warn',
            },
          ],
        },
      ],
      actions: [{ text: 'esc back' }],
    };
  }
  const insight = insights.insight(context, csr);
  const created = csr.metadata?.creationTimestamp ? new Date(csr.metadata.creationTimestamp).getTime() : undefined;
  const age = created ? humanDuration(state.now - created) : '?';
  const sections: SectionVm[] = [];
  const d = insight?.decoded;
  if (d) {
    sections.push({
      label: 'Request',
      lines: [
        { text: `${safe(d.subject.text) || '(empty subject)'}` },
        { text: `SANs: ${sanList(d.sans)}` },
        {
          text: `key ${safe(d.publicKey.description)}${d.publicKey.supported ? '' : ' (not on the supported list)'}   sig ${safe(d.signatureAlgorithm)}`,
          tone: d.publicKey.supported ? 'plain' : 'warn',
        },
        d.proofOfPossession.verified
          ? { text: 'proof of possession ✓ (self-signature verifies)', tone: 'ok' }
          : {
              text: `proof of possession ✗ ${safe(d.proofOfPossession.error ?? 'self-signature does not verify')}`,
              tone: 'bad',
            },
      ],
    });
  } else {
    sections.push({
      label: 'Request',
      lines: [
        insight?.error
          ? { text: `could not decode: ${safe(insight.error)}`, tone: 'bad' }
          : { text: 'decoding…', tone: 'muted' },
      ],
    });
  }
  const spec = csr.spec;
  const extra = Object.entries(spec?.extra ?? {}).map(([k, v]) => `${safe(k)}=${safe(v.join(','))}`);
  sections.push({
    label: 'Requestor',
    lines: [
      { text: safe(spec?.username) || '(none)' },
      { text: `groups ${safe((spec?.groups ?? []).join(', ')) || '(none)'}` },
      ...(spec?.uid ? [{ text: `uid ${safe(spec.uid)}` }] : []),
      ...extra.map((e) => ({ text: `extra ${e}` })),
    ],
  });
  const duration = spec?.expirationSeconds ? humanDuration(spec.expirationSeconds * 1000) : '(signer default)';
  sections.push({
    label: 'Asks for',
    lines: [
      { text: `signer ${safe(spec?.signerName)}` },
      { text: `usages ${safe((spec?.usages ?? []).join(', ')) || '(none)'}` },
      { text: `duration ${duration}` },
    ],
  });
  const conditions = csr.status?.conditions ?? [];
  sections.push({
    label: 'Conditions',
    lines: conditions.length
      ? conditions.map((c) => ({
          text: `${safe(c.type)} ${safe(c.status)} ${safe(c.reason)}${c.message ? ` — ${safe(c.message, 200)}` : ''}  ${time(c.lastUpdateTime ?? c.lastTransitionTime)}`,
          tone: c.type === 'Approved' ? 'ok' : c.type === 'Denied' || c.type === 'Failed' ? 'bad' : 'plain',
        }))
      : [{ text: 'none (Pending)', tone: 'warn' }],
  });
  if (csr.status?.certificate) {
    const cert = insights.certificate(context, csr);
    sections.push({
      label: 'Certificate',
      lines: cert
        ? [
            { text: `subject ${safe(cert.subject.text)}   issuer ${safe(cert.issuer.text)}` },
            { text: `serial ${safe(cert.serialNumber)}` },
            { text: `valid ${time(cert.notBefore)} → ${time(cert.notAfter)}` },
            { text: `SHA-256 ${safe(cert.sha256Fingerprint)}` },
          ]
        : [{ text: 'decoding…', tone: 'muted' }],
    });
  }
  if (insight) {
    sections.push({
      label: 'Findings',
      lines: insight.findings.length
        ? insight.findings.map((f) => ({
            text: `${findingGlyph[f.level]} ${safe(f.message, 300)}`,
            tone: findingTone[f.level],
          }))
        : [{ text: '✓ nothing to note', tone: 'ok' }],
    });
  }
  const pod = state.health[context]?.podsInInit.find((p) => p.csrName === name);
  if (pod) {
    sections.push({
      label: 'Pod',
      lines: [
        {
          text: `${safe(pod.namespace)}/${safe(pod.name)}  ${safe(pod.status)}  ${humanDuration(podAge(pod, state.now))}`,
        },
      ],
    });
  }
  const caps = spec?.signerName ? clusterCapability(state, insights, context, spec.signerName) : undefined;
  const verb = (key: string, label: string, cap: SignerCapability | undefined): StyledText =>
    cap && !cap.allowed
      ? { text: `${key} ${label} (not allowed: ${safe(cap.missing.join(', '), 60)})`, tone: 'muted' }
      : { text: `${key} ${label}` };
  const signer = spec?.signerName ?? '';
  const clusterSigns = signer.startsWith('kubernetes.io/');
  const alias = state.contexts.filter((c) => state.aliases[c] === context);
  if (alias.length) {
    sections.push({
      label: 'Contexts',
      lines: [
        { text: `${safe(context)} and ${safe(alias.join(', '))} reach this cluster; verbs use one that may act` },
      ],
    });
  }
  if (clusterSigns) {
    sections.push({
      label: 'Signing',
      lines: [{ text: `the cluster signs ${safe(signer)} requests itself once they are approved`, tone: 'info' }],
    });
  }
  return {
    title: safe(name),
    facts: `· ${safe(context)} · ${csrCondition(csr)} · ${age}`,
    sections,
    actions: [
      verb('a', clusterSigns ? 'approve (the cluster signs)' : 'approve', caps?.approve),
      verb('x', 'deny', caps?.approve),
      ...(clusterSigns ? [] : [verb('s', 'sign', caps?.sign), verb('A', 'approve and sign', caps?.sign)]),
      { text: signer === KUBE_CLIENT_SIGNER ? "e write the user's kubeconfig" : 'e export' },
      { text: 'y yaml' },
    ],
  };
}

/** The object's YAML, terminal-safe, one entry per line. */
export function selectYaml(state: TuiState, key: string): { title: string; lines: string[] } {
  const { context, name } = parseCsrKey(key);
  const csr = state.snapshots[context]?.csrs.get(name);
  if (!csr) return { title: `CSRs › ${safe(name)} (gone)`, lines: [] };
  // As `kubectl get csr -o yaml` prints it: apiVersion and kind first, times in RFC 3339.
  const text = stringify(withTypeMeta(csr, 'certificates.k8s.io/v1', 'CertificateSigningRequest'), { lineWidth: 0 });
  return {
    title: `CSRs › ${safe(name)} › yaml · ${safe(context)}`,
    lines: terminalSafe(text, { multiline: true }).split('\n'),
  };
}

/** `d`, `y` and `l` on a pod: describe, YAML, the waiting init container's logs. Terminal-safe. */
export function selectPodView(
  state: TuiState,
  key: string,
  view: 'describe' | 'yaml' | 'logs',
): { title: string; lines: string[] } {
  const { context, name: path } = parseCsrKey(key);
  const pod = state.snapshots[context]?.pods.get(path);
  const crumb = `Pods in Init › ${safe(path)} · ${safe(context)}`;
  if (!pod) return { title: `${crumb} (gone)`, lines: ['This pod is gone.'] };
  const multi = (lines: string[]) => lines.map((l) => terminalSafe(l, { multiline: true }));
  if (view === 'yaml') return { title: `${crumb} › yaml`, lines: multi(podYaml(pod)) };
  if (view === 'describe') return { title: `${crumb} › describe`, lines: multi(describePod(pod, state.now)) };
  const logs = state.logs?.key === key ? state.logs : undefined;
  return {
    title: `${crumb} › logs ${safe(logs?.container ?? '')}`,
    lines: logs?.error
      ? [`The logs could not be read: ${safe(logs.error)}`]
      : logs?.lines
        ? logs.lines.length === 1 && logs.lines[0] === ''
          ? ['(no log lines yet)']
          : multi(logs.lines)
        : ['reading the logs…'],
  };
}

function exportPreview(dialog: DialogState, state: TuiState): string[] {
  const value = (id: string) => dialog.fields.find((f) => f.id === id)?.value ?? '';
  if (dialog.action === 'export-secret') {
    const target = dialog.targets[0];
    const { context, name } = target ? parseCsrKey(target) : { context: '', name: '' };
    const cert = state.snapshots[context]?.csrs.get(name)?.status?.certificate ?? '';
    const obj = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: value('name'), namespace: value('namespace') },
      data: {
        'tls.crt': `<the issued certificate, ${cert.length} base64 characters>`,
        'tls.key': `<base64 of ${value('keyFile') || 'KEYFILE'}>`,
      },
    };
    return terminalSafe(stringify(obj), { multiline: true }).trimEnd().split('\n');
  }
  if (dialog.action === 'export-configmap') {
    const obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: value('name'), namespace: value('namespace') },
      data: { 'ca.crt': `<the CA certificate of ${dialog.signer ?? '?'}>` },
    };
    return terminalSafe(stringify(obj), { multiline: true }).trimEnd().split('\n');
  }
  return [];
}

const switchLabels: Record<DialogState['action'], string> = {
  approve: 'approve first',
  deny: 'deny',
  delete: 'delete instead',
  sign: 'sign',
  'approve-sign': 'approve and sign',
  'export-secret': 'export the Secret',
  'export-configmap': 'export the CA ConfigMap',
  kubeconfig: "write the user's kubeconfig",
  'pcr-issue': 'issue',
  'pcr-deny': 'deny',
  'pcr-fail': 'mark Failed',
  'pcr-trust-bundle': 'publish the trust bundle',
};

/** `A approve and sign   a approve first   ` for the keys a dialog hands on to another verb. */
function switchPrompt(dialog: DialogState): string {
  return Object.entries(dialog.switchKeys ?? {})
    .map(([key, action]) => (action ? `${key} ${switchLabels[action]}   ` : ''))
    .join('');
}

export function selectDialog(state: TuiState, dialog: DialogState): DialogVm {
  const fields =
    dialog.fields.length > 0
      ? dialog.fields.map((f, i) => ({
          label: f.label,
          // A PIN or passphrase is never drawn: a dot per character typed.
          value: f.secret ? '•'.repeat([...f.value].length) : safe(f.value),
          active: i === dialog.field,
        }))
      : dialog.guard === 'fail' && dialog.confirmName !== undefined
        ? [{ label: `type ${safe(dialog.confirmName)} to confirm`, value: safe(dialog.typed), active: true }]
        : [];
  const prompt =
    dialog.fields.length > 0
      ? dialog.action.startsWith('export')
        ? '⏎ apply (or write the file when one is given)   tab next field   ^U clear   esc cancel'
        : dialog.guard === 'warn' && dialog.fields.some((f) => f.secret)
          ? '⏎ go ahead despite the warnings   tab next field   ^U clear field   esc cancel'
          : '⏎ confirm   tab next field   ^U clear field   esc cancel'
      : dialog.guard === 'fail'
        ? '⏎ confirm once the name is typed   esc cancel'
        : dialog.guard === 'warn'
          ? 'y go ahead despite the warnings   esc cancel'
          : '⏎ confirm   esc cancel';
  const preview = dialog.action.startsWith('export') ? exportPreview(dialog, state) : dialog.preview;
  return {
    title: dialog.title,
    tone: dialog.guard === 'fail' || dialog.blocked ? 'bad' : dialog.guard === 'warn' ? 'warn' : 'info',
    details: dialog.details,
    fields,
    ...(preview ? { preview } : {}),
    prompt: `${switchPrompt(dialog)}${dialog.blocked ? 'esc close' : prompt}`,
    ...(dialog.error ? { error: safe(dialog.error, 300) } : dialog.blocked ? { error: safe(dialog.blocked, 300) } : {}),
  };
}

export const HELP_GROUPS: HelpGroupVm[] = [
  {
    title: 'Move',
    keys: [
      { key: '↑ ↓  j k', label: 'move the selection' },
      { key: 'PgUp PgDn', label: 'a page up or down (also ctrl-b ctrl-f)' },
      { key: 'g G', label: 'first, last' },
      { key: 'tab, shift-tab', label: 'next, previous pane (tabs on small terminals)' },
      { key: '⏎', label: 'inspect the CSR (or the CSR a pod waits on)' },
      { key: 'esc', label: 'back; clears the bulk selection in the list' },
    ],
  },
  {
    title: 'Act',
    keys: [
      { key: 'a', label: 'approve (a ✗ finding asks for the name, a ! finding for y)' },
      { key: 'x', label: `deny, with a reason (${DENY_REASON_RULE}) and a message` },
      { key: 'ctrl-d', label: 'in the deny dialog: delete the request instead, so the requester asks again' },
      { key: 's', label: 'sign with the CA registered for the signer (shows the certificate first)' },
      { key: 'A', label: 'approve and sign (kubernetes.io/* signers: the cluster signs; approve with a)' },
      { key: 'e', label: "export the certificate as a TLS Secret; a kube-apiserver-client one: the user's kubeconfig" },
      { key: 'E', label: "export the signer's CA certificate as a ConfigMap" },
      { key: 'space', label: 'mark for bulk approve, deny or sign, and move to the next row (as k9s)' },
    ],
  },
  {
    title: 'In PodCertificateRequests (p)',
    keys: [
      { key: 's', label: 'issue with the CA registered for the signer (findings first; a ✗ asks for the name)' },
      { key: 'x', label: 'deny, with a reason (the rule above; empty: CertdeskDeny) and a message' },
      { key: 'f', label: 'mark Failed, with a reason (empty: CertdeskFailed) and a message' },
      { key: 'E', label: "publish the signer's CA from the registry as its ClusterTrustBundle (needs attest)" },
      { key: 'space', label: 'mark a row; s, x, f then act on each marked Pending PCR (issue leaves out ✗ ones)' },
    ],
  },
  {
    title: 'View',
    keys: [
      { key: '/', label: 'filter, starting from the one in force (! first inverts; empty clears)' },
      { key: 'P N T S R X', label: 'sort CSRs: pending first, name, age (time), signer, requestor, context (CTX)' },
      { key: '', label: 'the same key again reverses' },
      { key: 'y', label: "the CSR's YAML; on a pod (Pods in Init) the pod's" },
      { key: 'd', label: 'describe the pod (on a CSR: inspect)' },
      { key: 'l', label: 'logs of the init container the pod waits on (key-cert-provisioner)' },
      { key: 'C', label: 'Certificates: the renewal radar across contexts (also :certs)' },
      { key: 'p', label: 'PodCertificateRequests beside the CSRs, with the pod waiting on each (also :pcr)' },
      { key: '?', label: 'this help' },
    ],
  },
  {
    title: 'Typing',
    keys: [
      { key: 'ctrl-u', label: 'clear the field (filter, command, dialog field)' },
      { key: 'ctrl, alt', label: 'never act with a letter: ctrl-a is not a (only the keys listed here act)' },
    ],
  },
  {
    title: 'Contexts and commands',
    keys: [
      ...Object.values(COMMANDS).map((c) => ({ key: c.help.split(' ')[0] ?? '', label: c.help })),
      { key: PANES.map((p) => `:${p.commands[0]}`).join(' '), label: 'switch to that pane' },
      { key: 'r', label: 'reconnect now (skips the backoff wait)' },
      { key: 'q', label: 'quit (asks when an action is running)' },
    ],
  },
];

export function placeSections(places: Places): SectionVm[] {
  return [
    ...(places.demo
      ? [
          { label: 'kubeconfig', lines: [{ text: `${safe(places.demo.kubeconfig)} (the demo's)` }] },
          { label: "jane's key", lines: [{ text: `${safe(places.demo.janeKey)} (the demo's onboarding)` }] },
        ]
      : []),
    { label: 'config', lines: [{ text: safe(places.config) }] },
    { label: 'audit log', lines: [{ text: safe(places.auditLog) }] },
    { label: 'CA registry', lines: [{ text: safe(places.caRegistry) }] },
  ];
}

function overlayOf(state: TuiState, insights: CsrInsights, places: Places, bodyHeight: number): OverlayVm | undefined {
  const m = state.mode;
  const clamp = (offset: number, total: number, room: number) => Math.max(0, Math.min(offset, total - room));
  const inspectAt = (shown: InspectVm, offset: number): OverlayVm => {
    // Long lines (a hostile subject, a finding's sentence) wrap under their label instead of being cut, so every word
    // can be read by scrolling (views/section-list.tsx: ` LABEL(11) ` before the text).
    const room = Math.max(20, screenLayout(state.columns, state.rows, state.pane).columns - 13);
    const inspect = {
      ...shown,
      sections: shown.sections.map((s) => ({
        ...s,
        lines: s.lines.flatMap((l) => wrapLine(l.text, room).map((text) => ({ ...l, text }))),
      })),
    };
    const total = inspect.sections.reduce((n, s) => n + Math.max(1, s.lines.length), 0);
    return { kind: 'inspect', inspect, offset: clamp(offset, total, bodyHeight - 2) };
  };
  switch (m.kind) {
    case 'inspect':
      return inspectAt(selectInspect(state, m.key, insights), m.offset);
    case 'yaml':
    case 'pod': {
      const y = m.kind === 'yaml' ? selectYaml(state, m.key) : selectPodView(state, m.key, m.view);
      return { kind: 'yaml', title: y.title, lines: y.lines, offset: clamp(m.offset, y.lines.length, bodyHeight - 1) };
    }
    case 'picker':
      return {
        kind: 'picker',
        title: 'Switch context — ↑↓ choose, ⏎ switch, esc cancel',
        items: m.items.map((c) => {
          const members = state.contexts.filter((x) => state.aliases[x] === c);
          return safe(c === 'all' ? 'all contexts' : members.length ? `${c} (also ${members.join(', ')})` : c);
        }),
        index: m.index,
      };
    case 'help': {
      const lines = HELP_GROUPS.reduce((n, g) => n + 1 + g.keys.length, 0);
      const where = placeSections(places);
      // The rows the keys get (views/help-view.tsx): the body less the title, the blank line and the places, which
      // are two lines more in the demo (its kubeconfig and jane's key): counted, so the last key can be reached.
      const placesHeight = where.reduce((n, s) => n + Math.max(1, s.lines.length), 0);
      return {
        kind: 'help',
        groups: HELP_GROUPS,
        places: where,
        offset: clamp(m.offset, lines, bodyHeight - 2 - placesHeight),
      };
    }
    case 'dialog':
      return { kind: 'dialog', dialog: selectDialog(state, m.dialog) };
    case 'pcrs':
      return m.view.inspect
        ? inspectAt(selectPcrInspect(state, m.view), m.view.inspect.offset)
        : { kind: 'certs', certs: selectPcrsList(state, m.view) };
    case 'certs':
      return m.view.inspect
        ? inspectAt(selectCertInspect(state, m.view.inspect.id), m.view.inspect.offset)
        : { kind: 'certs', certs: selectCertsList(state, m.view) };
    case 'quit-confirm':
      return {
        kind: 'dialog',
        dialog: {
          title: 'An action is still running. Quit anyway?',
          tone: 'warn',
          details: [],
          fields: [],
          prompt: 'y quit anyway   esc stay',
        },
      };
    default:
      return undefined;
  }
}

/** The whole frame. */
export function selectScreen(state: TuiState, insights: CsrInsights, places: Places): ScreenVm {
  const layout = screenLayout(state.columns, state.rows, state.pane);
  const header = selectHeader(state);
  const order = csrOrder(state);
  const csrIndex = cursorPosition(state, 'csrs');
  const csrTop = windowTop(csrIndex, state.top.csrs, layout.csrRows, order.entries.length);
  const csrRows = order.entries.slice(csrTop, csrTop + layout.csrRows).map((e) => csrRow(e, state, insights));
  const inits = initOrder(state);
  const initIndex = cursorPosition(state, 'init');
  const initTop = windowTop(initIndex, state.top.init, layout.initRows, inits.entries.length);
  const initRows = inits.entries.slice(initTop, initTop + layout.initRows).map((e) => initRow(e, state.now));
  // Pods in Init are known once every context shown has counted them (header.init): until then no count, never 0.
  const initListing = header.init === undefined && inits.entries.length === 0;
  // Every context shown is refused or out of reach and none ever listed: not "listing", and not "none waiting".
  const unanswered =
    initListing &&
    scopedContexts(state).every((c) => {
      const snap = state.snapshots[c];
      const phase = snap?.connection.phase;
      return (phase === 'unreachable' || phase === 'forbidden') && !snap?.synced && !snap?.csrsListed;
    });
  const health = healthPane(state);
  const ctxWidth = Math.max(3, ...scopedContexts(state).map((c) => safe(c).length));
  const m = state.mode;
  const input =
    m.kind === 'filter'
      ? { prompt: '/', text: safe(m.draft) }
      : m.kind === 'command'
        ? { prompt: ':', text: safe(m.draft) }
        : undefined;
  const running = state.running > 0 ? ` (${state.running} running)` : '';
  const status = state.status
    ? { text: `${safe(state.status.text, 400)}${running}`, tone: state.status.tone }
    : running
      ? { text: running.trim(), tone: 'info' as Tone }
      : undefined;
  const healthTone = header.healthTone;
  return {
    columns: layout.columns,
    rows: layout.rows,
    header,
    notice: state.notice ? { text: safe(state.notice.text, 200), tone: 'info' } : undefined,
    pane: state.pane,
    csrs: {
      rows: csrRows,
      offset: csrTop,
      total: order.entries.length,
      selectedKey: order.keys.at(csrIndex),
    },
    csrScope: scopeText(state),
    ctxWidth,
    initPods: {
      rows: initRows,
      offset: initTop,
      total: inits.entries.length,
      selectedKey: inits.keys.at(initIndex),
      ...(unanswered ? { unanswered: true } : initListing ? { listing: true } : {}),
    },
    health,
    healthOffset: state.top.health,
    tabLabels: {
      csrs: `CSRs ${order.entries.length}`,
      init: `Init ${header.init === undefined ? '…' : inits.entries.length}`,
      health: `Health ${healthTone === 'ok' ? '✓' : healthTone === 'muted' ? '–' : '⚠'}`,
    },
    overlay: overlayOf(state, insights, places, layout.rows - 4),
    footer: { status, input, keys: fittingFooter(state, insights, layout.columns) },
  };
}

/** Worst finding over CSR keys, using what is decoded (undecoded CSRs count as `warn`: not yet checked). */
export function worstOf(state: TuiState, keys: string[], insights: CsrInsights): FindingLevel {
  const levels: Finding[] = [];
  for (const key of keys) {
    const { context, name } = parseCsrKey(key);
    const csr = state.snapshots[context]?.csrs.get(name);
    if (!csr) continue;
    const insight = insights.insight(context, csr);
    levels.push({ level: insight ? insight.worst : 'warn', code: '', message: '' });
  }
  return worstLevel(levels);
}

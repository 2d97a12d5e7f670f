// The PodCertificateRequests view (`:pcr`, or p): every PCR of the loaded contexts beside the CSRs, Pending first,
// each linked to the pod that waits on it (ContainerCreating until its podCertificate volume is issued); inspect
// shows the signer, the pod / service account / node identity, the requested key, maxExpirationSeconds, the
// unverified annotations and, once issued, the chain and its refresh times. Health: PCRs waiting per signer, issued
// ones overdue for refresh, and each signer's ClusterTrustBundle. A pure reducer and selectors over TuiState (no
// I/O): the PCRs and trust bundles come from the store's snapshots (one reflector per context, shared with the
// renewal radar). Every string from the cluster goes through terminalSafe here.
import type { V1Pod } from '@kubernetes/client-node';
import { isoSeconds } from '../services/certs/index.js';
import {
  pcrSignerHealth,
  pcrSignerNeedsAttention,
  REFRESH_OVERDUE_MS,
  trustBundleText,
} from '../services/health/pcr.js';
import { type PcrState, pcrState, type WirePcr } from '../services/kube/pod-certificates.js';
import { csrKeyAndProof, decodeCertificateSync } from '../services/pki/decode.js';
import { keyDescription } from '../services/pki/keys.js';
import { inputBlocks } from '../services/pki/pem.js';
import { age, humanDuration, humanDurationSeconds } from '../services/text/duration.js';
import { terminalSafe } from '../services/text/sanitize.js';
import type { CertRowVm, CertsVm, InspectVm, SectionVm, StyledText, Tone } from '../views/models.js';
import type { Intent, KeyLike } from './keymap.js';
import { listRows, listViewKey, type MoveAction, movedTo } from './certs.js';
import { scopedContexts } from './order.js';
import { type TuiState, windowTop } from './store.js';

export interface PcrsView {
  index: number;
  top: number;
  /** Rows marked with Space (`context|namespace/name`): a verb acts on each of them, one by one. */
  marked?: ReadonlySet<string>;
  /** The PCR being inspected: context, `namespace/name` and the UID it had when opened. */
  inspect?: { context: string; key: string; uid: string | undefined; offset: number };
}

export type PcrsAction = MoveAction | { kind: 'inspect' } | { kind: 'back' } | { kind: 'toggle-mark' };

export interface PcrRef {
  context: string;
  key: string;
  pcr: WirePcr;
}

const safe = (t: unknown) => terminalSafe(t);
const act = (action: PcrsAction): Intent => ({ kind: 'action', action: { type: 'pcrs', action } });

export function openPcrs(state: TuiState): TuiState {
  return { ...state, mode: { kind: 'pcrs', view: { index: 0, top: 0 } } };
}

// ------------------------------------------------------------------------------------------------ selection
const STATE_RANK: Record<PcrState, number> = { Pending: 0, Failed: 1, Denied: 2, Issued: 3 };
let memo: { snapshots: TuiState['snapshots']; scope: string; out: PcrRef[] } | undefined;

/** PCRs in scope (context, namespace): Pending first, then oldest first. */
export function visiblePcrs(state: TuiState): PcrRef[] {
  const { context, namespace } = state.scope;
  const scope = `${context ?? ''}|${namespace ?? ''}|${state.contexts.join(',')}`;
  if (memo && memo.snapshots === state.snapshots && memo.scope === scope) return memo.out;
  const out: PcrRef[] = [];
  // A cluster reached through several contexts is listed once, under the first (verbs act through one that may).
  for (const ctx of scopedContexts(state)) {
    const snap = state.snapshots[ctx];
    for (const [key, pcr] of snap?.pcrs ?? []) {
      if (namespace && pcr.metadata?.namespace !== namespace) continue;
      out.push({ context: ctx, key, pcr });
    }
  }
  const created = (p: WirePcr) => p.metadata?.creationTimestamp ?? '';
  out.sort(
    (a, b) =>
      STATE_RANK[pcrState(a.pcr)] - STATE_RANK[pcrState(b.pcr)] ||
      created(a.pcr).localeCompare(created(b.pcr)) ||
      a.context.localeCompare(b.context) ||
      a.key.localeCompare(b.key),
  );
  memo = { snapshots: state.snapshots, scope, out };
  return out;
}

function withView(state: TuiState, view: PcrsView): TuiState {
  return { ...state, mode: { kind: 'pcrs', view } };
}

function moveTo(state: TuiState, view: PcrsView, index: number): TuiState {
  const total = visiblePcrs(state).length;
  const i = Math.max(0, Math.min(total - 1, index));
  return withView(state, { ...view, index: i, top: windowTop(i, view.top, listRows(state), total) });
}

/** The PCR the view acts on: the inspected one (if it is still the same object), else the selected row. */
export function focusedPcr(state: TuiState, view: PcrsView): PcrRef | undefined {
  if (view.inspect) {
    const pcr = state.snapshots[view.inspect.context]?.pcrs?.get(view.inspect.key);
    if (!pcr || pcr.metadata?.uid !== view.inspect.uid) return undefined;
    return { context: view.inspect.context, key: view.inspect.key, pcr };
  }
  return visiblePcrs(state)[view.index];
}

const refKey = (r: PcrRef) => `${r.context}|${r.key}`;

/** What a verb acts on: the marked rows still listed (from the list), else the focused PCR. */
export function pcrTargets(state: TuiState, view: PcrsView): PcrRef[] {
  if (!view.inspect && view.marked?.size) {
    const marked = visiblePcrs(state).filter((r) => view.marked?.has(refKey(r)));
    if (marked.length) return marked;
  }
  const r = focusedPcr(state, view);
  return r ? [r] : [];
}

export function pcrsReducer(state: TuiState, view: PcrsView, action: PcrsAction): TuiState {
  const page = Math.max(1, listRows(state) - 1);
  if (view.inspect) {
    const inspect = view.inspect;
    const scroll = (o: number) => withView(state, { ...view, inspect: { ...inspect, offset: Math.max(0, o) } });
    const to = movedTo(action, inspect.offset, page);
    if (to !== undefined) return scroll(to);
    switch (action.kind) {
      case 'back': {
        const { inspect: _i, ...rest } = view;
        return withView(state, rest);
      }
      default:
        return state;
    }
  }
  const to = movedTo(action, view.index, page);
  if (to !== undefined) return moveTo(state, view, to);
  switch (action.kind) {
    case 'inspect': {
      const r = visiblePcrs(state)[view.index];
      if (!r) return state;
      return withView(state, {
        ...view,
        inspect: { context: r.context, key: r.key, uid: r.pcr.metadata?.uid, offset: 0 },
      });
    }
    case 'toggle-mark': {
      const r = visiblePcrs(state)[view.index];
      if (!r) return state;
      const marked = new Set(view.marked);
      if (!marked.delete(refKey(r))) marked.add(refKey(r));
      return moveTo(state, { ...view, marked }, view.index + 1);
    }
    case 'back':
      return { ...state, mode: { kind: 'list' } };
    default:
      return state;
  }
}

/** Keys in the PCR view. */
export function pcrsKey(view: PcrsView, input: string, key: KeyLike): Intent | undefined {
  const common = listViewKey(input, key, view.inspect !== undefined);
  if (common !== undefined) return common === 'none' ? undefined : act(common);
  if (input === ':') return { kind: 'action', action: { type: 'start-command' } };
  if (input === ' ' && !view.inspect && !key.ctrl && !key.meta) return act({ kind: 'toggle-mark' });
  if (key.ctrl || key.meta) return undefined;
  if (input === 's') return { kind: 'verb', verb: 'pcr-issue' };
  if (input === 'x') return { kind: 'verb', verb: 'pcr-deny' };
  if (input === 'f') return { kind: 'verb', verb: 'pcr-fail' };
  if (input === 'E') return { kind: 'verb', verb: 'pcr-trust-bundle' };
  return undefined;
}

// ------------------------------------------------------------------------------------------------ the pod
/** The pod a PCR is for, when this desk follows it and it is the same pod (UID). */
export function podOf(state: TuiState, r: PcrRef): V1Pod | undefined {
  const spec = r.pcr.spec ?? {};
  const pod = state.snapshots[r.context]?.pods.get(`${r.pcr.metadata?.namespace ?? ''}/${spec.podName ?? ''}`);
  return pod && (!spec.podUID || pod.metadata?.uid === spec.podUID) ? pod : undefined;
}

/** `ContainerCreating`, `Running`, `gone`: what the pod is doing, in a word or two. */
export function podWaiting(pod: V1Pod | undefined): string {
  if (!pod) return 'gone';
  for (const s of pod.status?.containerStatuses ?? []) {
    const reason = s.state?.waiting?.reason;
    if (reason) return reason;
  }
  if (pod.status?.phase === 'Pending' && !(pod.status?.containerStatuses ?? []).length) return 'ContainerCreating';
  return pod.status?.phase ?? '?';
}

// ------------------------------------------------------------------------------------------------ view models
function toneOfState(s: PcrState): Tone {
  return s === 'Pending' ? 'warn' : s === 'Issued' ? 'ok' : 'bad';
}

function row(state: TuiState, r: PcrRef, marked: boolean): CertRowVm {
  const s = pcrState(r.pcr);
  const spec = r.pcr.spec ?? {};
  const pod = podOf(state, r);
  return {
    key: refKey(r),
    ...(marked ? { marked } : {}),
    context: safe(r.context),
    where: safe(r.key),
    field: safe(spec.signerName ?? ''),
    subject: `${safe(spec.podName ?? '?')} ${s === 'Pending' ? `← ${safe(podWaiting(pod))}` : `(${safe(podWaiting(pod))})`}`,
    left: age(r.pcr.metadata?.creationTimestamp, state.now),
    problems: s,
    tone: toneOfState(s),
  };
}

export function selectPcrsList(state: TuiState, view: PcrsView): CertsVm {
  const all = visiblePcrs(state);
  const rows = listRows(state);
  const top = Math.max(0, Math.min(view.top, Math.max(0, all.length - rows)));
  const notes: string[] = [];
  for (const ctx of scopedContexts(state)) {
    const snap = state.snapshots[ctx];
    if (!snap) continue;
    const error = snap.errors.pcrs;
    if (error) notes.push(`${safe(ctx)}: PodCertificateRequests not readable (${safe(error.message)})`);
    else if (snap.podCertificateApis && !snap.podCertificateApis.podCertificateRequests)
      notes.push(`${safe(ctx)}: PodCertificateRequests not served`);
    else if (!snap.podCertificatesListed) notes.push(`${safe(ctx)}: listing…`);
  }
  const scope = [state.scope.context ?? 'all contexts', state.scope.namespace ? `ns ${state.scope.namespace}` : '']
    .filter(Boolean)
    .join(' · ');
  return {
    title: `PodCertificateRequests  ${safe(scope)} · pending first${view.marked?.size ? ` · ${view.marked.size} selected` : ''}`,
    headings: { where: 'NAMESPACE/NAME', field: 'SIGNER', subject: 'POD', left: 'AGE', problems: 'STATE' },
    // A signer name (example.com/pod-identity) is as long as a PCR's name: both fit at 140 columns.
    shares: { where: 0.34, field: 0.26 },
    rows: all.slice(top, top + rows).map((r) => row(state, r, view.marked?.has(refKey(r)) ?? false)),
    offset: top,
    total: all.length,
    ...(all[view.index] ? { selectedKey: `${all[view.index]!.context}|${all[view.index]!.key}` } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
    empty: 'no PodCertificateRequests',
  };
}

/** The requested key, from the stub PKCS#10 request (v1) or pkixPublicKey (v1beta1). */
function requestedKey(pcr: WirePcr): StyledText[] {
  const spec = pcr.spec ?? {};
  if (spec.stubPKCS10Request) {
    try {
      const facts = csrKeyAndProof(Buffer.from(spec.stubPKCS10Request, 'base64'));
      return [
        { text: `key ${safe(keyDescription(facts.key))} (from stubPKCS10Request)` },
        facts.verified
          ? { text: '✓ proof of possession: the stub request’s self-signature verifies', tone: 'ok' }
          : { text: '✗ proof of possession: the stub request’s self-signature does not verify', tone: 'bad' },
      ];
    } catch (err) {
      return [{ text: `✗ stubPKCS10Request cannot be read: ${safe((err as Error).message)}`, tone: 'bad' }];
    }
  }
  if (spec.pkixPublicKey) {
    return [
      { text: 'key from pkixPublicKey (v1beta1) with proofOfPossession over the pod UID' },
      { text: 'proof of possession is checked by the findings when signing', tone: 'muted' },
    ];
  }
  return [{ text: '✗ no requested key (neither stubPKCS10Request nor pkixPublicKey)', tone: 'bad' }];
}

function chainLines(state: TuiState, pcr: WirePcr): StyledText[] {
  const st = pcr.status ?? {};
  const out: StyledText[] = [];
  if (st.notBefore || st.notAfter) {
    out.push({ text: `valid ${safe(st.notBefore ?? '?')} → ${safe(st.notAfter ?? '?')}` });
  }
  if (st.beginRefreshAt) {
    const at = Date.parse(st.beginRefreshAt);
    const overdue = Number.isFinite(at) && state.now - at > REFRESH_OVERDUE_MS;
    out.push({
      text: `refresh from ${safe(st.beginRefreshAt)}${overdue ? ` — overdue by ${humanDuration(state.now - at)} (the kubelet has not re-requested)` : ''}`,
      tone: overdue ? 'warn' : 'plain',
    });
  }
  if (st.certificateChain) {
    try {
      const blocks = inputBlocks(st.certificateChain, 'certificateChain').filter((b) => b.label === 'CERTIFICATE');
      blocks.forEach((b, i) => {
        const c = decodeCertificateSync(b.der);
        out.push({
          text: `${i === 0 ? 'leaf' : '  ↑ '} ${safe(c.subject.text) || '(empty subject)'}  ${c.sans.uri.length ? `URI ${safe(c.sans.uri.join(', '))}  ` : ''}issuer ${safe(c.issuer.text)}  until ${isoSeconds(c.notAfter)}`,
        });
      });
    } catch (err) {
      out.push({ text: `✗ the chain cannot be read: ${safe((err as Error).message)}`, tone: 'bad' });
    }
  }
  return out;
}

export function selectPcrInspect(state: TuiState, view: PcrsView): InspectVm {
  const r = focusedPcr(state, view);
  if (!r || !view.inspect) {
    return {
      title: `${safe(view.inspect?.key ?? 'PodCertificateRequest')} · gone`,
      sections: [
        {
          label: 'Gone',
          lines: [
            {
              text: 'The PodCertificateRequest you opened was deleted or replaced (its UID is gone); esc, then inspect the row again.',
              tone: 'warn',
            },
          ],
        },
      ],
      actions: [{ text: 'esc back' }],
    };
  }
  const spec = r.pcr.spec ?? {};
  const s = pcrState(r.pcr);
  const pod = podOf(state, r);
  const annotations = Object.entries(spec.unverifiedUserAnnotations ?? {});
  const conditions = (r.pcr.status?.conditions ?? []).map((c) => ({
    text: `${safe(c.type)}=${safe(c.status)}  ${safe(c.reason ?? '')}  ${safe(c.message ?? '')}  ${safe(c.lastTransitionTime ?? '')}`,
    tone: (c.type === 'Issued' ? 'ok' : 'bad') as Tone,
  }));
  const sections: SectionVm[] = [
    {
      label: 'Asks for',
      lines: [
        { text: `signer ${safe(spec.signerName ?? '?')}` },
        {
          text: `maxExpirationSeconds ${spec.maxExpirationSeconds ?? '(default 86400)'}${spec.maxExpirationSeconds ? ` (${humanDurationSeconds(spec.maxExpirationSeconds)})` : ''}`,
        },
        ...requestedKey(r.pcr),
      ],
    },
    {
      label: 'Identity',
      lines: [
        {
          text: `pod ${safe(r.pcr.metadata?.namespace)}/${safe(spec.podName ?? '?')}  uid ${safe(spec.podUID ?? '?')}`,
        },
        {
          text: `service account ${safe(spec.serviceAccountName ?? '?')}  uid ${safe(spec.serviceAccountUID ?? '?')}`,
        },
        { text: `node ${safe(spec.nodeName ?? '?')}  uid ${safe(spec.nodeUID ?? '?')}` },
        pod
          ? {
              text: `the pod is ${safe(podWaiting(pod))} on ${safe(pod.spec?.nodeName ?? '?')} as ${safe(pod.spec?.serviceAccountName ?? 'default')}`,
              tone: pod.spec?.nodeName === spec.nodeName ? 'plain' : 'bad',
            }
          : { text: 'no pod with that name and UID is followed by this desk', tone: 'warn' },
      ],
    },
    {
      label: 'Annotations',
      lines: annotations.length
        ? annotations.map(([k, v]) => ({ text: `${safe(k)}=${safe(v)} (unverified: set by the pod's author)` }))
        : [{ text: '(none)', tone: 'muted' }],
    },
    { label: 'State', lines: conditions.length ? conditions : [{ text: 'Pending: no signer has answered yet' }] },
  ];
  if (s === 'Issued') sections.push({ label: 'Issued', lines: chainLines(state, r.pcr) });
  return {
    title: safe(r.key),
    crumb: 'PCRs',
    facts: `· ${safe(r.context)} · ${s} · ${age(r.pcr.metadata?.creationTimestamp, state.now)}`,
    sections,
    actions: [{ text: 'esc back' }],
  };
}

// ------------------------------------------------------------------------------------------------ health
/**
 * Health lines for PCRs in one context: how many wait per signer (and the oldest), issued ones overdue for refresh
 * (beginRefreshAt passed by more than 10 minutes), and per signer whether its ClusterTrustBundle exists and holds
 * the CA that signed its newest issued chain (services/health/pcr.ts).
 */
export function pcrHealthLines(state: TuiState, context: string): StyledText[] {
  const snap = state.snapshots[context];
  return (snap ? (pcrSignerHealth(snap, state.now) ?? []) : []).map((h) => {
    const parts: string[] = [];
    if (h.waiting)
      parts.push(`${h.waiting} PCR${h.waiting === 1 ? '' : 's'} waiting (oldest ${age(h.oldestWaiting, state.now)})`);
    if (h.overdueForRefresh) parts.push(`${h.overdueForRefresh} overdue for refresh`);
    parts.push(trustBundleText(h));
    return {
      text: `pcr ${safe(h.signerName)}: ${safe(parts.join(', '))}`,
      tone: pcrSignerNeedsAttention(h) || h.waiting ? 'warn' : 'muted',
    };
  });
}

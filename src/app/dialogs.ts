// Builds the dialogs behind the verbs (approve, deny, sign, approve+sign, export): they need the findings, the
// CA registry and can-i before they can ask the right question. Every shown string goes through `safe`.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { csrState } from '../services/kube/csr-state.js';
import { certificateTtlSeconds, decodeCertificates, mapUsages } from '../services/pki/index.js';
import { signatureFor } from '../services/pki/keys.js';
import { validityWindow } from '../services/pki/issue.js';
import type { FindingLevel } from '../services/policy/types.js';
import type { SectionVm, StyledText } from '../views/models.js';
import type { InsightCache } from './insights.js';
import type { Verb } from './keymap.js';
import { DENY_IS_FINAL } from '../services/actions/approval.js';
import { DELETE_INSTEAD } from '../services/actions/delete.js';
import { blindFinding, blindRefusal } from '../services/actions/gate.js';
import { parseCsrKey } from './order.js';
import { type CsrInsight, KUBE_CLIENT_SIGNER, safe } from './selectors.js';
import {
  actionTargets,
  clusterMembers,
  DENY_REASON_RULE,
  type DialogState,
  type PcrTarget,
  inspectReplaced,
  type TuiState,
  withSecrets,
} from './store.js';
import { caRegistry } from './lazy.js';
import { type SigningCa, signingCa } from './signing-ca.js';
import { focusedPcr, pcrTargets } from './pcrs.js';
import { pcrFindings } from '../services/actions/pcr.js';
import { CA_UNTRUSTED, caTrustFinding, signerTrust, trustedText } from '../services/actions/ca-trust.js';
import { type ClusterContext, type SignerCapability, trustBundleName } from '../services/kube/index.js';
import { pcrState } from '../services/kube/pod-certificates.js';
import { type Finding, type Policy, worstLevel } from '../services/policy/index.js';
import { humanDurationSeconds } from '../services/text/duration.js';

export interface DialogDeps {
  insights: InsightCache;
  /** The contexts and policy the PCR findings are evaluated with (the same as the action's gate). */
  contexts?: ReadonlyMap<string, ClusterContext>;
  policy?: Policy;
  /** The CA registry's directory (tests: a temp dir). */
  registryDir?: string;
  /** A key file known for a CSR name (the demo's jane), to fill in the kubeconfig dialog. */
  keyFileFor?: (csrName: string) => string | undefined;
  now: () => Date;
}

interface Target {
  key: string;
  context: string;
  name: string;
  csr: V1CertificateSigningRequest;
  insight: CsrInsight;
}

const glyph: Record<FindingLevel, string> = { ok: '✓', warn: '!', fail: '✗' };
const tone = { ok: 'ok', warn: 'warn', fail: 'bad' } as const;

async function resolveTargets(state: TuiState, deps: DialogDeps): Promise<Target[]> {
  const out: Target[] = [];
  for (const key of actionTargets(state)) {
    const { context, name } = parseCsrKey(key);
    const csr = state.snapshots[context]?.csrs.get(name);
    if (!csr) continue;
    out.push({ key, context, name, csr, insight: await deps.insights.insightNow(context, csr) });
  }
  return out;
}

function worst(targets: Target[]): FindingLevel {
  if (targets.some((t) => t.insight.worst === 'fail')) return 'fail';
  if (targets.some((t) => t.insight.worst === 'warn')) return 'warn';
  return 'ok';
}

function findingLines(targets: Target[], max = 12): StyledText[] {
  const lines: StyledText[] = [];
  for (const t of targets) {
    const notable = t.insight.findings.filter((f) => f.level !== 'ok');
    const prefix = targets.length > 1 ? `${safe(t.name, 60)}: ` : '';
    if (notable.length === 0 && targets.length === 1) {
      for (const f of t.insight.findings) lines.push({ text: `${glyph[f.level]} ${safe(f.message, 200)}`, tone: 'ok' });
    }
    for (const f of notable) {
      lines.push({ text: `${glyph[f.level]} ${prefix}${safe(f.message, 200)}`, tone: tone[f.level] });
    }
  }
  if (lines.length > max) return [...lines.slice(0, max - 1), { text: `… and ${lines.length - max + 1} more` }];
  return lines.length ? lines : [{ text: '✓ no warnings', tone: 'ok' }];
}

function targetSummary(targets: Target[], skipped: Target[]): SectionVm[] {
  const counts = (['ok', 'warn', 'fail'] as const)
    .map((l) => [l, targets.filter((t) => t.insight.worst === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${n} ${glyph[l]}`)
    .join('  ');
  const sections: SectionVm[] = [
    {
      label: targets.length === 1 ? 'CSR' : 'CSRs',
      lines: [
        ...(targets.length > 1 ? [{ text: `${targets.length} CSRs: ${counts}` }] : []),
        ...targets.slice(0, 6).map((t) => ({
          text: `${glyph[t.insight.worst]} ${safe(t.name, 80)} · ${safe(t.context)} · ${safe(t.csr.spec?.signerName)}`,
          tone: tone[t.insight.worst],
        })),
        ...(targets.length > 6 ? [{ text: `… and ${targets.length - 6} more` }] : []),
      ],
    },
  ];
  if (skipped.length) {
    sections.push({
      label: 'Left out',
      lines: [
        {
          text: `${skipped.length} selected CSR${skipped.length === 1 ? '' : 's'} left out (✗ finding, or not in a state for this): act on them one by one.`,
          tone: 'warn',
        },
      ],
    });
  }
  return sections;
}

function base(action: DialogState['action'], title: string, targets: Target[], skipped: Target[]): DialogState {
  const guard = worst(targets);
  const single = targets.length === 1 ? targets[0] : undefined;
  // A request that could not be read is not approved or signed at all: typing its name would accept nothing checked.
  const blind = single && action !== 'deny' && action !== 'delete' ? blindFinding(single.insight.findings) : undefined;
  return {
    ...(blind
      ? {
          blocked: blindRefusal(
            `CSR ${safe(single?.name, 80)} cannot be ${action === 'approve' ? 'approved' : action === 'sign' ? 'signed' : 'approved or signed'}`,
            blind,
            'Deny it (d)',
          ),
        }
      : {}),
    action,
    targets: targets.map((t) => t.key),
    skipped: skipped.map((t) => t.key),
    guard,
    ...(guard === 'fail' && single ? { confirmName: single.name } : {}),
    // Writes are bound to the objects shown; typing the name accepts the failing findings shown, by code.
    bound: Object.fromEntries(
      targets.map((t) => {
        const failing = t.insight.findings.filter((f) => f.level === 'fail').map((f) => f.code);
        const accept = guard === 'fail' && single && action !== 'deny' && failing.length > 0;
        return [t.key, { csr: t.csr, ...(accept ? { overrides: failing } : {}) }];
      }),
    ),
    typed: '',
    fields: [],
    field: 0,
    title,
    details: [...targetSummary(targets, skipped), { label: 'Findings', lines: findingLines(targets) }],
  };
}

/**
 * The context to act through for each target whose cluster several contexts reach (an admin and a read-only user):
 * the first that may `verb`, else the first not known yet, else the first. Also a line saying which, and why.
 */
function actingContexts(
  state: TuiState,
  deps: DialogDeps,
  targets: Target[],
  verb: 'approve' | 'sign',
): { via: Record<string, string>; lines: StyledText[] } {
  const via: Record<string, string> = {};
  const lines: StyledText[] = [];
  for (const t of targets) {
    const members = clusterMembers(state, t.context);
    if (members.length < 2) continue;
    const { chosen, line } = chooseContext(
      members,
      (c) => deps.insights.capability(c, t.csr.spec?.signerName ?? '')?.[verb],
      verb,
    );
    via[t.key] = chosen;
    // One line per cluster (per signer's answer), not one per request: 8 requests of two clusters say both.
    if (lines.length < 3 && !lines.some((l) => l.text === line.text)) lines.push(line);
  }
  return { via, lines };
}

/** Of the contexts that reach one cluster: the first that may `verb`, else the first not known yet, else the first;
 * and the line saying which, and why. */
function chooseContext(
  members: string[],
  cap: (context: string) => SignerCapability | undefined,
  verb: string,
): { chosen: string; line: StyledText } {
  const chosen = members.find((c) => cap(c)?.allowed) ?? members.find((c) => cap(c) === undefined) ?? members[0]!;
  const others = members.filter((c) => c !== chosen);
  const why = others.map((c) => (cap(c)?.allowed === false ? `${c} may not ${verb}` : c)).join(', ');
  return { chosen, line: { text: `through context ${safe(chosen)} (same cluster as ${safe(why)})` } };
}

/** The sentence a blocked dialog shows when the context may not `verb` for the signer. */
function mayNot(verb: string, signer: string | undefined, context: string, cap: SignerCapability | undefined) {
  return cap && !cap.allowed
    ? `You may not ${verb} for ${safe(signer)} in ${safe(context)}: missing ${safe(cap.missing.join(', '))}.`
    : undefined;
}

function notAllowed(
  deps: DialogDeps,
  targets: Target[],
  verb: 'approve' | 'sign',
  via: Record<string, string> = {},
): string | undefined {
  for (const t of targets) {
    const context = via[t.key] ?? t.context;
    const signer = t.csr.spec?.signerName;
    const blocked = mayNot(verb, signer, context, deps.insights.capability(context, signer ?? '')?.[verb]);
    if (blocked) return blocked;
  }
  return undefined;
}

/** Adds where the verb acts (when a cluster is reached through several contexts) to a dialog. */
function withVia(d: DialogState, acting: { via: Record<string, string>; lines: StyledText[] }): DialogState {
  if (acting.lines.length === 0) return d;
  return { ...d, via: acting.via, details: [...d.details, { label: 'Acts', lines: acting.lines }] };
}

/** kubernetes.io signers are the cluster's own: kube-controller-manager signs once the request is approved. */
function clusterSigns(t: Target): boolean {
  return (t.csr.spec?.signerName ?? '').startsWith('kubernetes.io/');
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Bulk approve and sign leave out CSRs with a ✗ finding (they must be confirmed one by one, by name); bulk deny
 * (`withFailing`) keeps them: denying is the safe direction. */
function splitBulk(
  targets: Target[],
  fits: (t: Target) => boolean,
  withFailing = false,
): { keep: Target[]; skipped: Target[] } {
  if (targets.length <= 1) return { keep: targets, skipped: [] };
  const keep = targets.filter((t) => fits(t) && (withFailing || t.insight.worst !== 'fail'));
  return { keep, skipped: targets.filter((t) => !keep.includes(t)) };
}

async function caFor(signer: string, deps: DialogDeps): Promise<SigningCa | string> {
  try {
    return await signingCa(signer, deps.registryDir, { preview: true });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Whether the cluster trusts this CA for the signer (services/actions/ca-trust.ts, the check every sign makes): a
 * line for the dialog, and the failing finding when it does not.
 */
async function trustOf(
  context: string,
  signer: string,
  ca: SigningCa['ca'],
  deps: DialogDeps,
): Promise<{ line: StyledText; untrusted?: Finding }> {
  const ctx = deps.contexts?.get(context);
  if (!ctx) return { line: { text: 'trust     not checked here (checked again when it signs)', tone: 'muted' } };
  const read = await signerTrust(ctx, signer);
  if (!read.ok) return { line: { text: `trust     not read: ${safe(read.error.message, 160)}`, tone: 'warn' } };
  const { statements, unread } = read.value;
  const untrusted = caTrustFinding(ca, signer, statements, unread);
  if (untrusted?.level === 'warn')
    return { line: { text: `trust     ! ${safe(untrusted.message, 200)}`, tone: 'warn' } };
  if (untrusted)
    return {
      line: {
        text: `trust     ✗ ${trustedText(statements)}, not this CA (${CA_UNTRUSTED})`,
        tone: 'bad',
      },
      untrusted,
    };
  const where = statements.map((st) => safe(st.where)).join(', ');
  return {
    line: where
      ? { text: `trust     ✓ the CA ${where} trusts`, tone: 'ok' }
      : { text: `trust     the cluster names no CA for ${safe(signer)} (no Installation, no ClusterTrustBundle)` },
  };
}

async function signPreview(
  target: Target,
  deps: DialogDeps,
): Promise<{ lines: SectionVm[]; blocked?: string; needs?: string; untrusted?: Finding }> {
  const signer = target.csr.spec?.signerName ?? '';
  const loaded = await caFor(signer, deps);
  if (typeof loaded === 'string') return { lines: [], blocked: loaded };
  const { ca, profile } = loaded;
  const trust = await trustOf(target.context, signer, ca, deps);
  const d = target.insight.decoded;
  const usages = target.csr.spec?.usages ?? [];
  const mapped = mapUsages(usages);
  const ttl = certificateTtlSeconds(target.csr.spec?.expirationSeconds, profile);
  const now = deps.now();
  const window = validityWindow(now, ttl, ca.certificate.notAfter);
  const sig = signatureFor(ca.key.publicKey, profile.rsaHash);
  const sans = d
    ? [...d.sans.dns.map((x) => `DNS ${x}`), ...d.sans.ip.map((x) => `IP ${x}`), ...d.sans.uri.map((x) => `URI ${x}`)]
    : [];
  return {
    lines: [
      {
        label: 'Certificate',
        lines: [
          { text: `subject   ${safe(d?.subject.text ?? '?')}` },
          { text: `SANs      ${sans.length ? safe(sans.join(', ')) : 'none'}` },
          {
            text: `usages    KeyUsage ${mapped.keyUsage.join(', ') || 'none'} · ExtKeyUsage ${safe(usages.filter((u) => /auth|signing|protection|ipsec|timestamp|ocsp|sgc|any/.test(u)).join(', ')) || 'none'}`,
          },
          {
            text: `validity  ${date(window.notBefore)} → ${date(window.notAfter)} (backdated 5 min; ${target.csr.spec?.expirationSeconds ? 'requested' : `default of profile ${safe(profile.name)}:`} ${Math.round(ttl / 3600)} h${window.notAfter.getTime() === ca.certificate.notAfter.getTime() ? ", cut to the CA's expiry" : ''})`,
          },
          { text: `serial    random 128-bit    signature ${safe(sig.name)}` },
          {
            text: `CA        ${safe(ca.certificate.subject.text)} (${safe(ca.certificate.publicKey.description)}), valid until ${date(ca.certificate.notAfter)}`,
          },
          trust.line,
        ],
      },
    ],
    ...(loaded.needs ? { needs: loaded.needs } : {}),
    ...(trust.untrusted ? { untrusted: trust.untrusted } : {}),
  };
}

/** A sign dialog whose CA the cluster does not trust: the finding shown, and typing the name accepts it with the
 * request's own failing findings (the action checks it again, the same way). */
function withUntrusted(d: DialogState, target: Target, untrusted: Finding): DialogState {
  const failing = target.insight.findings.filter((f) => f.level === 'fail').map((f) => f.code);
  return {
    ...d,
    guard: 'fail',
    confirmName: target.name,
    bound: { ...d.bound, [target.key]: { csr: target.csr, overrides: [...failing, CA_UNTRUSTED] } },
    details: d.details.map((section) =>
      section.label === 'CSR'
        ? {
            ...section,
            lines: section.lines.map((l) => ({ ...l, text: l.text.replace(/^[✓!] /, '✗ '), tone: 'bad' as const })),
          }
        : section.label === 'Findings'
          ? {
              ...section,
              lines: [
                { text: `✗ ${safe(untrusted.message, 400)}`, tone: 'bad' as const },
                ...section.lines.filter((l) => l.text !== '✓ no warnings'),
              ],
            }
          : section,
    ),
  };
}

/** Opens the dialog for a verb, or returns a status sentence when there is nothing to act on. */
export async function openVerb(
  verb: Verb,
  state: TuiState,
  deps: DialogDeps,
): Promise<DialogState | { status: string }> {
  if (verb === 'pcr-issue' || verb === 'pcr-deny' || verb === 'pcr-fail') return openPcrVerb(verb, state, deps);
  if (verb === 'pcr-trust-bundle') return openTrustBundle(state, deps);
  if (inspectReplaced(state)) {
    return {
      status:
        'The request you inspected was deleted and re-created under its name: nothing acts on the new one until you open it (esc, then Enter).',
    };
  }
  const all = await resolveTargets(state, deps);
  if (all.length === 0) return { status: 'Select a CSR first (or a pod waiting on one).' };
  switch (verb) {
    case 'approve': {
      const { keep, skipped } = splitBulk(all, (t) => csrState(t.csr) === 'Pending');
      const acting = actingContexts(state, deps, keep, 'approve');
      const d = withVia(base('approve', `Approve ${plural(keep.length, 'CSR')}?`, keep, skipped), acting);
      if (keep.some(clusterSigns)) {
        d.details = [
          ...d.details,
          { label: 'Signing', lines: [{ text: 'the cluster signs kubernetes.io/* requests itself once approved' }] },
        ];
      }
      // One request already decided: said when the dialog opens, not after its name was typed.
      const only = keep.length === 1 ? keep[0] : undefined;
      const decided = only ? csrState(only.csr) : 'Pending';
      const blocked =
        only && decided !== 'Pending'
          ? decided === 'Denied'
            ? `CSR ${safe(only.name, 80)} is Denied. ${DENY_IS_FINAL}`
            : `CSR ${safe(only.name, 80)} is ${decided} already: there is nothing to approve.`
          : notAllowed(deps, keep, 'approve', acting.via);
      return blocked && !d.blocked ? { ...d, blocked } : d;
    }
    case 'deny': {
      const { keep, skipped } = splitBulk(all, (t) => csrState(t.csr) === 'Pending', true);
      // Denying is the safe direction: no guard, but reason and message are asked.
      const acting = actingContexts(state, deps, keep, 'approve');
      const d = withVia(base('deny', `Deny ${plural(keep.length, 'CSR')}?`, keep, skipped), acting);
      d.details = [...d.details, { label: 'Final', lines: [{ text: DENY_IS_FINAL, tone: 'warn' }] }];
      const blocked = notAllowed(deps, keep, 'approve', acting.via);
      return {
        ...d,
        guard: 'ok',
        confirmName: undefined,
        switchKeys: { '^D': 'delete' },
        fields: [
          { id: 'reason', label: `reason (${DENY_REASON_RULE}; empty: CertdeskDeny)`, value: '' },
          { id: 'message', label: 'message (empty: certdesk default)', value: '' },
        ],
        ...(blocked ? { blocked } : {}),
      };
    }
    case 'delete': {
      // Offered by the deny dialog (Ctrl-D): the requester asks again. Bound to the objects shown, audited; an
      // issued request is `certdesk delete csr --force`'s only (docs/safety.md).
      const { keep, skipped } = splitBulk(all, (t) => csrState(t.csr) !== 'Issued', true);
      const d = base('delete', `Delete ${plural(keep.length, 'CSR')} instead of denying?`, keep, skipped);
      const issued = keep.find((t) => csrState(t.csr) === 'Issued');
      return {
        ...d,
        guard: 'ok',
        confirmName: undefined,
        details: [
          ...d.details,
          {
            label: 'Delete',
            lines: [
              { text: DELETE_INSTEAD, tone: 'warn' },
              { text: 'Only the request shown is deleted; if it changed since, it is checked again first.' },
            ],
          },
        ],
        ...(issued
          ? {
              blocked: `CSR ${safe(issued.name)} is issued: its requester may not have read the certificate yet; certdesk delete csr --force deletes it anyway.`,
            }
          : {}),
      };
    }
    case 'sign':
    case 'approve-sign': {
      const approveFirst = verb === 'approve-sign';
      const fits = (t: Target) =>
        !clusterSigns(t) &&
        (approveFirst ? ['Pending', 'Approved'].includes(csrState(t.csr)) : csrState(t.csr) === 'Approved');
      const { keep, skipped } = splitBulk(all, fits);
      const only = keep.length === 1 ? keep[0] : undefined;
      if (only && clusterSigns(only)) {
        // Not ours to sign: say who signs, and offer the verb that helps.
        const pending = csrState(only.csr) === 'Pending';
        const d = base(verb, `Approve ${safe(only.name)}? The cluster signs it.`, keep, []);
        return {
          ...d,
          blocked: pending
            ? `The cluster signs ${safe(only.csr.spec?.signerName)} requests itself once they are approved: press a to approve.`
            : `The cluster signs ${safe(only.csr.spec?.signerName)} requests itself (this one is ${csrState(only.csr)}); certdesk does not.`,
          ...(pending ? { switchKeys: { a: 'approve' } } : {}),
        };
      }
      const title = approveFirst
        ? `Approve and sign ${plural(keep.length, 'CSR')}?`
        : `Sign ${plural(keep.length, 'CSR')}?`;
      const acting = actingContexts(state, deps, keep, 'sign');
      let d = withVia(base(verb, title, keep, skipped), acting);
      let blocked =
        notAllowed(deps, keep, 'sign', acting.via) ??
        (approveFirst ? notAllowed(deps, keep, 'approve', acting.via) : undefined);
      const single = keep.length === 1 ? keep[0] : undefined;
      if (single && !approveFirst && csrState(single.csr) === 'Pending') {
        d.switchKeys = { A: 'approve-sign', a: 'approve' };
      }
      if (single && !fits(single)) {
        blocked = approveFirst
          ? `CSR ${safe(single.name)} is ${csrState(single.csr)}; only a Pending or Approved CSR can be signed.`
          : csrState(single.csr) === 'Pending'
            ? `CSR ${safe(single.name)} is not approved yet: press A to approve and sign, or a to approve first.`
            : `CSR ${safe(single.name)} is ${csrState(single.csr)}; only an Approved CSR without a certificate is signed.`;
      }
      if (single) {
        const preview = await signPreview(single, deps);
        d.details = [...preview.lines, ...d.details];
        blocked = blocked ?? preview.blocked;
        if (preview.untrusted) d = withUntrusted(d, single, preview.untrusted);
        if (preview.needs) d = withSecrets(d, [[single.csr.spec?.signerName ?? '', preview.needs]]);
      } else {
        const signers = [...new Set(keep.map((t) => t.csr.spec?.signerName ?? ''))];
        const lines: StyledText[] = [];
        const secrets: Array<[string, string]> = [];
        for (const s of signers) {
          const loaded = await caFor(s, deps);
          lines.push(
            typeof loaded === 'string'
              ? { text: `${safe(s)}: ${safe(loaded)}`, tone: 'bad' }
              : { text: `${safe(s)} → ${safe(loaded.ca.certificate.subject.text)}`, tone: 'ok' },
          );
          if (typeof loaded === 'string') blocked = blocked ?? `No usable CA for ${safe(s)}; see above.`;
          else {
            if (loaded.needs) secrets.push([s, loaded.needs]);
            // Bulk never accepts a failing finding: a CA a cluster does not trust blocks the batch.
            for (const context of new Set(keep.filter((t) => t.csr.spec?.signerName === s).map((t) => t.context))) {
              const trust = await trustOf(context, s, loaded.ca, deps);
              if (!trust.untrusted) continue;
              lines.push({ text: `${safe(context)}: ${safe(trust.untrusted.message, 400)}`, tone: 'bad' });
              blocked ??= `The CA for ${safe(s)} is not one ${safe(context)} trusts (${CA_UNTRUSTED}, see above): sign one by one to accept it.`;
            }
          }
        }
        d.details = [{ label: 'CAs', lines }, ...d.details];
        d = withSecrets(d, secrets);
      }
      return blocked && !d.blocked ? { ...d, blocked } : d;
    }
    case 'kubeconfig':
    case 'export-secret': {
      const t = all[0]!;
      if (!t.csr.status?.certificate) {
        return {
          status: clusterSigns(t)
            ? `CSR ${safe(t.name)} has no certificate yet; the cluster signs it once approved (a).`
            : `CSR ${safe(t.name)} has no certificate yet; sign it first (or press E for the CA ConfigMap).`,
        };
      }
      if (verb === 'kubeconfig' || t.csr.spec?.signerName === KUBE_CLIENT_SIGNER) {
        // A client certificate for a person: what they need is a kubeconfig (as `certdesk kubeconfig`).
        return {
          action: 'kubeconfig',
          targets: [t.key],
          skipped: [],
          guard: 'ok',
          typed: '',
          field: 0,
          title: `Write a kubeconfig for the user of CSR ${safe(t.name)}`,
          details: [
            {
              label: 'From',
              lines: [
                { text: `${safe(t.name)} · ${safe(t.context)} · ${safe(t.csr.spec?.signerName)}` },
                { text: "the cluster's server and CA come from this context; the key must match the certificate" },
              ],
            },
          ],
          fields: [
            { id: 'keyFile', label: "user's private key file", value: deps.keyFileFor?.(t.name) ?? '' },
            { id: 'outFile', label: 'write to', value: `${t.name.replace(/[^A-Za-z0-9._-]/g, '-')}.kubeconfig` },
            { id: 'user', label: "user name (empty: the certificate's CN)", value: '' },
          ],
        };
      }
      const [ns, pod] = t.name.split(':');
      return {
        action: 'export-secret',
        targets: [t.key],
        skipped: [],
        guard: 'ok',
        typed: '',
        field: 0,
        title: `Export CSR ${safe(t.name)}'s certificate as a kubernetes.io/tls Secret`,
        details: [
          {
            label: 'From',
            lines: [{ text: `${safe(t.name)} · ${safe(t.context)} · ${safe(t.csr.spec?.signerName)}` }],
          },
        ],
        fields: [
          { id: 'namespace', label: 'namespace', value: t.name.includes(':') && ns ? ns : 'default' },
          { id: 'name', label: 'name', value: `${(pod ?? t.name).replace(/[^a-z0-9-]/g, '-').slice(0, 50)}-tls` },
          { id: 'keyFile', label: "requester's private key file", value: '' },
          { id: 'outFile', label: 'write YAML to file instead (empty: apply to the cluster)', value: '' },
        ],
      };
    }
    case 'export-configmap': {
      const t = all[0]!;
      const signer = t.csr.spec?.signerName ?? '';
      let blocked: string | undefined;
      try {
        const { caCertificatePem } = await caRegistry();
        await caCertificatePem(signer, deps.registryDir ? { cwd: deps.registryDir } : {});
      } catch (err) {
        blocked = err instanceof Error ? err.message : String(err);
      }
      return {
        action: 'export-configmap',
        targets: [],
        skipped: [],
        guard: 'ok',
        typed: '',
        field: 0,
        signer,
        context: t.context,
        title: `Export the CA of ${safe(signer)} as a ConfigMap in ${safe(t.context)}`,
        details: [],
        fields: [
          { id: 'namespace', label: 'namespace', value: 'default' },
          {
            id: 'name',
            label: 'name',
            value: `${
              signer
                .split('/')
                .pop()
                ?.replace(/[^a-z0-9-]/g, '-') ?? 'signer'
            }-ca`,
          },
          { id: 'outFile', label: 'write YAML to file instead (empty: apply to the cluster)', value: '' },
        ],
        ...(blocked ? { blocked } : {}),
      };
    }
  }
}

/**
 * Asked before a dialog opens, of each context that reaches `listed`'s cluster: the one to act through (the first
 * that may `verb`, see chooseContext), the line saying which when there are several, and the sentence that blocks
 * the dialog when the one chosen may not.
 */
async function actingFor(
  state: TuiState,
  listed: string,
  signer: string,
  verb: string,
  ask: (context: string) => Promise<SignerCapability | undefined>,
): Promise<{ context: string; acting: SectionVm[]; refused?: string }> {
  const members = clusterMembers(state, listed);
  const caps = new Map(await Promise.all(members.map(async (c) => [c, await ask(c)] as const)));
  const chosen = members.length > 1 ? chooseContext(members, (c) => caps.get(c), verb) : undefined;
  const context = chosen?.chosen ?? listed;
  const refused = mayNot(verb, signer, context, caps.get(context));
  return { context, acting: chosen ? [{ label: 'Acts', lines: [chosen.line] }] : [], ...(refused ? { refused } : {}) };
}

/** `E` in the PCR view: the selected PCR's signer's CA (the registry's certificate; its key is not opened) as the
 * signer's ClusterTrustBundle, through a context that may `attest` for the signer; says up front when none may. */
async function openTrustBundle(state: TuiState, deps: DialogDeps): Promise<DialogState | { status: string }> {
  const m = state.mode;
  if (m.kind !== 'pcrs') return { status: 'Open the PodCertificateRequests view (p) first.' };
  const r = focusedPcr(state, m.view);
  if (!r) return { status: 'Select a PodCertificateRequest of the signer first.' };
  const signer = r.pcr.spec?.signerName ?? '';
  const { context, acting, refused } = await actingFor(state, r.context, signer, 'attest', (c) =>
    deps.insights.attestCapabilityNow(c, signer),
  );
  let blocked = refused;
  const lines: StyledText[] = [
    {
      text: `${safe(trustBundleName(signer, '<name>'))}: the CA joins the CAs the bundle holds (a rotation keeps both) unless you remove them`,
    },
  ];
  try {
    const { caCertificatePem } = await caRegistry();
    const [ca] = await decodeCertificates(
      await caCertificatePem(signer, deps.registryDir ? { cwd: deps.registryDir } : {}),
    );
    if (ca) lines.push({ text: `CA ${safe(ca.subject.text)}, valid until ${date(ca.notAfter)}` });
  } catch (err) {
    blocked = blocked ?? (err instanceof Error ? err.message : String(err));
  }
  const namespace = r.pcr.metadata?.namespace ?? '';
  return {
    action: 'pcr-trust-bundle',
    targets: [],
    skipped: [],
    guard: 'ok',
    typed: '',
    field: 0,
    title: `Publish the CA of ${safe(signer)} as its ClusterTrustBundle in ${safe(context)}?`,
    signer,
    context,
    details: [{ label: 'Bundle', lines }, ...acting],
    fields: [
      { id: 'name', label: 'name after the signer (empty: live)', value: 'live' },
      { id: 'removeOld', label: 'remove the other CAs from the bundle (yes; empty: keep them beside)', value: '' },
    ],
    pcr: { targets: [{ context, namespace, name: r.pcr.metadata?.name ?? '', pcr: r.pcr }], view: m.view },
    ...(blocked ? { blocked } : {}),
  };
}

/** `s`, `x`, `f` in the PCR view: the dialog for the marked PCRs (Space), else the one selected (or inspected, while
 * it is the same object). Each PCR is decided and bound on its own: its findings, its acting context (one that may
 * write its status, asked before the dialog opens), the object shown. Issue shows the findings (one PCR: a ✗ asks
 * for its name, which accepts the failing codes shown, as for CSRs; several: those with a ✗ are left out) and the
 * certificate or CAs; deny and Failed ask a reason (the CSR deny rule) and a message. Only Pending PCRs are acted on. */
async function openPcrVerb(
  verb: 'pcr-issue' | 'pcr-deny' | 'pcr-fail',
  state: TuiState,
  deps: DialogDeps,
): Promise<DialogState | { status: string }> {
  const m = state.mode;
  if (m.kind !== 'pcrs') return { status: 'Open the PodCertificateRequests view (p) first.' };
  const refs = pcrTargets(state, m.view);
  if (refs.length === 0) {
    return {
      status: m.view.inspect
        ? 'The PodCertificateRequest you opened was deleted or replaced: esc, then inspect the row again.'
        : 'Select a PodCertificateRequest first.',
    };
  }
  const first = refs[0]!;
  if (refs.length === 1 && pcrState(first.pcr) !== 'Pending') {
    return {
      status: `PodCertificateRequest ${safe(first.key)} is already ${pcrState(first.pcr)}; its status never changes after that.`,
    };
  }
  const issuing = verb === 'pcr-issue';
  if (issuing && refs.length === 1 && !deps.contexts?.get(first.context)) {
    return { status: `Context ${safe(first.context)} is not loaded.` };
  }
  // The CA each signer would issue with, against what the cluster trusts (ca-untrusted: one more failing finding).
  const untrustedFor = new Map<string, Promise<Finding | undefined>>();
  const untrusted = (context: string, signer: string) => {
    const key = `${context}\n${signer}`;
    if (!untrustedFor.has(key))
      untrustedFor.set(
        key,
        caFor(signer, deps).then(async (loaded) =>
          typeof loaded === 'string' ? undefined : (await trustOf(context, signer, loaded.ca, deps)).untrusted,
        ),
      );
    return untrustedFor.get(key)!;
  };
  const rows = await Promise.all(
    refs.map(async (r) => {
      const signer = r.pcr.spec?.signerName ?? '';
      const namespace = r.pcr.metadata?.namespace ?? '';
      // Every status write (issue, deny, fail) needs `sign` on the signer and `update podcertificaterequests/status`.
      const acts = await actingFor(state, r.context, signer, 'sign', (c) =>
        deps.insights.pcrCapabilityNow(c, signer, namespace),
      );
      const ctx = deps.contexts?.get(r.context);
      const pending = pcrState(r.pcr) === 'Pending';
      const trust = issuing && pending && ctx ? await untrusted(r.context, signer) : undefined;
      const findings: Finding[] =
        !issuing || !pending
          ? []
          : ctx
            ? [
                ...(trust ? [trust] : []),
                ...(await pcrFindings(ctx, r.pcr, deps.policy ? { policy: deps.policy } : {})).findings,
              ]
            : [{ level: 'fail', code: 'context-not-loaded', message: `Context ${r.context} is not loaded.` }];
      return { r, signer, namespace, pending, findings, worst: worstLevel(findings), ...acts };
    }),
  );
  const bulk = rows.length > 1;
  const keep = rows.filter((x) => x.pending && !(issuing && bulk && x.worst === 'fail'));
  const skipped = rows.length - keep.length;
  const what = issuing ? 'issued' : verb === 'pcr-deny' ? 'denied' : 'marked Failed';
  if (keep.length === 0) {
    return {
      status: `None of the ${rows.length} marked PodCertificateRequests can be ${what} here: only Pending ones${issuing ? ' without a ✗ finding' : ''}; act on the others one by one.`,
    };
  }
  const single = keep.length === 1 && !bulk ? keep[0] : undefined;
  const failing = single ? single.findings.filter((f) => f.level === 'fail').map((f) => f.code) : [];
  const guard: FindingLevel = keep.some((x) => x.worst === 'fail')
    ? 'fail'
    : keep.some((x) => x.worst === 'warn')
      ? 'warn'
      : 'ok';
  const counts = (['ok', 'warn', 'fail'] as const)
    .map((l) => [l, keep.filter((x) => x.worst === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${n} ${glyph[l]}`)
    .join('  ');
  const details: SectionVm[] = [
    {
      label: bulk ? 'PCRs' : 'PCR',
      lines: [
        ...(bulk ? [{ text: `${keep.length} PCRs${issuing ? `: ${counts}` : ''}` }] : []),
        ...keep.slice(0, 6).map((x) => ({
          text: `${bulk && issuing ? `${glyph[x.worst]} ` : ''}${safe(x.r.key, 120)} · ${safe(x.r.context)} · ${safe(x.signer)}`,
          ...(bulk && issuing ? { tone: tone[x.worst] } : {}),
        })),
        ...(keep.length > 6 ? [{ text: `… and ${keep.length - 6} more` }] : []),
      ],
    },
    ...(skipped
      ? [
          {
            label: 'Left out',
            lines: [
              {
                text: `${plural(skipped, 'marked PCR')} left out (not Pending${issuing ? ', or a ✗ finding' : ''}): act on them one by one.`,
                tone: 'warn' as const,
              },
            ],
          },
        ]
      : []),
  ];
  const actsLines = keep
    .flatMap((x) => x.acting.flatMap((a) => a.lines))
    .filter((l, i, all) => all.findIndex((o) => o.text === l.text) === i)
    .slice(0, 3);
  if (actsLines.length) details.push({ label: 'Acts', lines: actsLines });
  const blind = issuing && single ? blindFinding(single.findings) : undefined;
  let blocked =
    keep.find((x) => x.refused)?.refused ??
    (blind && single
      ? blindRefusal(`PCR ${safe(single.r.key, 120)} cannot be issued`, blind, 'Deny it (d)')
      : undefined);
  const targets: PcrTarget[] = keep.map((x) => ({
    context: x.context,
    namespace: x.namespace,
    name: x.r.pcr.metadata?.name ?? '',
    pcr: x.r.pcr,
    ...(single && failing.length ? { overrides: failing } : {}),
  }));
  const name = single ? safe(single.r.pcr.metadata?.name ?? '', 80) : plural(keep.length, 'PCR');
  const dialog: DialogState = {
    action: verb,
    targets: [],
    skipped: [],
    guard: issuing ? guard : 'ok',
    ...(issuing && single && guard === 'fail' ? { confirmName: single.r.pcr.metadata?.name ?? '' } : {}),
    typed: '',
    fields: [],
    field: 0,
    title: '',
    details,
    pcr: { targets, view: m.view },
  };
  if (!issuing) {
    const deny = verb === 'pcr-deny';
    return {
      ...dialog,
      title: deny ? `Deny ${name}?` : `Mark ${name} Failed?`,
      fields: [
        {
          id: 'reason',
          label: `reason (${DENY_REASON_RULE}; empty: ${deny ? 'CertdeskDeny' : 'CertdeskFailed'})`,
          value: '',
        },
        { id: 'message', label: 'message (empty: certdesk default)', value: '' },
      ],
      ...(blocked ? { blocked } : {}),
    };
  }
  const findingLines: StyledText[] = single
    ? single.findings.length
      ? single.findings.map((f) => ({ text: `${glyph[f.level]} ${safe(f.message, 200)}`, tone: tone[f.level] }))
      : [{ text: '✓ no warnings', tone: 'ok' }]
    : keep
        .flatMap((x) =>
          x.findings
            .filter((f) => f.level !== 'ok')
            .map((f) => ({
              text: `${glyph[f.level]} ${safe(x.r.pcr.metadata?.name, 60)}: ${safe(f.message, 200)}`,
              tone: tone[f.level],
            })),
        )
        .slice(0, 12);
  details.push({
    label: 'Findings',
    lines: findingLines.length ? findingLines : [{ text: '✓ no warnings', tone: 'ok' }],
  });
  const secrets: Array<[string, string]> = [];
  const caLines: StyledText[] = [];
  for (const signer of [...new Set(keep.map((x) => x.signer))]) {
    const loaded = await caFor(signer, deps);
    if (typeof loaded === 'string') {
      blocked = blocked ?? loaded;
      caLines.push({ text: `${safe(signer)}: ${safe(loaded)}`, tone: 'bad' });
      continue;
    }
    if (loaded.needs) secrets.push([signer, loaded.needs]);
    const ca = loaded.ca.certificate;
    if (single) {
      const max = single.r.pcr.spec?.maxExpirationSeconds;
      caLines.push(
        {
          text: `lifetime  at most ${max ? humanDurationSeconds(max) : '?'} (maxExpirationSeconds; the policy may cut it), beginRefreshAt half-way`,
        },
        { text: `key       the requested key (the stub request's)` },
        { text: `CA        ${safe(ca.subject.text)}, valid until ${date(ca.notAfter)}` },
      );
    } else caLines.push({ text: `${safe(signer)} → ${safe(ca.subject.text)}`, tone: 'ok' });
  }
  details.push({ label: single ? 'Certificate' : 'CAs', lines: caLines });
  const issue: DialogState = { ...dialog, title: `Issue ${name}?`, ...(blocked ? { blocked } : {}) };
  return withSecrets(issue, secrets);
}

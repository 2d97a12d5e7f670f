// Builds the dialogs behind the verbs (approve, deny, sign, approve+sign, export): they need the findings, the
// CA registry and can-i before they can ask the right question. Every shown string goes through `safe`.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { profilesDir } from '../services/config/paths.js';
import { csrState } from '../services/kube/csr-state.js';
import {
  certificateTtlSeconds,
  DEFAULT_PROFILE,
  type LoadedCa,
  loadProfile,
  mapUsages,
  type SigningProfile,
} from '../services/pki/index.js';
import { signatureFor } from '../services/pki/keys.js';
import { validityWindow } from '../services/pki/issue.js';
import type { FindingLevel } from '../services/policy/types.js';
import type { SectionVm, StyledText } from '../views/models.js';
import type { InsightCache } from './insights.js';
import type { Verb } from './keymap.js';
import { parseCsrKey } from './order.js';
import { type CsrInsight, safe } from './selectors.js';
import { actionTargets, type DialogState, type TuiState } from './store.js';
import { caRegistry } from './lazy.js';

export interface DialogDeps {
  insights: InsightCache;
  /** The CA registry's directory (tests: a temp dir). */
  registryDir?: string;
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
  return {
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

function notAllowed(deps: DialogDeps, targets: Target[], verb: 'approve' | 'sign'): string | undefined {
  for (const t of targets) {
    const cap = deps.insights.capability(t.context, t.csr.spec?.signerName ?? '')?.[verb];
    if (cap && !cap.allowed) {
      return `You may not ${verb} for ${safe(t.csr.spec?.signerName)} in ${safe(t.context)}: missing ${safe(cap.missing.join(', '))}.`;
    }
  }
  return undefined;
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

async function caFor(signer: string, deps: DialogDeps): Promise<{ ca: LoadedCa; profile: SigningProfile } | string> {
  const opts = deps.registryDir ? { cwd: deps.registryDir } : {};
  try {
    const { getCa, loadCaForSigner } = await caRegistry();
    const entry = getCa(signer, opts);
    const ca = await loadCaForSigner(signer, opts);
    let profile = DEFAULT_PROFILE;
    if (entry.profile) profile = await loadProfile(entry.profile, [profilesDir()]);
    return { ca, profile };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function date(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

async function signPreview(target: Target, deps: DialogDeps): Promise<{ lines: SectionVm[]; blocked?: string }> {
  const signer = target.csr.spec?.signerName ?? '';
  const loaded = await caFor(signer, deps);
  if (typeof loaded === 'string') return { lines: [], blocked: loaded };
  const { ca, profile } = loaded;
  const d = target.insight.decoded;
  const usages = target.csr.spec?.usages ?? [];
  const mapped = mapUsages(usages);
  const ttl = certificateTtlSeconds(target.csr.spec?.expirationSeconds, profile);
  const now = deps.now();
  const window = validityWindow(now, ttl, ca.certificate.notAfter);
  const sig = signatureFor(ca.privateKey, profile.rsaHash);
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
        ],
      },
    ],
  };
}

/** Opens the dialog for a verb, or returns a status sentence when there is nothing to act on. */
export async function openVerb(
  verb: Verb,
  state: TuiState,
  deps: DialogDeps,
): Promise<DialogState | { status: string }> {
  const all = await resolveTargets(state, deps);
  if (all.length === 0) return { status: 'Select a CSR first (or a pod waiting on one).' };
  switch (verb) {
    case 'approve': {
      const { keep, skipped } = splitBulk(all, (t) => csrState(t.csr) === 'Pending');
      const d = base('approve', `Approve ${plural(keep.length, 'CSR')}?`, keep, skipped);
      const blocked = notAllowed(deps, keep, 'approve');
      return blocked ? { ...d, blocked } : d;
    }
    case 'deny': {
      const { keep, skipped } = splitBulk(all, (t) => csrState(t.csr) === 'Pending', true);
      // Denying is the safe direction: no guard, but reason and message are asked.
      const d = base('deny', `Deny ${plural(keep.length, 'CSR')}?`, keep, skipped);
      const blocked = notAllowed(deps, keep, 'approve');
      return {
        ...d,
        guard: 'ok',
        confirmName: undefined,
        fields: [
          { id: 'reason', label: 'reason (CamelCase, empty: CertdeskDeny)', value: '' },
          { id: 'message', label: 'message (empty: certdesk default)', value: '' },
        ],
        ...(blocked ? { blocked } : {}),
      };
    }
    case 'sign':
    case 'approve-sign': {
      const approveFirst = verb === 'approve-sign';
      const fits = (t: Target) =>
        approveFirst ? ['Pending', 'Approved'].includes(csrState(t.csr)) : csrState(t.csr) === 'Approved';
      const { keep, skipped } = splitBulk(all, fits);
      const title = approveFirst
        ? `Approve and sign ${plural(keep.length, 'CSR')}?`
        : `Sign ${plural(keep.length, 'CSR')}?`;
      const d = base(verb, title, keep, skipped);
      let blocked = notAllowed(deps, keep, 'sign') ?? (approveFirst ? notAllowed(deps, keep, 'approve') : undefined);
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
      } else {
        const signers = [...new Set(keep.map((t) => t.csr.spec?.signerName ?? ''))];
        const lines: StyledText[] = [];
        for (const s of signers) {
          const loaded = await caFor(s, deps);
          lines.push(
            typeof loaded === 'string'
              ? { text: `${safe(s)}: ${safe(loaded)}`, tone: 'bad' }
              : { text: `${safe(s)} → ${safe(loaded.ca.certificate.subject.text)}`, tone: 'ok' },
          );
          if (typeof loaded === 'string') blocked = blocked ?? `No usable CA for ${safe(s)}; see above.`;
        }
        d.details = [{ label: 'CAs', lines }, ...d.details];
      }
      return blocked ? { ...d, blocked } : d;
    }
    case 'export-secret': {
      const t = all[0]!;
      if (!t.csr.status?.certificate) {
        return {
          status: `CSR ${safe(t.name)} has no certificate yet; sign it first (or press E for the CA ConfigMap).`,
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

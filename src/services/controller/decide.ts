// The controller's decision for one CSR, as a pure function of the CSR, its findings under the policy and the
// controller's settings: approve, deny, leave for a person, sign, or nothing. The same findings a person sees in
// the TUI decide here, so what a person would approve by hand is what the controller approves.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { findingsFor as evaluateFindings, type GateOptions } from '../actions/gate.js';
import type { DecodedCsr } from '../pki/index.js';
import type { Finding, Policy } from '../policy/index.js';
import { terminalSafe } from '../text/sanitize.js';

export const APPROVE_REASON = 'CertdeskPolicyApproved';
export const DENY_REASON = 'CertdeskPolicyDenied';
export const FAILED_REASON = 'SignerValidationFailure';
/** Longest condition message the controller writes (the API has no limit; kubectl tables do). */
export const MAX_MESSAGE_LENGTH = 1024;

/** What the controller does with a CSR that has only warnings (no fail): leave it for a person by default. */
export type WarnAction = 'leave' | 'approve' | 'deny';

export interface DecideSettings {
  /** Signer names this controller serves; every other CSR is ignored. */
  signers: ReadonlySet<string>;
  /** Approve/deny pending CSRs under the policy (--approve). */
  approve: boolean;
  /** Issue certificates for approved CSRs (--sign). */
  sign: boolean;
  policy: Policy;
  /** @default 'leave' */
  onWarn?: WarnAction;
  /** The built-in signers' rules (for kubernetes.io/ signers), as the findings use them. */
  checkSignerRules?: (signerName: string, csr: DecodedCsr, usages: string[]) => string | undefined;
}

export type Decision =
  | { kind: 'ignore'; why: string }
  | { kind: 'approve'; reason: string; message: string; findings: Finding[] }
  | { kind: 'deny'; reason: string; message: string; findings: Finding[] }
  | { kind: 'leave'; why: string; findings: Finding[] }
  | { kind: 'sign' };

function has(csr: V1CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type);
}

/** A condition message safe for any terminal that later shows it, and not longer than MAX_MESSAGE_LENGTH. */
export function conditionMessage(text: string): string {
  return terminalSafe(text, { maxLength: MAX_MESSAGE_LENGTH });
}

/** The PEM text inside spec.request (base64 of PEM on the wire). */
export function requestPem(csr: V1CertificateSigningRequest): string {
  return Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8');
}

/** What the findings know of the cluster: its pods (to link requestors to them) and the rest (ClusterFacts). */
export type DecideFacts = Pick<GateOptions, 'pods' | 'cluster'>;

/** The findings for a CSR (the same evaluation as the findings gate of services/actions); a request that cannot
 * be decoded is one `fail` finding. */
export async function findingsFor(
  csr: V1CertificateSigningRequest,
  settings: Pick<DecideSettings, 'policy' | 'checkSignerRules'>,
  facts: DecideFacts = {},
): Promise<{ findings: Finding[]; decoded?: DecodedCsr }> {
  return evaluateFindings(csr, {
    policy: settings.policy,
    ...facts,
    ...(settings.checkSignerRules ? { checkSignerRules: settings.checkSignerRules } : {}),
  });
}

/** What to do with one CSR now, with what is known of its cluster. */
export async function decide(
  csr: V1CertificateSigningRequest,
  settings: DecideSettings,
  facts: DecideFacts = {},
): Promise<Decision> {
  const signer = csr.spec?.signerName ?? '';
  if (!settings.signers.has(signer)) return { kind: 'ignore', why: `signer ${signer} is not served here` };
  if (has(csr, 'Denied')) return { kind: 'ignore', why: 'denied' };
  if (has(csr, 'Failed')) return { kind: 'ignore', why: 'failed' };
  if (csr.status?.certificate) return { kind: 'ignore', why: 'issued' };
  if (has(csr, 'Approved')) return settings.sign ? { kind: 'sign' } : { kind: 'ignore', why: 'approved; not signing' };
  if (!settings.approve) return { kind: 'ignore', why: 'pending; not approving' };

  const { findings } = await findingsFor(csr, settings, facts);
  const policyName = settings.policy.name;
  const fails = findings.filter((f) => f.level === 'fail');
  const warns = findings.filter((f) => f.level === 'warn');
  if (fails.length) {
    return {
      kind: 'deny',
      reason: DENY_REASON,
      message: conditionMessage(
        `Denied by certdesk controller under policy "${policyName}": ${fails.map((f) => f.message).join(' ')}`,
      ),
      findings,
    };
  }
  if (warns.length) {
    const onWarn = settings.onWarn ?? 'leave';
    const said = warns.map((f) => f.message).join(' ');
    if (onWarn === 'approve')
      return {
        kind: 'approve',
        reason: APPROVE_REASON,
        message: conditionMessage(
          `Approved by certdesk controller under policy "${policyName}" despite warnings: ${said}`,
        ),
        findings,
      };
    if (onWarn === 'deny')
      return {
        kind: 'deny',
        reason: DENY_REASON,
        message: conditionMessage(`Denied by certdesk controller under policy "${policyName}": ${said}`),
        findings,
      };
    return { kind: 'leave', why: `left for a person: ${said}`, findings };
  }
  return {
    kind: 'approve',
    reason: APPROVE_REASON,
    message: conditionMessage(`Approved by certdesk controller: every check of policy "${policyName}" passed.`),
    findings,
  };
}

// Approve and deny with kubectl's rules (services/kube), for the TUI, the headless commands and the controller
// alike: an approval passes the findings gate; both are written bound to the object they were decided on, with an
// audit intent before the write and an outcome after it (docs/safety.md).
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  type ApprovalOptions,
  approveCsr,
  CERTDESK_APPROVE_REASON,
  CERTDESK_DENY_REASON,
  type ClusterContext,
  type CsrWriteOutcome,
  csrReplaced,
  denyCsr,
  getCsr,
  hasCondition,
  type KubeError,
  type KubeResult,
} from '../kube/index.js';
import type { Finding } from '../policy/index.js';
import { type ActionContextOptions, auditIntent, auditSink, errorEntry, outcomeOf } from './audit-helpers.js';
import { bindingOf, codesAt, findingsFor, findingsRefusal, type GateOptions, keyFacts } from './gate.js';

/** Said before every deny (TUI dialog, `certdesk deny`): a Denied request is final; deleting lets the requester ask again. */
export const DENY_IS_FINAL =
  "A Denied request can never be approved: the requester has to ask again with a new one. If it should simply ask again, delete the request instead (certdesk delete csr NAME; Ctrl-D in the TUI's deny dialog); Calico and kubelets then ask anew.";

/** How often a write whose object changed (same UID) is evaluated again before giving up. */
export const DECIDE_ROUNDS = 5;

/** The write's outcome, and the findings it was decided on (none for a deny or a write that was not needed). */
export type ApprovalActionOutcome = CsrWriteOutcome & { findings?: Finding[] };

export type ApprovalActionOptions = Omit<ApprovalOptions, 'bind'> &
  ActionContextOptions &
  GateOptions & {
    /** The object the decision is made on (what the person or the controller looked at); default: read now. */
    csr?: V1CertificateSigningRequest;
  };

/** `what` (e.g. `CSR "x"`) changed on every one of the DECIDE_ROUNDS: nothing was written. */
export function keptChanging(ctx: ClusterContext, what: string): KubeError {
  return {
    kind: 'conflict',
    status: 409,
    reason: 'Changed',
    message: `${what} kept changing while certdesk checked it; nothing was written: try again.`,
    context: ctx.name,
  };
}

export function changedTooOften(ctx: ClusterContext, name: string): KubeError {
  return keptChanging(ctx, `CSR "${name}"`);
}

/**
 * The object to decide on in this round: the given one first, then a fresh read that must keep the UID of the
 * first (a replaced request is never acted on).
 */
export async function currentCsr(
  ctx: ClusterContext,
  name: string,
  given: V1CertificateSigningRequest | undefined,
  uid: string | undefined,
): Promise<KubeResult<V1CertificateSigningRequest>> {
  if (given) return { ok: true, value: given };
  const read = await getCsr(ctx, name);
  if (!read.ok) {
    if (uid && read.error.kind === 'not-found') return { ok: false, error: csrReplaced(ctx, name, uid, undefined) };
    return read;
  }
  const now = read.value.metadata?.uid ?? '';
  if (uid && now !== uid) return { ok: false, error: csrReplaced(ctx, name, uid, now) };
  return read;
}

async function decide(
  verb: 'approve' | 'deny',
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions,
): Promise<KubeResult<ApprovalActionOutcome>> {
  const { audit, csr: given, policy, pods, cluster, overrides, checkSignerRules: checkRules, ...approval } = options;
  const write = verb === 'approve' ? approveCsr : denyCsr;
  const reason = approval.reason ?? (verb === 'approve' ? CERTDESK_APPROVE_REASON : CERTDESK_DENY_REASON);
  const sink = auditSink({ ...(audit ? { audit } : {}) });
  const condition = verb === 'approve' ? 'Approved' : 'Denied';
  let uid = given?.metadata?.uid;
  let next = given;
  for (let round = 0; round < DECIDE_ROUNDS; round++) {
    const read = await currentCsr(ctx, name, next, uid);
    next = undefined;
    if (!read.ok) {
      await sink(
        errorEntry(
          { context: ctx.name, action: verb, csrName: name, reason, ...(uid ? { csrUid: uid } : {}) },
          read.error,
        ),
      );
      return read;
    }
    const csr = read.value;
    uid = csr.metadata?.uid ?? '';
    const ids = {
      context: ctx.name,
      action: verb,
      csrName: name,
      csrUid: uid,
      resourceVersion: csr.metadata?.resourceVersion ?? '',
      ...(csr.spec?.signerName ? { signer: csr.spec.signerName } : {}),
      reason,
    };
    if (hasCondition(csr, condition) && !approval.force) {
      await sink({ ...ids, outcome: 'ok', detail: `already ${condition}; nothing written` });
      return { ok: true, value: { csr, changed: false } };
    }
    let gate: { overrides?: string[]; warnings?: string[]; requester?: string; keySha256?: string } = {};
    let seen: Finding[] | undefined;
    if (verb === 'approve' && !hasCondition(csr, 'Denied')) {
      const { findings, decoded } = await findingsFor(csr, {
        ...(policy ? { policy } : {}),
        ...(pods ? { pods } : {}),
        ...(cluster ? { cluster } : {}),
        ...(checkRules ? { checkSignerRules: checkRules } : {}),
      });
      const refusal = findingsRefusal(csr, findings, overrides, 'approved', ctx.name);
      if (refusal) {
        await sink(errorEntry(ids, refusal));
        return { ok: false, error: refusal };
      }
      seen = findings;
      const accepted = codesAt(findings, 'fail');
      const warnings = codesAt(findings, 'warn');
      gate = {
        ...(accepted.length ? { overrides: accepted } : {}),
        ...(warnings.length ? { warnings } : {}),
        ...keyFacts(csr, decoded),
      };
    }
    const intent = await auditIntent(sink, { ...ids, ...gate });
    const result = await write(ctx, name, { ...approval, bind: bindingOf(csr) });
    if (!result.ok) {
      await intent.outcome({ outcome: outcomeOf(result.error), detail: result.error.message });
      if (result.error.reason === 'Changed') continue;
      return result;
    }
    const written = result.value.csr;
    await intent.outcome({
      outcome: 'ok',
      csrUid: written.metadata?.uid ?? uid,
      ...(written.metadata?.resourceVersion ? { resourceVersion: written.metadata.resourceVersion } : {}),
      ...(result.value.changed ? {} : { detail: `already ${condition}; nothing written` }),
    });
    return { ok: true, value: { ...result.value, ...(seen ? { findings: seen } : {}) } };
  }
  const error = changedTooOften(ctx, name);
  return { ok: false, error };
}

/** Approves through /approval when the findings allow it (or the failing ones are all overridden). */
export function approveWithAudit(
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions = {},
): Promise<KubeResult<ApprovalActionOutcome>> {
  return decide('approve', ctx, name, options);
}

/** Denies through /approval: always allowed (the safe direction), bound to the object decided on. */
export function denyWithAudit(
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions = {},
): Promise<KubeResult<ApprovalActionOutcome>> {
  return decide('deny', ctx, name, options);
}

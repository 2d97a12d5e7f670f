// Approve and deny with kubectl's rules (services/kube) and one audit line per decision, for the TUI, the
// headless commands and the controller alike.
import {
  type ApprovalOptions,
  approveCsr,
  CERTDESK_APPROVE_REASON,
  CERTDESK_DENY_REASON,
  type ClusterContext,
  type CsrWriteOutcome,
  denyCsr,
  type KubeResult,
} from '../kube/index.js';
import { type ActionContextOptions, auditSink, errorEntry } from './audit-helpers.js';

export type ApprovalActionOptions = ApprovalOptions & ActionContextOptions;

async function decide(
  verb: 'approve' | 'deny',
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions,
): Promise<KubeResult<CsrWriteOutcome>> {
  const { audit, ...approval } = options;
  const write = verb === 'approve' ? approveCsr : denyCsr;
  const result = await write(ctx, name, approval);
  const reason = approval.reason ?? (verb === 'approve' ? CERTDESK_APPROVE_REASON : CERTDESK_DENY_REASON);
  const sink = auditSink({ ...(audit ? { audit } : {}) });
  if (!result.ok) {
    await sink(errorEntry({ context: ctx.name, action: verb, csrName: name, reason }, result.error));
    return result;
  }
  const csr = result.value.csr;
  await sink({
    context: ctx.name,
    action: verb,
    csrName: name,
    ...(csr.metadata?.uid ? { csrUid: csr.metadata.uid } : {}),
    ...(csr.spec?.signerName ? { signer: csr.spec.signerName } : {}),
    reason,
    outcome: 'ok',
    ...(result.value.changed
      ? {}
      : { detail: `already ${verb === 'approve' ? 'Approved' : 'Denied'}; nothing written` }),
  });
  return result;
}

/** Approves through /approval and appends the audit line before resolving (an audit failure rejects). */
export function approveWithAudit(
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  return decide('approve', ctx, name, options);
}

/** Denies through /approval and appends the audit line before resolving (an audit failure rejects). */
export function denyWithAudit(
  ctx: ClusterContext,
  name: string,
  options: ApprovalActionOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  return decide('deny', ctx, name, options);
}

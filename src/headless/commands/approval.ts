// `certdesk approve|deny NAME…`: kubectl's rules and output (`certificatesigningrequest…/NAME approved`), with
// every decision in the audit log.
import { approveWithAudit, DENY_IS_FINAL, denyWithAudit } from '../../services/actions/approval.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { contextFrom, csrNames, type KubeCliOptions, oneSentence, out, warn } from './common.js';
import { parseOverrides, policyFor, printFindings, reconcileOnStart, gateFacts } from './safety.js';

export interface ApprovalCliOptions extends KubeCliOptions {
  reason?: string;
  message?: string;
  force?: boolean;
  /** approve: failing finding codes accepted. */
  override?: string;
  policy?: string;
}

export async function runApproval(verb: 'approve' | 'deny', args: string[], opts: ApprovalCliOptions): Promise<void> {
  const names = csrNames(args);
  const ctx = contextFrom(opts);
  const action = verb === 'approve' ? approveWithAudit : denyWithAudit;
  const overrides = parseOverrides(opts.override);
  const policy = verb === 'approve' ? await policyFor(opts.policy) : undefined;
  await reconcileOnStart(ctx);
  const facts = policy ? await gateFacts(ctx, policy) : {};
  const errors: string[] = [];
  for (const name of names) {
    const result = await action(ctx, name, {
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.message ? { message: opts.message } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(policy ? { policy, ...facts } : {}),
      ...(overrides ? { overrides } : {}),
    });
    if (result.ok) printFindings(name, result.value.findings);
    // kubectl prints the same line for a request decided already; say that nothing was written, and so checked.
    if (result.ok && !result.value.changed)
      warn(
        `note: CSR "${terminalSafe(name)}" was ${verb === 'approve' ? 'Approved' : 'Denied'} already; nothing was written (its findings were not checked: certdesk describe csr ${terminalSafe(name)})`,
      );
    if (result.ok) {
      out(
        `certificatesigningrequest.certificates.k8s.io/${terminalSafe(name)} ${verb === 'approve' ? 'approved' : 'denied'}\n`,
      );
    } else {
      errors.push(oneSentence(result.error.message));
      if (names.length > 1) warn(`error: ${oneSentence(result.error.message)}`);
    }
  }
  if (verb === 'deny' && errors.length < names.length) warn(`note: ${DENY_IS_FINAL}`);
  if (errors.length === 1 && names.length === 1) throw new CliError(errors[0] ?? '');
  if (errors.length > 0)
    throw new CliError(
      `${errors.length} of ${names.length} CSRs could not be ${verb === 'approve' ? 'approved' : 'denied'} (see above)`,
    );
}

// Deleting a request instead of denying it (`certdesk delete csr`, the TUI's deny dialog): a Denied request is
// final, a deleted one lets the requester ask again. The DELETE names the object checked (preconditions uid and
// resourceVersion), with an audit intent before it and an outcome after it (docs/safety.md).
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { refused } from '../kube/errors.js';
import { type ClusterContext, deleteCsr, type KubeResult } from '../kube/index.js';
import { terminalSafe } from '../text/sanitize.js';
import { changedTooOften, currentCsr, DECIDE_ROUNDS } from './approval.js';
import { type ActionContextOptions, auditIntent, auditSink, errorEntry, outcomeOf } from './audit-helpers.js';
import { bindingOf } from './gate.js';

/** Said before a delete (the TUI's dialog): what deleting does instead of a deny. */
export const DELETE_INSTEAD =
  'Deleting removes the request without a decision: the requester (a kubelet, Calico, istiod) asks again with a new one.';

export interface DeleteActionOptions extends ActionContextOptions {
  /** The object the decision is made on (what the person looked at); default: read now. */
  csr?: V1CertificateSigningRequest;
  /** Delete an issued request too (its requester may not have read the certificate yet). */
  force?: boolean;
}

/** Deletes a request bound to the object checked; an issued one only with `force`. */
export async function deleteWithAudit(
  ctx: ClusterContext,
  name: string,
  options: DeleteActionOptions = {},
): Promise<KubeResult<{ csr: V1CertificateSigningRequest }>> {
  const sink = auditSink(options);
  let uid = options.csr?.metadata?.uid;
  let next = options.csr;
  for (let round = 0; round < DECIDE_ROUNDS; round++) {
    const read = await currentCsr(ctx, name, next, uid);
    next = undefined;
    if (!read.ok) {
      await sink(
        errorEntry({ context: ctx.name, action: 'delete', csrName: name, ...(uid ? { csrUid: uid } : {}) }, read.error),
      );
      return read;
    }
    const csr = read.value;
    uid = csr.metadata?.uid ?? '';
    const ids = {
      context: ctx.name,
      action: 'delete' as const,
      csrName: name,
      csrUid: uid,
      resourceVersion: csr.metadata?.resourceVersion ?? '',
      ...(csr.spec?.signerName ? { signer: csr.spec.signerName } : {}),
    };
    if (csr.status?.certificate && !options.force) {
      const error = refused(
        `CSR "${terminalSafe(name, { maxLength: 120 })}" is issued: its requester may not have read the certificate yet, and the request is the cluster's record of it; nothing was deleted (pass --force to delete it anyway).`,
        'Issued',
        ctx.name,
      );
      await sink(errorEntry(ids, error));
      return { ok: false, error };
    }
    const intent = await auditIntent(sink, ids);
    const result = await deleteCsr(ctx, name, { bind: bindingOf(csr) });
    if (!result.ok) {
      await intent.outcome({ outcome: outcomeOf(result.error), detail: result.error.message });
      if (result.error.reason === 'Changed') continue;
      return result;
    }
    await intent.outcome({ outcome: 'ok', detail: `deleted (uid ${uid}, resourceVersion ${ids.resourceVersion})` });
    return { ok: true, value: { csr } };
  }
  return { ok: false, error: changedTooOften(ctx, name) };
}

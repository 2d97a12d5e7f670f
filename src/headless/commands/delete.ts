// `certdesk delete csr NAME…`: delete a request instead of denying it, so the requester asks again (a Denied
// request is final). Each DELETE names the object read just before (uid + resourceVersion preconditions) and is
// audited; an issued request is refused unless --force (docs/safety.md).
import { deleteWithAudit } from '../../services/actions/delete.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { contextFrom, csrNames, type KubeCliOptions, oneSentence, out, warn } from './common.js';
import { reconcileOnStart } from './safety.js';

export interface DeleteCliOptions extends KubeCliOptions {
  force?: boolean;
}

export async function runDeleteCsr(args: string[], opts: DeleteCliOptions): Promise<void> {
  const names = csrNames(args);
  const ctx = contextFrom(opts);
  await reconcileOnStart(ctx);
  const errors: string[] = [];
  for (const name of names) {
    const result = await deleteWithAudit(ctx, name, opts.force ? { force: true } : {});
    if (result.ok) out(`certificatesigningrequest.certificates.k8s.io "${terminalSafe(name)}" deleted\n`);
    else {
      errors.push(oneSentence(result.error.message));
      if (names.length > 1) warn(`error: ${oneSentence(result.error.message)}`);
    }
  }
  if (errors.length === 1 && names.length === 1) throw new CliError(errors[0] ?? '');
  if (errors.length > 0)
    throw new CliError(`${errors.length} of ${names.length} CSRs could not be deleted (see above)`);
}

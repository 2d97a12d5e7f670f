// What the writing commands share for docs/safety.md: --override, the policy for the findings, warnings printed,
// and the reconciliation of audit intents a killed run left open.
import { reconcileAudit } from '../../services/actions/reconcile.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { type Finding, loadPolicy, type Policy, PolicyError } from '../../services/policy/index.js';
import { CliError } from '../cli-error.js';
import { oneSentence, warn } from './common.js';

/** `--override a,b` → ['a', 'b']. */
export function parseOverrides(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const codes = raw
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (codes.length === 0)
    throw new CliError('--override needs the codes of the failing findings, e.g. --override key-strength');
  return codes;
}

export async function policyFor(file: string | undefined): Promise<Policy> {
  try {
    return await loadPolicy(file);
  } catch (err) {
    if (err instanceof PolicyError) throw new CliError(oneSentence(err.message));
    throw err;
  }
}

/** Prints the warnings (and accepted failures) a decision was made with. */
export function printFindings(name: string, findings: readonly Finding[] | undefined, kind = 'CSR'): void {
  for (const f of findings ?? []) {
    if (f.level === 'warn') warn(`warning: ${kind} "${name}": ${f.code}: ${f.message}`);
    if (f.level === 'fail') warn(`warning: ${kind} "${name}": ${f.code} accepted by --override: ${f.message}`);
  }
}

/** Settles audit intents of this context that a killed run left without an outcome; says what it found. */
export async function reconcileOnStart(ctx: ClusterContext): Promise<void> {
  const settled = await reconcileAudit((name) => (name === ctx.name ? ctx : undefined));
  for (const line of settled) warn(`audit: ${line}`);
}

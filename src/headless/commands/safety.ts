// What the writing commands share for docs/safety.md: --override, the policy for the findings, warnings printed,
// and the reconciliation of audit intents a killed run left open.
import { reconcileAudit } from '../../services/actions/reconcile.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { dnsChecksFor, factsOf, needsNodes } from '../../services/actions/facts.js';
import type { GateOptions } from '../../services/actions/gate.js';
import { readAudit } from '../../services/config/audit.js';
import {
  auditedRequests,
  type Finding,
  loadPolicy,
  type Policy,
  PolicyError,
  RequestIndexCache,
} from '../../services/policy/index.js';
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

/**
 * What the findings gate of `approve` and `sign` knows of the context, listed once per command: its pods, its Nodes
 * when the policy's node-addresses is on, every CSR (superseded, key-reuse, request-storm) and the audit log's
 * keys; the same facts as the TUI's and the controller's (services/actions facts.ts). A context that cannot be
 * listed at all in 15 s ends the command (nothing is decided unchecked); any other failure gives no facts (the
 * findings that need them are then not made) and a warning says so.
 */
export async function gateFacts(ctx: ClusterContext, policy: Policy): Promise<Pick<GateOptions, 'pods' | 'cluster'>> {
  const { snapshotsOf } = await import('./snapshots.js');
  const nodes = needsNodes(policy);
  try {
    const [{ snapshots }, audit] = await Promise.all([
      snapshotsOf([ctx], { tigera: false, pods: true, nodes }),
      readAudit().catch(() => []),
    ]);
    const snap = snapshots[0];
    if (!snap) return {};
    const store = { snapshot: () => snap, contexts: () => [ctx.name] };
    const dns = dnsChecksFor(policy);
    return factsOf(
      { store, index: new RequestIndexCache(), audited: auditedRequests(audit), nodes, ...(dns ? { dns } : {}) },
      ctx.name,
    );
  } catch (err) {
    // The context could not be listed at all (unreachable, no credentials, nothing in 15 s): nothing can be checked,
    // so nothing is decided; the command ends with that one sentence.
    if (err instanceof CliError) throw err;
    warn(
      `warning: the cluster around the requests was not read (${oneSentence(err instanceof Error ? err.message : String(err))}); findings that need it were not made`,
    );
    return {};
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

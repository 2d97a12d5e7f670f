// `certdesk policy test [--policy FILE]`: a dry run of a policy. Every live CSR and every decision in the audit log
// is judged again under the policy and under the built-in default, with the same facts as the TUI and the controller
// (services/actions policy-test.ts); printed is each request where the policy's verdict differs from the decision
// taken (the Approved/Denied condition, or the audit log's approve/deny/sign) or from the default's. Nothing is written.
import { needsNodes } from '../../services/actions/facts.js';
import { policyTest, policyTestNote, verdictText } from '../../services/actions/policy-test.js';
import { readAudit } from '../../services/config/audit.js';
import type { ClusterContext, ContextSnapshot } from '../../services/kube/api-types.js';
import { DEFAULT_POLICY, loadPolicy, type Policy, PolicyError } from '../../services/policy/index.js';
import { CliError } from '../cli-error.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { renderTable } from '../output/table.js';
import { contextsFrom, type KubeCliOptions, oneSentence, out, warn } from './common.js';

export interface PolicyTestCliOptions extends KubeCliOptions {
  policy?: string;
  output?: string;
}

async function snapshotsFor(contexts: ClusterContext[], policy: Policy): Promise<ContextSnapshot[]> {
  const { snapshotsOf } = await import('./snapshots.js');
  const nodes = needsNodes(policy) || needsNodes(DEFAULT_POLICY);
  const { snapshots } = await snapshotsOf(contexts, { tigera: false, pods: true, nodes, timeoutMs: 30_000 });
  return snapshots;
}

export async function runPolicyTest(opts: PolicyTestCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml']);
  let policy: Policy;
  try {
    policy = await loadPolicy(opts.policy);
  } catch (err) {
    if (err instanceof PolicyError) throw new CliError(oneSentence(err.message));
    throw err;
  }
  const contexts = contextsFrom(opts, true);
  const [snapshots, audit] = await Promise.all([snapshotsFor(contexts, policy), readAudit()]);
  const { rows, judged, gone } = await policyTest(snapshots, policy, audit);
  if (format === 'json' || format === 'yaml') {
    const value = { policy: policy.name, judged, gone, differences: rows };
    out(format === 'json' ? toJson(value) : toYaml(value));
    return;
  }
  const note = policyTestNote({ policy: policy.name, judged, gone, rows });
  if (!rows.length) {
    out(`${note}\n`);
    return;
  }
  out(
    renderTable(
      ['CONTEXT', 'NAME', 'TAKEN', 'POLICY', 'DEFAULT'],
      rows.map((r) => [
        r.context,
        r.name,
        r.taken ? `${r.taken}${r.takenBy === 'audit' ? ' (audit)' : ''}` : '<pending>',
        verdictText(r.policy),
        verdictText(r.default),
      ]),
    ),
  );
  warn(note);
}

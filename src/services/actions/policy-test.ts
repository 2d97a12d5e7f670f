// The dry run of a policy behind `certdesk policy test` and the TUI's `:policy test FILE`: every live CSR and every
// decision in the audit log is judged again under the policy and under the built-in default, with the same facts
// as the TUI and the controller (facts.ts); returned is each request where the policy's verdict differs from the
// decision taken (the Approved/Denied condition, or the audit log's approve/deny/sign) or from the default's.
// Nothing is written.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { AuditEntry } from '../config/audit.js';
import type { ContextSnapshot } from '../kube/api-types.js';
import { hasCondition } from '../kube/index.js';
import { auditedRequests, DEFAULT_POLICY, type Finding, type Policy, RequestIndexCache } from '../policy/index.js';
import { factsOf } from './facts.js';
import { findingsFor } from './gate.js';

/** What a policy makes of a request: approve (all ok), leave it for a person (warnings), deny (a failure). */
export type Verdict = 'approve' | 'leave' | 'deny';

export interface Judgement {
  verdict: Verdict;
  fail: string[];
  warn: string[];
}

export interface PolicyTestRow {
  context: string;
  name: string;
  uid: string;
  /** The decision taken: from the CSR's condition or the audit log; absent for a pending request. */
  taken?: 'approve' | 'deny';
  takenBy?: 'condition' | 'audit';
  policy: Judgement;
  default: Judgement;
  /** Why the row is printed. */
  differs: ('taken' | 'default')[];
}

function judge(findings: readonly Finding[]): Judgement {
  const codes = (level: Finding['level']) => [...new Set(findings.filter((f) => f.level === level).map((f) => f.code))];
  const fail = codes('fail');
  const warned = codes('warn');
  return { verdict: fail.length ? 'deny' : warned.length ? 'leave' : 'approve', fail, warn: warned };
}

/** The decision taken on a CSR: its condition first, else the newest successful approve/deny/sign in the log. */
function takenOf(
  csr: V1CertificateSigningRequest,
  audit: ReadonlyMap<string, AuditEntry>,
  context: string,
): Pick<PolicyTestRow, 'taken' | 'takenBy'> {
  if (hasCondition(csr, 'Denied')) return { taken: 'deny', takenBy: 'condition' };
  if (hasCondition(csr, 'Approved')) return { taken: 'approve', takenBy: 'condition' };
  const entry = audit.get(`${context}\u0000${csr.metadata?.uid ?? ''}`);
  if (entry) return { taken: entry.action === 'deny' ? 'deny' : 'approve', takenBy: 'audit' };
  return {};
}

/** Judges every CSR of the snapshots under `policy` and the default; returns the rows that differ. */
export async function policyTest(
  snapshots: readonly ContextSnapshot[],
  policy: Policy,
  audit: readonly AuditEntry[],
): Promise<{ rows: PolicyTestRow[]; judged: number; gone: number }> {
  const byContext = new Map(snapshots.map((s) => [s.context, s]));
  const store = {
    snapshot: (c: string) => {
      const s = byContext.get(c);
      if (!s) throw new Error(`no snapshot of ${c}`);
      return s;
    },
    contexts: () => [...byContext.keys()],
  };
  const source = { store, index: new RequestIndexCache(), audited: auditedRequests(audit), nodes: true };
  const decided = new Map<string, AuditEntry>();
  for (const e of audit) {
    if (e.outcome !== 'ok' || !e.csrUid || !['approve', 'deny', 'sign'].includes(e.action)) continue;
    if (e.detail?.startsWith('already ')) continue;
    decided.set(`${e.context}\u0000${e.csrUid}`, e);
  }
  const live = new Set<string>();
  const rows: PolicyTestRow[] = [];
  let judged = 0;
  for (const snap of snapshots) {
    const facts = factsOf(source, snap.context);
    for (const csr of snap.csrs.values()) {
      judged++;
      live.add(`${snap.context}\u0000${csr.metadata?.uid ?? ''}`);
      const [under, byDefault] = await Promise.all(
        [policy, DEFAULT_POLICY].map((p) => findingsFor(csr, { policy: p, ...facts }).then((r) => judge(r.findings))),
      );
      const taken = takenOf(csr, decided, snap.context);
      const differs: PolicyTestRow['differs'] = [];
      // A decision taken is compared with approve/deny: leaving it for a person differs from an approval.
      if (taken.taken && under!.verdict !== taken.taken) differs.push('taken');
      if (under!.verdict !== byDefault!.verdict) differs.push('default');
      if (!differs.length) continue;
      rows.push({
        context: snap.context,
        name: csr.metadata?.name ?? '',
        uid: csr.metadata?.uid ?? '',
        ...taken,
        policy: under!,
        default: byDefault!,
        differs,
      });
    }
  }
  // Decisions whose request is gone cannot be judged again (the log keeps no request).
  const gone = [...decided.keys()].filter((k) => byContext.has(k.split('\u0000')[0] ?? '') && !live.has(k)).length;
  return { rows, judged, gone };
}

/** `deny (key-reuse,superseded?)`: the verdict and why (warnings marked `?`). */
export function verdictText(j: Judgement): string {
  const why = [...j.fail, ...j.warn.map((c) => `${c}?`)];
  return why.length ? `${j.verdict} (${why.join(',')})` : j.verdict;
}

/** One dry run, as the TUI keeps it (`:policy test FILE`). */
export interface PolicyTrial {
  policy: string;
  file: string;
  judged: number;
  gone: number;
  rows: PolicyTestRow[];
}

/** The dry run in one sentence (the command's note, the TUI's status and Health line). */
export function policyTestNote(t: Pick<PolicyTrial, 'policy' | 'judged' | 'gone' | 'rows'>): string {
  const gone = t.gone
    ? `; ${t.gone} decision${t.gone === 1 ? '' : 's'} in the audit log concern requests that are gone`
    : '';
  return `${t.judged} request${t.judged === 1 ? '' : 's'} judged under policy "${t.policy}"; ${t.rows.length} would be decided differently${gone}.`;
}

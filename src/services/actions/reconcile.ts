// On start (TUI, commands that write, controller): every audit intent without an outcome — the process died
// between the two lines — is checked against the cluster and recorded as done or not done (docs/safety.md).
import { hostname } from 'node:os';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { type AuditEntry, type AuditInput, appendAudit, auditLogPath, readAudit } from '../config/audit.js';
import { type ClusterContext, getCsr, hasCondition } from '../kube/index.js';
import { decodeCertificate } from '../pki/index.js';

/** Intents that have no outcome line, oldest first. */
export function openIntents(entries: readonly AuditEntry[]): AuditEntry[] {
  const closed = new Set(entries.filter((e) => e.phase === 'outcome' && e.id).map((e) => e.id));
  return entries.filter((e) => e.phase === 'intent' && e.id && !closed.has(e.id));
}

/** The writer of an intent is gone: another host (a pod replaced, its volume kept), this very process (a
 * container's pid 1 restarted), or a pid that no longer runs here. A running TUI's write in flight is left alone. */
function abandoned(intent: AuditEntry): boolean {
  if (!intent.pid || intent.host !== hostname() || intent.pid === process.pid) return true;
  try {
    process.kill(intent.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function carries(entry: AuditEntry, csr: V1CertificateSigningRequest): Promise<boolean> {
  switch (entry.action) {
    case 'approve':
      return hasCondition(csr, 'Approved');
    case 'deny':
      return hasCondition(csr, 'Denied');
    case 'mark-failed':
      return hasCondition(csr, 'Failed');
    case 'sign': {
      const b64 = csr.status?.certificate;
      if (!b64 || !entry.sha256Fingerprint) return false;
      try {
        const cert = await decodeCertificate(Buffer.from(b64, 'base64').toString('utf8'));
        return cert.sha256Fingerprint === entry.sha256Fingerprint;
      } catch {
        return false;
      }
    }
    default:
      return false;
  }
}

/**
 * Appends an outcome (reconciled: true) for each open intent whose context is given by `contextFor` and whose
 * cluster answers; returns one sentence per settled intent. Intents of other contexts stay open.
 */
export async function reconcileAudit(
  contextFor: (name: string) => ClusterContext | undefined,
  options: { file?: string; localUser?: string } = {},
): Promise<string[]> {
  const file = options.file ?? auditLogPath();
  // An unreadable log has nothing to reconcile here; the next append reports what is wrong with it.
  const entries = await readAudit({ file }).catch(() => []);
  const open = openIntents(entries).filter(abandoned);
  const said: string[] = [];
  for (const intent of open) {
    const ctx = contextFor(intent.context);
    if (!ctx || !intent.csrName) continue;
    const read = await getCsr(ctx, intent.csrName);
    if (!read.ok && read.error.kind !== 'not-found') continue; // unreachable now: try again next start
    const what = `${intent.action} of CSR "${intent.csrName}" (UID ${intent.csrUid ?? '?'}) in ${intent.context} from ${intent.time}`;
    let done = false;
    let detail: string;
    if (!read.ok || read.value.metadata?.uid !== intent.csrUid) {
      detail = `reconciled on start: ${what} was not done (that object no longer exists)`;
    } else {
      done = await carries(intent, read.value);
      detail = `reconciled on start: ${what} was ${done ? 'done' : 'not done'}`;
    }
    const { time: _t, localUser: _u, phase: _p, outcome: _o, detail: _d, pid: _i, host: _h, ...rest } = intent;
    const entry: AuditInput = {
      ...rest,
      phase: 'outcome',
      outcome: done ? 'ok' : 'error',
      reconciled: true,
      detail,
      ...(options.localUser ? { localUser: options.localUser } : {}),
    };
    await appendAudit(entry, file);
    said.push(detail);
  }
  return said;
}

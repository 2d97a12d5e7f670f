// Turns a typed result into an audit outcome, so every action records refusals and errors the same way, and
// writes the intent line before an API write and the outcome line after it (docs/safety.md).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditAction, AuditInput, AuditOutcome } from '../config/audit.js';
import { appendAudit } from '../config/audit.js';
import type { KubeError } from '../kube/index.js';

export type AuditSink = (entry: AuditInput) => Promise<void>;

/** Options every action takes: where the audit goes (tests and the controller may pass their own). */
export interface ActionContextOptions {
  /** @default appendAudit (the audit log under the state dir) */
  audit?: AuditSink;
}

export function auditSink(options: ActionContextOptions | undefined): AuditSink {
  return options?.audit ?? ((entry) => appendAudit(entry));
}

export function outcomeOf(error: KubeError): 'refused' | 'error' {
  return error.kind === 'refused' || error.kind === 'forbidden' || error.kind === 'already-exists'
    ? 'refused'
    : 'error';
}

export function errorEntry(
  base: { context: string; action: AuditAction; csrName?: string; signer?: string; csrUid?: string; reason?: string },
  error: KubeError,
): AuditInput {
  return { ...base, outcome: outcomeOf(error), detail: error.message };
}

/** Tests only: `CERTDESK_TEST_CRASH_AT=intent|write` kills the process (SIGKILL) right after the intent line, or
 * right after the API write and before its outcome line, to prove the reconciliation on the next start. */
function crashPoint(at: 'intent' | 'write'): void {
  if (process.env.CERTDESK_TEST_CRASH_AT === at) process.kill(process.pid, 'SIGKILL');
}

export interface AuditIntent {
  id: string;
  /** Appends the outcome line (same id and fields as the intent, plus these). */
  outcome(result: { outcome: AuditOutcome; detail?: string } & Partial<AuditInput>): Promise<void>;
}

/** Appends (fsync'd) an intent line; the API write follows, then `outcome`. */
export async function auditIntent(sink: AuditSink, entry: Omit<AuditInput, 'outcome' | 'phase' | 'id'>) {
  const id = randomUUID();
  await sink({ ...entry, phase: 'intent', id, pid: process.pid, host: hostname() });
  crashPoint('intent');
  const intent: AuditIntent = {
    id,
    async outcome(result) {
      crashPoint('write');
      await sink({ ...entry, ...result, phase: 'outcome', id });
    },
  };
  return intent;
}

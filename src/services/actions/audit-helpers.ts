// Turns a typed result into an audit outcome, so every action records refusals and errors the same way.
import type { AuditAction, AuditInput } from '../config/audit.js';
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

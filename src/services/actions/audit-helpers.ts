// Turns a typed result into an audit outcome, so every action records refusals and errors the same way, and
// writes the intent line before an API write and the outcome line after it (docs/safety.md).
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditAction, AuditInput, AuditOutcome, AuditTarget } from '../config/audit.js';
import { appendAudit } from '../config/audit.js';
import type { KubeError, WriteHook } from '../kube/index.js';

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

/** JSON with sorted keys: the same value as written and as read back gives the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 (hex) of the values of `fields` (dotted paths such as `data` or `spec.request`) of an object. */
export function fieldsSha256(object: unknown, fields: readonly string[]): string {
  const at = (path: string) =>
    path
      .split('.')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), object);
  return createHash('sha256')
    .update(stableJson(fields.map((f) => [f, at(f)])))
    .digest('hex');
}

/**
 * Audits the writes of one object (an export's Secret or ConfigMap, a request's CSR): before each POST or PUT an
 * intent naming the object (for an update the uid and resourceVersion it replaces) and the SHA-256 of `fields` as
 * they will be written; after it, the outcome. `sent` tells whether any write was tried (else the caller audits
 * its refusal as one line).
 */
export function auditedWrites(
  sink: AuditSink,
  entry: Omit<AuditInput, 'outcome' | 'phase' | 'id' | 'target'>,
  object: { kind?: string; metadata?: { name?: string; namespace?: string; generateName?: string } },
  fields: readonly string[],
): { onWrite: WriteHook; readonly sent: boolean } {
  let sent = false;
  const meta = object.metadata ?? {};
  const sha256 = fieldsSha256(object, fields);
  const onWrite: WriteHook = async (step) => {
    sent = true;
    const target: AuditTarget = {
      kind: object.kind ?? '',
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
      ...(meta.name ? { name: meta.name } : { generateName: meta.generateName ?? '' }),
      path: step.path,
      ...(step.uid ? { uid: step.uid } : {}),
      ...(step.resourceVersion ? { resourceVersion: step.resourceVersion } : {}),
      fields: [...fields],
      sha256,
    };
    const intent = await auditIntent(sink, { ...entry, target });
    return async (result) => {
      if (!result.ok) return intent.outcome({ outcome: outcomeOf(result.error), detail: result.error.message });
      const written = (result.value.metadata ?? {}) as { name?: string; namespace?: string; uid?: string };
      const where = [written.namespace, written.name].filter(Boolean).join('/');
      await intent.outcome({
        outcome: 'ok',
        // A request's CSR: its name (the server may have picked it) and UID.
        ...(target.kind === 'CertificateSigningRequest' ? { csrName: written.name, csrUid: written.uid } : {}),
        detail: `${target.kind.toLowerCase()} ${where} ${step.op === 'create' ? 'created' : 'updated'} (uid ${written.uid ?? '?'})`,
      });
    };
  };
  return {
    onWrite,
    get sent() {
      return sent;
    },
  };
}

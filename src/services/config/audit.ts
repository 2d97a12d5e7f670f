// The audit log: every approve, deny, sign, mark-failed and export, from the TUI, a command or the controller,
// as JSON lines in <state dir>/audit.jsonl, appended with O_APPEND and fsync'd: an intent before each API write and
// an outcome after it (docs/safety.md).
import { mkdir, open, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { stateDir } from './paths.js';

export type AuditAction =
  | 'approve'
  | 'deny'
  | 'sign'
  /** `certdesk issue`: a CSR file signed offline (no cluster: `context` is empty). */
  | 'issue'
  | 'mark-failed'
  | 'delete'
  | 'export-secret'
  | 'export-configmap'
  | 'export-files'
  | 'export-trust-bundle'
  | 'kubeconfig'
  | 'request';

export type AuditOutcome = 'ok' | 'error' | 'refused';

/** The Kubernetes object an export or a request writes, named in its intent line; reconciled by reading it back and
 * comparing the SHA-256 of the fields written (docs/safety.md). */
export interface AuditTarget {
  /** `Secret`, `ConfigMap`, `CertificateSigningRequest`, … */
  kind: string;
  namespace?: string;
  /** The object's name; a create whose name the server picks has `generateName` instead. */
  name?: string;
  generateName?: string;
  /** API path of the object, or of its collection when the server picks the name. */
  path: string;
  /** An update: the uid and resourceVersion of the object it replaces (the PUT's preconditions). */
  uid?: string;
  resourceVersion?: string;
  /** The fields written (dotted paths: `data`, `spec.request`) and the SHA-256 of their values (fieldsSha256). */
  fields: string[];
  sha256: string;
}

/** `intent`: written (fsync'd) before the API write; `outcome`: after it, with the intent's id. A line without a
 * phase is a single record (a refusal before any write, an export). */
export type AuditPhase = 'intent' | 'outcome';

export interface AuditEntry {
  /** ISO 8601, UTC. */
  time: string;
  /** The local account that acted (os user), not the cluster identity. */
  localUser: string;
  /** Kubeconfig context name. */
  context: string;
  /** The object's name and UID (a PodCertificateRequest's too: see `kind`). */
  csrName?: string;
  csrUid?: string;
  /** Set when a status write went to a PodCertificateRequest (in `namespace`) rather than a CSR. */
  kind?: 'PodCertificateRequest';
  namespace?: string;
  signer?: string;
  action: AuditAction;
  phase?: AuditPhase;
  /** Links an intent to its outcome. */
  id?: string;
  /** The resourceVersion of the object the write was decided on. */
  resourceVersion?: string;
  /** Failing finding codes a person accepted (--override, or the name typed in the TUI). */
  overrides?: string[];
  /** Warning finding codes present when the decision was made. */
  warnings?: string[];
  /** Approvals and signatures: who asked (spec.username) and the SHA-256 of the request's public key, so that
   * key-reuse sees keys of requests long gone. */
  requester?: string;
  keySha256?: string;
  /** The process (and host) that wrote an intent: an intent of a process still running is not reconciled. */
  pid?: number;
  host?: string;
  /** An outcome recorded on start for an intent left without one (the process died in between). */
  reconciled?: boolean;
  reason?: string;
  /** An export's or a request's object: what the intent will write where. */
  target?: AuditTarget;
  /** Certificate serial, hex. */
  serial?: string;
  /** SHA-256 of the certificate DER, uppercase hex with colons. */
  sha256Fingerprint?: string;
  /** Absent on an intent line. */
  outcome?: AuditOutcome;
  /** One sentence: the error, the target (namespace/name, file), … */
  detail?: string;
}

export type AuditInput = Omit<AuditEntry, 'time' | 'localUser'> & Partial<Pick<AuditEntry, 'time' | 'localUser'>>;

/** State directory (paths.ts): $CERTDESK_STATE_DIR, else $XDG_STATE_HOME/certdesk, else ~/.local/state/certdesk. */
export function auditStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return stateDir(env);
}

/** Absolute path of the audit log file. */
export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(auditStateDir(env), 'audit.jsonl');
}

function currentLocalUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

export class AuditWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditWriteError';
  }
}

/**
 * Appends one entry and resolves only once it is on disk (fsync). A failed write rejects with an
 * AuditWriteError: callers must treat it as an error, not a warning.
 */
export async function appendAudit(input: AuditInput, file: string = auditLogPath()): Promise<void> {
  const entry: AuditEntry = {
    time: input.time ?? new Date().toISOString(),
    localUser: input.localUser ?? currentLocalUser(),
    ...stripUndefined(input),
  } as AuditEntry;
  const line = `${JSON.stringify(entry)}\n`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const fh = await open(file, 'a', 0o600);
    try {
      const st = await fh.stat();
      if ((st.mode & 0o077) !== 0) await fh.chmod(0o600);
      await fh.write(line);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AuditWriteError(
      `could not write the audit log ${file} (${why}); fix its directory or set CERTDESK_STATE_DIR`,
    );
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export interface ReadAuditOptions {
  /** Only entries at or after this time. */
  since?: Date;
  file?: string;
}

/** Reads the log, oldest first. A missing file is an empty log; malformed lines are skipped. */
export async function readAudit(options: ReadAuditOptions = {}): Promise<AuditEntry[]> {
  const file = options.file ?? auditLogPath();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AuditWriteError(`could not read the audit log ${file}: ${(err as Error).message}`);
  }
  const since = options.since?.getTime();
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.time !== 'string') continue;
    if (since !== undefined && Date.parse(entry.time) < since) continue;
    out.push(entry);
  }
  return out;
}

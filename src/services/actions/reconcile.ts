// On start (TUI, commands that write, controller): every audit intent without an outcome — the process died
// between the two lines — is checked against the cluster and recorded as done or not done (docs/safety.md).
import { hostname } from 'node:os';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  type AuditEntry,
  type AuditInput,
  type AuditTarget,
  appendAudit,
  auditLogPath,
  readAudit,
} from '../config/audit.js';
import {
  type ClusterContext,
  getCsr,
  getIfPresent,
  hasCondition,
  listEach,
  pcrState,
  podCertificateApis,
  type RawObject,
  readPcr,
} from '../kube/index.js';
import { decodeCertificate } from '../pki/index.js';
import { fieldsSha256 } from './audit-helpers.js';

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

/** Is `pem`'s first certificate the one with this fingerprint? */
async function leafIs(pem: string | undefined, fingerprint: string | undefined): Promise<boolean> {
  if (!pem || !fingerprint) return false;
  try {
    return (await decodeCertificate(pem)).sha256Fingerprint === fingerprint;
  } catch {
    return false;
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
      return leafIs(b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined, entry.sha256Fingerprint);
    }
    default:
      return false;
  }
}

interface Settled {
  done: boolean;
  /** Why, when not done. */
  why?: string;
}

/** An approval, denial, Failed or signature: does the object with that UID now carry it? A delete: is it gone? */
async function settleCsrWrite(ctx: ClusterContext, intent: AuditEntry): Promise<Settled | undefined> {
  const read = await getCsr(ctx, intent.csrName ?? '');
  // A delete is done when the object with that UID is gone (deleted by it, or by someone else since).
  if (intent.action === 'delete')
    return read.ok
      ? { done: read.value.metadata?.uid !== intent.csrUid }
      : read.error.kind === 'not-found'
        ? { done: true }
        : undefined;
  if (!read.ok)
    return read.error.kind === 'not-found' ? { done: false, why: 'that object no longer exists' } : undefined;
  if (read.value.metadata?.uid !== intent.csrUid) return { done: false, why: 'that object no longer exists' };
  return { done: await carries(intent, read.value) };
}

/** A PodCertificateRequest issued (with that leaf), denied or failed: does the object with that UID now say so? */
async function settlePcrWrite(ctx: ClusterContext, intent: AuditEntry): Promise<Settled | undefined> {
  const gone = { done: false, why: 'that object no longer exists' };
  const apis = await podCertificateApis(ctx);
  if (!apis.ok) return undefined;
  const version = apis.value.podCertificateRequests;
  if (!version) return gone;
  const read = await readPcr(ctx, version, intent.namespace ?? '', intent.csrName ?? '');
  if (!read.ok) return read.error.kind === 'not-found' ? gone : undefined;
  const pcr = read.value;
  if (pcr.metadata?.uid !== intent.csrUid) return gone;
  const state = pcrState(pcr);
  if (intent.action === 'deny') return { done: state === 'Denied' };
  if (intent.action === 'mark-failed') return { done: state === 'Failed' };
  return { done: state === 'Issued' && (await leafIs(pcr.status?.certificateChain, intent.sha256Fingerprint)) };
}

/** An export or a request (any object written whole): does the object hold the fields it was to be written with? An
 * update must also still be the object it replaced (same UID); a name the server picked is looked for in the list. */
async function settleObjectWrite(ctx: ClusterContext, target: AuditTarget): Promise<Settled | undefined> {
  const holds = (o: RawObject) => {
    const meta = (o.metadata ?? {}) as { uid?: string; generateName?: string };
    return (
      fieldsSha256(o, target.fields) === target.sha256 &&
      (!target.uid || meta.uid === target.uid) &&
      (target.name !== undefined || meta.generateName === target.generateName)
    );
  };
  let found = false;
  if (target.name !== undefined) {
    const read = await getIfPresent(ctx, target.path);
    if (!read.ok) return undefined;
    found = !!read.value && holds(read.value);
  } else {
    const list = await listEach(ctx, target.path, (items) => {
      found ||= items.some(holds);
    });
    if (!list.ok) return undefined;
  }
  return found ? { done: true } : { done: false, why: 'it does not hold what was to be written' };
}

function describeIntent(intent: AuditEntry): string {
  const t = intent.target;
  const object = t
    ? `${t.kind} ${[t.namespace, t.name ?? `${t.generateName}…`].filter(Boolean).join('/')}`
    : intent.kind
      ? `${intent.kind} "${intent.namespace}/${intent.csrName}" (UID ${intent.csrUid ?? '?'})`
      : `CSR "${intent.csrName}" (UID ${intent.csrUid ?? '?'})`;
  return `${intent.action} of ${object} in ${intent.context} from ${intent.time}`;
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
    if (!ctx) continue;
    const settled = intent.target
      ? await settleObjectWrite(ctx, intent.target)
      : intent.kind === 'PodCertificateRequest'
        ? await settlePcrWrite(ctx, intent)
        : intent.csrName
          ? await settleCsrWrite(ctx, intent)
          : undefined;
    if (!settled) continue; // unreachable now (or nothing to read): try again next start
    const detail = `reconciled on start: ${describeIntent(intent)} was ${settled.done ? 'done' : 'not done'}${
      settled.why ? ` (${settled.why})` : ''
    }`;
    const { time: _t, localUser: _u, phase: _p, outcome: _o, detail: _d, pid: _i, host: _h, ...rest } = intent;
    const entry: AuditInput = {
      ...rest,
      phase: 'outcome',
      outcome: settled.done ? 'ok' : 'error',
      reconciled: true,
      detail,
      ...(options.localUser ? { localUser: options.localUser } : {}),
    };
    await appendAudit(entry, file);
    said.push(detail);
  }
  return said;
}

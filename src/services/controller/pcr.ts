// The controller's PodCertificateRequest work (`controller --pcr`, issue 20): a reflector follows the PCRs of the
// served version (v1, else v1beta1), and while the replica leads, each Pending request of its signers is judged by
// the same findings and policy as `sign pcr`: a failing finding denies it (reason CertdeskPolicy; an unsupported key
// type is marked Failed with UnsupportedKeyType, as the API suggests), warnings follow --on-warn, anything else is
// issued with the signer's CA. Writes go through services/actions/pcr.ts: bound to the object checked, audited.
import { decidePcr, pcrFindings, signPcr } from '../actions/pcr.js';
import type { AuditSink } from '../actions/audit-helpers.js';
import { codesAt } from '../actions/gate.js';
import { type ClusterContext, type KubeError, pcrClusterFacts, pcrState, type WirePcr } from '../kube/index.js';
import { Reflector } from '../kube/reflector.js';
import type { LoadedCa } from '../pki/index.js';
import type { Policy } from '../policy/index.js';
import type { WarnAction } from './decide.js';
import { createWorkQueue, type WorkQueue, type WorkResult } from './work-queue.js';

export const CERTDESK_POLICY_REASON = 'CertdeskPolicy';
export const UNSUPPORTED_KEY_TYPE = 'UnsupportedKeyType';

export interface PcrWorkerOptions {
  context: ClusterContext;
  /** The served PodCertificateRequest version. */
  version: string;
  signers: ReadonlySet<string>;
  cas: ReadonlyMap<string, { ca: LoadedCa }>;
  policy: Policy;
  onWarn: WarnAction;
  dryRun: boolean;
  audit: AuditSink;
  isLeader(): boolean;
  say(event: string, fields: Record<string, string | number | undefined>): void;
  concurrency: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface PcrStats {
  issued: number;
  denied: number;
  failed: number;
}

export interface PcrWorker {
  start(signal: AbortSignal): void;
  enqueueAll(): void;
  queue: WorkQueue;
  stats: PcrStats;
  /** The reflector has listed once. */
  synced(): boolean;
}

/** Refusals that mean the request is not (or no longer) this replica's to act on. */
const MOVED_ON = new Set(['AlreadyIssued', 'Denied', 'Failed', 'AlreadyDenied', 'AlreadyFailed', 'WrongSigner']);

export function createPcrWorker(options: PcrWorkerOptions): PcrWorker {
  const { context: ctx, version, say } = options;
  const cache = new Map<string, WirePcr>();
  const stats: PcrStats = { issued: 0, denied: 0, failed: 0 };
  const lastLogged = new Map<string, string>();
  let listed = false;
  const ours = (pcr: WirePcr | undefined) =>
    !!pcr && options.signers.has(pcr.spec?.signerName ?? '') && pcrState(pcr) === 'Pending';

  function logOnce(key: string, event: string, fields: Record<string, string | number | undefined>): void {
    const line = JSON.stringify([event, fields]);
    if (lastLogged.get(key) === line) return;
    lastLogged.set(key, line);
    say(event, fields);
  }

  function afterError(key: string, action: string, error: KubeError): WorkResult {
    if (error.reason === 'Replaced' || error.reason === 'Changed') {
      say(error.reason === 'Replaced' ? 'replaced' : 'changed', { action, pcr: key, message: error.message });
      return 'retry';
    }
    if (error.kind === 'not-found' || (error.kind === 'refused' && MOVED_ON.has(error.reason ?? ''))) return 'done';
    logOnce(key, 'write-error', { action, pcr: key, kind: error.kind, error: error.message });
    return 'retry';
  }

  async function reconcile(key: string): Promise<WorkResult> {
    if (!options.isLeader() && !options.dryRun) return 'done'; // re-queued when this replica starts leading
    const pcr = cache.get(key);
    if (!ours(pcr) || !pcr) return 'done';
    const namespace = pcr.metadata?.namespace ?? '';
    const name = pcr.metadata?.name ?? '';
    const signer = pcr.spec?.signerName ?? '';
    const facts = await pcrClusterFacts(ctx, pcr);
    const { findings } = await pcrFindings(ctx, pcr, { policy: options.policy, facts });
    const failing = codesAt(findings, 'fail');
    const warnings = codesAt(findings, 'warn');
    const why = findings
      .filter((f) => f.level === 'fail' || f.level === 'warn')
      .map((f) => `${f.code}: ${f.message}`)
      .join(' ');
    let verdict: 'issue' | 'deny' | 'fail' | 'leave' = 'issue';
    if (failing.includes('key-type')) verdict = 'fail';
    else if (failing.length) verdict = 'deny';
    else if (warnings.length)
      verdict = options.onWarn === 'approve' ? 'issue' : options.onWarn === 'deny' ? 'deny' : 'leave';
    const fields = { pcr: key, signer };
    if (verdict === 'leave') {
      logOnce(key, 'left-pending', { ...fields, why });
      return 'done';
    }
    if (options.dryRun) {
      say(`would-${verdict}`, { ...fields, ...(why ? { why } : {}) });
      return 'done';
    }
    if (!options.isLeader()) return 'done'; // the fence: only the leader writes
    const common = { pcr, audit: options.audit };
    if (verdict === 'deny' || verdict === 'fail') {
      const reason = verdict === 'fail' ? UNSUPPORTED_KEY_TYPE : CERTDESK_POLICY_REASON;
      const message = `certdesk policy ${options.policy.name}: ${why}`.slice(0, 4000);
      const r = await decidePcr(verdict === 'fail' ? 'Failed' : 'Denied', ctx, version, namespace, name, {
        ...common,
        reason,
        message,
      });
      if (!r.ok) return afterError(key, verdict, r.error);
      if (r.value.changed) {
        if (verdict === 'fail') stats.failed++;
        else stats.denied++;
        say(verdict === 'fail' ? 'failed' : 'denied', { ...fields, reason, message });
      }
      return 'done';
    }
    const signerCa = options.cas.get(signer);
    if (!signerCa) return 'done';
    const r = await signPcr(ctx, version, namespace, name, {
      ...common,
      ca: signerCa.ca,
      signerName: signer,
      policy: options.policy,
      facts,
    });
    if (!r.ok) return afterError(key, 'sign', r.error);
    stats.issued++;
    say('issued', {
      ...fields,
      serial: r.value.serial,
      notAfter: r.value.notAfter.toISOString(),
      beginRefreshAt: r.value.beginRefreshAt.toISOString(),
    });
    return 'done';
  }

  const queue = createWorkQueue(reconcile, {
    concurrency: options.concurrency,
    backoffInitialMs: options.backoff.initialMs,
    backoffMaxMs: options.backoff.maxMs,
  });
  const keyOf = (raw: Record<string, unknown>) => {
    const m = (raw.metadata ?? {}) as { name?: string; namespace?: string };
    return `${m.namespace ?? ''}/${m.name ?? ''}`;
  };
  const [only] = options.signers;
  const reflector = new Reflector(
    {
      context: ctx,
      path: `/apis/certificates.k8s.io/${version}/podcertificaterequests`,
      keyOf,
      ...(options.signers.size === 1 && only ? { fieldSelector: `spec.signerName=${only}` } : {}),
      pageSize: 500,
      backoff: options.backoff,
      watchTimeoutSeconds: 300,
      connectTimeoutMs: 15_000,
    },
    {
      upsert(key, raw) {
        const pcr = raw as WirePcr;
        cache.set(key, pcr);
        if (ours(pcr)) queue.add(key);
      },
      remove(key) {
        cache.delete(key);
        lastLogged.delete(key);
      },
      status(status) {
        if (status.phase === 'error') say('pcr-watch-error', { kind: status.error.kind, error: status.error.message });
      },
      listed() {
        listed = true;
      },
      count() {},
    },
  );
  return {
    queue,
    stats,
    synced: () => listed,
    start(signal) {
      void reflector.start(signal);
    },
    enqueueAll() {
      for (const [key, pcr] of cache) if (ours(pcr)) queue.add(key);
    },
  };
}

// The controller: follows CSRs with informers (services/kube's store), decides each one of its signers under the
// policy (decide.ts), and, while it leads, approves, denies, issues and uploads, or marks Failed. A keyed work
// queue serialises work per CSR, retries transient errors with backoff and re-reads after conflicts.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { appendAudit } from '../config/audit.js';
import {
  type ClusterContext,
  type ClusterStore,
  createClusterStore,
  type KubeError,
  type KubeResult,
  podCertificateApis,
} from '../kube/index.js';
import { checkSignerRules, type LoadedCa, type SigningProfile } from '../pki/index.js';
import { auditedRequests, type Policy, RequestIndexCache } from '../policy/index.js';
import { readAudit } from '../config/audit.js';
import { dnsChecksFor, type FactsSource, factsOf, needsNodes } from '../actions/facts.js';
import type { AuditSink } from '../actions/audit-helpers.js';
import { approveWithAudit, denyWithAudit } from '../actions/approval.js';
import { caTrustFor } from '../actions/ca-trust.js';
import { signCsr } from '../actions/sign.js';
import { reconcileAudit } from '../actions/reconcile.js';
import { terminalSafe } from '../text/sanitize.js';
import { type DecideFacts, type DecideSettings, type Decision, decide, type WarnAction } from './decide.js';
import { createLeaderElector, type LeaderElectionTimings, type LeaderElector } from './leader-election.js';
import { ControllerMetrics } from './metrics.js';
import { createPcrWorker, type PcrStats, type PcrWorker } from './pcr.js';
import { createWorkQueue, type WorkQueue, type WorkResult } from './work-queue.js';

/** The CA a signer name signs with, and the profile (durations, allowed usages) it applies. */
export interface SignerCa {
  ca: LoadedCa;
  profile?: SigningProfile;
}

export interface ControllerOptions {
  /** The cluster to serve. */
  context: ClusterContext;
  /** Signer names served; CSRs of other signers are never touched. */
  signers: string[];
  policy: Policy;
  approve: boolean;
  sign: boolean;
  /** Issue, deny or fail the PodCertificateRequests of the signers too (controller --pcr; needs a CA per signer). */
  pcr?: boolean;
  /** What to do when the findings have warnings and no failure. @default 'leave' */
  onWarn?: WarnAction;
  /** One CA per signer name (needed for each signer when sign is set). */
  cas?: ReadonlyMap<string, SignerCa>;
  checkSignerRules?: DecideSettings['checkSignerRules'];
  /** Log decisions only: no writes, no lease. */
  dryRun?: boolean;
  /** Lease-based leader election; `false` acts without a lease (one replica only). */
  leaderElection?: false | ({ namespace: string; name: string; identity?: string } & Partial<LeaderElectionTimings>);
  metrics?: ControllerMetrics;
  /** One line per decision and event; values are terminal-safe. @default stderr */
  log?: (line: string) => void;
  /** `text`: `time event key=value…`; `json`: one JSON object per line. @default 'text' */
  logFormat?: 'text' | 'json';
  /** Parallel CSR workers. @default 8 */
  concurrency?: number;
  /** Work-queue retry backoff, ms. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Append every write (an intent before it, an outcome after it) to this audit log (services/config/audit); the
   * command defaults it to <state dir>/audit.jsonl. Unset: no audit (library use, tests). */
  auditFile?: string;
  /** A store to use instead of making one (tests, or to share the TUI's). It must follow CSRs and pods. */
  store?: ClusterStore;
  /** Follow pods only in these namespaces (to link requestors to pods); default: all namespaces. */
  podNamespaces?: string[];
}

export interface ControllerStats {
  approved: number;
  denied: number;
  issued: number;
  failed: number;
  leftPending: number;
}

export interface Controller {
  /** Starts informers, leader election and workers; resolves once the CSR cache has synced (or 30 s passed). */
  start(): Promise<void>;
  /**
   * Finishes in-flight writes, releases the lease, stops informers. Idempotent.
   * `releaseLease: false` leaves the lease to expire (what a crashed replica does; for tests and drills).
   */
  stop(options?: { releaseLease?: boolean }): Promise<void>;
  isLeader(): boolean;
  /** This replica's lease identity. */
  identity: string;
  metrics: ControllerMetrics;
  /** Counts of this replica's own writes. */
  stats(): ControllerStats;
  /** Names of CSRs whose certificate this replica uploaded. */
  issuedNames(): readonly string[];
  /** Counts of this replica's PodCertificateRequest writes (with --pcr). */
  pcrStats(): PcrStats;
  /** Resolves when no CSR work is queued or waiting for a retry. */
  whenIdle(): Promise<void>;
  /** Health for /healthz: fails only while shutting down. */
  health(): { ok: boolean; reason?: string };
  /** Readiness for /readyz: the CSR cache has synced (followers are ready too: they stand by). */
  ready(): { ok: boolean; reason?: string };
}

const TRANSIENT: ReadonlySet<KubeError['kind']> = new Set([
  'conflict',
  'gone',
  'too-many-requests',
  'server',
  'timeout',
  'unreachable',
  'tls',
  'unknown',
  'forbidden',
  'unauthorized',
]);

/** signCsr refusals that mean the CSR is not (or no longer) ours to sign; any other refusal (an expired or
 * unusable CA) is retried with backoff. */
const MOVED_ON: ReadonlySet<string> = new Set([
  'Denied',
  'Failed',
  'AlreadyIssued',
  'NotApproved',
  'WrongSigner',
  'BadRequest',
  // A person approved it over a failing finding: the controller never signs that (policy decides; a person
  // signs it with --override).
  'FindingsFail',
]);

function kv(fields: Record<string, string | number | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => {
      const s = terminalSafe(String(v), { maxLength: 400 });
      return `${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
    })
    .join(' ');
}

function has(csr: V1CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type);
}

export function defaultIdentity(): string {
  return `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
}

export function createController(options: ControllerOptions): Controller {
  const ctx = options.context;
  const signers = new Set(options.signers);
  const dryRun = options.dryRun ?? false;
  const metrics = options.metrics ?? new ControllerMetrics();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings: DecideSettings = {
    signers,
    approve: options.approve,
    sign: options.sign,
    policy: options.policy,
    onWarn: options.onWarn ?? 'leave',
    checkSignerRules: options.checkSignerRules ?? checkSignerRules,
  };
  const cas = options.cas ?? new Map<string, SignerCa>();
  if ((options.sign || options.pcr) && !dryRun) {
    const missing = options.signers.filter((s) => !cas.has(s));
    if (missing.length)
      throw new Error(`No CA for signer ${missing.join(', ')}: pass --ca-cert/--ca-key or --signer-ca for it.`);
  }
  // Nodes are followed only when the policy's node-addresses finding concerns a signer served here.
  const followNodes = needsNodes(options.policy, options.signers);
  const identity = (options.leaderElection ? options.leaderElection.identity : undefined) ?? defaultIdentity();
  const store: ClusterStore =
    options.store ??
    createClusterStore([ctx], {
      pods: true,
      tigera: false,
      nodes: followNodes,
      backoff: options.backoff ?? {},
      ...(options.podNamespaces?.length ? { namespaces: options.podNamespaces } : {}),
    });
  const ownStore = !options.store;
  // The policy's DNS check (opt-in): each decision waits for its names' answers (the gate settles them).
  const dns = dnsChecksFor(options.policy);
  const facts: FactsSource = { store, index: new RequestIndexCache(), nodes: followNodes, ...(dns ? { dns } : {}) };

  const stats: ControllerStats = { approved: 0, denied: 0, issued: 0, failed: 0, leftPending: 0 };
  const issuedHere = new Map<string, string>(); // uid → name
  const leftFor = new Map<string, string>(); // name → last "leave" reason logged
  const lastLogged = new Map<string, string>(); // name → last message logged for a refusal to act
  let stopping = false;
  let waitingForCache = false;
  let stopped: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;
  const queueBusy = () => queue.size() > 0 || (pcrWorker?.queue.size() ?? 0) > 0;
  let pcrWorker: PcrWorker | undefined;
  const pcrAbort = new AbortController();

  const elector: LeaderElector | undefined =
    options.leaderElection && !dryRun
      ? createLeaderElector({
          ...options.leaderElection,
          identity,
          kubeConfig: ctx.kubeConfig,
          log: (line) => say('lease', { message: line }),
          onStartedLeading: () => {
            metrics.leader.set(1);
            enqueueAll();
            pcrWorker?.enqueueAll();
          },
          onStoppedLeading: () => metrics.leader.set(0),
        })
      : undefined;
  const isLeader = () => (elector ? elector.isLeader() : !stopping || queueBusy());
  metrics.leader.set(elector || dryRun ? 0 : 1);

  function say(event: string, fields: Record<string, string | number | undefined>): void {
    const time = new Date().toISOString();
    if (options.logFormat === 'json') {
      const safe: Record<string, string | number> = { time, event };
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined && v !== '') safe[k] = typeof v === 'number' ? v : terminalSafe(v, { maxLength: 1024 });
      }
      log(JSON.stringify(safe));
    } else {
      log(`${time} ${event} ${kv(fields)}`);
    }
  }

  function ours(csr: V1CertificateSigningRequest | undefined): boolean {
    return !!csr && signers.has(csr.spec?.signerName ?? '');
  }

  function enqueueAll(): void {
    for (const [name, csr] of store.snapshot(ctx.name).csrs) if (ours(csr)) queue.add(name);
  }

  function updatePending(): void {
    const counts = new Map<string, number>(options.signers.map((s) => [s, 0]));
    for (const csr of store.snapshot(ctx.name).csrs.values()) {
      const s = csr.spec?.signerName ?? '';
      if (!counts.has(s)) continue;
      if (has(csr, 'Denied') || has(csr, 'Failed') || csr.status?.certificate) continue;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    for (const [s, n] of counts) metrics.pending.set(n, { signer: s });
  }

  /** Handles a failed write: transient → retry; the CSR moved on (refused, not found, invalid) → done. */
  function afterError(action: string, name: string, signer: string, error: KubeError): WorkResult {
    metrics.errors.inc({ signer, kind: error.kind });
    const message = `${action} ${name}: ${error.message}`;
    if (lastLogged.get(name) !== message) {
      lastLogged.set(name, message);
      say('write-error', { action, csr: name, signer, kind: error.kind, error: error.message });
    }
    return TRANSIENT.has(error.kind) ? 'retry' : 'done';
  }

  async function write<T>(fn: () => Promise<KubeResult<T>>): Promise<KubeResult<T> | undefined> {
    if (!isLeader()) return undefined; // the fence: only the leader writes
    return fn();
  }

  const auditSinkFor: AuditSink = async (entry) => {
    if (!options.auditFile) return;
    try {
      await appendAudit({ ...entry, localUser: `controller:${identity}` }, options.auditFile);
    } catch (err) {
      say('audit-error', { error: err instanceof Error ? err.message : String(err) });
      // No write without its intent on disk: the work is retried.
      if (entry.phase === 'intent') throw err;
    }
  };
  const gate = (known: DecideFacts) => ({
    policy: settings.policy,
    ...known,
    ...(settings.checkSignerRules ? { checkSignerRules: settings.checkSignerRules } : {}),
    audit: auditSinkFor,
  });

  /** Signs through the same action as `certdesk sign` (services/actions): quorum re-read, signer rules, issue, upload. */
  async function sign(csr: V1CertificateSigningRequest, known: DecideFacts): Promise<WorkResult> {
    const name = csr.metadata?.name ?? '';
    const uid = csr.metadata?.uid ?? '';
    const signer = csr.spec?.signerName ?? '';
    if (issuedHere.has(uid)) return 'done';
    if (dryRun) {
      say('would-sign', { csr: name, signer });
      return 'done';
    }
    const signerCa = cas.get(signer);
    if (!signerCa || !isLeader()) return 'done';
    const started = performance.now();
    const r = await signCsr(ctx, name, {
      csr,
      ca: signerCa.ca,
      signerName: signer,
      ...(signerCa.profile ? { profile: signerCa.profile } : {}),
      ...gate(known),
    });
    if (!r.ok) {
      // Replaced under the same name: the new object is judged from scratch.
      if (r.error.reason === 'Replaced' || r.error.reason === 'Changed')
        return replacedOrChanged('sign', name, signer, r.error);
      if (r.error.reason === 'FindingsFail') logOnce(name, 'sign-refused', signer, r.error.message);
      // The CSR moved on (issued elsewhere, denied, failed, deleted): nothing to do. Never overwrite.
      if (r.error.kind === 'refused' && MOVED_ON.has(r.error.reason ?? '')) return 'done';
      if (r.error.kind === 'refused') {
        metrics.errors.inc({ signer, kind: r.error.reason ?? 'refused' });
        if (lastLogged.get(name) !== r.error.message) {
          lastLogged.set(name, r.error.message);
          say('sign-error', { csr: name, signer, error: r.error.message });
        }
        return 'retry';
      }
      if (r.error.kind === 'not-found') return 'done';
      return afterError('sign', name, signer, r.error);
    }
    const outcome = r.value;
    if (outcome.kind === 'marked-failed') {
      stats.failed++;
      metrics.failed.inc({ signer });
      say('failed', { csr: name, signer, reason: outcome.reason, message: outcome.message });
      return 'done';
    }
    issuedHere.set(uid, name);
    stats.issued++;
    metrics.issued.inc({ signer });
    metrics.signLatency.observe((performance.now() - started) / 1000, { signer });
    const created = csr.metadata?.creationTimestamp ? new Date(csr.metadata.creationTimestamp).getTime() : undefined;
    if (created) metrics.timeToIssue.observe(Math.max(0, Date.now() - created) / 1000, { signer });
    say('issued', { csr: name, signer, serial: outcome.serial, notAfter: outcome.notAfter.toISOString() });
    return 'done';
  }

  function logOnce(name: string, event: string, signer: string, message: string): void {
    if (lastLogged.get(name) === message) return;
    lastLogged.set(name, message);
    say(event, { csr: name, signer, error: message });
  }

  /** A write found the object replaced (another UID) or changed too often: requeue; the store has the news. */
  function replacedOrChanged(action: string, name: string, signer: string, error: KubeError): WorkResult {
    metrics.errors.inc({ signer, kind: error.reason ?? error.kind });
    say(error.reason === 'Replaced' ? 'replaced' : 'changed', { action, csr: name, signer, message: error.message });
    return 'retry';
  }

  async function act(
    csr: V1CertificateSigningRequest,
    decision: Decision,
    known: DecideFacts,
  ): Promise<WorkResult | V1CertificateSigningRequest> {
    const name = csr.metadata?.name ?? '';
    const uid = csr.metadata?.uid ?? '';
    const signer = csr.spec?.signerName ?? '';
    switch (decision.kind) {
      case 'ignore':
        return 'done';
      case 'leave': {
        if (leftFor.get(name) !== decision.why) {
          leftFor.set(name, decision.why);
          stats.leftPending++;
          metrics.left.inc({ signer });
          say('left-pending', { csr: name, signer, why: decision.why });
        }
        return 'done';
      }
      case 'approve': {
        if (dryRun) {
          say('would-approve', { csr: name, signer, message: decision.message });
          if (settings.sign) say('would-sign', { csr: name, signer });
          return 'done';
        }
        // A CA the cluster does not trust for the signer would leave the request approved and never signed: it
        // waits (retried with backoff, logged once) until the CA or the cluster's statement changes.
        const held = settings.sign ? cas.get(signer) : undefined;
        if (held) {
          const trust = await caTrustFor(ctx, held.ca, signer);
          const problem = !trust.ok
            ? trust.error.message
            : trust.value?.level === 'fail'
              ? trust.value.message
              : undefined;
          if (problem) {
            metrics.errors.inc({ signer, kind: trust.ok ? 'CaUntrusted' : trust.error.kind });
            logOnce(name, 'sign-error', signer, problem);
            return 'retry';
          }
        }
        // The same findings gate as every face, without overrides, bound to the object decided on.
        const r = await write(() =>
          approveWithAudit(ctx, name, { csr, reason: decision.reason, message: decision.message, ...gate(known) }),
        );
        if (!r) return 'done';
        if (!r.ok) {
          if (r.error.reason === 'Replaced' || r.error.reason === 'Changed' || r.error.reason === 'FindingsFail')
            return replacedOrChanged('approve', name, signer, r.error);
          return afterError('approve', name, signer, r.error);
        }
        leftFor.delete(name);
        if (r.value.changed) {
          stats.approved++;
          metrics.approved.inc({ signer });
          say('approved', { csr: name, signer, uid, reason: decision.reason });
        }
        return r.value.csr;
      }
      case 'deny': {
        if (dryRun) {
          say('would-deny', { csr: name, signer, message: decision.message });
          return 'done';
        }
        const r = await write(() =>
          denyWithAudit(ctx, name, { csr, reason: decision.reason, message: decision.message, audit: auditSinkFor }),
        );
        if (!r) return 'done';
        if (!r.ok) {
          if (r.error.reason === 'Replaced' || r.error.reason === 'Changed')
            return replacedOrChanged('deny', name, signer, r.error);
          return afterError('deny', name, signer, r.error);
        }
        leftFor.delete(name);
        if (r.value.changed) {
          stats.denied++;
          metrics.denied.inc({ signer });
          say('denied', { csr: name, signer, uid, reason: decision.reason, message: decision.message });
        }
        return 'done';
      }
      case 'sign':
        return sign(csr, known);
    }
  }

  async function reconcile(name: string): Promise<WorkResult> {
    if (!isLeader() && !dryRun) return 'done'; // re-queued when this replica starts leading
    const snapshot = store.snapshot(ctx.name);
    let csr = snapshot.csrs.get(name);
    // Findings link requestors to pods: judge a pending CSR only once the pod cache is complete (a missing pod
    // would otherwise look like a requestor without a pod). Re-queued when the store syncs.
    if (csr && settings.approve && !snapshot.synced && !has(csr, 'Approved') && !has(csr, 'Denied')) {
      if (!waitingForCache) {
        waitingForCache = true;
        say('waiting', {
          why: 'the pod cache has not synced yet; pending CSRs are judged once it has',
          context: ctx.name,
        });
      }
      return 'retry';
    }
    // Approve then sign in one go: the approve write returns the approved CSR.
    for (let step = 0; step < 3 && csr && ours(csr); step++) {
      const known = factsOf(facts, ctx.name);
      const decision = await decide(csr, settings, known);
      const next = await act(csr, decision, known);
      if (typeof next === 'string') return next;
      csr = next;
    }
    return 'done';
  }

  /** `--pcr`: the PodCertificateRequests of the signers, at the version the cluster serves. */
  async function startPcr(): Promise<void> {
    const apis = await podCertificateApis(ctx);
    const version = apis.ok ? apis.value.podCertificateRequests : undefined;
    if (!version) {
      say('pcr-not-served', {
        context: ctx.name,
        note: apis.ok ? 'the cluster serves no PodCertificateRequests' : apis.error.message,
      });
      return;
    }
    pcrWorker = createPcrWorker({
      context: ctx,
      version,
      signers,
      cas,
      policy: settings.policy,
      onWarn: settings.onWarn ?? 'leave',
      dryRun,
      audit: auditSinkFor,
      isLeader,
      say,
      concurrency: options.concurrency ?? 8,
      backoff: { initialMs: options.backoff?.initialMs ?? 200, maxMs: options.backoff?.maxMs ?? 30_000 },
    });
    pcrWorker.start(pcrAbort.signal);
    say('pcr-following', { context: ctx.name, version });
  }

  const queue: WorkQueue = createWorkQueue(reconcile, {
    concurrency: options.concurrency ?? 8,
    backoffInitialMs: options.backoff?.initialMs ?? 200,
    backoffMaxMs: options.backoff?.maxMs ?? 30_000,
  });

  return {
    identity,
    metrics,
    isLeader,
    stats: () => ({ ...stats }),
    issuedNames: () => [...issuedHere.values()],
    pcrStats: () => ({ ...(pcrWorker?.stats ?? { issued: 0, denied: 0, failed: 0 }) }),
    whenIdle: async () => {
      await queue.whenIdle();
      await pcrWorker?.queue.whenIdle();
    },
    health() {
      if (stopping) return { ok: false, reason: 'shutting down' };
      return { ok: true };
    },
    ready() {
      if (stopping) return { ok: false, reason: 'shutting down' };
      const snapshot = store.snapshot(ctx.name);
      if (!snapshot.synced) return { ok: false, reason: 'the CSR cache has not synced yet' };
      return { ok: true };
    },
    async start() {
      say('starting', {
        identity,
        context: ctx.name,
        signers: options.signers.join(','),
        policy: options.policy.name,
        approve: String(options.approve),
        sign: String(options.sign),
        pcr: String(options.pcr ?? false),
        dryRun: String(dryRun),
      });
      unsubscribe = store.subscribe((batch) => {
        let podsChanged = false;
        for (const change of batch.changes) {
          if (change.context !== ctx.name) continue;
          const snapshot = store.snapshot(ctx.name);
          for (const name of change.upserted.csrs ?? []) if (ours(snapshot.csrs.get(name))) queue.add(name);
          for (const name of change.deleted.csrs ?? []) {
            leftFor.delete(name);
            lastLogged.delete(name);
            // Forget what this replica issued once the CSR is gone (bounded memory in long runs).
            for (const [uid, issuedName] of issuedHere) if (issuedName === name) issuedHere.delete(uid);
          }
          if (change.upserted.pods?.length || change.upserted.nodes?.length) podsChanged = true;
          if (change.synced) enqueueAll();
        }
        // A CSR left pending because its pod (or Node) was not known yet gets another look when they change.
        if (podsChanged) for (const name of leftFor.keys()) queue.add(name);
        updatePending();
      });
      if (options.auditFile && !dryRun) {
        // Intents a previous run left without an outcome (it died between the two): done or not done?
        const settled = await reconcileAudit((name) => (name === ctx.name ? ctx : undefined), {
          file: options.auditFile,
          localUser: `controller:${identity}`,
        }).catch((err: unknown) => {
          say('audit-error', { error: err instanceof Error ? err.message : String(err) });
          return [];
        });
        for (const line of settled) say('audit-reconciled', { message: line });
      }
      if (options.auditFile) {
        // Keys of requests decided earlier (the CSRs may be gone): key-reuse compares with them too.
        facts.audited = auditedRequests(await readAudit({ file: options.auditFile }).catch(() => []));
      }
      if (ownStore) store.start();
      if (options.pcr) await startPcr();
      elector?.start();
      const synced = await store.whenSynced(ctx.name, 30_000);
      if (!synced)
        say('not-synced', { context: ctx.name, note: 'the CSR cache has not synced yet; retrying in the background' });
      enqueueAll();
      updatePending();
    },
    stop(stopOptions = {}) {
      if (!stopped) {
        stopped = (async () => {
          stopping = true;
          say('stopping', { identity });
          unsubscribe?.();
          pcrAbort.abort();
          await Promise.all([queue.shutDown(), pcrWorker?.queue.shutDown()]); // in-flight writes finish first
          await elector?.stop({ release: stopOptions.releaseLease !== false });
          metrics.leader.set(0);
          if (ownStore) store.stop();
          say('stopped', { identity });
        })();
      }
      return stopped;
    },
  };
}

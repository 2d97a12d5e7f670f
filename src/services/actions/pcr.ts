// Issuing, denying and failing PodCertificateRequests (issue 20), for the commands, the TUI and the controller
// alike, with the CSR actions' rules (docs/safety.md): the findings gate an issue (--override names every failing
// code); every write is bound to the object checked (uid + resourceVersion) and a change of it (same UID) means
// checking again; the audit has an intent before the write and an outcome after it. Deny and Failed are always
// allowed (the safe direction); the kubelet asks again with a new request after either.
import type { ClusterContext, CsrBinding, KubeError, KubeResult } from '../kube/index.js';
import {
  objectReplaced,
  type PcrClusterFacts,
  type PcrStatusChange,
  pcrClusterFacts,
  pcrState,
  readPcr,
  setPcrStatus,
  type WirePcr,
} from '../kube/index.js';
import {
  issuePodCertificate,
  type LoadedCa,
  PkiError,
  type PodCertificateKey,
  podCertificateKey,
} from '../pki/index.js';
import { evaluatePcr, type Finding, type Policy } from '../policy/index.js';
import { terminalSafe } from '../text/sanitize.js';
import type { AuditInput } from '../config/audit.js';
import {
  type ActionContextOptions,
  type AuditSink,
  auditIntent,
  auditSink,
  errorEntry,
  outcomeOf,
} from './audit-helpers.js';
import { DECIDE_ROUNDS, keptChanging } from './approval.js';
import { caTrustFor } from './ca-trust.js';
import { blindFinding, blindRefusal, codesAt } from './gate.js';

export const CERTDESK_ISSUE_REASON = 'CertdeskIssued';

export interface PcrActionOptions extends ActionContextOptions {
  /** The object the decision is made on (what the person or the controller looked at); default: read now. */
  pcr?: WirePcr;
}

export interface PcrGateOptions {
  /** @default the built-in policy */
  policy?: Policy;
  /** Failing finding codes the person accepts; every failing code must be named. */
  overrides?: readonly string[];
  /** The pod, node and service account as the caller knows them (the controller's caches); default: read now. */
  facts?: PcrClusterFacts;
}

export interface SignPcrOptions extends PcrActionOptions, PcrGateOptions {
  ca: LoadedCa;
  /** The signer this CA signs for: a request for another signer is refused. */
  signerName?: string;
  /** Shorter than the request's maxExpirationSeconds and the policy's maximum (`--duration`). */
  durationSeconds?: number;
  trustDomain?: string;
  now?: Date;
}

export interface DecidePcrOptions extends PcrActionOptions {
  reason: string;
  message?: string;
}

const label = (pcr: WirePcr) =>
  `PodCertificateRequest "${terminalSafe(`${pcr.metadata?.namespace ?? ''}/${pcr.metadata?.name ?? ''}`, { maxLength: 200 })}"`;

function refusal(message: string, reason: string, context: string): KubeError {
  return { kind: 'refused', message, reason, context };
}

/** The requested key (or why it cannot be read) and the findings of a request in its cluster. */
export async function pcrFindings(
  ctx: ClusterContext,
  pcr: WirePcr,
  options: Pick<PcrGateOptions, 'policy' | 'facts'> = {},
): Promise<{ findings: Finding[]; key?: PodCertificateKey }> {
  let key: PodCertificateKey | { error: string };
  try {
    key = await podCertificateKey(pcr.spec ?? {});
  } catch (err) {
    key = { error: err instanceof Error ? err.message : String(err) };
  }
  const facts = options.facts ?? (await pcrClusterFacts(ctx, pcr));
  const findings = evaluatePcr({ pcr, key, ...facts, ...(options.policy ? { policy: options.policy } : {}) });
  return { findings, ...('error' in key ? {} : { key }) };
}

/** Why the findings stop an issue, or undefined when they allow it (with these overrides). */
export function pcrFindingsRefusal(
  pcr: WirePcr,
  findings: readonly Finding[],
  overrides: readonly string[] | undefined,
  context: string,
): KubeError | undefined {
  const failing = codesAt(findings, 'fail');
  const ns = terminalSafe(pcr.metadata?.namespace ?? '');
  const name = terminalSafe(pcr.metadata?.name ?? '');
  const blind = blindFinding(findings);
  if (blind) {
    return refusal(
      blindRefusal(`${label(pcr)} was not issued`, blind, `Deny it (certdesk deny pcr ${name} -n ${ns} --reason R)`),
      'FindingsFail',
      context,
    );
  }
  const accepted = new Set(overrides ?? []);
  const missing = failing.filter((c) => !accepted.has(c));
  if (missing.length === 0) return undefined;
  const said = findings
    .filter((f) => f.level === 'fail' && missing.includes(f.code))
    .map((f) => `${f.code} (${terminalSafe(f.message, { maxLength: 300 }).replace(/\.$/, '')})`)
    .join('; ');
  const partial = accepted.size > 0 ? ` --override named only ${[...accepted].join(',')};` : '';
  return refusal(
    `${label(pcr)} was not issued: failing findings ${said};${partial} review it (certdesk describe pcr ${name} -n ${ns}) and, to accept them, name every failing finding: --override ${failing.join(',')}`,
    'FindingsFail',
    context,
  );
}

const bindingOf = (pcr: WirePcr): CsrBinding => ({
  uid: pcr.metadata?.uid ?? '',
  resourceVersion: pcr.metadata?.resourceVersion ?? '',
});

/** The object to decide on in this round: the given one, then a fresh read that must keep the first UID. */
async function currentPcr(
  ctx: ClusterContext,
  version: string,
  namespace: string,
  name: string,
  given: WirePcr | undefined,
  uid: string | undefined,
): Promise<KubeResult<WirePcr>> {
  if (given) return { ok: true, value: given };
  const read = await readPcr(ctx, version, namespace, name);
  const what = `PodCertificateRequest "${terminalSafe(`${namespace}/${name}`, { maxLength: 200 })}"`;
  if (!read.ok) {
    if (uid && read.error.kind === 'not-found') return { ok: false, error: objectReplaced(ctx, what, uid, undefined) };
    if (read.error.kind === 'not-found') {
      return {
        ok: false,
        error: {
          ...read.error,
          message: `podcertificaterequests.certificates.k8s.io "${terminalSafe(name)}" not found`,
        },
      };
    }
    return read;
  }
  const now = read.value.metadata?.uid ?? '';
  if (uid && now !== uid) return { ok: false, error: objectReplaced(ctx, what, uid, now) };
  return read;
}

export type SignPcrOutcome = {
  pcr: WirePcr;
  chainPem: string;
  /** Hex, no colons. */
  serial: string;
  sha256Fingerprint: string;
  notBefore: Date;
  beginRefreshAt: Date;
  notAfter: Date;
  findings: Finding[];
};

type AuditBase = Omit<AuditInput, 'outcome' | 'phase' | 'id' | 'csrName' | 'csrUid'>;

/**
 * Runs `step` on the object to decide on, then (when the write found it changed, same UID) on a fresh read, up to
 * DECIDE_ROUNDS times; a read that fails (deleted, replaced) is audited and returned.
 */
async function inRounds<T>(
  ctx: ClusterContext,
  version: string,
  namespace: string,
  name: string,
  options: PcrActionOptions,
  base: AuditBase,
  step: (pcr: WirePcr, round: number) => Promise<KubeResult<T> | 'changed'>,
): Promise<KubeResult<T>> {
  const sink = auditSink(options);
  let uid = options.pcr?.metadata?.uid;
  let next = options.pcr;
  for (let round = 0; round < DECIDE_ROUNDS; round++) {
    const read = await currentPcr(ctx, version, namespace, name, next, uid);
    next = undefined;
    if (!read.ok) {
      await sink(errorEntry({ ...base, csrName: name, ...(uid ? { csrUid: uid } : {}) }, read.error));
      return read;
    }
    uid = read.value.metadata?.uid ?? '';
    const result = await step(read.value, round);
    if (result !== 'changed') return result;
  }
  return { ok: false, error: keptChanging(ctx, `PodCertificateRequest "${terminalSafe(`${namespace}/${name}`)}"`) };
}

/** The audit fields naming the object decided on. */
const idsOf = (base: AuditBase, pcr: WirePcr) => ({
  ...base,
  csrName: pcr.metadata?.name ?? '',
  csrUid: pcr.metadata?.uid ?? '',
  resourceVersion: pcr.metadata?.resourceVersion ?? '',
  ...(pcr.spec?.signerName ? { signer: pcr.spec.signerName } : {}),
});

/** The intent, the /status write bound to `pcr`, the outcome; 'changed' when the object moved on (same UID). */
async function writeStatus(
  ctx: ClusterContext,
  version: string,
  pcr: WirePcr,
  change: PcrStatusChange,
  sink: AuditSink,
  intentEntry: Omit<AuditInput, 'outcome' | 'phase' | 'id'>,
  detail: string,
): Promise<KubeResult<{ pcr: WirePcr; changed: boolean }> | 'changed'> {
  const intent = await auditIntent(sink, intentEntry);
  const written = await setPcrStatus(ctx, version, pcr.metadata?.namespace ?? '', pcr.metadata?.name ?? '', change, {
    bind: bindingOf(pcr),
  });
  if (!written.ok) {
    await intent.outcome({ outcome: outcomeOf(written.error), detail: written.error.message });
    return written.error.reason === 'Changed' ? 'changed' : written;
  }
  const meta = written.value.pcr.metadata;
  await intent.outcome({
    outcome: 'ok',
    ...(meta?.uid ? { csrUid: meta.uid } : {}),
    ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
    detail,
  });
  return written;
}

/**
 * Issues a PodCertificateRequest's certificate with `ca` when it is Pending, for this signer, and its findings pass
 * (or every failing one is overridden); the chain and its times go up through /status bound to the object checked.
 * A request the CA cannot serve (no proof of possession, the CA too close to its end) is refused, never marked:
 * `fail pcr` does that.
 */
export async function signPcr(
  ctx: ClusterContext,
  version: string,
  namespace: string,
  name: string,
  options: SignPcrOptions,
): Promise<KubeResult<SignPcrOutcome>> {
  const sink = auditSink(options);
  const base: AuditBase = { context: ctx.name, action: 'sign', kind: 'PodCertificateRequest', namespace };
  return inRounds(ctx, version, namespace, name, options, base, async (pcr, round) => {
    const signer = pcr.spec?.signerName ?? '';
    const ids = idsOf(base, pcr);
    const refuse = async (error: KubeError) => {
      await sink(errorEntry(ids, error));
      return { ok: false as const, error };
    };
    const state = pcrState(pcr);
    if (state !== 'Pending') {
      return refuse(
        refusal(
          `${label(pcr)} is already ${state}; its status never changes after that.`,
          state === 'Issued' ? 'AlreadyIssued' : state,
          ctx.name,
        ),
      );
    }
    if (options.signerName && options.signerName !== signer) {
      return refuse(
        refusal(
          `${label(pcr)} asks for signer ${terminalSafe(signer)}, not ${options.signerName}; use the CA registered for ${terminalSafe(signer)}.`,
          'WrongSigner',
          ctx.name,
        ),
      );
    }
    // The CA against what the cluster trusts for the signer (ca-trust.ts): a read that fails stops the issue.
    const trust = await caTrustFor(ctx, options.ca, signer);
    if (!trust.ok)
      return refuse({
        ...trust.error,
        message: `${label(pcr)} was not issued: ${trust.error.message}`,
      });
    const { findings: policyFindings, key } = await pcrFindings(ctx, pcr, {
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.facts && round === 0 ? { facts: options.facts } : {}),
    });
    const findings = trust.value ? [...policyFindings, trust.value] : policyFindings;
    const gated = pcrFindingsRefusal(pcr, findings, options.overrides, ctx.name);
    if (gated) {
      // Only the CA's trust stops it: the request is fine (the controller retries instead of leaving it).
      const policyOnly = pcrFindingsRefusal(pcr, policyFindings, options.overrides, ctx.name);
      return refuse(policyOnly ? gated : { ...gated, reason: 'CaUntrusted' });
    }
    if (!key) return refuse(refusal(`The key of ${label(pcr)} cannot be read.`, 'BadRequest', ctx.name));
    const durations = [options.durationSeconds, options.policy?.podCertificates.maxDurationSeconds].filter(
      (d): d is number => d !== undefined,
    );
    let issued: Awaited<ReturnType<typeof issuePodCertificate>>;
    try {
      issued = await issuePodCertificate(
        key,
        options.ca,
        {
          signerName: signer,
          namespace,
          serviceAccountName: pcr.spec?.serviceAccountName ?? '',
          maxExpirationSeconds: pcr.spec?.maxExpirationSeconds ?? 86_400,
          ...(durations.length ? { durationSeconds: Math.min(...durations) } : {}),
          ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}),
        },
        options.now ?? new Date(),
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return refuse(
        refusal(`${label(pcr)} was not issued: ${message}`, err instanceof PkiError ? err.code : 'SignError', ctx.name),
      );
    }
    const cert = issued.certificate;
    const accepted = codesAt(findings, 'fail');
    const warnings = codesAt(findings, 'warn');
    const written = await writeStatus(
      ctx,
      version,
      pcr,
      {
        type: 'Issued',
        reason: CERTDESK_ISSUE_REASON,
        message: `Issued by certdesk with ${cert.issuer.text}.`,
        certificateChain: issued.chainPem,
        notBefore: issued.notBefore,
        beginRefreshAt: issued.beginRefreshAt,
        notAfter: issued.notAfter,
      },
      sink,
      {
        ...ids,
        reason: CERTDESK_ISSUE_REASON,
        serial: cert.serialNumber,
        sha256Fingerprint: cert.sha256Fingerprint,
        ...(accepted.length ? { overrides: accepted } : {}),
        ...(warnings.length ? { warnings } : {}),
      },
      `issued by ${cert.issuer.text}, valid until ${issued.notAfter.toISOString()}, refresh from ${issued.beginRefreshAt.toISOString()}`,
    );
    if (written === 'changed' || !written.ok) return written;
    return {
      ok: true,
      value: {
        pcr: written.value.pcr,
        chainPem: issued.chainPem,
        serial: cert.serialNumber,
        sha256Fingerprint: cert.sha256Fingerprint,
        notBefore: issued.notBefore,
        beginRefreshAt: issued.beginRefreshAt,
        notAfter: issued.notAfter,
        findings,
      },
    };
  });
}

/** kubectl-style condition reasons (metav1.Condition): CamelCase, at most 1024 characters. */
export const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * Denies (`Denied`) or marks Failed (`Failed`: the signer could not issue it) through /status, with the reason and
 * message: always allowed, bound to the object decided on; the same type again is a no-op, another final state is
 * refused.
 */
export function decidePcr(
  type: 'Denied' | 'Failed',
  ctx: ClusterContext,
  version: string,
  namespace: string,
  name: string,
  options: DecidePcrOptions,
): Promise<KubeResult<{ pcr: WirePcr; changed: boolean }>> {
  const sink = auditSink(options);
  const message = options.message ?? `This request was ${type === 'Denied' ? 'denied' : 'marked Failed'} by certdesk.`;
  const base: AuditBase = {
    context: ctx.name,
    action: type === 'Denied' ? 'deny' : 'mark-failed',
    kind: 'PodCertificateRequest',
    namespace,
    reason: options.reason,
  };
  return inRounds(ctx, version, namespace, name, options, base, async (pcr) => {
    const ids = idsOf(base, pcr);
    const state = pcrState(pcr);
    if (state === type) {
      await sink({ ...ids, outcome: 'ok', detail: `already ${type}; nothing written` });
      return { ok: true, value: { pcr, changed: false } };
    }
    if (state !== 'Pending') {
      const error = refusal(
        `${label(pcr)} is already ${state}; its status never changes after that.`,
        `Already${state}`,
        ctx.name,
      );
      await sink(errorEntry(ids, error));
      return { ok: false, error };
    }
    return writeStatus(ctx, version, pcr, { type, reason: options.reason, message }, sink, ids, message);
  });
}

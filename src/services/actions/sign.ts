// Signing one CSR with a local CA, as kube-controller-manager's signer does: re-read the CSR, sign only an
// Approved one that is not Denied, not Failed and not issued yet, with a CA that is still valid; a request the
// signer's rules refuse is marked Failed (SignerValidationFailure); the certificate goes up through /status,
// which never overwrites; the audit line carries the serial and the SHA-256 fingerprint.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  type ClusterContext,
  csrCondition,
  hasCondition,
  type KubeError,
  type KubeResult,
  markFailed,
  uploadCertificate,
} from '../kube/index.js';
import {
  checkSignerRules,
  type DecodedCsr,
  decodeCsr,
  issueCertificate,
  type LoadedCa,
  PkiError,
  type SigningProfile,
} from '../pki/index.js';
import type { Finding } from '../policy/index.js';
import {
  type ActionContextOptions,
  type AuditSink,
  auditIntent,
  auditSink,
  errorEntry,
  outcomeOf,
} from './audit-helpers.js';
import { approveWithAudit, changedTooOften, currentCsr, DECIDE_ROUNDS } from './approval.js';
import { terminalSafe } from '../text/sanitize.js';
import { CA_UNTRUSTED, caTrustFor } from './ca-trust.js';
import { bindingOf, codesAt, findingsFor, findingsRefusal, type GateOptions, keyFacts } from './gate.js';

export const SIGNER_VALIDATION_FAILURE = 'SignerValidationFailure';

/**
 * `error.reason` of a `refused` result from signCsr / approveAndSignCsr. Denied, Failed and AlreadyIssued mean the
 * CSR has moved on (nothing to retry); the others need a person (or a renewed CA).
 */
export type SignRefusalReason =
  | 'Denied'
  | 'Failed'
  | 'AlreadyIssued'
  | 'NotApproved'
  | 'WrongSigner'
  | 'CaExpired'
  | 'BadRequest'
  | 'FindingsFail'
  | 'CaUntrusted'
  | 'SignError';

export interface SignOptions extends ActionContextOptions, GateOptions {
  /** The object the decision is made on (what the person or the controller looked at); default: read now. */
  csr?: V1CertificateSigningRequest;
  ca: LoadedCa;
  /** The signerName this CA signs for (from the registry): a CSR for another signer is refused. Omit for a CA
   * given explicitly as files. */
  signerName?: string;
  profile?: SigningProfile;
  /** @default new Date() */
  now?: Date;
}

export type SignOutcome =
  | {
      kind: 'issued';
      csr: V1CertificateSigningRequest;
      certificatePem: string;
      /** Hex, no colons. */
      serial: string;
      sha256Fingerprint: string;
      notAfter: Date;
      findings: Finding[];
    }
  | {
      kind: 'marked-failed';
      csr: V1CertificateSigningRequest;
      reason: typeof SIGNER_VALIDATION_FAILURE;
      message: string;
      findings: Finding[];
    };

function refusal(message: string, reason: SignRefusalReason | PkiError['code'], context: string): KubeError {
  return { kind: 'refused', message, reason, context };
}

/** Why a CSR must not be signed now, or undefined when it may be. */
export function signRefusal(csr: V1CertificateSigningRequest, ctxName: string): KubeError | undefined {
  const name = csr.metadata?.name ?? '';
  if (hasCondition(csr, 'Denied')) {
    return refusal(`CSR "${name}" is Denied; a denied request is never signed.`, 'Denied', ctxName);
  }
  if (hasCondition(csr, 'Failed')) {
    return refusal(
      `CSR "${name}" is Failed (${csrCondition(csr)}); the requester must submit a new request.`,
      'Failed',
      ctxName,
    );
  }
  if (csr.status?.certificate) {
    return refusal(`CSR "${name}" is already issued; a certificate is never replaced.`, 'AlreadyIssued', ctxName);
  }
  if (!hasCondition(csr, 'Approved')) {
    return refusal(
      `CSR "${name}" is not approved yet; approve it first (certdesk approve ${name}, or sign --approve).`,
      'NotApproved',
      ctxName,
    );
  }
  return undefined;
}

/** Decodes spec.request; a PkiError becomes a refusal. */
export async function decodeCsrOf(csr: V1CertificateSigningRequest, ctxName: string): Promise<KubeResult<DecodedCsr>> {
  try {
    return { ok: true, value: await decodeCsr(csr.spec?.request ?? '') };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      error: refusal(
        `The request in CSR "${csr.metadata?.name ?? ''}" cannot be decoded: ${message}`,
        'BadRequest',
        ctxName,
      ),
    };
  }
}

/** Signs one CSR; every outcome (issued, marked Failed, refused, error) is audited before this resolves. The
 * findings gate applies (a failing finding is signed only when overridden); the upload and the Failed condition
 * are bound to the object checked, and a change of it (same UID) means checking again (docs/safety.md). */
export async function signCsr(
  ctx: ClusterContext,
  name: string,
  options: SignOptions,
): Promise<KubeResult<SignOutcome>> {
  const sink = auditSink(options);
  const now = options.now ?? new Date();
  const base = { context: ctx.name, action: 'sign' as const, csrName: name };
  let uid = options.csr?.metadata?.uid;
  let next = options.csr;
  for (let round = 0; round < DECIDE_ROUNDS; round++) {
    const read = await currentCsr(ctx, name, next, uid);
    next = undefined;
    if (!read.ok) {
      await sink(errorEntry({ ...base, ...(uid ? { csrUid: uid } : {}) }, read.error));
      return read;
    }
    const csr = read.value;
    uid = csr.metadata?.uid ?? '';
    const signed = await signRound(ctx, csr, options, now, sink);
    if (signed !== 'changed') return signed;
  }
  return { ok: false, error: changedTooOften(ctx, name) };
}

async function signRound(
  ctx: ClusterContext,
  csr: V1CertificateSigningRequest,
  options: SignOptions,
  now: Date,
  sink: AuditSink,
): Promise<KubeResult<SignOutcome> | 'changed'> {
  const name = csr.metadata?.name ?? '';
  const signer = csr.spec?.signerName ?? '';
  const ids = {
    context: ctx.name,
    action: 'sign' as const,
    csrName: name,
    csrUid: csr.metadata?.uid ?? '',
    resourceVersion: csr.metadata?.resourceVersion ?? '',
    signer,
  };
  const bind = bindingOf(csr);
  const fail = async (error: KubeError) => {
    await sink(errorEntry(ids, error));
    return { ok: false as const, error };
  };

  const notAllowed = signRefusal(csr, ctx.name);
  if (notAllowed) return fail(notAllowed);
  if (options.signerName && options.signerName !== signer) {
    return fail(
      refusal(
        `CSR "${name}" asks for signer ${signer}, not ${options.signerName}; use the CA registered for ${signer}.`,
        'WrongSigner',
        ctx.name,
      ),
    );
  }
  const caCert = options.ca.certificate;
  if (now.getTime() >= caCert.notAfter.getTime() || now.getTime() < caCert.notBefore.getTime()) {
    return fail(
      refusal(
        `The CA "${caCert.subject.text}" is not valid now (valid ${caCert.notBefore.toISOString()} to ${caCert.notAfter.toISOString()}); renew or import a valid CA.`,
        'CaExpired',
        ctx.name,
      ),
    );
  }

  const decoded = await decodeCsrOf(csr, ctx.name);
  if (!decoded.ok) return fail(decoded.error);
  const usages = csr.spec?.usages ?? [];

  // Marking Failed is the safe direction: no findings gate, but bound to the object checked.
  const markAsFailed = async (message: string): Promise<KubeResult<SignOutcome> | 'changed'> => {
    const failedIds = { ...ids, action: 'mark-failed' as const, reason: SIGNER_VALIDATION_FAILURE };
    const intent = await auditIntent(sink, failedIds);
    const marked = await markFailed(ctx, name, SIGNER_VALIDATION_FAILURE, message, { bind });
    if (!marked.ok) {
      await intent.outcome({ outcome: outcomeOf(marked.error), detail: marked.error.message });
      return marked.error.reason === 'Changed' ? 'changed' : marked;
    }
    await intent.outcome({
      outcome: 'ok',
      csrUid: marked.value.csr.metadata?.uid ?? ids.csrUid,
      detail: message,
    });
    return {
      ok: true,
      value: { kind: 'marked-failed', csr: marked.value.csr, reason: SIGNER_VALIDATION_FAILURE, message, findings: [] },
    };
  };

  const rule = checkSignerRules(signer, decoded.value, usages);
  if (rule) return markAsFailed(rule);

  const trust = await trustGate(ctx, csr, options);
  if (!trust.ok) return fail(trust.error);
  const { findings: policyFindings } = await findingsFor(csr, {
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.pods ? { pods: options.pods } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.checkSignerRules ? { checkSignerRules: options.checkSignerRules } : {}),
  });
  const findings = trust.value ? [...policyFindings, trust.value] : policyFindings;
  const gated = findingsRefusal(csr, findings, options.overrides, 'signed', ctx.name);
  if (gated) {
    // Only the CA's trust stops it: the request is fine (the controller retries instead of leaving it).
    const policyOnly = findingsRefusal(csr, policyFindings, options.overrides, 'signed', ctx.name);
    return fail(policyOnly ? gated : { ...gated, reason: 'CaUntrusted' });
  }
  const accepted = codesAt(findings, 'fail');
  const warnings = codesAt(findings, 'warn');

  let issued: Awaited<ReturnType<typeof issueCertificate>>;
  try {
    issued = await issueCertificate(
      decoded.value,
      options.ca,
      {
        usages,
        signerName: signer,
        ...(csr.spec?.expirationSeconds !== undefined ? { expirationSeconds: csr.spec.expirationSeconds } : {}),
        ...(options.profile ? { profile: options.profile } : {}),
      },
      now,
    );
  } catch (err) {
    if (err instanceof PkiError && err.code === 'signer-refused') return markAsFailed(err.message);
    const message = err instanceof Error ? err.message : String(err);
    return fail(refusal(message, err instanceof PkiError ? err.code : 'SignError', ctx.name));
  }

  const cert = issued.certificate;
  const intent = await auditIntent(sink, {
    ...ids,
    serial: cert.serialNumber,
    sha256Fingerprint: cert.sha256Fingerprint,
    ...(accepted.length ? { overrides: accepted } : {}),
    ...(warnings.length ? { warnings } : {}),
    ...keyFacts(csr, decoded.value),
  });
  const uploaded = await uploadCertificate(ctx, name, issued.pem, { bind });
  if (!uploaded.ok) {
    await intent.outcome({ outcome: outcomeOf(uploaded.error), detail: uploaded.error.message });
    return uploaded.error.reason === 'Changed' ? 'changed' : uploaded;
  }
  await intent.outcome({
    outcome: 'ok',
    csrUid: uploaded.value.metadata?.uid ?? ids.csrUid,
    ...(uploaded.value.metadata?.resourceVersion ? { resourceVersion: uploaded.value.metadata.resourceVersion } : {}),
    detail: `issued by ${caCert.subject.text}, valid until ${cert.notAfter.toISOString()}`,
  });
  return {
    ok: true,
    value: {
      kind: 'issued',
      csr: uploaded.value,
      certificatePem: issued.pem,
      serial: cert.serialNumber,
      sha256Fingerprint: cert.sha256Fingerprint,
      notAfter: cert.notAfter,
      findings,
    },
  };
}

/**
 * The `ca-untrusted` finding for this CA and request (docs/safety.md): what the cluster states it trusts for the
 * signer, read now; a statement that cannot be read is an error (the check was not made).
 */
async function trustGate(
  ctx: ClusterContext,
  csr: V1CertificateSigningRequest,
  options: Pick<SignOptions, 'ca'>,
): Promise<KubeResult<Finding | undefined>> {
  const signer = csr.spec?.signerName ?? '';
  const trust = await caTrustFor(ctx, options.ca, signer);
  if (trust.ok) return trust;
  return {
    ok: false,
    error: {
      ...trust.error,
      message: `CSR "${terminalSafe(csr.metadata?.name ?? '', { maxLength: 120 })}" was not signed: ${trust.error.message}`,
    },
  };
}

export type ApproveAndSignOptions = SignOptions & {
  /** Approval condition reason/message. */
  reason?: string;
  message?: string;
};

export type ApproveAndSignOutcome = SignOutcome & { approved: boolean };

/**
 * `sign --approve`: approves (unless already Approved) when the findings allow it, then signs the object that
 * approval was written to; both writes bound to what was checked.
 */
export async function approveAndSignCsr(
  ctx: ClusterContext,
  name: string,
  options: ApproveAndSignOptions,
): Promise<KubeResult<ApproveAndSignOutcome>> {
  const sink = auditSink(options);
  const read = await currentCsr(ctx, name, options.csr, undefined);
  if (!read.ok) {
    await sink(errorEntry({ context: ctx.name, action: 'approve', csrName: name }, read.error));
    return read;
  }
  let csr = read.value;
  let approved = false;
  if (!hasCondition(csr, 'Approved')) {
    // A CA the cluster does not trust would leave the request approved and never signed: refused before approving.
    const trust = await trustGate(ctx, csr, options);
    const untrusted = trust.ok && trust.value?.level === 'fail' ? trust.value : undefined;
    const error = !trust.ok
      ? trust.error
      : untrusted && !(options.overrides ?? []).includes(CA_UNTRUSTED)
        ? findingsRefusal(csr, [untrusted], options.overrides, 'approved', ctx.name)
        : undefined;
    if (error) {
      const refused = error.reason === 'FindingsFail' ? { ...error, reason: 'CaUntrusted' } : error;
      await sink(
        errorEntry({ context: ctx.name, action: 'approve', csrName: name, csrUid: csr.metadata?.uid ?? '' }, refused),
      );
      return { ok: false, error: refused };
    }
    const approval = await approveWithAudit(ctx, name, {
      csr,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.pods ? { pods: options.pods } : {}),
      ...(options.cluster ? { cluster: options.cluster } : {}),
      ...(options.overrides ? { overrides: options.overrides } : {}),
      ...(options.checkSignerRules ? { checkSignerRules: options.checkSignerRules } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.message ? { message: options.message } : {}),
      ...(options.audit ? { audit: options.audit } : {}),
    });
    if (!approval.ok) return approval;
    approved = approval.value.changed;
    csr = approval.value.csr;
  }
  const signed = await signCsr(ctx, name, { ...options, csr });
  if (!signed.ok) return signed;
  return { ok: true, value: { ...signed.value, approved } };
}

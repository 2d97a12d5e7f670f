// Signing one CSR with a local CA, as kube-controller-manager's signer does: re-read the CSR, sign only an
// Approved one that is not Denied, not Failed and not issued yet, with a CA that is still valid; a request the
// signer's rules refuse is marked Failed (SignerValidationFailure); the certificate goes up through /status,
// which never overwrites; the audit line carries the serial and the SHA-256 fingerprint.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  type ClusterContext,
  csrCondition,
  getCsr,
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
import { evaluateCsr, type Finding, type Policy, type PodLike, worstLevel } from '../policy/index.js';
import { type ActionContextOptions, auditSink, errorEntry } from './audit-helpers.js';
import { approveWithAudit } from './approval.js';

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
  | 'SignError';

export interface SignOptions extends ActionContextOptions {
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
    }
  | {
      kind: 'marked-failed';
      csr: V1CertificateSigningRequest;
      reason: typeof SIGNER_VALIDATION_FAILURE;
      message: string;
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

/** Signs one CSR; every outcome (issued, marked Failed, refused, error) is audited before this resolves. */
export async function signCsr(
  ctx: ClusterContext,
  name: string,
  options: SignOptions,
): Promise<KubeResult<SignOutcome>> {
  const sink = auditSink(options);
  const now = options.now ?? new Date();
  const base = { context: ctx.name, action: 'sign' as const, csrName: name };
  const fail = async (error: KubeError, extra: { csrUid?: string; signer?: string } = {}) => {
    await sink(errorEntry({ ...base, ...extra }, error));
    return { ok: false as const, error };
  };

  const read = await getCsr(ctx, name);
  if (!read.ok) return fail(read.error);
  const csr = read.value;
  const signer = csr.spec?.signerName ?? '';
  const ids = { ...(csr.metadata?.uid ? { csrUid: csr.metadata.uid } : {}), signer };

  const notAllowed = signRefusal(csr, ctx.name);
  if (notAllowed) return fail(notAllowed, ids);
  if (options.signerName && options.signerName !== signer) {
    return fail(
      refusal(
        `CSR "${name}" asks for signer ${signer}, not ${options.signerName}; use the CA registered for ${signer}.`,
        'WrongSigner',
        ctx.name,
      ),
      ids,
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
      ids,
    );
  }

  const decoded = await decodeCsrOf(csr, ctx.name);
  if (!decoded.ok) return fail(decoded.error, ids);
  const usages = csr.spec?.usages ?? [];

  const markAsFailed = async (message: string): Promise<KubeResult<SignOutcome>> => {
    const marked = await markFailed(ctx, name, SIGNER_VALIDATION_FAILURE, message);
    if (!marked.ok) {
      await sink(
        errorEntry({ ...base, action: 'mark-failed', ...ids, reason: SIGNER_VALIDATION_FAILURE }, marked.error),
      );
      return marked;
    }
    await sink({
      ...base,
      action: 'mark-failed',
      ...ids,
      reason: SIGNER_VALIDATION_FAILURE,
      outcome: 'ok',
      detail: message,
    });
    return {
      ok: true,
      value: { kind: 'marked-failed', csr: marked.value.csr, reason: SIGNER_VALIDATION_FAILURE, message },
    };
  };

  const rule = checkSignerRules(signer, decoded.value, usages);
  if (rule) return markAsFailed(rule);

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
    return fail(refusal(message, err instanceof PkiError ? err.code : 'SignError', ctx.name), ids);
  }

  const cert = issued.certificate;
  const uploaded = await uploadCertificate(ctx, name, issued.pem);
  if (!uploaded.ok) {
    await sink({
      ...errorEntry({ ...base, ...ids }, uploaded.error),
      serial: cert.serialNumber,
      sha256Fingerprint: cert.sha256Fingerprint,
    });
    return uploaded;
  }
  await sink({
    ...base,
    ...ids,
    outcome: 'ok',
    serial: cert.serialNumber,
    sha256Fingerprint: cert.sha256Fingerprint,
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
    },
  };
}

export interface ApproveAndSignOptions extends SignOptions {
  policy?: Policy;
  pods?: Iterable<PodLike>;
  /** Approval condition reason/message. */
  reason?: string;
  message?: string;
}

export type ApproveAndSignOutcome = SignOutcome & { findings: Finding[]; approved: boolean };

/**
 * `sign --approve`: evaluates the findings; any `fail` finding refuses (nothing written); otherwise approves
 * (unless already Approved) and signs.
 */
export async function approveAndSignCsr(
  ctx: ClusterContext,
  name: string,
  options: ApproveAndSignOptions,
): Promise<KubeResult<ApproveAndSignOutcome>> {
  const sink = auditSink(options);
  const read = await getCsr(ctx, name);
  if (!read.ok) {
    await sink(errorEntry({ context: ctx.name, action: 'approve', csrName: name }, read.error));
    return read;
  }
  const csr = read.value;
  const decoded = await decodeCsrOf(csr, ctx.name);
  if (!decoded.ok) return decoded;
  const findings = evaluateCsr({
    csr: csr as Parameters<typeof evaluateCsr>[0]['csr'],
    decoded: decoded.value,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.pods ? { pods: options.pods } : {}),
    checkSignerRules,
  });
  let approved = false;
  if (!hasCondition(csr, 'Approved')) {
    if (worstLevel(findings) === 'fail') {
      const failed = findings.filter((f) => f.level === 'fail').map((f) => f.message);
      const error = refusal(
        `CSR "${name}" was not approved: ${failed.join(' ')} Review it with certdesk describe csr ${name}.`,
        'FindingsFail',
        ctx.name,
      );
      await sink(
        errorEntry(
          {
            context: ctx.name,
            action: 'approve',
            csrName: name,
            ...(csr.metadata?.uid ? { csrUid: csr.metadata.uid } : {}),
            signer: csr.spec?.signerName ?? '',
          },
          error,
        ),
      );
      return { ok: false, error };
    }
    const approval = await approveWithAudit(ctx, name, {
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.message ? { message: options.message } : {}),
      ...(options.audit ? { audit: options.audit } : {}),
    });
    if (!approval.ok) return approval;
    approved = approval.value.changed;
  }
  const signed = await signCsr(ctx, name, options);
  if (!signed.ok) return signed;
  return { ok: true, value: { ...signed.value, findings, approved } };
}

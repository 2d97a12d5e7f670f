// PodCertificateRequest status values for tests: what a signer writes when it issues (a leaf for the stub request's
// key, notBefore near the server's clock, beginRefreshAt inside the validity) and a condition.
import { createCa, loadCaFromPem } from '../../src/services/pki/ca.js';
import { issueCertificate } from '../../src/services/pki/issue.js';
import type { LoadedCa } from '../../src/services/pki/types.js';

export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A fresh CA to issue pod certificates with. */
export async function podIdentityCa(cn = 'pod-identity test CA'): Promise<LoadedCa> {
  const made = await createCa({ cn });
  return loadCaFromPem(made.certPem, made.keyPem);
}

/**
 * The status fields of an issued PodCertificateRequest whose stubPKCS10Request (base64 DER) is `stub`: chain leaf
 * first then the CA, lifetime `seconds`, notBefore `backdateMs` before now (issueCertificate back-dates 5 minutes; the
 * API server wants notBefore within 5 minutes of its clock), beginRefreshAt `refreshAfterMs` after notBefore
 * (default: half the lifetime).
 */
export async function issuedStatus(
  ca: LoadedCa,
  stub: string,
  opts: { signerName: string; seconds?: number; backdateMs?: number; refreshAfterMs?: number },
): Promise<{ certificateChain: string; notBefore: string; beginRefreshAt: string; notAfter: string }> {
  const { pem, certificate } = await issueCertificate(
    `-----BEGIN CERTIFICATE REQUEST-----\n${stub}\n-----END CERTIFICATE REQUEST-----\n`,
    ca,
    { usages: ['client auth'], signerName: opts.signerName, expirationSeconds: opts.seconds ?? 3600 },
    new Date(Date.now() + 5 * 60_000 - (opts.backdateMs ?? 60_000)),
  );
  const nb = certificate.notBefore.getTime();
  const na = certificate.notAfter.getTime();
  return {
    certificateChain: pem + ca.certPem,
    notBefore: rfc3339(certificate.notBefore),
    beginRefreshAt: rfc3339(new Date(nb + (opts.refreshAfterMs ?? (na - nb) / 2))),
    notAfter: rfc3339(certificate.notAfter),
  };
}

/** A PodCertificateRequest condition (Issued, Denied, Failed) as a signer writes it. */
export function pcrCondition(type: string, reason = type, message = 'by the test', status = 'True') {
  return { type, status, reason, message, lastTransitionTime: rfc3339(new Date()) };
}

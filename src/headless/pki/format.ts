// Human-readable descriptions of CSRs and certificates for `inspect` and `ca show`; every value terminal-safe
// (renderDescribe sanitises).
import type { DecodedCertificate, DecodedCsr, SubjectAltNames } from '../../services/pki/types.js';
import { type DescribeRow, renderDescribe } from '../output/table.js';

export function sansText(s: SubjectAltNames): string {
  const parts = [
    ...s.dns.map((v) => `DNS:${v}`),
    ...s.ip.map((v) => `IP:${v}`),
    ...s.email.map((v) => `email:${v}`),
    ...s.uri.map((v) => `URI:${v}`),
    ...s.other,
  ];
  return parts.length ? parts.join(', ') : '<none>';
}

function validityText(c: DecodedCertificate, now: Date): string {
  const ms = c.notAfter.getTime() - now.getTime();
  if (now < c.notBefore) return 'not yet valid';
  if (ms <= 0) return 'EXPIRED';
  const days = Math.floor(ms / 86_400_000);
  return days >= 1 ? `valid, ${days}d left` : `valid, ${Math.max(1, Math.floor(ms / 60_000))}m left`;
}

export function describeCsr(csr: DecodedCsr): string {
  const pop = csr.proofOfPossession.verified
    ? 'verified'
    : `NOT verified (${csr.proofOfPossession.error ?? 'unknown reason'})`;
  const rows: DescribeRow[] = [
    { key: 'Kind', value: 'CertificateSigningRequest' },
    { key: 'Subject', value: csr.subject.text || '<empty>' },
    { key: 'SANs', value: sansText(csr.sans) },
    {
      key: 'Public key',
      value: `${csr.publicKey.description}${csr.publicKey.supported ? '' : ' (not on the supported list)'}`,
    },
    { key: 'Signature', value: csr.signatureAlgorithm },
    { key: 'Proof of possession', value: pop },
  ];
  if (csr.extensions.length) {
    rows.push({ key: 'Requested extensions' });
    for (const e of csr.extensions) {
      rows.push({ key: `${e.name ?? e.oid}${e.critical ? ' (critical)' : ''}`, value: e.value, level: 1 });
    }
  }
  return renderDescribe(rows);
}

export function describeCertificate(c: DecodedCertificate, now: Date = new Date()): string {
  const rows: DescribeRow[] = [
    { key: 'Kind', value: c.basicConstraints?.ca ? 'Certificate (CA)' : 'Certificate' },
    { key: 'Subject', value: c.subject.text || '<empty>' },
    { key: 'Issuer', value: c.issuer.text || '<empty>' },
    { key: 'Serial', value: c.serialNumber },
    { key: 'Not before', value: c.notBefore.toISOString() },
    { key: 'Not after', value: `${c.notAfter.toISOString()} (${validityText(c, now)})` },
    { key: 'SANs', value: sansText(c.sans) },
    { key: 'Public key', value: c.publicKey.description },
    { key: 'Signature', value: c.signatureAlgorithm },
    { key: 'Key usage', value: c.keyUsage.join(', ') || '<none>' },
    { key: 'Extended key usage', value: c.extKeyUsage.join(', ') || '<none>' },
  ];
  if (c.basicConstraints) {
    const bc = c.basicConstraints;
    rows.push({
      key: 'Basic constraints',
      value: `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength !== undefined ? `, pathlen:${bc.pathLength}` : ''}`,
    });
  }
  if (c.subjectKeyIdentifier) rows.push({ key: 'Subject key ID', value: c.subjectKeyIdentifier });
  if (c.authorityKeyIdentifier) rows.push({ key: 'Authority key ID', value: c.authorityKeyIdentifier });
  rows.push({ key: 'SHA-256 fingerprint', value: c.sha256Fingerprint });
  return renderDescribe(rows);
}

// Pure reading of a CSR's conditions, as kubectl and kube-controller-manager read them.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';

export type CsrState = 'Pending' | 'Approved' | 'Denied' | 'Issued' | 'Failed';

/** True when the CSR has a condition of this type (kubectl ignores the condition's status; so do we). */
export function hasCondition(csr: V1CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type);
}

/** kubectl's CONDITION column: Denied | Approved | Pending, then `,Failed`, then `,Issued`. */
export function csrCondition(csr: V1CertificateSigningRequest): string {
  let text = hasCondition(csr, 'Denied') ? 'Denied' : hasCondition(csr, 'Approved') ? 'Approved' : 'Pending';
  if (hasCondition(csr, 'Failed')) text += ',Failed';
  if (csr.status?.certificate) text += ',Issued';
  return text;
}

/**
 * One word for a CSR's lifecycle: Failed and Denied win, then Issued (a certificate is there), Approved, Pending.
 */
export function csrState(csr: V1CertificateSigningRequest): CsrState {
  // One pass over the conditions (called per CSR for every order and health pass of 20,000 CSRs).
  let denied = false;
  let approved = false;
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === 'Failed') return 'Failed';
    if (c.type === 'Denied') denied = true;
    else if (c.type === 'Approved') approved = true;
  }
  if (denied) return 'Denied';
  if (csr.status?.certificate) return 'Issued';
  return approved ? 'Approved' : 'Pending';
}

// How CSRs print: kubectl's `get csr` columns (plus CONTEXT with several contexts), -o name, and wire JSON.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { csrCondition } from '../../services/kube/csr-state.js';
import { age, humanDuration } from './duration.js';
import { withTypeMeta } from './objects.js';
import type { PrintOptions, TableSpec } from './print.js';

export interface CsrInContext {
  context: string;
  csr: V1CertificateSigningRequest;
}

export function csrWire(csr: V1CertificateSigningRequest): Record<string, unknown> {
  return withTypeMeta(csr, 'certificates.k8s.io/v1', 'CertificateSigningRequest');
}

export function csrResourceName(csr: V1CertificateSigningRequest): string {
  return `certificatesigningrequest.certificates.k8s.io/${csr.metadata?.name ?? ''}`;
}

function csrColumns(csr: V1CertificateSigningRequest, now: number): unknown[] {
  return [
    csr.metadata?.name ?? '',
    age(csr.metadata?.creationTimestamp, now),
    csr.spec?.signerName || '<none>',
    csr.spec?.username ?? '',
    csr.spec?.expirationSeconds ? humanDuration(csr.spec.expirationSeconds) : '<none>',
    csrCondition(csr),
  ];
}

export function csrTable(multiContext: boolean, now: number = Date.now()): TableSpec<CsrInContext> {
  const headers = ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION'];
  return {
    headers: multiContext ? ['CONTEXT', ...headers] : headers,
    row: (i) => (multiContext ? [i.context, ...csrColumns(i.csr, now)] : csrColumns(i.csr, now)),
    wideHeaders: ['USAGES', 'UID'],
    wideRow: (i) => [(i.csr.spec?.usages ?? []).join(','), i.csr.metadata?.uid ?? ''],
  };
}

export function csrPrintOptions(
  format: PrintOptions<CsrInContext>['format'],
  multiContext: boolean,
  alwaysList = true,
): PrintOptions<CsrInContext> {
  return {
    format,
    data: (i) => csrWire(i.csr),
    name: (i) => csrResourceName(i.csr),
    table: csrTable(multiContext),
    alwaysList,
  };
}

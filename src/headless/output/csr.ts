// How CSRs print: kubectl's `get csr` columns (plus CONTEXT with several contexts), -o name, and wire JSON.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { WireCsr } from '../../services/kube/csr-query.js';
import { csrCondition } from '../../services/kube/csr-state.js';
import { age, humanDuration } from './duration.js';
import { withTypeMeta } from '../../services/kube/wire.js';
import type { PrintOptions, TableSpec } from './print.js';

export interface CsrInContext {
  context: string;
  /** As the server sent it (get reads wire JSON). */
  csr: WireCsr;
  /** The row as the server printed it (kubectl's server-side Table), in CSR_COLUMNS order: used by the table. */
  cells?: readonly unknown[];
}

/** The server's Table columns for CSRs, in the order of csrTable's headers (kubectl get csr's). */
export const CSR_COLUMNS = ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition'];

/** The context an object came from, in `-o json|yaml` of several contexts: an annotation, so any reader of
 * Kubernetes objects (kubectl, client libraries, jq) still parses the List. */
export const CONTEXT_ANNOTATION = 'certdesk.dev/context';

export function csrWire(csr: V1CertificateSigningRequest): Record<string, unknown> {
  return withTypeMeta(csr, 'certificates.k8s.io/v1', 'CertificateSigningRequest');
}

export function csrResourceName(csr: V1CertificateSigningRequest): string {
  return `certificatesigningrequest.certificates.k8s.io/${csr.metadata?.name ?? ''}`;
}

function csrColumns(csr: WireCsr, now: number): unknown[] {
  return [
    csr.metadata?.name ?? '',
    age(csr.metadata?.creationTimestamp, now),
    csr.spec?.signerName || '<none>',
    csr.spec?.username ?? '',
    csr.spec?.expirationSeconds ? humanDuration(csr.spec.expirationSeconds) : '<none>',
    // csrCondition reads only the conditions' types and status.certificate, which wire JSON has as the model does.
    csrCondition(csr as unknown as V1CertificateSigningRequest),
  ];
}

export function csrTable(multiContext: boolean, now?: number): TableSpec<CsrInContext> {
  const headers = ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION'];
  return {
    headers: multiContext ? ['CONTEXT', ...headers] : headers,
    // AGE as of when the row is printed: a watch prints rows long after the command started (`<invalid>` before).
    row: (i) => {
      const cells = i.cells ?? csrColumns(i.csr, now ?? Date.now());
      return multiContext ? [i.context, ...cells] : cells;
    },
    wideHeaders: ['USAGES', 'UID'],
    wideRow: (i) => [(i.csr.spec?.usages ?? []).join(','), i.csr.metadata?.uid ?? ''],
  };
}

/** The object `get csr -o json|yaml|jsonpath` prints: apiVersion and kind first; with several contexts, the
 * context in the CONTEXT_ANNOTATION. */
export function csrGetData(i: CsrInContext, multiContext: boolean): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, ...rest } = i.csr;
  const obj: Record<string, unknown> = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    ...rest,
  };
  if (!multiContext) return obj;
  const metadata = i.csr.metadata ?? {};
  return {
    ...obj,
    metadata: { ...metadata, annotations: { ...metadata.annotations, [CONTEXT_ANNOTATION]: i.context } },
  };
}

export function csrPrintOptions(multiContext: boolean, alwaysList = true): Omit<PrintOptions<CsrInContext>, 'format'> {
  return {
    data: (i) => csrGetData(i, multiContext),
    name: (i) => `certificatesigningrequest.certificates.k8s.io/${i.csr.metadata?.name ?? ''}`,
    table: csrTable(multiContext),
    alwaysList,
  };
}

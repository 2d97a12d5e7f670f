// Shared bodies for the differential tables: PKCS#10 requests made once (the same bytes go to both servers) and CSR
// objects built from them.
import { makeCsrPem } from '../../helpers/sandbox.js';

export const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
export const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
export const LABEL = 'diff=yes';

export const PEM = makeCsrPem({ commonName: 'my-svc.diff', dnsNames: ['my-svc.diff.svc'] }).pem;
export const PEM_MASTERS = makeCsrPem({ commonName: 'mallory', organizations: ['system:masters'] }).pem;
export const PEM_CLIENT = makeCsrPem({ commonName: 'jane', organizations: ['developers'] }).pem;
export const PEM_BAD_SIG = makeCsrPem({ commonName: 'bad', badSignature: true }).pem;

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

export interface CsrOptions {
  signerName?: string;
  usages?: string[];
  expirationSeconds?: number;
  pem?: string;
  request?: string;
  labels?: Record<string, string>;
  extra?: Record<string, unknown>;
  generateName?: string;
}

export function csr(name: string, o: CsrOptions = {}): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    request: o.request ?? b64(o.pem ?? PEM),
    signerName: o.signerName ?? 'example.com/serving',
    usages: o.usages ?? ['digital signature', 'key encipherment', 'server auth'],
  };
  if (o.expirationSeconds !== undefined) spec.expirationSeconds = o.expirationSeconds;
  const metadata: Record<string, unknown> = o.generateName
    ? { generateName: o.generateName, labels: { diff: 'yes', ...o.labels } }
    : { name, labels: { diff: 'yes', ...o.labels } };
  return { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata, spec, ...o.extra };
}

export function condition(type: string, status = 'True', reason = `${type}ByDiff`): Record<string, unknown> {
  return { type, status, reason, message: `${type} by the differential test` };
}

/** A CSR body with these conditions, for PUT /approval or /status. */
export function withConditions(name: string, conditions: Record<string, unknown>[], o: CsrOptions = {}) {
  return { ...csr(name, o), status: { conditions } };
}

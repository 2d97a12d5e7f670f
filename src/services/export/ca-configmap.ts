// The trust-root ConfigMap of the "Manage TLS Certificates in a Cluster" document
// (`kubectl create configmap example-serving-ca --from-file ca.crt=ca.pem`).
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ExportError } from './tls-secret.js';

export interface CaConfigMapInput {
  name: string;
  namespace: string;
  /** The CA certificate(s), PEM. */
  caPem: string;
  /** The data key. @default 'ca.crt' */
  key?: string;
  labels?: Record<string, string>;
}

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

export function buildCaConfigMap(input: CaConfigMapInput): V1ConfigMap {
  const key = input.key ?? 'ca.crt';
  if (!CONFIGMAP_KEY.test(key) || key === '.' || key === '..' || key.startsWith('..') || key.length > 253) {
    throw new ExportError(`"${key}" is not a valid ConfigMap key; use letters, digits, '-', '_' and '.'`);
  }
  if (!input.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ExportError('the CA certificate is not PEM (no "BEGIN CERTIFICATE" block)');
  }
  const metadata: V1ConfigMap['metadata'] = { name: input.name, namespace: input.namespace };
  if (input.labels) metadata.labels = input.labels;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata,
    data: { [key]: input.caPem.endsWith('\n') ? input.caPem : `${input.caPem}\n` },
  };
}

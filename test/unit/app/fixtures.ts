// Fixture snapshots for the store and selector tests: plain objects shaped like the kube store's.
import type { V1CertificateSigningRequest, V1Pod } from '@kubernetes/client-node';
import type { ContextSnapshot } from '../../../src/services/kube/api-types.js';

export const NOW = Date.parse('2026-11-23T15:00:00Z');

export function csr(
  name: string,
  options: {
    ageSeconds?: number;
    state?: 'Pending' | 'Approved' | 'Denied' | 'Issued';
    signer?: string;
    user?: string;
  } = {},
): V1CertificateSigningRequest {
  const conditions =
    options.state === 'Approved' || options.state === 'Issued'
      ? [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }]
      : options.state === 'Denied'
        ? [{ type: 'Denied', status: 'True', reason: 'Test', message: 'no' }]
        : [];
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: {
      name,
      uid: `uid-${name}`,
      resourceVersion: '1',
      creationTimestamp: new Date(NOW - (options.ageSeconds ?? 10) * 1000),
    },
    spec: {
      request: '',
      signerName: options.signer ?? 'example.com/calico',
      username: options.user ?? 'system:serviceaccount:calico-system:calico-node',
      usages: ['server auth'],
    },
    status: {
      conditions,
      ...(options.state === 'Issued' ? { certificate: 'Y2VydA==' } : {}),
    },
  } as V1CertificateSigningRequest;
}

export function snapshot(context: string, csrs: V1CertificateSigningRequest[], version = 1): ContextSnapshot {
  return {
    context,
    version,
    csrs: new Map(csrs.map((c) => [c.metadata!.name!, c])),
    pods: new Map<string, V1Pod>(),
    namespaces: new Map(),
    nodes: new Map(),
    tigeraStatuses: 'not-installed',
    connection: { phase: 'live', since: NOW },
    synced: true,
    errors: {},
    counters: { lists: 1, watches: 1, expired: 0 },
  };
}

// The `istio-signers` scenario (seed 004): istiod issues workload certificates through the Kubernetes CSR API with
// one cert-manager ClusterIssuer per tenant namespace — signers clusterissuers.cert-manager.io/foo and /bar. istiod
// (its own service-account identity) creates a CSR per workload (generateName csr-workload-, expirationSeconds set,
// a SPIFFE URI SAN and an empty subject), waits for the certificate, then deletes the CSR as istiod does.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { terminalSafe } from '../../text/sanitize.js';
import { makeKeyAndCsr } from './crypto.js';
import type { Scenario, ScenarioContext } from './index.js';
import {
  allowManyListeners,
  clientsFor,
  delay,
  describeError,
  listWatch,
  serviceAccountIdentity,
  statusCode,
} from './kube.js';
import { applyManifests } from './manifests.js';

export const ISTIO_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];

export interface IstioWorkload {
  namespace: string;
  serviceAccount: string;
}

export const ISTIO_WORKLOADS: IstioWorkload[] = [
  { namespace: 'foo', serviceAccount: 'sleep' },
  { namespace: 'foo', serviceAccount: 'httpbin' },
  { namespace: 'bar', serviceAccount: 'sleep' },
  { namespace: 'bar', serviceAccount: 'httpbin' },
];

export function istioSignerFor(namespace: string): string {
  return `clusterissuers.cert-manager.io/${namespace}`;
}

function num(v: unknown, fallback: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

async function runWorkloads(ctx: ScenarioContext, ttlSeconds: number, deleteAfterMs: number): Promise<void> {
  const { cluster, signal } = ctx;
  // CSR names and conditions come from the cluster: made terminal-safe before anyone prints them.
  const log = (line: string): void => ctx.log(terminalSafe(line));
  const istiod = clientsFor(cluster.as(serviceAccountIdentity('istio-system', 'istiod')));
  const finished = new Set<string>();

  const onIssued = async (name: string): Promise<void> => {
    await delay(deleteAfterMs, signal);
    if (signal.aborted) return;
    try {
      await istiod.certs.deleteCertificateSigningRequest({ name });
      log(`${name}: certificate received, CSR deleted`);
    } catch (err) {
      if (statusCode(err) !== 404) log(`${name}: delete failed: ${describeError(err)}`);
    }
  };

  const selector = 'certdesk.dev/scenario=istio-signers';
  await listWatch<V1CertificateSigningRequest>({
    kc: istiod.kc,
    path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    list: () => istiod.certs.listCertificateSigningRequest({ labelSelector: selector }),
    query: { labelSelector: selector },
    signal,
    log,
    onEvent(type, csr) {
      const name = csr.metadata?.name ?? '';
      if (type === 'DELETED' || finished.has(name)) return;
      const cond = (t: string) => csr.status?.conditions?.some((c) => c.type === t && c.status === 'True');
      if (cond('Denied') || cond('Failed')) {
        finished.add(name);
        log(`${name}: ${cond('Denied') ? 'denied' : 'failed'}; the workload has no certificate`);
      } else if (csr.status?.certificate) {
        finished.add(name);
        void onIssued(name);
      }
    },
  });

  for (const w of ISTIO_WORKLOADS) {
    const spiffe = `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`;
    const { csrPem } = await makeKeyAndCsr({ commonName: '', uris: [spiffe] });
    const created = await istiod.certs.createCertificateSigningRequest({
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: {
          generateName: 'csr-workload-',
          labels: { 'certdesk.dev/scenario': 'istio-signers' },
        },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: istioSignerFor(w.namespace),
          usages: ISTIO_USAGES,
          expirationSeconds: ttlSeconds,
        },
      },
    });
    const name = created.metadata?.name ?? '';
    log(`${name}: requested for ${spiffe} from ${istioSignerFor(w.namespace)}`);
  }
}

export const istioSigners: Scenario = {
  name: 'istio-signers',
  description:
    'istiod requests workload certificates in namespaces foo and bar from signers clusterissuers.cert-manager.io/foo and /bar.',
  async start(ctx) {
    const admin = clientsFor(ctx.cluster.admin);
    allowManyListeners(ctx.signal);
    await applyManifests(admin, 'istio-signers');
    // istiod's default workload certificate TTL is 24h; it deletes each CSR once it has read the certificate.
    await runWorkloads(ctx, num(ctx.options.ttlSeconds, 86_400), num(ctx.options.deleteAfterMs, 3000));
  },
};

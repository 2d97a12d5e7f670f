// The cluster's own signers, as kube-controller-manager runs them: signs Approved kubernetes.io/kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving requests with the cluster CA (issue 8). It acts over HTTPS like
// the real controller: watches CSRs (list+watch, never polls), writes certificates and Failed conditions through
// /status, re-reads on 409.
import type { KubeConfig, V1CertificateSigningRequest } from '@kubernetes/client-node';
import {
  checkSignerRules,
  decodeCsr,
  issueCertificate,
  KUBE_APISERVER_CLIENT,
  KUBE_APISERVER_CLIENT_KUBELET,
  KUBELET_SERVING,
  type LoadedCa,
  loadCaFromPem,
  PkiError,
} from '../pki/index.js';
import { terminalSafe } from '../text/sanitize.js';
import {
  allowManyListeners,
  type Clients,
  clientsFor,
  delay,
  describeError,
  listWatch,
  statusCode,
} from './scenarios/kube.js';

export interface ClusterSignerOptions {
  /** The cluster's client CA (the sandbox's cluster CA), PEM. */
  caCertPem: string;
  caKeyPem: string;
  /** Cap and default for issued certificates (kube-controller-manager's --cluster-signing-duration). */
  durationSeconds: number;
  signal: AbortSignal;
  log?: (line: string) => void;
}

export const BUILTIN_SIGNERS: readonly string[] = [
  KUBE_APISERVER_CLIENT,
  KUBE_APISERVER_CLIENT_KUBELET,
  KUBELET_SERVING,
];

/** The identity the signing loop acts as (kube-controller-manager's client certificate). */
export const CLUSTER_SIGNER_USER = 'system:kube-controller-manager';
const CLUSTER_SIGNER_GROUPS = ['system:masters', 'system:authenticated'];
/**
 * Requests worked on at once per signer: kube-controller-manager runs each of its signers with 5 workers
 * (cmd/kube-controller-manager/app/certificates.go). Without a bound, a list of thousands of approved requests
 * (the scale scenario) opened thousands of connections at once and the sandbox's own server reset them.
 */
const WORKERS_PER_SIGNER = 5;

function hasCondition(csr: V1CertificateSigningRequest, type: string): boolean {
  return !!csr.status?.conditions?.some((c) => c.type === type && c.status === 'True');
}

/** kube-controller-manager's filter: its signer, Approved, not Failed, no certificate yet. */
export function wantsSigning(csr: V1CertificateSigningRequest): boolean {
  return (
    BUILTIN_SIGNERS.includes(csr.spec?.signerName ?? '') &&
    hasCondition(csr, 'Approved') &&
    !hasCondition(csr, 'Failed') &&
    !csr.status?.certificate
  );
}

type Verdict = { certificatePem: string } | { failure: string };

/** Decides what to write for one request: the certificate, or the signer's refusal. */
async function sign(csr: V1CertificateSigningRequest, ca: LoadedCa, durationSeconds: number): Promise<Verdict> {
  const spec = csr.spec!;
  const pem = Buffer.from(spec.request, 'base64').toString('utf8');
  const decoded = await decodeCsr(pem);
  const rule = checkSignerRules(spec.signerName, decoded, spec.usages ?? []);
  if (rule) return { failure: rule };
  const profile = {
    name: 'cluster-signing',
    allowedUsages: [],
    defaultDurationSeconds: durationSeconds,
    maxDurationSeconds: durationSeconds,
  };
  try {
    const issued = await issueCertificate(decoded, ca, {
      usages: spec.usages ?? [],
      signerName: spec.signerName,
      expirationSeconds: spec.expirationSeconds,
      profile,
    });
    return { certificatePem: issued.pem };
  } catch (err) {
    // Rule violations are permanent (Failed); anything else (an expired CA, say) is retried on the next event.
    if (err instanceof PkiError && err.code === 'signer-refused') return { failure: err.message };
    throw err;
  }
}

/** Starts the signing loop (acting over HTTPS as kube-controller-manager); resolves once it is watching. */
export async function startClusterSigner(
  cluster: { name: string; kubeConfigFor(user: string, groups?: string[]): KubeConfig },
  options: ClusterSignerOptions,
): Promise<void> {
  // CSR names and server messages come from the cluster: made terminal-safe before anyone prints them.
  const log = (line: string): void => options.log?.(terminalSafe(`cluster-signer ${cluster.name}: ${line}`));
  const ca = await loadCaFromPem(options.caCertPem, options.caKeyPem);
  allowManyListeners(options.signal);
  const kcm: Clients = clientsFor(cluster.kubeConfigFor(CLUSTER_SIGNER_USER, CLUSTER_SIGNER_GROUPS));
  // One worker per name at a time; a newer event while it works makes it look again (like a workqueue's dirty set).
  const busy = new Set<string>();
  const dirty = new Set<string>();
  const slots = new Map<string, { free: number; waiting: (() => void)[] }>();
  const acquire = (signer: string): Promise<void> => {
    let s = slots.get(signer);
    if (!s) {
      s = { free: WORKERS_PER_SIGNER, waiting: [] };
      slots.set(signer, s);
    }
    if (s.free > 0) {
      s.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => s.waiting.push(resolve));
  };
  const release = (signer: string): void => {
    const s = slots.get(signer);
    const next = s?.waiting.shift();
    if (next) next();
    else if (s) s.free++;
  };
  // Stopping lets every waiting worker go (each then sees the signal and ends).
  options.signal.addEventListener('abort', () => {
    for (const s of slots.values()) for (const resolve of s.waiting.splice(0)) resolve();
  });

  const handle = async (name: string): Promise<void> => {
    for (let attempt = 0; attempt < 10 && !options.signal.aborted; attempt++) {
      let csr: V1CertificateSigningRequest;
      try {
        csr = await kcm.certs.readCertificateSigningRequest({ name });
      } catch (err) {
        if (statusCode(err) === 404) return;
        throw err;
      }
      if (!wantsSigning(csr)) return;
      const verdict = await sign(csr, ca, options.durationSeconds);
      const now = new Date();
      if ('failure' in verdict) {
        csr.status = {
          ...csr.status,
          conditions: [
            ...(csr.status?.conditions ?? []),
            {
              type: 'Failed',
              status: 'True',
              reason: 'SignerValidationFailure',
              message: verdict.failure,
              lastUpdateTime: now,
              lastTransitionTime: now,
            },
          ],
        };
      } else {
        csr.status = { ...csr.status, certificate: Buffer.from(verdict.certificatePem).toString('base64') };
      }
      try {
        await kcm.certs.replaceCertificateSigningRequestStatus({ name, body: csr });
        log('failure' in verdict ? `${name}: Failed: ${verdict.failure}` : `${name}: issued`);
        return;
      } catch (err) {
        if (statusCode(err) === 409) continue;
        if (statusCode(err) === 404) return;
        throw err;
      }
    }
  };

  const enqueue = (name: string, signer: string): void => {
    if (busy.has(name)) {
      dirty.add(name);
      return;
    }
    busy.add(name);
    void (async () => {
      let backoff = 200;
      do {
        dirty.delete(name);
        await acquire(signer);
        try {
          if (!options.signal.aborted) await handle(name);
        } catch (err) {
          release(signer);
          if (options.signal.aborted) break;
          // Transient (a dropped connection, an expired CA): retry with backoff, as the controller's rate-limited
          // work queue does; handle() re-reads, so a request meanwhile issued, failed or deleted is left alone.
          log(`${name}: ${describeError(err)}; retrying in ${backoff} ms`);
          await delay(backoff, options.signal);
          backoff = Math.min(backoff * 2, 30_000);
          dirty.add(name);
          continue;
        }
        release(signer);
      } while (dirty.has(name) && !options.signal.aborted);
      busy.delete(name);
    })();
  };

  await listWatch<V1CertificateSigningRequest>({
    kc: kcm.kc,
    path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    list: () => kcm.certs.listCertificateSigningRequest(),
    signal: options.signal,
    log,
    onEvent(type, csr) {
      const name = csr.metadata?.name;
      if (type !== 'DELETED' && name && wantsSigning(csr)) enqueue(name, csr.spec.signerName);
    },
  });
}

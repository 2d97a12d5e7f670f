// The `scale` scenario: K CSRs and P pods preloaded straight into a cluster's store (no HTTP, no per-object
// validation), for benchmarks. Requests share a few pregenerated PEMs; states vary like a busy cluster's.
import { generateKeyPairSync, sign } from 'node:crypto';
import type { SandboxCluster } from '../cluster.js';
import { bitString, explicit, integer, name, OID, oid, seq } from '../der.js';
import type { KObject } from '../store.js';

export interface ScaleOptions {
  csrs: number;
  pods: number;
}

function csrPem(cn: string, orgs: string[]): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = seq(integer(0), name(cn, orgs), spki, explicit(0));
  const der = seq(info, seq(oid(OID.ecdsaWithSha256)), bitString(sign('sha256', info, privateKey)));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE REQUEST-----\n`;
}

const SIGNERS = [
  'kubernetes.io/kube-apiserver-client-kubelet',
  'kubernetes.io/kubelet-serving',
  'example.com/scale',
  'kubernetes.io/kube-apiserver-client',
];

function stamp(msAgo: number): string {
  return new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Inserts `csrs` CSRs and `pods` pods (in namespaces scale-0…scale-9) into the cluster's store. */
export function preloadScale(cluster: SandboxCluster, options: ScaleOptions): void {
  const pems = [0, 1, 2, 3].map((i) =>
    Buffer.from(csrPem(`system:node:scale-node-${i}`, ['system:nodes'])).toString('base64'),
  );
  const store = cluster.api.store;
  const namespaces = Array.from({ length: 10 }, (_, i) => `scale-${i}`);
  for (const ns of namespaces) {
    if (!store.get('namespaces', '', ns)) {
      cluster.api.insert('namespaces', {
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }
  const csrs: KObject[] = [];
  for (let i = 0; i < options.csrs; i++) {
    const signerName = SIGNERS[i % SIGNERS.length] ?? 'example.com/scale';
    const created = stamp((i % 600) * 60_000);
    const state = i % 5;
    const conditions =
      state === 1 || state === 2
        ? [
            {
              type: 'Approved',
              status: 'True',
              reason: 'AutoApproved',
              message: 'approved by the scale scenario',
              lastUpdateTime: created,
              lastTransitionTime: created,
            },
          ]
        : state === 3
          ? [
              {
                type: 'Denied',
                status: 'True',
                reason: 'Denied',
                message: 'denied by the scale scenario',
                lastUpdateTime: created,
                lastTransitionTime: created,
              },
            ]
          : [];
    const obj: KObject = {
      kind: 'CertificateSigningRequest',
      apiVersion: 'certificates.k8s.io/v1',
      metadata: {
        name: `scale-csr-${String(i).padStart(6, '0')}`,
        uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        creationTimestamp: created,
        labels: { 'certdesk.dev/scale': 'true' },
      },
      spec: {
        request: pems[i % pems.length],
        signerName,
        usages:
          signerName === 'kubernetes.io/kubelet-serving'
            ? ['digital signature', 'server auth']
            : ['digital signature', 'client auth'],
        username: `system:node:scale-node-${i % 4}`,
        groups: ['system:nodes', 'system:authenticated'],
        ...(i % 3 === 0 ? { expirationSeconds: 86_400 } : {}),
      },
      status: conditions.length ? { conditions } : {},
    };
    csrs.push(obj);
  }
  store.preload('certificatesigningrequests', csrs);

  const pods: KObject[] = [];
  for (let i = 0; i < options.pods; i++) {
    const ns = namespaces[i % namespaces.length] ?? 'scale-0';
    const running = i % 4 !== 0;
    const created = stamp((i % 300) * 60_000);
    const podName = `scale-pod-${String(i).padStart(6, '0')}`;
    pods.push({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: podName,
        namespace: ns,
        uid: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`,
        creationTimestamp: created,
        labels: { app: `scale-${i % 20}` },
      },
      spec: {
        nodeName: `scale-node-${i % 4}`,
        restartPolicy: 'Always',
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [{ name: 'app', image: 'nginx' }],
      },
      status: running
        ? {
            phase: 'Running',
            podIP: `10.0.${Math.floor(i / 250) % 256}.${i % 250}`,
            conditions: [
              { type: 'Initialized', status: 'True' },
              { type: 'Ready', status: 'True' },
            ],
            initContainerStatuses: [
              {
                name: 'init',
                ready: true,
                restartCount: 0,
                state: { terminated: { exitCode: 0, reason: 'Completed' } },
              },
            ],
            containerStatuses: [
              { name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: created } } },
            ],
          }
        : {
            phase: 'Pending',
            conditions: [{ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' }],
            initContainerStatuses: [
              { name: 'init', ready: false, restartCount: 0, state: { running: { startedAt: created } } },
            ],
            containerStatuses: [
              { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
            ],
          },
    });
  }
  store.preload('pods', pods);
}

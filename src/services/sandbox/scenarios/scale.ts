// The `scale` scenario: K CSRs and P pods in the states of a busy cluster. The sandbox preloads them straight into a
// cluster's store (no HTTP, no per-object validation) for benchmarks; against any other cluster (`certdesk scenario
// run scale`) the same objects are written through the API with the real identities (each CSR by its kubelet, the
// approvals and denials by the admin, pod status by the node). Requests share a few pregenerated PEMs.
import { generateKeyPairSync, sign } from 'node:crypto';
import type { V1CertificateSigningRequest, V1Pod } from '@kubernetes/client-node';
import type { SandboxCluster } from '../cluster.js';
import { bitString, explicit, integer, name, OID, oid, seq } from '../der.js';
import type { KObject } from '../store.js';
import type { Scenario } from './index.js';
import { clientsFor, createIfAbsent, describeError, nodeAddress, nodeIdentity, registerNode } from './kube.js';
import { applyManifests } from './manifests.js';
import { SCENARIO_LABEL } from './types.js';

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

const NAMESPACES = Array.from({ length: 10 }, (_, i) => `scale-${i}`);
const SCALE_NODES = [0, 1, 2, 3].map((i) => `scale-node-${i}`);

/** Inserts `csrs` CSRs and `pods` pods (in namespaces scale-0…scale-9) into the cluster's store. */
export function preloadScale(cluster: SandboxCluster, options: ScaleOptions): void {
  const store = cluster.api.store;
  for (const ns of NAMESPACES) {
    if (!store.get('namespaces', '', ns)) {
      cluster.api.insert('namespaces', {
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }
  for (const node of SCALE_NODES) {
    if (store.get('nodes', '', node)) continue;
    cluster.api.insert('nodes', {
      metadata: { name: node, labels: { 'kubernetes.io/hostname': node } },
      spec: {},
      status: {
        addresses: [
          { type: 'InternalIP', address: nodeAddress(node) },
          { type: 'Hostname', address: node },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      },
    });
  }
  const objects = scaleObjects(options);
  store.preload('certificatesigningrequests', objects.csrs);
  store.preload('pods', objects.pods);
}

/** The scale scenario's CSRs and pods, as stored objects. */
export function scaleObjects(options: ScaleOptions): { csrs: KObject[]; pods: KObject[] } {
  const pems = [0, 1, 2, 3].map((i) =>
    Buffer.from(csrPem(`system:node:scale-node-${i}`, ['system:nodes'])).toString('base64'),
  );
  const namespaces = NAMESPACES;
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
            hostIP: nodeAddress(`scale-node-${i % 4}`),
            hostIPs: [{ ip: nodeAddress(`scale-node-${i % 4}`) }],
            podIP: `10.244.${Math.floor(i / 250) % 256}.${i % 250}`,
            podIPs: [{ ip: `10.244.${Math.floor(i / 250) % 256}.${i % 250}` }],
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
  return { csrs, pods };
}

/** Runs `work` over `items`, `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fallback;
}

/** The same objects as preloadScale, written through the API (what `scenario run scale` does). */
export const scale: Scenario = {
  name: 'scale',
  description: 'K CSRs (pending, approved, denied) and P pods (Running or in Init) in ten namespaces, for benchmarks.',
  async start(ctx) {
    const csrs = num(ctx.options.csrs, 10_000);
    const pods = num(ctx.options.pods, 5_000);
    const admin = clientsFor(ctx.cluster.admin);
    const labels = { [SCENARIO_LABEL]: 'scale' };
    const objects = scaleObjects({ csrs, pods });
    const namespaces = NAMESPACES;
    await Promise.all(
      namespaces.map((n) =>
        createIfAbsent(() => admin.core.createNamespace({ body: { metadata: { name: n, labels } } })),
      ),
    );
    await applyManifests(admin, 'scale');
    await Promise.all(SCALE_NODES.map((node) => registerNode(ctx.cluster, node, 'scale')));
    let failures = 0;
    const failed = (what: string, err: unknown): void => {
      if (failures++ === 0) ctx.log(`${what}: ${describeError(err)} (later failures are counted, not logged)`);
    };
    const kubelets = [0, 1, 2, 3].map((i) => clientsFor(ctx.cluster.as(nodeIdentity(`scale-node-${i}`))));
    const kubeletOf = (user: string) => kubelets[Number(user.slice(-1))] ?? kubelets[0]!;
    await inBatches(objects.csrs, 32, async (o) => {
      if (ctx.signal.aborted) return;
      const spec = o.spec as V1CertificateSigningRequest['spec'];
      const body: V1CertificateSigningRequest = {
        metadata: { name: o.metadata.name, labels: { ...labels, ...o.metadata.labels } },
        spec: {
          request: spec.request,
          signerName: spec.signerName,
          usages: spec.usages,
          ...(spec.expirationSeconds ? { expirationSeconds: spec.expirationSeconds } : {}),
        },
      };
      let created: V1CertificateSigningRequest;
      try {
        created = await kubeletOf(spec.username ?? '').certs.createCertificateSigningRequest({ body });
      } catch (err) {
        return failed(`CSR ${o.metadata.name}`, err); // the rest still goes in
      }
      const conditions = (o.status as { conditions?: { type: string; reason: string; message: string }[] })?.conditions;
      const c = conditions?.[0];
      if (c) {
        created.status = {
          conditions: [{ type: c.type, status: 'True', reason: c.reason, message: c.message }],
        };
        await admin.certs
          .replaceCertificateSigningRequestApproval({ name: o.metadata.name ?? '', body: created })
          .catch((err) => failed(`approval of ${o.metadata.name}`, err));
      }
    });
    await inBatches(objects.pods, 32, async (o) => {
      if (ctx.signal.aborted) return;
      const pod = o as unknown as V1Pod;
      const namespace = pod.metadata?.namespace ?? 'scale-0';
      let created: V1Pod;
      try {
        created = await admin.core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name: pod.metadata?.name, labels: { ...labels, ...pod.metadata?.labels } },
            spec: { ...(pod.spec as V1Pod['spec'] & object), tolerations: [{ operator: 'Exists' }] },
          },
        });
      } catch (err) {
        return failed(`pod ${pod.metadata?.name}`, err);
      }
      created.status = pod.status;
      await kubeletOf(pod.spec?.nodeName ?? '')
        .core.replaceNamespacedPodStatus({ name: created.metadata?.name ?? '', namespace, body: created })
        .catch((err) => failed(`status of ${pod.metadata?.name}`, err));
    });
    ctx.log(
      `${csrs} CSRs and ${pods} pods in ${namespaces.length} namespaces${failures ? `; ${failures} writes failed` : ''}`,
    );
  },
};

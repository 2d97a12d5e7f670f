// The `pod-certificates` scenario (issue 20): pods in namespace `workloads` with a podCertificate projected volume
// for a signer (default example.com/pod-identity), and a kubelet stand-in per node doing what the kubelet's
// podcertificate manager does, as `system:node:<node>` (so the Node authorizer and NodeRestriction judge it): it
// makes a key, creates the pod's PodCertificateRequest with a stub PKCS#10 request signed by that key, keeps the pod
// in ContainerCreating until a signer issues it, starts the pod, requests again at beginRefreshAt, and after a
// back-off asks again (with a fresh key) when the request is Denied, Failed or deleted. Nothing here signs: that is
// the signer's part (certdesk's `sign pcr`, its controller, or any other).
import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { terminalSafe } from '../../text/sanitize.js';
import { bitString, explicit, integer, OID, oid, seq } from '../der.js';
import type { Scenario, ScenarioContext } from './index.js';
import {
  allowManyListeners,
  type Clients,
  clientsFor,
  delay,
  describeError,
  listWatch,
  nodeAddress,
  nodeIdentity,
  registerNode,
  statusCode,
  updateWithRetry,
} from './kube.js';
import { applyManifests } from './manifests.js';
import { SCENARIO_LABEL } from './types.js';

export const PC_NAMESPACE = 'workloads';
export const PC_SIGNER = 'example.com/pod-identity';
const GROUP = 'certificates.k8s.io';
const PLURAL = 'podcertificaterequests';
const NODES = ['node-1', 'node-2'];
const APPS = [
  { app: 'web', serviceAccount: 'web' },
  { app: 'api', serviceAccount: 'api' },
];
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PodCertificatesOptions {
  signerName: string;
  pods: number;
  backoffMs: number;
}

export function parsePodCertificatesOptions(raw: Record<string, unknown>): PodCertificatesOptions {
  const int = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : fallback);
  return {
    signerName: typeof raw.signerName === 'string' && raw.signerName ? raw.signerName : PC_SIGNER,
    pods: int(raw.pods, 3),
    backoffMs: int(raw.backoffMs, 2000),
  };
}

interface Pcr {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: {
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    certificateChain?: string;
    notBefore?: string;
    beginRefreshAt?: string;
    notAfter?: string;
  };
}

/** Issued / Denied / Failed from the first such condition with status True; undefined while pending. */
function outcomeOf(pcr: Pcr): { type: 'Issued' | 'Denied' | 'Failed'; reason: string; message: string } | undefined {
  for (const c of pcr.status?.conditions ?? []) {
    if (c.status === 'True' && (c.type === 'Issued' || c.type === 'Denied' || c.type === 'Failed'))
      return { type: c.type, reason: c.reason ?? '', message: c.message ?? '' };
  }
  return undefined;
}

/**
 * The stub PKCS#10 request the kubelet sends: an empty subject, no extensions, signed with the pod's new key
 * (ECDSA P-256, the volume's keyType ECDSAP256), DER.
 */
export function stubRequest(): { key: KeyObject; der: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = seq(integer(0), seq(), publicKey.export({ type: 'spki', format: 'der' }), explicit(0));
  const der = seq(info, seq(oid(OID.ecdsaWithSha256)), bitString(sign('sha256', info, privateKey)));
  return { key: publicKey, der };
}

/** The version of certificates.k8s.io that serves PodCertificateRequests here (v1, else v1beta1), or undefined. */
async function pcrVersion(admin: Clients): Promise<string | undefined> {
  for (const version of ['v1', 'v1beta1']) {
    try {
      await admin.custom.listClusterCustomObject({ group: GROUP, version, plural: PLURAL, limit: 1 });
      return version;
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
  }
  return undefined;
}

interface PodPlan {
  name: string;
  app: string;
  serviceAccount: string;
  node: string;
  podIP: string;
}

function planPods(count: number): PodPlan[] {
  return Array.from({ length: count }, (_, i) => {
    const { app, serviceAccount } = APPS[i % APPS.length]!;
    return {
      name: `${app}-${i}`,
      app,
      serviceAccount,
      node: NODES[i % NODES.length]!,
      podIP: `10.244.${1 + (i % NODES.length)}.${10 + i}`,
    };
  });
}

function podManifest(plan: PodPlan, signerName: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: plan.name,
      namespace: PC_NAMESPACE,
      labels: { app: plan.app, [SCENARIO_LABEL]: 'pod-certificates' },
    },
    spec: {
      // Bound at create (no scheduler may run); its kubelet is played below.
      nodeName: plan.node,
      tolerations: [{ operator: 'Exists' }],
      serviceAccountName: plan.serviceAccount,
      containers: [
        {
          name: plan.app,
          image: `registry.example.com/${plan.app}:1.0`,
          volumeMounts: [{ name: 'identity', mountPath: '/var/run/identity', readOnly: true }],
        },
      ],
      volumes: [
        {
          name: 'identity',
          projected: {
            sources: [
              { podCertificate: { signerName, keyType: 'ECDSAP256', credentialBundlePath: 'credentialbundle.pem' } },
            ],
          },
        },
      ],
    },
  };
}

type PodPhase = 'creating' | 'running';

/** The pod's status as its kubelet reports it: ContainerCreating while the volume waits, then Running and Ready. */
function podStatus(pod: V1Pod, plan: PodPlan, phase: PodPhase, startTime: Date): V1Pod['status'] {
  const now = new Date();
  const ready = phase === 'running' ? 'True' : 'False';
  const hostIP = nodeAddress(plan.node);
  const container = pod.spec?.containers[0];
  return {
    phase: phase === 'running' ? 'Running' : 'Pending',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(phase === 'running' ? { podIP: plan.podIP, podIPs: [{ ip: plan.podIP }] } : {}),
    startTime,
    qosClass: 'BestEffort',
    conditions: [
      { type: 'PodReadyToStartContainers', status: ready, lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: startTime },
      {
        type: 'Ready',
        status: ready,
        lastTransitionTime: now,
        ...(phase === 'running'
          ? {}
          : { reason: 'ContainersNotReady', message: `containers with unready status: [${plan.app}]` }),
      },
      {
        type: 'ContainersReady',
        status: ready,
        lastTransitionTime: now,
        ...(phase === 'running'
          ? {}
          : { reason: 'ContainersNotReady', message: `containers with unready status: [${plan.app}]` }),
      },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: startTime },
    ],
    containerStatuses: [
      {
        name: plan.app,
        image: container?.image ?? '',
        imageID: '',
        ready: phase === 'running',
        restartCount: 0,
        started: phase === 'running',
        state: phase === 'running' ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  };
}

/** One node's kubelet: its identity, its Node's UID, and a watch on the PodCertificateRequests that name it. */
class Kubelet {
  readonly clients: Clients;
  nodeUid = '';
  private readonly latest = new Map<string, Pcr>();
  private readonly waiters = new Map<string, (pcr: Pcr | undefined) => void>();

  constructor(
    readonly node: string,
    private readonly ctx: ScenarioContext,
    readonly version: string,
  ) {
    this.clients = clientsFor(ctx.cluster.as(nodeIdentity(node)));
  }

  async start(): Promise<void> {
    this.nodeUid = (await this.clients.core.readNode({ name: this.node })).metadata?.uid ?? '';
    const fieldSelector = `spec.nodeName=${this.node}`;
    await listWatch<Pcr & { metadata?: { resourceVersion?: string } }>({
      kc: this.clients.kc,
      path: `/apis/${GROUP}/${this.version}/${PLURAL}`,
      query: { fieldSelector },
      // The Node authorizer lets a node list and watch only the requests naming it (spec.nodeName).
      list: () =>
        this.clients.custom.listClusterCustomObject({
          group: GROUP,
          version: this.version,
          plural: PLURAL,
          fieldSelector,
        }) as never,
      onEvent: (type, pcr) => {
        const name = pcr.metadata?.name ?? '';
        if (type === 'DELETED') {
          this.latest.delete(name);
          this.waiters.get(name)?.(undefined);
          return;
        }
        this.latest.set(name, pcr);
        if (outcomeOf(pcr)) this.waiters.get(name)?.(pcr);
      },
      signal: this.ctx.signal,
    });
  }

  /** Resolves with the request once it is Issued, Denied or Failed; undefined when it is deleted first or on abort. */
  settled(name: string): Promise<Pcr | undefined> {
    return new Promise((resolve) => {
      const done = (pcr: Pcr | undefined) => {
        this.waiters.delete(name);
        this.ctx.signal.removeEventListener('abort', onAbort);
        resolve(pcr);
      };
      const onAbort = () => done(undefined);
      this.ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(name, done);
      const seen = this.latest.get(name);
      if (seen && outcomeOf(seen)) done(seen);
    });
  }
}

/** The pod's life: request, wait, run, refresh at beginRefreshAt; back off and request again after a refusal. */
async function runPod(
  ctx: ScenarioContext,
  kubelet: Kubelet,
  plan: PodPlan,
  created: V1Pod,
  options: PodCertificatesOptions,
  onRequested: () => void,
): Promise<void> {
  const { signal } = ctx;
  const log = (line: string): void => ctx.log(terminalSafe(`${plan.name}: ${line}`));
  const startTime = new Date();
  const { core, custom } = kubelet.clients;
  const report = async (phase: PodPhase): Promise<void> => {
    for (let backoff = 200; !signal.aborted; backoff = Math.min(backoff * 2, 5000)) {
      try {
        await updateWithRetry(
          () => core.readNamespacedPod({ name: plan.name, namespace: PC_NAMESPACE }),
          (pod) => ({ ...pod, status: podStatus(pod, plan, phase, startTime) }),
          (next) => core.replaceNamespacedPodStatus({ name: plan.name, namespace: PC_NAMESPACE, body: next }),
        );
        return;
      } catch (err) {
        if (signal.aborted) return;
        log(`status update failed: ${describeError(err)}; retrying in ${backoff} ms`);
        await delay(backoff, signal);
      }
    }
  };
  await report('creating');
  const saUid = (await core.readNamespacedServiceAccount({ name: plan.serviceAccount, namespace: PC_NAMESPACE }))
    .metadata?.uid;
  let running = false;
  let failures = 0;
  let requested = false;
  while (!signal.aborted) {
    const { key, der } = stubRequest();
    let name: string;
    try {
      const body = {
        apiVersion: `${GROUP}/${kubelet.version}`,
        kind: 'PodCertificateRequest',
        metadata: {
          generateName: `${plan.name}-`,
          namespace: PC_NAMESPACE,
          labels: { [SCENARIO_LABEL]: 'pod-certificates' },
        },
        spec: {
          signerName: options.signerName,
          podName: plan.name,
          podUID: created.metadata?.uid,
          serviceAccountName: plan.serviceAccount,
          serviceAccountUID: saUid,
          nodeName: plan.node,
          nodeUID: kubelet.nodeUid,
          maxExpirationSeconds: 86_400,
          stubPKCS10Request: der.toString('base64'),
        },
      };
      const made = (await custom.createNamespacedCustomObject({
        group: GROUP,
        version: kubelet.version,
        namespace: PC_NAMESPACE,
        plural: PLURAL,
        body,
      })) as Pcr;
      name = made.metadata?.name ?? '';
      log(`requested a certificate from ${options.signerName}: PodCertificateRequest ${name}`);
    } catch (err) {
      if (signal.aborted) return;
      const wait = backoffMs(options.backoffMs, failures++);
      log(`could not create the PodCertificateRequest: ${describeError(err)}; retrying in ${wait} ms`);
      await delay(wait, signal);
      continue;
    }
    if (!requested) {
      requested = true;
      onRequested();
    }
    const pcr = await kubelet.settled(name);
    if (signal.aborted) return;
    const outcome = pcr ? outcomeOf(pcr) : undefined;
    if (outcome?.type === 'Issued' && pcr) {
      const problem = checkIssued(pcr, key);
      if (!problem) {
        failures = 0;
        if (!running) {
          await report('running');
          running = true;
          log('certificate issued; the volume is ready and the pod runs');
        } else log('certificate refreshed');
        const refreshAt = Date.parse(pcr.status?.beginRefreshAt ?? '') || Date.now() + 3_600_000;
        while (!signal.aborted && Date.now() < refreshAt)
          await delay(Math.min(refreshAt - Date.now(), MAX_TIMER_MS), signal);
        if (!signal.aborted) log('beginRefreshAt reached: requesting a fresh certificate');
        continue;
      }
      log(`the issued certificate is unusable (${problem}); requesting again`);
    } else if (outcome) {
      log(`PodCertificateRequest ${name} ${outcome.type.toLowerCase()}: ${outcome.reason} ${outcome.message}`.trim());
    } else {
      log(`PodCertificateRequest ${name} was deleted before it was issued`);
    }
    const wait = backoffMs(options.backoffMs, failures++);
    log(`requesting again in ${wait} ms`);
    await delay(wait, signal);
  }
}

/** Exponential back-off from `base`, at most 5 minutes. */
function backoffMs(base: number, failures: number): number {
  return Math.min(base * 2 ** Math.min(failures, 16), 300_000);
}

/** What the kubelet checks before it writes the credential bundle: a leaf first, for the key it holds. */
function checkIssued(pcr: Pcr, key: KeyObject): string | undefined {
  const chain = pcr.status?.certificateChain ?? '';
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(chain)?.[0];
  if (!first) return 'no certificate in the chain';
  try {
    const leaf = new X509Certificate(first);
    const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');
    return der(leaf.publicKey) === der(key) ? undefined : 'the leaf is not for the requested key';
  } catch (err) {
    return `the leaf does not parse: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export const podCertificates: Scenario = {
  name: 'pod-certificates',
  description:
    'Pods in workloads with podCertificate volumes wait in ContainerCreating while their kubelet has a PodCertificateRequest out.',
  async start(ctx) {
    const options = parsePodCertificatesOptions(ctx.options);
    allowManyListeners(ctx.signal);
    const { cluster } = ctx;
    const admin = clientsFor(cluster.admin);
    const version = await pcrVersion(admin);
    if (!version) {
      ctx.log('this cluster does not serve PodCertificateRequests (certificates.k8s.io v1 or v1beta1); nothing to do');
      return;
    }
    await applyManifests(admin, 'pod-certificates');
    await Promise.all(NODES.map((node) => registerNode(cluster, node, 'pod-certificates')));
    const kubelets = new Map(NODES.map((node) => [node, new Kubelet(node, ctx, version)]));
    await Promise.all([...kubelets.values()].map((k) => k.start()));
    const plans = planPods(options.pods);
    // Created as a Deployment controller would; each pod's kubelet takes it from there.
    const created = await Promise.all(
      plans.map(async (plan) => {
        try {
          return await admin.core.createNamespacedPod({
            namespace: PC_NAMESPACE,
            body: podManifest(plan, options.signerName),
          });
        } catch (err) {
          if (statusCode(err) !== 409) throw err;
          return admin.core.readNamespacedPod({ name: plan.name, namespace: PC_NAMESPACE });
        }
      }),
    );
    let pending = plans.length;
    let resolveRequested: () => void = () => {};
    const requested = new Promise<void>((resolve) => {
      resolveRequested = resolve;
    });
    plans.forEach((plan, i) => {
      let counted = false;
      const count = () => {
        if (counted) return;
        counted = true;
        if (--pending === 0) resolveRequested();
      };
      void runPod(ctx, kubelets.get(plan.node)!, plan, created[i]!, options, count).catch((err: unknown) => {
        count();
        if (!ctx.signal.aborted) ctx.log(terminalSafe(`${plan.name}: stopped: ${describeError(err)}`));
      });
    });
    if (plans.length) await requested;
    ctx.log(`${plans.length} pods in ${PC_NAMESPACE} wait for certificates from signer ${options.signerName}`);
  },
};

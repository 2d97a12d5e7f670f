// The `calico-rollout` scenario: Calico installed with certificate management (seed 000). calico-node (one per
// node) and calico-typha pods sit in Init while their key-cert-provisioner init container has a CSR out; issued →
// PodInitializing → Running; Denied or Failed → Init:Error, Init:CrashLoopBackOff, and a fresh CSR after a
// back-off. A tigera-operator stand-in keeps TigeraStatus `calico` up to date. Everyone acts over HTTPS with the
// identity the real component has: the provisioner as the pod's service account, status writes as the node's
// kubelet, TigeraStatus as the operator's service account.
import { randomBytes } from 'node:crypto';
import type { V1CertificateSigningRequest, V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import {
  KEY_ALGORITHMS,
  type KeyAlgorithmName,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithmName,
} from '../../pki/types.js';
import { terminalSafe } from '../../text/sanitize.js';
import { createDemoCaPem, makeKeyAndCsr } from './crypto.js';
import type { Scenario, ScenarioContext } from './index.js';
import {
  allowManyListeners,
  type Clients,
  clientsFor,
  createIfAbsent,
  delay,
  describeError,
  listWatch,
  nodeAddress,
  nodeIdentity,
  registerNode,
  serviceAccountIdentity,
  statusCode,
  updateWithRetry,
} from './kube.js';
import { applyManifests } from './manifests.js';
import { SCENARIO_LABEL } from './types.js';

export const CALICO_NAMESPACE = 'calico-system';
const OPERATOR_GROUP = 'operator.tigera.io';
const OPERATOR_VERSION = 'v1';
const PROVISIONER_IMAGE = 'quay.io/tigera/key-cert-provisioner:v1.1.20';
const CALICO_VERSION = 'v3.28.0';
export const CALICO_USAGES = ['server auth', 'client auth', 'digital signature', 'key agreement'];

export interface CalicoRolloutOptions {
  /** Number of nodes, each with a calico-node pod. @default 3 */
  nodes: number;
  /** Installation.spec.certificateManagement.signerName. @default example.com/calico */
  signerName: string;
  /** The CA the Installation trusts (PEM). @default a fresh CA whose key is discarded (nobody can sign as it) */
  caCertPem?: string;
  /** @default ECDSAWithCurve256 */
  keyAlgorithm: KeyAlgorithmName;
  /** @default ECDSAWithSHA256 */
  signatureAlgorithm: SignatureAlgorithmName;
  /** How long a failed init container waits (CrashLoopBackOff) before it retries with a new CSR. @default 2000 */
  backoffMs: number;
  /** How long a pod stays PodInitializing once its init container completed. @default 300 */
  podInitializingMs: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

export function parseCalicoOptions(raw: Record<string, unknown>): CalicoRolloutOptions {
  const nodes = num(raw.nodes) ?? 3;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 500) {
    throw new Error(`calico-rollout: nodes must be a whole number from 1 to 500, not ${String(raw.nodes)}.`);
  }
  const keyAlgorithm = (str(raw.keyAlgorithm) ?? 'ECDSAWithCurve256') as KeyAlgorithmName;
  if (!KEY_ALGORITHMS.includes(keyAlgorithm)) {
    throw new Error(`calico-rollout: keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}.`);
  }
  const signatureAlgorithm = (str(raw.signatureAlgorithm) ??
    (keyAlgorithm.startsWith('RSA') ? 'SHA256WithRSA' : 'ECDSAWithSHA256')) as SignatureAlgorithmName;
  if (!SIGNATURE_ALGORITHMS.includes(signatureAlgorithm)) {
    throw new Error(`calico-rollout: signatureAlgorithm must be one of ${SIGNATURE_ALGORITHMS.join(', ')}.`);
  }
  const signerName = str(raw.signerName) ?? 'example.com/calico';
  if (!/^[^/]+\.[^/]+\/[^/]+$/.test(signerName)) {
    throw new Error(`calico-rollout: signerName must look like example.com/signer-name, not ${signerName}.`);
  }
  return {
    nodes,
    signerName,
    caCertPem: str(raw.caCertPem),
    keyAlgorithm,
    signatureAlgorithm,
    backoffMs: num(raw.backoffMs) ?? 2000,
    podInitializingMs: num(raw.podInitializingMs) ?? 300,
  };
}

const POD_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function podSuffix(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += POD_SUFFIX_ALPHABET[b % POD_SUFFIX_ALPHABET.length];
  return out;
}

function containerId(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

function imageId(image: string): string {
  return `${image.split(':')[0]}@sha256:${randomBytes(32).toString('hex')}`;
}

interface PodPlan {
  name: string;
  nodeName: string;
  hostIP: string;
  serviceAccount: 'calico-node' | 'calico-typha';
  secretName: 'node-certs' | 'typha-certs';
  app: 'calico-node' | 'calico-typha';
  appImage: string;
  commonName: string;
  dnsNames: string[];
}

function planPods(nodes: number): PodPlan[] {
  const plans: PodPlan[] = [];
  for (let i = 1; i <= nodes; i++) {
    plans.push({
      name: `calico-node-${podSuffix(5)}`,
      nodeName: `node-${i}`,
      hostIP: nodeAddress(`node-${i}`),
      serviceAccount: 'calico-node',
      secretName: 'node-certs',
      app: 'calico-node',
      appImage: `quay.io/calico/node:${CALICO_VERSION}`,
      commonName: 'typha-client',
      dnsNames: ['typha-client'],
    });
  }
  plans.push({
    name: `calico-typha-${podSuffix(10)}-${podSuffix(5)}`,
    nodeName: 'node-1',
    hostIP: nodeAddress('node-1'),
    serviceAccount: 'calico-typha',
    secretName: 'typha-certs',
    app: 'calico-typha',
    appImage: `quay.io/calico/typha:${CALICO_VERSION}`,
    commonName: 'typha-server',
    dnsNames: [
      'typha-server',
      'calico-typha',
      'calico-typha.calico-system',
      'calico-typha.calico-system.svc',
      'calico-typha.calico-system.svc.cluster.local',
    ],
  });
  return plans;
}

function initContainerName(plan: PodPlan): string {
  return `${plan.secretName}-key-cert-provisioner`;
}

function podManifest(plan: PodPlan, options: CalicoRolloutOptions): V1Pod {
  const init = initContainerName(plan);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: plan.name,
      namespace: CALICO_NAMESPACE,
      labels: {
        'k8s-app': plan.app,
        'app.kubernetes.io/name': plan.app,
        [SCENARIO_LABEL]: 'calico-rollout',
      },
    },
    spec: {
      // Bound at create, as no scheduler may run; the node's kubelet (played here) reports its status.
      nodeName: plan.nodeName,
      // Calico's DaemonSet tolerates every taint, so a node the scenario registered is never drained of it.
      tolerations: [{ operator: 'Exists' }],
      serviceAccountName: plan.serviceAccount,
      hostNetwork: true,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      priorityClassName: 'system-node-critical',
      initContainers: [
        {
          name: init,
          image: PROVISIONER_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          // What the operator renders from the Installation; the provisioner reads these.
          env: [
            { name: 'SIGNER', value: options.signerName },
            { name: 'KEY_ALGORITHM', value: options.keyAlgorithm },
            { name: 'SIGNATURE_ALGORITHM', value: options.signatureAlgorithm },
            { name: 'COMMON_NAME', value: plan.commonName },
            { name: 'DNS_NAMES', value: plan.dnsNames.join(',') },
            { name: 'CERTIFICATE_PATH', value: `/${plan.secretName}/` },
            { name: 'CA_CERT_PATH', value: `/${plan.secretName}/ca.crt` },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'POD_UID', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
          ],
          volumeMounts: [{ name: plan.secretName, mountPath: `/${plan.secretName}` }],
        },
      ],
      containers: [
        {
          name: plan.app,
          image: plan.appImage,
          imagePullPolicy: 'IfNotPresent',
          resources: { requests: { cpu: '250m' } },
          volumeMounts: [{ name: plan.secretName, mountPath: `/${plan.secretName}`, readOnly: true }],
        },
      ],
      volumes: [{ name: plan.secretName, emptyDir: {} }],
    },
  };
}

function env(pod: V1Pod, name: string): string | undefined {
  return pod.spec?.initContainers?.[0]?.env?.find((e) => e.name === name)?.value;
}

/** The pod status a kubelet reports, for each step of the init container's life. */
type PodStep =
  | { kind: 'init-running'; restarts: number; last?: { message: string; startedAt: Date; finishedAt: Date } }
  | { kind: 'init-error'; restarts: number; message: string; startedAt: Date }
  | { kind: 'crash-loop'; restarts: number; message: string; startedAt: Date; finishedAt: Date; backoffMs: number }
  | { kind: 'initialized'; restarts: number; startedAt: Date }
  | { kind: 'running'; restarts: number; startedAt: Date; initStartedAt: Date; initFinishedAt: Date };

function condition(
  type: string,
  ok: boolean,
  at: Date,
  reason?: string,
  message?: string,
): V1PodCondition & { observedGeneration?: number } {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: undefined, lastTransitionTime: at, reason, message };
}

function podStatus(pod: V1Pod, plan: PodPlan, step: PodStep, startTime: Date): V1Pod['status'] {
  const now = new Date();
  const init = initContainerName(plan);
  const initImage = PROVISIONER_IMAGE;
  const initializing = step.kind === 'init-running' || step.kind === 'init-error' || step.kind === 'crash-loop';
  let initStatus: V1ContainerStatus;
  const base = { name: init, image: initImage, imageID: imageId(initImage), restartCount: step.restarts };
  switch (step.kind) {
    case 'init-running':
      initStatus = {
        ...base,
        containerID: containerId(),
        ready: false,
        started: true,
        state: { running: { startedAt: now } },
        lastState: step.last
          ? {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                message: step.last.message,
                startedAt: step.last.startedAt,
                finishedAt: step.last.finishedAt,
              },
            }
          : {},
      };
      break;
    case 'init-error':
      initStatus = {
        ...base,
        containerID: containerId(),
        ready: false,
        started: false,
        state: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            message: step.message,
            startedAt: step.startedAt,
            finishedAt: now,
          },
        },
        lastState: {},
      };
      break;
    case 'crash-loop':
      initStatus = {
        ...base,
        containerID: containerId(),
        ready: false,
        started: false,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${Math.max(1, Math.round(step.backoffMs / 1000))}s restarting failed container=${init} pod=${plan.name}_${CALICO_NAMESPACE}(${pod.metadata?.uid ?? ''})`,
          },
        },
        lastState: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            message: step.message,
            startedAt: step.startedAt,
            finishedAt: step.finishedAt,
          },
        },
      };
      break;
    case 'initialized':
    case 'running': {
      const startedAt = step.kind === 'running' ? step.initStartedAt : step.startedAt;
      const finishedAt = step.kind === 'running' ? step.initFinishedAt : now;
      initStatus = {
        ...base,
        containerID: containerId(),
        ready: true,
        started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt } },
        lastState: {},
      };
      break;
    }
  }
  const appStatus: V1ContainerStatus =
    step.kind === 'running'
      ? {
          name: plan.app,
          image: plan.appImage,
          imageID: imageId(plan.appImage),
          containerID: containerId(),
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: step.startedAt } },
          lastState: {},
        }
      : {
          name: plan.app,
          image: plan.appImage,
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'PodInitializing' } },
          lastState: {},
        };
  const running = step.kind === 'running';
  const unready = `containers with unready status: [${plan.app}]`;
  const conditions = [
    condition('PodReadyToStartContainers', true, startTime),
    initializing
      ? condition(
          'Initialized',
          false,
          startTime,
          'ContainersNotInitialized',
          `containers with incomplete status: [${init}]`,
        )
      : condition('Initialized', true, now),
    running ? condition('Ready', true, now) : condition('Ready', false, startTime, 'ContainersNotReady', unready),
    running
      ? condition('ContainersReady', true, now)
      : condition('ContainersReady', false, startTime, 'ContainersNotReady', unready),
    condition('PodScheduled', true, startTime),
  ];
  return {
    phase: running ? 'Running' : 'Pending',
    conditions,
    hostIP: plan.hostIP,
    hostIPs: [{ ip: plan.hostIP }],
    podIP: plan.hostIP,
    podIPs: [{ ip: plan.hostIP }],
    startTime,
    qosClass: 'Burstable',
    initContainerStatuses: [initStatus],
    containerStatuses: [appStatus],
  };
}

function csrCondition(csr: V1CertificateSigningRequest, type: string) {
  return csr.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

type CsrOutcome = { issued: true } | { issued: false; message: string };

/** Waits (watching, never polling) until the CSR is issued, denied, failed or deleted. */
async function awaitCsr(
  sa: Clients,
  name: string,
  uid: string | undefined,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<CsrOutcome | undefined> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<CsrOutcome | undefined>((resolve, reject) => {
      signal.addEventListener('abort', () => resolve(undefined), { once: true });
      const fieldSelector = `metadata.name=${name}`;
      listWatch<V1CertificateSigningRequest>({
        kc: sa.kc,
        path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
        list: () => sa.certs.listCertificateSigningRequest({ fieldSelector }),
        query: { fieldSelector },
        // Like client-go, keep trying while the API server is away rather than crash the init container.
        persistent: true,
        signal: stop.signal,
        log,
        onEvent(type, csr) {
          if (uid && csr.metadata?.uid && csr.metadata.uid !== uid) return;
          if (type === 'DELETED') {
            resolve({ issued: false, message: `certificate signing request ${name} was deleted before it was issued` });
            return;
          }
          const denied = csrCondition(csr, 'Denied');
          const failed = csrCondition(csr, 'Failed');
          if (denied || failed) {
            const c = (denied ?? failed)!;
            resolve({
              issued: false,
              message: `certificate signing request ${name} was ${denied ? 'denied' : 'marked failed'}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`,
            });
            return;
          }
          if (csrCondition(csr, 'Approved') && csr.status?.certificate) resolve({ issued: true });
        },
      }).catch(reject);
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/** One pod's key-cert-provisioner init container, plus the kubelet's status reports about it. */
async function runPod(
  ctx: ScenarioContext,
  plan: PodPlan,
  pod: V1Pod,
  options: CalicoRolloutOptions,
  onSettled: () => void,
): Promise<void> {
  const { cluster, signal } = ctx;
  const log = (line: string): void => ctx.log(terminalSafe(`${plan.name}: ${line}`));
  const uid = pod.metadata?.uid ?? randomBytes(16).toString('hex');
  // The provisioner runs with the pod's bound service-account token, which carries the pod's name and uid as extra.
  const sa = clientsFor(
    cluster.as({
      ...serviceAccountIdentity(CALICO_NAMESPACE, plan.serviceAccount),
      extra: { 'authentication.kubernetes.io/pod-name': [plan.name], 'authentication.kubernetes.io/pod-uid': [uid] },
    }),
  );
  const kubelet = clientsFor(cluster.as(nodeIdentity(plan.nodeName)));
  const csrName = `${CALICO_NAMESPACE}:${plan.name}:${uid.replace(/-/g, '').slice(0, 6)}`;
  const startTime = new Date();

  // The kubelet writes from the pod it last saw and re-reads only on a conflict.
  let known: V1Pod | undefined = pod;
  const report = async (step: PodStep): Promise<void> => {
    await updateWithRetry(
      // A node may get the pods bound to it (Node authorizer), not pods/status.
      async () => known ?? (await kubelet.core.readNamespacedPod({ name: plan.name, namespace: CALICO_NAMESPACE })),
      (current) => ({ ...current, status: podStatus(current, plan, step, startTime) }),
      async (next) => {
        try {
          known = await kubelet.core.replaceNamespacedPodStatus({
            name: plan.name,
            namespace: CALICO_NAMESPACE,
            body: next,
          });
        } catch (err) {
          known = undefined;
          throw err;
        }
      },
    );
  };

  // The API server may be away (paused, restarting): a kubelet keeps trying until its report is written.
  const reportUntilWritten = async (step: PodStep): Promise<void> => {
    for (let backoff = 200; !signal.aborted; backoff = Math.min(backoff * 2, 5000)) {
      try {
        await report(step);
        return;
      } catch (err) {
        if (signal.aborted) return;
        log(`status update failed: ${describeError(err)}; retrying in ${backoff} ms`);
        await delay(backoff, signal);
      }
    }
  };

  let restarts = 0;
  let last: { message: string; startedAt: Date; finishedAt: Date } | undefined;
  while (!signal.aborted) {
    const startedAt = new Date();
    await reportUntilWritten({ kind: 'init-running', restarts, last });
    if (signal.aborted) return;
    // The provisioner: a fresh key, delete any same-named CSR left by an earlier run, create, watch.
    let outcome: CsrOutcome | undefined;
    try {
      const { csrPem } = await makeKeyAndCsr({
        keyAlgorithm: (env(pod, 'KEY_ALGORITHM') as KeyAlgorithmName | undefined) ?? options.keyAlgorithm,
        commonName: env(pod, 'COMMON_NAME') ?? plan.commonName,
        dnsNames: (env(pod, 'DNS_NAMES') ?? plan.dnsNames.join(',')).split(',').filter(Boolean),
        ipAddresses: [plan.hostIP],
      });
      if (restarts > 0) {
        // After a crash: remove the CSR a previous run left, so the same name can be requested again.
        try {
          await sa.certs.deleteCertificateSigningRequest({ name: csrName });
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
      }
      const body: V1CertificateSigningRequest = {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: csrName, labels: { [SCENARIO_LABEL]: 'calico-rollout' } },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: env(pod, 'SIGNER') ?? options.signerName,
          usages: CALICO_USAGES,
        },
      };
      const created = await sa.certs.createCertificateSigningRequest({ body });
      log(`created CSR ${csrName}`);
      onSettled();
      outcome = await awaitCsr(sa, csrName, created.metadata?.uid, signal, log);
    } catch (err) {
      if (signal.aborted) return;
      outcome = { issued: false, message: `key-cert-provisioner failed: ${describeError(err)}` };
    }
    if (!outcome || signal.aborted) return;
    if (outcome.issued) {
      log('certificate issued; init container completed');
      await reportUntilWritten({ kind: 'initialized', restarts, startedAt });
      await delay(options.podInitializingMs, signal);
      if (signal.aborted) return;
      const now = new Date();
      await reportUntilWritten({
        kind: 'running',
        restarts,
        startedAt: now,
        initStartedAt: startedAt,
        initFinishedAt: now,
      });
      log('running');
      onSettled();
      return;
    }
    log(outcome.message);
    await reportUntilWritten({ kind: 'init-error', restarts, message: outcome.message, startedAt });
    onSettled();
    await delay(Math.min(500, options.backoffMs / 2), signal);
    if (signal.aborted) return;
    const finishedAt = new Date();
    restarts++;
    await reportUntilWritten({
      kind: 'crash-loop',
      restarts,
      message: outcome.message,
      startedAt,
      finishedAt,
      backoffMs: options.backoffMs,
    });
    await delay(options.backoffMs, signal);
    last = { message: outcome.message, startedAt, finishedAt };
  }
}

interface StatusCondition {
  type: 'Available' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

function podFailure(pod: V1Pod): string | undefined {
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const isInit = pod.status?.initContainerStatuses?.includes(s);
    const kind = isInit ? 'init container' : 'container';
    if (s.state?.waiting?.reason === 'CrashLoopBackOff') {
      return `Pod ${CALICO_NAMESPACE}/${pod.metadata?.name} has crash looping ${kind}: ${s.name}`;
    }
    const t = s.state?.terminated;
    if (t && t.exitCode !== 0) {
      return `Pod ${CALICO_NAMESPACE}/${pod.metadata?.name} has terminated ${kind}: ${s.name}`;
    }
  }
  return undefined;
}

function podReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** TigeraStatus conditions for the pods the operator sees (exported for unit tests). */
export function tigeraConditions(pods: V1Pod[], expected: { nodes: number; typha: number }): StatusCondition[] {
  const failures = pods.map(podFailure).filter((m): m is string => !!m);
  const node = pods.filter((p) => p.metadata?.labels?.['k8s-app'] === 'calico-node');
  const typha = pods.filter((p) => p.metadata?.labels?.['k8s-app'] === 'calico-typha');
  const awaitingNodes = expected.nodes - node.filter(podReady).length;
  const awaitingTypha = expected.typha - typha.filter(podReady).length;
  const c = (type: StatusCondition['type'], ok: boolean, reason: string, message: string): StatusCondition => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
  });
  if (awaitingNodes <= 0 && awaitingTypha <= 0 && failures.length === 0) {
    return [
      c('Available', true, 'AllObjectsAvailable', 'All objects are available'),
      c('Progressing', false, 'AllObjectsAvailable', 'All objects are available'),
      c('Degraded', false, 'AllObjectsAvailable', 'All objects are available'),
    ];
  }
  const waiting =
    awaitingNodes > 0
      ? `DaemonSet "${CALICO_NAMESPACE}/calico-node" is not available (awaiting ${awaitingNodes} nodes)`
      : `Deployment "${CALICO_NAMESPACE}/calico-typha" is not available (awaiting ${awaitingTypha} replicas)`;
  const degraded =
    failures.length > 0
      ? c(
          'Degraded',
          true,
          'PodFailure',
          failures.length > 1 ? `${failures[0]} (and ${failures.length - 1} more)` : failures[0]!,
        )
      : c('Degraded', false, 'ResourceNotReady', '');
  return [
    c('Available', false, 'ResourceNotReady', waiting),
    c('Progressing', true, 'ResourceNotReady', waiting),
    degraded,
  ];
}

interface TigeraStatusObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; resourceVersion?: string; generation?: number };
  spec?: Record<string, unknown>;
  status?: { conditions?: StatusCondition[] };
}

/** The tigera-operator stand-in: watches the calico pods and keeps TigeraStatus `calico` current. */
async function runOperator(ctx: ScenarioContext, expected: { nodes: number; typha: number }): Promise<void> {
  const { cluster, signal } = ctx;
  const log = (line: string): void => ctx.log(terminalSafe(`tigera-operator: ${line}`));
  const op = clientsFor(cluster.as(serviceAccountIdentity('tigera-operator', 'tigera-operator')));
  const pods = new Map<string, V1Pod>();
  const target = { group: OPERATOR_GROUP, version: OPERATOR_VERSION, plural: 'tigerastatuses', name: 'calico' };
  let running = false;
  let dirty = false;

  const ensureExists = () =>
    createIfAbsent(() =>
      op.custom.createClusterCustomObject({
        group: OPERATOR_GROUP,
        version: OPERATOR_VERSION,
        plural: 'tigerastatuses',
        body: {
          apiVersion: `${OPERATOR_GROUP}/${OPERATOR_VERSION}`,
          kind: 'TigeraStatus',
          metadata: { name: 'calico', labels: { [SCENARIO_LABEL]: 'calico-rollout' } },
          spec: {},
        },
      }),
    );
  const read = async (): Promise<TigeraStatusObject> => {
    try {
      return (await op.custom.getClusterCustomObject(target)) as TigeraStatusObject;
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
      // Someone deleted it: the operator puts it back, as the real one does.
      await ensureExists();
      return (await op.custom.getClusterCustomObject(target)) as TigeraStatusObject;
    }
  };

  const write = async (): Promise<void> => {
    const wanted = tigeraConditions([...pods.values()], expected);
    await updateWithRetry(
      read,
      (current) => {
        const old = current.status?.conditions ?? [];
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const same = wanted.every((w) => {
          const o = old.find((x) => x.type === w.type);
          return o && o.status === w.status && o.reason === w.reason && o.message === w.message;
        });
        if (same && old.length === wanted.length) return undefined;
        const conditions = wanted.map((w) => {
          const o = old.find((x) => x.type === w.type);
          return {
            ...w,
            lastTransitionTime: o && o.status === w.status && o.lastTransitionTime ? o.lastTransitionTime : now,
            observedGeneration: current.metadata.generation ?? 1,
          };
        });
        return { ...current, status: { conditions } };
      },
      async (next) => {
        return op.custom.replaceClusterCustomObjectStatus({ ...target, body: next });
      },
    );
  };

  const schedule = (): void => {
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    void (async () => {
      let backoff = 200;
      do {
        dirty = false;
        try {
          await write();
        } catch (err) {
          if (signal.aborted) break;
          log(`TigeraStatus update failed: ${describeError(err)}; retrying in ${backoff} ms`);
          await delay(backoff, signal);
          backoff = Math.min(backoff * 2, 10_000);
          dirty = true;
        }
      } while (dirty && !signal.aborted);
      running = false;
    })();
  };

  await ensureExists();
  await listWatch<V1Pod>({
    kc: op.kc,
    path: `/api/v1/namespaces/${CALICO_NAMESPACE}/pods`,
    list: () => op.core.listNamespacedPod({ namespace: CALICO_NAMESPACE }),
    signal,
    log,
    onList: () => pods.clear(),
    onEvent(type, pod) {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED') pods.delete(name);
      else pods.set(name, pod);
      schedule();
    },
  });
  schedule();
}

export const calicoRollout: Scenario = {
  name: 'calico-rollout',
  description:
    'Calico with certificate management: calico-node and calico-typha pods wait in Init:0/1 for their CSRs; TigeraStatus calico follows.',
  async start(ctx) {
    const options = parseCalicoOptions(ctx.options);
    allowManyListeners(ctx.signal);
    const { cluster } = ctx;
    const admin = clientsFor(cluster.admin);
    await applyManifests(admin, 'calico-rollout');
    const plans = planPods(options.nodes);
    await Promise.all(
      [...new Set(plans.map((p) => p.nodeName))].map((node) => registerNode(cluster, node, 'calico-rollout')),
    );
    let caCert = options.caCertPem;
    if (!caCert) {
      caCert = await createDemoCaPem('calico-rollout demo CA (key discarded)');
      ctx.log(
        'no caCertPem option: the Installation trusts a fresh CA whose key was discarded, so certdesk refuses to sign with another (ca-untrusted); trust yours with --set calico-rollout.caCertPem="$(cat ca.pem)" (certdesk demo passes its own)',
      );
    }
    const installation = {
      apiVersion: `${OPERATOR_GROUP}/${OPERATOR_VERSION}`,
      kind: 'Installation',
      metadata: { name: 'default', labels: { [SCENARIO_LABEL]: 'calico-rollout' } },
      spec: {
        variant: 'Calico',
        certificateManagement: {
          caCert,
          signerName: options.signerName,
          signatureAlgorithm: options.signatureAlgorithm,
          keyAlgorithm: options.keyAlgorithm,
        },
      },
    };
    const installationRef = { group: OPERATOR_GROUP, version: OPERATOR_VERSION, plural: 'installations' };
    try {
      await admin.custom.createClusterCustomObject({ ...installationRef, body: installation });
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      await updateWithRetry(
        () =>
          admin.custom.getClusterCustomObject({ ...installationRef, name: 'default' }) as Promise<typeof installation>,
        (current) => ({
          ...current,
          spec: { ...current.spec, certificateManagement: installation.spec.certificateManagement },
        }),
        (next) => admin.custom.replaceClusterCustomObject({ ...installationRef, name: 'default', body: next }),
      );
    }

    await runOperator(ctx, { nodes: options.nodes, typha: 1 });
    // Created as the DaemonSet / Deployment controllers would; the API server resets the status.
    const created = await Promise.all(
      plans.map(async (plan) => ({
        plan,
        pod: await admin.core.createNamespacedPod({ namespace: CALICO_NAMESPACE, body: podManifest(plan, options) }),
      })),
    );
    // Resolve once every pod reports Init:0/1 (its provisioner is running and about to create its CSR).
    let pending = created.length;
    let resolveStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      resolveStarted = resolve;
    });
    for (const { plan, pod } of created) {
      let counted = false;
      void runPod(ctx, plan, pod, options, () => {
        if (counted) return;
        counted = true;
        if (--pending === 0) resolveStarted();
      }).catch((err: unknown) => {
        if (!counted && --pending === 0) resolveStarted();
        counted = true;
        if (!ctx.signal.aborted) ctx.log(terminalSafe(`${plan.name}: stopped: ${describeError(err)}`));
      });
    }
    await started;
    ctx.log(`${plans.length} pods in ${CALICO_NAMESPACE} wait for certificates from signer ${options.signerName}`);
  },
};

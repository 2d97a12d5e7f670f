// Test environment for the controller: a sandbox (with scenarios), a CA for the custom signer, the RBAC objects
// of deploy/rbac.yaml installed, and ClusterContexts for the controller's service account.
import { readFileSync } from 'node:fs';
import {
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ClusterContext } from '../../../src/services/kube/index.js';
import { createCa, type LoadedCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../../src/services/sandbox/index.js';

export const SIGNER = 'example.com/calico';
export const NAMESPACE = 'certdesk';
export const SA_USER = `system:serviceaccount:${NAMESPACE}:certdesk-controller`;
export const SA_GROUPS = ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'];

const RESOURCE: Record<string, string> = {
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
};

export interface ControllerEnv {
  sandbox: Sandbox;
  ca: LoadedCa;
  caCertPem: string;
  /** The CA key, PEM: only ever written to 0600 files in a test's temp dir. */
  caKeyPem: string;
  admin: KubeConfig;
  certs: CertificatesV1Api;
  core: CoreV1Api;
  leases: CoordinationV1Api;
  custom: CustomObjectsApi;
  /** A context acting as the controller's service account (deploy/rbac.yaml's permissions). */
  controllerContext(): ClusterContext;
  stop(): Promise<void>;
}

/** The sandbox's first cluster as its admin (system:masters) sees it, for a controller run in the test's process. */
export function adminContext(env: ControllerEnv): ClusterContext {
  const cluster = env.sandbox.clusters[0];
  if (!cluster) throw new Error('the sandbox has no cluster');
  return { name: cluster.name, server: cluster.server, cluster: cluster.name, user: 'admin', kubeConfig: env.admin };
}

export async function startControllerEnv(options: SandboxOptions = {}): Promise<ControllerEnv> {
  const { certPem, keyPem } = await createCa({ cn: 'certdesk test calico CA' });
  const ca = await loadCaFromPem(certPem, keyPem);
  const sandbox = await startSandbox({
    ...options,
    scenarioOptions: {
      ...options.scenarioOptions,
      'calico-rollout': { signerName: SIGNER, caCertPem: certPem, ...options.scenarioOptions?.['calico-rollout'] },
      hostile: { signerName: SIGNER, ...options.scenarioOptions?.hostile },
    },
  });
  const cluster = sandbox.clusters[0];
  if (!cluster) throw new Error('no sandbox cluster');
  // deploy/: the namespace and the RBAC objects, as `kubectl apply -k deploy/` would create them.
  cluster.api.insert('namespaces', { metadata: { name: NAMESPACE }, spec: {}, status: { phase: 'Active' } });
  const text = readFileSync(new URL('../../../deploy/rbac.yaml', import.meta.url), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind: string };
    const resource = RESOURCE[obj.kind];
    if (resource) cluster.api.insert(resource, obj as never);
  }
  const admin = cluster.kubeConfigFor('admin', ['system:masters']);
  return {
    sandbox,
    ca,
    caCertPem: certPem,
    caKeyPem: keyPem,
    admin,
    certs: admin.makeApiClient(CertificatesV1Api),
    core: admin.makeApiClient(CoreV1Api),
    leases: admin.makeApiClient(CoordinationV1Api),
    custom: admin.makeApiClient(CustomObjectsApi),
    controllerContext() {
      const kubeConfig = cluster.kubeConfigFor(SA_USER, SA_GROUPS);
      return { name: cluster.name, server: cluster.server, cluster: cluster.name, user: SA_USER, kubeConfig };
    },
    stop: () => sandbox.stop(),
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 45_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function conditionTypes(csr: V1CertificateSigningRequest): string[] {
  return (csr.status?.conditions ?? []).map((c) => c.type);
}

/** Submits a CSR as a calico pod's key-cert-provisioner would (its service account, named after the pod). */
export async function submitCalicoCsr(
  env: ControllerEnv,
  pod: { name: string; uid: string; serviceAccount: string },
  suffix: string,
): Promise<string> {
  const { generateKeyAndCsr } = await import('../../../src/services/pki/index.js');
  const { csrPem } = await generateKeyAndCsr({ cn: pod.serviceAccount, hosts: [pod.serviceAccount] });
  const cluster = env.sandbox.clusters[0];
  if (!cluster) throw new Error('no sandbox cluster');
  const user = `system:serviceaccount:calico-system:${pod.serviceAccount}`;
  const kc = cluster.kubeConfigFor(user, [
    'system:serviceaccounts',
    'system:serviceaccounts:calico-system',
    'system:authenticated',
  ]);
  const name = `calico-system:${pod.name}:${suffix}`;
  await kc.makeApiClient(CertificatesV1Api).createCertificateSigningRequest({
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name, labels: { 'certdesk.dev/test': 'handover' } },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        signerName: SIGNER,
        usages: ['server auth', 'client auth', 'digital signature', 'key agreement'],
        extra: {
          'authentication.kubernetes.io/pod-name': [pod.name],
          'authentication.kubernetes.io/pod-uid': [pod.uid],
        },
      },
    },
  });
  return name;
}

// The sandbox: one embedded HTTPS Kubernetes API server per simulated cluster, a kubeconfig to reach them, the
// cluster signers, and scenarios acting on them. `startSandbox()` is the one entry point.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClusterSigner } from './cluster-signer.js';
import { SandboxCluster, writeKubeconfigFile } from './cluster.js';
import { bootstrapRbacObjects, type SandboxUserSpec } from './rbac-bootstrap.js';
import { preloadScale } from './scenarios/scale.js';
import { scenarios as scenarioRegistry } from './scenarios/index.js';
import type { KObject } from './store.js';

export type { UserInfo } from './authz.js';
export { SandboxCluster } from './cluster.js';
export type { SandboxUserSpec } from './rbac-bootstrap.js';

export interface SandboxOptions {
  /** Cluster names; default ['east']. */
  clusters?: string[];
  /** Scenario names (see scenarios/index.ts, plus 'scale'). */
  scenarios?: string[];
  /** Per-scenario options, e.g. { 'calico-rollout': { nodes: 3 } }. */
  scenarioOptions?: Record<string, Record<string, unknown>>;
  /** First port; cluster i listens on port + i. Default: random free ports. */
  port?: number;
  /** Where to write the kubeconfig; default a file in the sandbox's temp dir. */
  kubeconfigOut?: string;
  /** Identities and their roles; `admin` (system:masters) and `viewer` exist unless redefined here. */
  users?: SandboxUserSpec[];
  /** Watch events kept per resource; older resourceVersions get 410 Expired. Default 1000. */
  watchHistorySize?: number;
  /** Run the cluster's own kubernetes.io signers (kube-controller-manager). Default true. */
  builtinSigners?: boolean;
  /** Duration of certificates the built-in signers issue; default one year. */
  signingDurationSeconds?: number;
  /** Preload this many CSRs and pods (the `scale` scenario). */
  scale?: { csrs: number; pods: number };
  /** Interval of BOOKMARK events on watches that allow them; default 1000 ms. */
  bookmarkIntervalMs?: number;
  log?: (line: string) => void;
}

export interface Sandbox {
  kubeconfigPath: string;
  clusters: SandboxCluster[];
  cluster(name: string): SandboxCluster;
  /** The users with kubeconfig contexts (`<cluster>` is admin, `<cluster>-<user>` the others). */
  users: SandboxUserSpec[];
  stop(): Promise<void>;
}

export const DEFAULT_USERS: SandboxUserSpec[] = [
  { name: 'admin', groups: ['system:masters'], role: 'admin' },
  { name: 'viewer', groups: [], role: 'viewer' },
];

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function mergeUsers(extra: SandboxUserSpec[] = []): SandboxUserSpec[] {
  const byName = new Map<string, SandboxUserSpec>();
  for (const u of [...DEFAULT_USERS, ...extra]) byName.set(u.name, u);
  return [...byName.values()];
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const names = options.clusters?.length ? options.clusters : ['east'];
  for (const n of names) {
    if (!CLUSTER_NAME.test(n))
      throw new Error(`Cluster name "${n}" is not valid; use lower-case letters, digits and '-'.`);
  }
  if (new Set(names).size !== names.length) throw new Error('Cluster names must be unique; remove the duplicate.');
  const wanted = options.scenarios ?? [];
  for (const s of wanted) {
    if (s !== 'scale' && !scenarioRegistry[s]) {
      const known = Object.keys(scenarioRegistry).sort().join(', ');
      throw new Error(`Unknown scenario "${s}"; choose one of: ${known}.`);
    }
  }
  const users = mergeUsers(options.users);
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-sandbox-'));
  const abort = new AbortController();
  const clusters: SandboxCluster[] = [];
  const stop = async (): Promise<void> => {
    abort.abort();
    await Promise.all(clusters.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rbac = bootstrapRbacObjects(users) as KObject[];
    for (const [i, name] of names.entries()) {
      const clusterOptions: ConstructorParameters<typeof SandboxCluster>[0] = { name, dir, log };
      if (options.watchHistorySize !== undefined) clusterOptions.watchHistorySize = options.watchHistorySize;
      if (options.bookmarkIntervalMs !== undefined) clusterOptions.bookmarkIntervalMs = options.bookmarkIntervalMs;
      const cluster = new SandboxCluster(clusterOptions);
      for (const ns of SYSTEM_NAMESPACES) {
        cluster.api.insert('namespaces', {
          metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
      }
      for (const obj of rbac) {
        const copy = structuredClone(obj);
        const kindToResource: Record<string, string> = {
          ClusterRole: 'clusterroles',
          ClusterRoleBinding: 'clusterrolebindings',
          Role: 'roles',
          RoleBinding: 'rolebindings',
        };
        const resource = kindToResource[String(copy.kind)];
        if (resource) cluster.api.insert(resource, copy);
      }
      clusters.push(cluster);
      try {
        await cluster.listen(options.port ? options.port + i : 0);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new Error(`Port ${(options.port ?? 0) + i} is already in use; choose another --port or omit it.`);
        }
        throw err;
      }
    }

    const kubeconfigPath = options.kubeconfigOut ?? join(dir, 'kubeconfig');
    const parts = clusters.map((c) =>
      c.kubeconfigParts(
        users.map((u) => ({
          context: u.name === 'admin' ? c.name : `${c.name}-${u.name}`,
          user: u.name,
          groups: u.groups ?? [],
        })),
      ),
    );
    writeKubeconfigFile(kubeconfigPath, parts, clusters[0]?.name ?? 'east');

    const scale = options.scale ?? (wanted.includes('scale') ? { csrs: 10_000, pods: 5_000 } : undefined);
    if (scale) {
      const scaleOptions = options.scenarioOptions?.scale ?? {};
      const csrs = typeof scaleOptions.csrs === 'number' ? scaleOptions.csrs : scale.csrs;
      const pods = typeof scaleOptions.pods === 'number' ? scaleOptions.pods : scale.pods;
      for (const c of clusters) preloadScale(c, { csrs, pods });
    }

    const signingDurationSeconds = options.signingDurationSeconds ?? 365 * 24 * 3600;
    if (options.builtinSigners !== false) {
      await Promise.all(
        clusters.map((c) =>
          startClusterSigner(c, {
            caCertPem: c.caCertPem,
            caKeyPem: c.caKeyPem,
            durationSeconds: signingDurationSeconds,
            signal: abort.signal,
            log,
          }),
        ),
      );
    }
    for (const name of wanted) {
      if (name === 'scale') continue;
      const scenario = scenarioRegistry[name];
      if (!scenario) continue;
      await Promise.all(
        clusters.map((cluster) =>
          scenario.start({
            cluster: cluster.scenarioCluster(),
            signal: abort.signal,
            log: (line) => log(`[${cluster.name}] ${name}: ${line}`),
            options: options.scenarioOptions?.[name] ?? {},
          }),
        ),
      );
    }

    return {
      kubeconfigPath,
      clusters,
      users,
      cluster(name: string): SandboxCluster {
        const c = clusters.find((x) => x.name === name);
        if (!c) throw new Error(`No sandbox cluster "${name}"; the clusters are ${names.join(', ')}.`);
        return c;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

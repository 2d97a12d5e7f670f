// Loads a scenario's manifests (assets/scenarios/<name>.yaml: namespaces, service accounts, RBAC) and applies them
// as admin, the way an installer would with `kubectl create -f`. Objects that already exist are left as they are.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { type Clients, createIfAbsent } from './kube.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

let assetsDir: string | undefined;

/** assets/scenarios, found by walking up from this module (works from src/ under tsx and from dist/ bundles). */
export function scenarioAssetsDir(): string {
  if (assetsDir) return assetsDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'assets', 'scenarios');
    if (existsSync(candidate)) {
      assetsDir = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('assets/scenarios was not found next to the certdesk package; reinstall certdesk.');
    dir = parent;
  }
}

export async function loadManifests(name: string): Promise<Manifest[]> {
  const text = await readFile(join(scenarioAssetsDir(), `${name}.yaml`), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as Manifest | null)
    .filter((m): m is Manifest => !!m && typeof m.kind === 'string');
}

function applyOne(admin: Clients, name: string, m: Manifest): Promise<void> {
  const ns = m.metadata.namespace ?? 'default';
  switch (m.kind) {
    case 'Namespace':
      return createIfAbsent(() => admin.core.createNamespace({ body: m as V1Namespace }));
    case 'ServiceAccount':
      return createIfAbsent(() =>
        admin.core.createNamespacedServiceAccount({ namespace: ns, body: m as V1ServiceAccount }),
      );
    case 'ClusterRole':
      return createIfAbsent(() => admin.rbac.createClusterRole({ body: m as V1ClusterRole }));
    case 'ClusterRoleBinding':
      return createIfAbsent(() => admin.rbac.createClusterRoleBinding({ body: m as V1ClusterRoleBinding }));
    case 'Role':
      return createIfAbsent(() => admin.rbac.createNamespacedRole({ namespace: ns, body: m as V1Role }));
    case 'RoleBinding':
      return createIfAbsent(() => admin.rbac.createNamespacedRoleBinding({ namespace: ns, body: m as V1RoleBinding }));
    default:
      return Promise.reject(
        new Error(`assets/scenarios/${name}.yaml holds a ${m.kind}, which scenarios cannot apply.`),
      );
  }
}

/** Creates every object of assets/scenarios/<name>.yaml that does not exist yet: namespaces first, then the rest. */
export async function applyManifests(admin: Clients, name: string): Promise<void> {
  const manifests = await loadManifests(name);
  await Promise.all(manifests.filter((m) => m.kind === 'Namespace').map((m) => applyOne(admin, name, m)));
  await Promise.all(manifests.filter((m) => m.kind !== 'Namespace').map((m) => applyOne(admin, name, m)));
}

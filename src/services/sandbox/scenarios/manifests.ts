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

/** Creates every object of assets/scenarios/<name>.yaml that does not exist yet. */
export async function applyManifests(admin: Clients, name: string): Promise<void> {
  for (const m of await loadManifests(name)) {
    const ns = m.metadata.namespace ?? 'default';
    switch (m.kind) {
      case 'Namespace':
        await createIfAbsent(() => admin.core.createNamespace({ body: m as V1Namespace }));
        break;
      case 'ServiceAccount':
        await createIfAbsent(() =>
          admin.core.createNamespacedServiceAccount({ namespace: ns, body: m as V1ServiceAccount }),
        );
        break;
      case 'ClusterRole':
        await createIfAbsent(() => admin.rbac.createClusterRole({ body: m as V1ClusterRole }));
        break;
      case 'ClusterRoleBinding':
        await createIfAbsent(() => admin.rbac.createClusterRoleBinding({ body: m as V1ClusterRoleBinding }));
        break;
      case 'Role':
        await createIfAbsent(() => admin.rbac.createNamespacedRole({ namespace: ns, body: m as V1Role }));
        break;
      case 'RoleBinding':
        await createIfAbsent(() => admin.rbac.createNamespacedRoleBinding({ namespace: ns, body: m as V1RoleBinding }));
        break;
      default:
        throw new Error(`assets/scenarios/${name}.yaml holds a ${m.kind}, which scenarios cannot apply.`);
    }
  }
}

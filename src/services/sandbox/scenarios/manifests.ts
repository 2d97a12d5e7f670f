// Loads a scenario's manifests (assets/scenarios/<name>.yaml: CRDs, namespaces, service accounts, RBAC) and applies
// them as admin, the way an installer would with `kubectl create -f`, each labelled certdesk.dev/scenario=<name>.
// Objects that already exist are left as they are (and, without the label, are not cleaned up).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1CustomResourceDefinition,
  type V1Namespace,
  type V1Role,
  type V1RoleBinding,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { type Clients, createIfAbsent, delay, statusCode } from './kube.js';
import { SCENARIO_LABEL } from './types.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { group?: string; names?: { plural?: string }; versions?: { name: string }[] };
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

/** The manifests of assets/scenarios/<file>.yaml, each labelled certdesk.dev/scenario=<label>. */
export async function loadManifests(file: string, label = file): Promise<Manifest[]> {
  const text = await readFile(join(scenarioAssetsDir(), `${file}.yaml`), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as Manifest | null)
    .filter((m): m is Manifest => !!m && typeof m.kind === 'string')
    .map((m) => ({ ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, [SCENARIO_LABEL]: label } } }));
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
    case 'CustomResourceDefinition':
      return createIfAbsent(() =>
        admin.kc
          .makeApiClient(ApiextensionsV1Api)
          .createCustomResourceDefinition({ body: m as unknown as V1CustomResourceDefinition }),
      );
    default:
      return Promise.reject(
        new Error(`assets/scenarios/${name}.yaml holds a ${m.kind}, which scenarios cannot apply.`),
      );
  }
}

/** Waits until the API serves a CRD's resource (Established), as `kubectl wait --for condition=established` would. */
async function served(admin: Clients, m: Manifest): Promise<void> {
  const ref = {
    group: m.spec?.group ?? '',
    version: m.spec?.versions?.[0]?.name ?? '',
    plural: m.spec?.names?.plural ?? '',
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await admin.custom.listClusterCustomObject({ ...ref, limit: 1 });
      return;
    } catch (err) {
      if (statusCode(err) !== 404 && statusCode(err) !== 503) throw err;
      if (Date.now() > deadline) throw new Error(`${m.metadata.name} was not served within 30 s.`);
    }
    await delay(100, new AbortController().signal);
  }
}

/**
 * Creates every object of assets/scenarios/<file>.yaml that does not exist yet: CRDs (waiting until served), then
 * namespaces, then the rest; each labelled certdesk.dev/scenario=<label>.
 */
export async function applyManifests(admin: Clients, file: string, label = file): Promise<void> {
  const manifests = await loadManifests(file, label);
  const crds = manifests.filter((m) => m.kind === 'CustomResourceDefinition');
  await Promise.all(crds.map((m) => applyOne(admin, file, m)));
  await Promise.all(crds.map((m) => served(admin, m)));
  await Promise.all(manifests.filter((m) => m.kind === 'Namespace').map((m) => applyOne(admin, file, m)));
  const rest = manifests.filter((m) => m.kind !== 'Namespace' && m.kind !== 'CustomResourceDefinition');
  await Promise.all(rest.map((m) => applyOne(admin, file, m)));
}

// Running scenarios against any cluster (`certdesk scenario run`): the same code the sandbox runs, through an admin
// context's credentials and impersonation; and the clean-up of everything they created, found by the label
// certdesk.dev/scenario=<name>, so objects that were there before are never touched.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { scenarios } from './index.js';
import { scenarioCluster, statusCode } from './kube.js';
import { SCENARIO_LABEL } from './types.js';

/** What scenarios create, in the order it is removed: dependants first, namespaces (and what is left in them) last. */
const CLEANUP_KINDS: [apiVersion: string, kind: string][] = [
  ['certificates.k8s.io/v1', 'CertificateSigningRequest'],
  ['certificates.k8s.io/v1', 'PodCertificateRequest'],
  ['v1', 'Pod'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
  ['v1', 'ServiceAccount'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
  ['apiregistration.k8s.io/v1', 'APIService'],
  ['operator.tigera.io/v1', 'Installation'],
  ['operator.tigera.io/v1', 'TigeraStatus'],
  ['v1', 'Node'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
  ['v1', 'Namespace'],
];

export interface RunScenariosOptions {
  /** The admin context's KubeConfig (must be allowed to impersonate). */
  admin: KubeConfig;
  /** A name for log lines (the context). */
  name: string;
  scenarios: string[];
  scenarioOptions?: Record<string, Record<string, unknown>>;
  signal: AbortSignal;
  log: (line: string) => void;
}

export function unknownScenario(name: string): string | undefined {
  if (scenarios[name]) return undefined;
  const known = Object.keys(scenarios).sort().join(', ');
  return `unknown scenario "${name}"; choose from ${known}.`;
}

/** Starts each scenario in turn; resolves once their initial objects exist. They act until `signal` aborts. */
export async function runScenarios(options: RunScenariosOptions): Promise<void> {
  const cluster = scenarioCluster(options.name, options.admin);
  for (const name of options.scenarios) {
    const scenario = scenarios[name];
    if (!scenario) throw new Error(unknownScenario(name));
    await scenario.start({
      cluster,
      signal: options.signal,
      log: (line) => options.log(`${name}: ${line}`),
      options: options.scenarioOptions?.[name] ?? {},
    });
  }
}

/**
 * Deletes what the named scenarios created (label certdesk.dev/scenario=<name>), kinds the cluster does not serve
 * skipped. Pods go with grace period 0, since no kubelet may be there to confirm their end. Returns a count per kind.
 */
export async function cleanupScenarios(
  admin: KubeConfig,
  names: string[],
  log: (line: string) => void = () => {},
): Promise<Record<string, number>> {
  const api = KubernetesObjectApi.makeApiClient(admin);
  const selector = `${SCENARIO_LABEL} in (${names.join(',')})`;
  const removed: Record<string, number> = {};
  for (const [apiVersion, kind] of CLEANUP_KINDS) {
    let items: KubernetesObject[];
    try {
      items = (await api.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, selector)).items;
    } catch (err) {
      // A kind the cluster does not serve (the operator CRDs already gone, no PodCertificateRequests before 1.34).
      if (statusCode(err) === 404 || /unknown|not found|Unrecognized/i.test(String(err))) continue;
      throw err;
    }
    await Promise.all(
      items.map(async (item) => {
        const ref = {
          apiVersion,
          kind,
          metadata: { name: item.metadata?.name ?? '', namespace: item.metadata?.namespace ?? '' },
        };
        if (!ref.metadata.namespace) delete (ref.metadata as { namespace?: string }).namespace;
        try {
          await api.delete(ref, undefined, undefined, kind === 'Pod' ? 0 : undefined);
          removed[kind] = (removed[kind] ?? 0) + 1;
        } catch (err) {
          if (statusCode(err) !== 404 && statusCode(err) !== 409) {
            log(`could not delete ${kind} ${ref.metadata.name}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }),
    );
  }
  return removed;
}

// The renewal radar: every certificate certdesk can see (Secrets, CA ConfigMaps, webhook caBundles, trust bundles,
// issued CSRs and PodCertificateRequests, the local CA registry and the kubeconfig's client certificates), with
// where it lives, when it runs out and what is wrong with it.
import type { RegistryOptions } from '../config/ca-registry.js';
import type { ClusterContext } from '../kube/api-types.js';
import type { KubeError } from '../kube/types.js';
import { bySoonestExpiry } from './inspect.js';
import { type ScanOptions, type SkippedSource, scanContext, scanKubeconfigUsers, scanRegistry } from './scan.js';
import type { CertRecord } from './types.js';

export {
  bySoonestExpiry,
  checkRecord,
  describeLocation,
  inspectPem,
  inspectPemDeferred,
  isoSeconds,
  type PemInput,
  problemsAt,
  timeLeft,
} from './inspect.js';
export { CALICO_ISSUER_ANNOTATION, CALICO_SIGNER_LABEL, SIGNER_ANNOTATION } from './objects.js';
export type { ScanOptions, SkippedSource } from './scan.js';
export * from './types.js';

export interface RadarResult {
  /** Soonest expiry first (unparseable first of all). */
  records: CertRecord[];
  skipped: SkippedSource[];
  /** Contexts that could not be read at all. */
  failures: { context: string; error: KubeError }[];
}

/** Scans every context (in parallel) and the local sources once. */
export async function scanCertificates(
  contexts: readonly ClusterContext[],
  options: ScanOptions & { registry?: RegistryOptions },
): Promise<RadarResult> {
  const registry = await scanRegistry(options);
  const [perContext, kubeconfigUsers] = await Promise.all([
    Promise.all(contexts.map(async (ctx) => ({ ctx, result: await scanContext(ctx, options, registry.anchors) }))),
    options.sources.has('local') ? scanKubeconfigUsers(contexts) : Promise.resolve([]),
  ]);
  const records: CertRecord[] = [];
  const skipped: SkippedSource[] = [];
  const failures: RadarResult['failures'] = [];
  if (options.sources.has('local')) {
    records.push(...registry.records, ...kubeconfigUsers);
    skipped.push(...registry.skipped);
  }
  for (const { ctx, result } of perContext) {
    records.push(...result.records);
    skipped.push(...result.skipped);
    if (result.failed) failures.push({ context: ctx.name, error: result.failed });
  }
  records.sort(bySoonestExpiry);
  return { records, skipped, failures };
}

// `kubectl logs POD -c CONTAINER --tail N`: GET /api/v1/namespaces/NS/pods/NAME/log?container=C (text).
import type { ClusterContext } from './api-types.js';
import { withRetry } from './errors.js';
import { requestText } from './transport.js';
import type { KubeResult } from './types.js';

export function readPodLog(
  ctx: ClusterContext,
  pod: { namespace: string; name: string; container: string },
  options: { tailLines?: number } = {},
): Promise<KubeResult<string>> {
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log`;
  return withRetry(
    () => requestText(ctx, { path, query: { container: pod.container, tailLines: options.tailLines ?? 500 } }),
    { context: ctx.name },
  );
}

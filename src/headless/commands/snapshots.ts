// One-shot reads through the live store: start informers, wait until each context has synced or has clearly
// failed (unreachable, forbidden, or still failing after retries), with a deadline; take the snapshots, stop.
// Contexts that do not sync are reported on stderr and counted as failures.
import {
  type ClusterContext,
  type ClusterStoreOptions,
  type ConnectionState,
  type ContextSnapshot,
  createClusterStore,
} from '../../services/kube/index.js';
import { CliError } from '../cli-error.js';
import { oneSentence, warn } from './common.js';

function settled(snap: ContextSnapshot): boolean {
  const c = snap.connection;
  if (c.phase === 'unreachable' || c.phase === 'forbidden' || (c.phase === 'retrying' && c.attempt >= 2)) return true;
  // PodCertificateRequests and trust bundles, when asked for: listed (or not served), or failing on their own.
  const podCertificates =
    snap.podCertificatesListed !== false || snap.errors.pcrs !== undefined || snap.errors.trustBundles !== undefined;
  return snap.synced && podCertificates;
}

function failureText(c: ConnectionState, ctxName: string, timeoutMs: number): string {
  if (c.phase === 'retrying') return c.lastError;
  if (c.phase === 'forbidden' || c.phase === 'unreachable') return c.message;
  return `context ${ctxName} did not answer within ${Math.round(timeoutMs / 1000)}s`;
}

export async function snapshotsOf(
  contexts: ClusterContext[],
  options: ClusterStoreOptions & { timeoutMs?: number } = {},
): Promise<{ snapshots: ContextSnapshot[]; failures: number }> {
  const { timeoutMs = 15_000, ...storeOptions } = options;
  const store = createClusterStore(contexts, {
    batchMs: 10,
    backoff: { initialMs: 200, maxMs: 2000 },
    connectTimeoutMs: 5000,
    // Only `health` reads PodCertificateRequests and trust bundles: the others do not list them.
    podCertificates: false,
    ...storeOptions,
  });
  try {
    await new Promise<void>((resolve) => {
      const check = () => {
        if (contexts.every((c) => settled(store.snapshot(c.name)))) finish();
      };
      const timer = setTimeout(() => finish(), timeoutMs);
      const unsubscribe = store.subscribe(check);
      function finish() {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
      store.start();
      check();
    });
    const snapshots: ContextSnapshot[] = [];
    let failures = 0;
    let lastMessage = '';
    for (const ctx of contexts) {
      const snap = store.snapshot(ctx.name);
      if (snap.synced) {
        snapshots.push(snap);
        continue;
      }
      failures++;
      lastMessage = failureText(snap.connection, ctx.name, timeoutMs);
      if (contexts.length > 1) warn(`error: context ${ctx.name}: ${oneSentence(lastMessage)}`);
    }
    if (contexts.length === 1 && failures === 1) throw new CliError(oneSentence(lastMessage));
    return { snapshots, failures };
  } finally {
    store.stop();
  }
}

// One-shot reads through the live store: start informers, wait for the first full sync (with a deadline), take
// the snapshots, stop. Contexts that do not sync are reported on stderr and counted as failures.
import {
  type ClusterContext,
  type ClusterStoreOptions,
  type ContextSnapshot,
  createClusterStore,
} from '../../services/kube/index.js';
import { oneSentence, warn } from './common.js';
import { CliError } from '../cli-error.js';

export async function snapshotsOf(
  contexts: ClusterContext[],
  options: ClusterStoreOptions & { timeoutMs?: number } = {},
): Promise<{ snapshots: ContextSnapshot[]; failures: number }> {
  const { timeoutMs = 15_000, ...storeOptions } = options;
  const store = createClusterStore(contexts, {
    batchMs: 10,
    backoff: { initialMs: 200, maxMs: 2000 },
    ...storeOptions,
  });
  store.start();
  try {
    await Promise.all(contexts.map((c) => store.whenSynced(c.name, timeoutMs)));
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
      const c = snap.connection;
      lastMessage =
        c.phase === 'retrying'
          ? c.lastError
          : c.phase === 'forbidden' || c.phase === 'unreachable'
            ? c.message
            : `context ${ctx.name} did not answer within ${Math.round(timeoutMs / 1000)}s`;
      if (contexts.length > 1) warn(`error: context ${ctx.name}: ${oneSentence(lastMessage)}`);
    }
    if (contexts.length === 1 && failures === 1) throw new CliError(oneSentence(lastMessage));
    return { snapshots, failures };
  } finally {
    store.stop();
  }
}

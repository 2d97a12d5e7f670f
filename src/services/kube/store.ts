// The live per-context store: list+watch informers for CSRs, pods, namespaces and TigeraStatus, batched for
// subscribers, with immutable snapshots.
import type { ClusterContext, ClusterStore, ClusterStoreOptions } from './api-types.js';

/** Creates a store over these contexts; nothing happens until start(). */
export function createClusterStore(_contexts: ClusterContext[], _options: ClusterStoreOptions = {}): ClusterStore {
  throw new Error('TODO: createClusterStore');
}

// What the findings know of a request's cluster, read from the live store the same way for every face (the TUI's
// inspect and gate, the controller): the context's pods, its Nodes when followed and served, and an index of every
// CSR of the store's contexts plus the audit log's decided keys (services/policy cluster-findings.ts).
import type { ClusterStore, ContextSnapshot } from '../kube/index.js';
import {
  type ClusterFacts,
  DnsChecks,
  type PodLike,
  type Policy,
  type RequestIndexCache,
  type SeenRequest,
} from '../policy/index.js';

export interface FactsSource {
  store: Pick<ClusterStore, 'snapshot' | 'contexts'>;
  /** One per face: keeps the index while the CSRs are unchanged. */
  index: RequestIndexCache;
  /** Requests decided earlier, from the audit log (auditedRequests). */
  audited?: readonly SeenRequest[];
  /** Whether the store follows Nodes (ClusterStoreOptions.nodes). */
  nodes?: boolean;
  /** The DNS answers, when the policy's DNS check is on (dnsChecksFor). */
  dns?: DnsChecks;
}

/** The DNS checks a policy asks for (one per face), or undefined when its DNS check is off (the default). */
export function dnsChecksFor(policy: Policy, onResult?: () => void): DnsChecks | undefined {
  if (!policy.dns.enabled) return undefined;
  return new DnsChecks({
    timeoutMs: policy.dns.timeoutMs,
    servers: policy.dns.servers,
    ...(onResult ? { onResult } : {}),
  });
}

/** A map's values, readable more than once (a store snapshot's maps are immutable). */
function values<T>(map: ReadonlyMap<string, T>): Iterable<T> {
  return { [Symbol.iterator]: () => map.values() };
}

/** The pods and ClusterFacts of one context, for findingsFor / decide / the gate. */
export function factsOf(source: FactsSource, context: string): { pods: Iterable<PodLike>; cluster: ClusterFacts } {
  const snapshot = source.store.snapshot(context);
  const nodesKnown = source.nodes && !snapshot.errors.nodes && snapshot.synced;
  const nodesError = source.nodes ? snapshot.errors.nodes : undefined;
  return {
    pods: values(snapshot.pods),
    cluster: {
      context,
      ...(nodesKnown ? { nodes: values(snapshot.nodes) } : {}),
      ...(nodesError
        ? { nodesUnknown: `the Nodes could not be listed (${nodesError.message.replace(/\.$/, '')})` }
        : {}),
      requests: source.index.of(
        source.store.contexts().map((c) => ({ context: c, csrs: source.store.snapshot(c).csrs })),
        source.audited,
      ),
      ...(source.dns ? { dns: source.dns } : {}),
    },
  };
}

const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = ++nextId;
    ids.set(o, id);
  }
  return id;
}

const podSignatures = new WeakMap<object, string>();

/**
 * What findings read of a context's pods, as a short key: which pods exist, their UIDs and service accounts. It
 * changes when a pod appears, goes or is replaced, not on every status update (pods change all the time). One pass
 * per new pods map (an FNV-1a hash, with the count).
 */
function podsKey(pods: ContextSnapshot['pods']): string {
  let key = podSignatures.get(pods);
  if (key !== undefined) return key;
  let h = 0x811c9dc5;
  for (const [name, pod] of pods) {
    const s = `${name}\u0000${pod.metadata?.uid ?? ''}\u0000${pod.spec?.serviceAccountName ?? ''}\u0001`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  key = `${pods.size}:${(h >>> 0).toString(36)}`;
  podSignatures.set(pods, key);
  return key;
}

/**
 * Changes when the facts of a context may have changed (a CSR of any context, its pods appearing, going or replaced,
 * its Nodes, a DNS answer), so that cached findings are made again: a request whose pod is deleted must not keep its
 * "the requestor's pod exists" on screen.
 */
export function factsKey(source: FactsSource, context: string): string {
  const csrs = source.store.contexts().map((c) => idOf(source.store.snapshot(c).csrs));
  const snapshot = source.store.snapshot(context);
  const nodes = source.nodes && !snapshot.errors.nodes && snapshot.synced ? idOf(snapshot.nodes) : '-';
  return `${csrs.join(',')}/${podsKey(snapshot.pods)}/${nodes}/${source.dns?.version ?? '-'}`;
}

/** Whether a policy's node-addresses finding concerns any of these signers (then Nodes are worth following). */
export function needsNodes(policy: { nodeServingSigners: readonly string[] }, signers?: readonly string[]): boolean {
  return signers ? signers.some((s) => policy.nodeServingSigners.includes(s)) : policy.nodeServingSigners.length > 0;
}

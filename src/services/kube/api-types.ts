// Public shapes of the kube services beyond the shared ones in types.ts: contexts, the live store and its
// batches, write options and outcomes, access checks.
import type {
  KubeConfig,
  V1CertificateSigningRequest,
  V1ConfigMap,
  V1Namespace,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';
import type { PodCertificateApis, WireCtb, WirePcr } from './pod-certificates.js';
import type { ConnectionState, KubeError, KubeResult } from './types.js';

/** One kubeconfig context, with a KubeConfig of its own whose current context is this one (credentials never cross). */
export interface ClusterContext {
  /** The context's name, as in the kubeconfig. */
  name: string;
  /** The cluster's API server URL. */
  server: string;
  /** The kubeconfig cluster entry's name. */
  cluster: string;
  /** The kubeconfig user entry's name. */
  user: string;
  /** The context's default namespace, when it sets one. */
  namespace?: string;
  /** A KubeConfig holding only this context (its cluster and user), pinned as current. */
  kubeConfig: KubeConfig;
}

export interface LoadContextsOptions {
  /** A kubeconfig path (like kubectl's --kubeconfig); wins over $KUBECONFIG. May be a path list. */
  kubeconfig?: string;
  /** Contexts to load (like a repeatable --context); default: the current context. */
  contexts?: string[];
  /** Load every context in the merged kubeconfig (broken ones are skipped, reported through onWarning). */
  allContexts?: boolean;
  /** Told about each context skipped by allContexts, in one sentence. */
  onWarning?: (message: string) => void;
  /** Environment to read KUBECONFIG / HOME from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** TigeraStatus (operator.tigera.io/v1), as plain JSON: certdesk only reads its conditions. */
export interface TigeraStatus {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string; creationTimestamp?: string; [key: string]: unknown };
  status?: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
      observedGeneration?: number;
    }[];
  };
}

/** The kinds the store follows. Keys: CSRs, namespaces, nodes and TigeraStatuses by name; pods by `namespace/name`. */
export type StoreKind = 'csrs' | 'pods' | 'namespaces' | 'nodes' | 'tigeraStatuses' | 'pcrs' | 'trustBundles';

/** A Node as the store keeps it: its name and addresses only (a Node's status also lists every image it holds). */
export interface NodeAddresses {
  metadata: { name: string; uid?: string; resourceVersion?: string };
  status: { addresses: { type: string; address: string }[] };
}

/** What changed in one context since the previous batch. Keys only, never the objects: read them from snapshot(). */
export interface ContextChange {
  context: string;
  /** Keys added or modified, per kind. */
  upserted: Partial<Record<StoreKind, string[]>>;
  /** Keys removed, per kind. */
  deleted: Partial<Record<StoreKind, string[]>>;
  /** Set when the connection state changed (the newest state). */
  connection?: ConnectionState;
  /** Set when `synced` changed (true once every kind has listed at least once). */
  synced?: boolean;
  /** Set when the CSRs' first list completed (they are listed before the other kinds; see ContextSnapshot). */
  csrsListed?: boolean;
  /** Set when TigeraStatus became known to be installed or not installed. */
  tigeraInstalled?: boolean;
}

/** One delivery to subscribers: the contexts that changed during the batching window. */
export interface StoreBatch {
  changes: ContextChange[];
}

/**
 * A context's state at one moment. Immutable: the store never mutates a snapshot it handed out, so it can be
 * kept and compared by identity; `version` grows with every change.
 */
export interface ContextSnapshot {
  context: string;
  version: number;
  csrs: ReadonlyMap<string, V1CertificateSigningRequest>;
  /** Keyed `namespace/name`. */
  pods: ReadonlyMap<string, V1Pod>;
  namespaces: ReadonlyMap<string, V1Namespace>;
  /** Nodes with their addresses, when followed (`nodes: true`); empty otherwise. */
  nodes: ReadonlyMap<string, NodeAddresses>;
  /** 'not-installed' when discovery shows no operator.tigera.io/v1 tigerastatuses. Empty until discovery has run. */
  tigeraStatuses: ReadonlyMap<string, TigeraStatus> | 'not-installed';
  /** PodCertificateRequests keyed `namespace/name` (wire JSON), where the cluster serves them. */
  pcrs?: ReadonlyMap<string, WirePcr>;
  /** ClusterTrustBundles by name (wire JSON), where the cluster serves them. */
  trustBundles?: ReadonlyMap<string, WireCtb>;
  /** The versions discovery found (undefined until it has run; an empty object: neither is served). */
  podCertificateApis?: PodCertificateApis;
  /** True once the PCRs (and trust bundles) that are served have completed their first list, or none are served. */
  podCertificatesListed?: boolean;
  connection: ConnectionState;
  /** True once every followed kind has completed its first list (a kind other than CSRs that is Forbidden counts). */
  synced: boolean;
  /**
   * True once the CSRs have completed their first list. The CSRs are listed first, the other kinds once that list
   * is in (or failed), so the CSR table is whole as early as possible.
   */
  csrsListed?: boolean;
  /** The current error of each kind that is failing, e.g. pods Forbidden for a user who may only read CSRs. */
  errors: Partial<Record<StoreKind, KubeError>>;
  /** Completed lists (first syncs and relists), watches opened, and 410 Expired answers, summed over kinds. */
  counters: { lists: number; watches: number; expired: number };
}

export interface ClusterStoreOptions {
  /** Follow pods only in these namespaces; default: all namespaces. */
  namespaces?: string[];
  /** Batching window for subscribers, ms. @default 50 */
  batchMs?: number;
  /** Follow pods (and namespaces). @default true */
  pods?: boolean;
  /** Follow TigeraStatus when installed. @default true */
  tigera?: boolean;
  /** Follow Nodes' addresses (the node-addresses finding). @default false */
  nodes?: boolean;
  /** Page size for lists. @default 500 */
  pageSize?: number;
  /** Backoff for restarting a failed list/watch. @default { initialMs: 500, maxMs: 30000 } */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Server-side watch timeout, seconds (the watch is then resumed from the last resourceVersion). @default 300 */
  watchTimeoutSeconds?: number;
  /** Connect timeout for each request, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** While TigeraStatus is not served, ask discovery again this often, ms. @default 60000 */
  discoveryIntervalMs?: number;
  /** Follow PodCertificateRequests and ClusterTrustBundles where served (issue 20). @default true */
  podCertificates?: boolean;
  /**
   * The kinds other than CSRs also wait for `releaseRest()` (the TUI calls it once every context's CSRs are on
   * screen: their connections and first pages would otherwise land in the table's first frame), at most 2 s after
   * the first context's CSRs are in. @default false
   */
  holdRest?: boolean;
}

export interface ClusterStore {
  /** Starts list+watch for every context (returns at once; follow progress via subscribe / snapshot). */
  start(): void;
  /** Stops every watch and timer; subscribers get no further batches. */
  stop(): void;
  /** Restarts the informers of one context (or all) now, skipping any backoff wait. */
  reconnect(context?: string): void;
  /** Registers a listener for batches; returns the unsubscribe function. */
  subscribe(listener: (batch: StoreBatch) => void): () => void;
  /** The current immutable snapshot of a context. Throws if the context is not in this store. */
  snapshot(context: string): ContextSnapshot;
  /** Names of the contexts in this store, in the order given. */
  contexts(): string[];
  /** Resolves true once the context (default: every context) is synced, false on timeout or stop. */
  whenSynced(context?: string, timeoutMs?: number): Promise<boolean>;
  /** Lets the kinds other than CSRs start (see `holdRest`); a no-op without it, and after the first call. */
  releaseRest(): void;
}

/** The object a write was decided on: the write goes to this UID at this resourceVersion, or not at all. */
export interface CsrBinding {
  uid: string;
  resourceVersion: string;
}

export interface ApprovalOptions {
  /** Write only to this object (docs/safety.md); a conflict ends in reason Replaced or Changed. */
  bind?: CsrBinding;
  /** Condition reason. @default 'CertdeskApprove' / 'CertdeskDeny' */
  reason?: string;
  /** Condition message. @default 'This CSR was approved by certdesk.' / 'This CSR was denied by certdesk.' */
  message?: string;
  /** Write even when the CSR already has this condition (updates reason/message), like kubectl's --force. */
  force?: boolean;
}

/** The result of a write that may be a no-op: the CSR as it is now, and whether certdesk wrote anything. */
export interface CsrWriteOutcome {
  csr: V1CertificateSigningRequest;
  changed: boolean;
}

export interface UploadOptions {
  /** Write only to this object (docs/safety.md); a conflict ends in reason Replaced or Changed. */
  bind?: CsrBinding;
  /** Upload even when the CSR is not Approved (the API server allows it; kube-controller-manager never does). @default false */
  allowUnapproved?: boolean;
}

export interface ApplyOptions {
  /** Replace the object when it exists already; otherwise the result is kind 'already-exists'. @default false */
  overwrite?: boolean;
  /** Called before each POST or PUT (the audit intent), and with its result after (the outcome). */
  onWrite?: WriteHook;
}

/** One POST or PUT about to be sent: a new object, or an update of the object read, whose uid and resourceVersion are
 * the PUT's preconditions (docs/safety.md). `path` is the object's (its collection's when the server picks the name). */
export interface PendingWrite {
  op: 'create' | 'update';
  path: string;
  uid?: string;
  resourceVersion?: string;
}

/** Runs before a write is sent; the function it resolves to is called with that write's result. */
export type WriteHook = (step: PendingWrite) => Promise<(result: KubeResult<Record<string, unknown>>) => Promise<void>>;

export interface ApplyOutcome<T> {
  object: T;
  action: 'created' | 'updated';
}

export type AppliedSecret = ApplyOutcome<V1Secret>;
export type AppliedConfigMap = ApplyOutcome<V1ConfigMap>;

/** A SelfSubjectAccessReview question. */
export interface AccessQuestion {
  verb: string;
  /** API group, '' for core. */
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

export interface AccessAnswer {
  allowed: boolean;
  /** The authorizer's reason, when given (terminal-unsafe: server text). */
  reason?: string;
  /** Human description of the permission asked, e.g. `approve on signers "example.com/foo"`. */
  permission: string;
}

/** canApprove / canSign: allowed only if every needed permission is held; `missing` names those that are not. */
export interface SignerCapability {
  allowed: boolean;
  missing: string[];
}

// Shapes shared by everything that talks to a cluster: typed results of writes and the connection state
// of each context. Kubernetes objects themselves are @kubernetes/client-node's models
// (V1CertificateSigningRequest, V1Pod, …).

export type KubeErrorKind =
  | 'unauthorized' // 401
  | 'forbidden' // 403 (RBAC or admission)
  | 'not-found' // 404
  | 'conflict' // 409 optimistic lock
  | 'already-exists' // 409 AlreadyExists
  | 'gone' // 410
  | 'invalid' // 422
  | 'bad-request' // 400
  | 'too-many-requests' // 429
  | 'server' // 5xx
  | 'timeout'
  | 'tls' // certificate / handshake problems
  | 'unreachable' // DNS, connection refused, network down
  | 'refused' // certdesk's own refusal (e.g. approve a Denied CSR), not the server's
  | 'unknown';

export interface KubeError {
  kind: KubeErrorKind;
  /** HTTP status, when there was one. */
  status?: number;
  /** One sentence for a person, naming what failed and what to do where possible. */
  message: string;
  /** The server's Status.reason, when there was one. */
  reason?: string;
  /** 422 causes. */
  causes?: { field?: string; message: string }[];
  context?: string;
}

export type KubeResult<T> = { ok: true; value: T } | { ok: false; error: KubeError };

export type ConnectionState =
  | { phase: 'connecting' }
  | { phase: 'live'; since: number }
  | { phase: 'retrying'; lastError: string; nextAttemptAt: number; attempt: number }
  | { phase: 'forbidden'; message: string }
  | { phase: 'unreachable'; message: string; nextAttemptAt: number };

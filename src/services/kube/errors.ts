// Turns every way a Kubernetes call can fail (Status bodies, ApiException, socket/TLS/timeout errors) into a
// KubeError with one sentence for a person, and holds the one retry policy (429, 5xx, timeouts).
import { terminalSafe } from '../text/sanitize.js';
import type { KubeError, KubeErrorKind, KubeResult } from './types.js';

/** The JSON body of a Kubernetes `Status` error. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

/** Thrown by the transport for a non-2xx response (carries the parsed Status, when the body was one). */
export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: KubeStatus | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'KubeHttpError';
  }
}

/** Thrown by the transport before any request for a name no API server path can hold (`.`, `..`). */
export class KubeNameError extends Error {
  constructor(readonly name_: string) {
    super(`invalid resource name "${name_}": [may not be '${name_}']`);
    this.name = 'KubeNameError';
  }
}

/** Thrown by the transport when a request's deadline passes. */
export class KubeTimeoutError extends Error {
  constructor(
    readonly ms: number,
    /** 'connect': no TCP connection and TLS handshake within `ms`; 'request': no whole answer within `ms`. */
    readonly phase: 'connect' | 'request' = 'request',
  ) {
    super(phase === 'connect' ? `no connection within ${seconds(ms)}` : `no answer within ${seconds(ms)}`);
    this.name = 'KubeTimeoutError';
  }
}

/** `10s`, `1.5s`, `250ms`: a deadline as the message states it. */
export function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** Thrown by the transport when the kubeconfig user's credentials could not be obtained (exec plugin, token file…). */
export class KubeCredentialsError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'KubeCredentialsError';
  }
}

export function ok<T>(value: T): KubeResult<T> {
  return { ok: true, value };
}

export function fail<T>(error: KubeError): KubeResult<T> {
  return { ok: false, error };
}

/** certdesk's own refusal (not the server's), e.g. approving a Denied CSR. */
export function refused(message: string, reason: string, context?: string): KubeError {
  return { kind: 'refused', message, reason, ...(context ? { context } : {}) };
}

function parseStatus(body: unknown): KubeStatus | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    try {
      return parseStatus(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  if (typeof body === 'object') return body as KubeStatus;
  return undefined;
}

function trimPeriod(s: string): string {
  return s.trim().replace(/[.\s]+$/, '');
}

const CODE_KIND: Record<number, KubeErrorKind> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  410: 'gone',
  422: 'invalid',
  429: 'too-many-requests',
};

function kindForStatus(code: number, reason?: string): KubeErrorKind {
  if (code === 409 && reason === 'AlreadyExists') return 'already-exists';
  if (code === 504 || reason === 'Timeout') return 'timeout';
  if (code >= 500) return 'server';
  return CODE_KIND[code] ?? 'unknown';
}

/** The "User "x" cannot verb resource …" part of a 403 message, when present. */
function forbiddenDetail(message: string): string {
  const at = message.indexOf(' is forbidden: ');
  if (at >= 0) return message.slice(at + ' is forbidden: '.length);
  if (message.startsWith('forbidden: ')) return message.slice('forbidden: '.length);
  return message;
}

function where(context?: string): string {
  return context ? ` in context ${terminalSafe(context)}` : '';
}

function fromHttp(code: number, body: KubeStatus | undefined, context?: string): KubeError {
  const reason = body?.reason;
  const kind = kindForStatus(code, reason);
  const serverMessage = body?.message ? terminalSafe(trimPeriod(body.message), { maxLength: 500 }) : '';
  const base: KubeError = {
    kind,
    status: code,
    message: '',
    ...(reason ? { reason } : {}),
    ...(context ? { context } : {}),
  };
  switch (kind) {
    case 'unauthorized':
      base.message = `The API server${where(context)} did not accept your credentials (401); log in again or refresh the kubeconfig user's token or client certificate.`;
      break;
    case 'forbidden':
      base.message = `Forbidden${where(context)}: ${forbiddenDetail(serverMessage || 'permission denied')}; ask a cluster admin for that permission.`;
      break;
    case 'not-found':
      base.message = `${serverMessage || 'The object was not found'}${where(context)}; it may have been deleted.`;
      break;
    case 'already-exists':
      base.message = `${serverMessage || 'The object already exists'}${where(context)}; choose another name.`;
      break;
    case 'conflict':
      // The server's own words say which object and which precondition (uid, resourceVersion) did not hold.
      base.message = `The object changed while certdesk was writing it${where(context)}${serverMessage ? ` (the API server said: ${serverMessage})` : ''}; reload it and try again.`;
      break;
    case 'gone':
      base.message = `The server's history has moved on (410 ${reason ?? 'Gone'})${where(context)}; certdesk re-reads the list.`;
      break;
    case 'invalid': {
      const causes = (body?.details?.causes ?? []).map((c) => ({
        ...(c.field ? { field: terminalSafe(c.field) } : {}),
        message: terminalSafe(c.message ?? c.reason ?? 'invalid', { maxLength: 300 }),
      }));
      if (causes.length) base.causes = causes;
      const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
      base.message = `The API server${where(context)} rejected the object as invalid: ${list || serverMessage || 'no details given'}; fix those fields and try again.`;
      break;
    }
    case 'bad-request':
      base.message = `The API server${where(context)} rejected the request: ${serverMessage || 'bad request'}.`;
      break;
    case 'too-many-requests':
      base.message = `The API server${where(context)} is throttling requests (429); try again in a moment.`;
      break;
    case 'timeout':
      base.message = `The API server${where(context)} timed out (${code}${serverMessage ? `: ${serverMessage}` : ''}); try again in a moment.`;
      break;
    case 'server':
      base.message = `The API server${where(context)} failed with ${code}${serverMessage ? ` (${serverMessage})` : ''}; try again later or check the control plane.`;
      break;
    default:
      base.message = `The API server${where(context)} answered ${code}${serverMessage ? `: ${serverMessage}` : ''}.`;
  }
  return base;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'ERR_OSSL_PEM_NO_START_LINE',
  'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/** The error and its causes (Node and undici wrap socket errors in `cause`), at most four deep. */
function withCauses(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  for (let e = err; chain.length < 4 && e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    chain.push(e as Record<string, unknown>);
  }
  return chain;
}

/** The host name or address:port a socket error names (Node sets them on the error or on its cause). */
function socketDetail(err: unknown): { hostname?: string; address?: string } {
  for (const rec of withCauses(err)) {
    if (typeof rec.hostname === 'string') return { hostname: terminalSafe(rec.hostname, { maxLength: 100 }) };
    if (typeof rec.address === 'string') {
      const port = typeof rec.port === 'number' ? `:${rec.port}` : '';
      return { address: terminalSafe(`${rec.address}${port}`, { maxLength: 100 }) };
    }
  }
  return {};
}

/** One sentence for a socket that could not reach the server: what failed, as far as the error says, and what to check. */
function unreachable(code: string, at: { hostname?: string; address?: string }, where: string): string {
  if (code === 'ENOTFOUND')
    return `The API server${where} is unreachable: its host name${at.hostname ? ` ${at.hostname}` : ''} does not resolve (ENOTFOUND); check the kubeconfig's server address, and the DNS or VPN that should resolve it.`;
  if (code === 'EAI_AGAIN')
    return `The API server${where} is unreachable: DNS did not answer for${at.hostname ? ` ${at.hostname}` : ' its host name'} (EAI_AGAIN); check the network and DNS, then try again.`;
  if (code === 'ECONNREFUSED')
    return `The API server${where} is unreachable: nothing accepts connections at ${at.address ?? 'its address'} (ECONNREFUSED); check that it is running and that the kubeconfig's server address and port are right.`;
  return `The API server${where} is unreachable (${code}); check that it is running and that the kubeconfig's server address is right.`;
}

function errorCode(err: unknown): string | undefined {
  for (const rec of withCauses(err)) {
    if (typeof rec.code === 'string') return rec.code;
    if (typeof rec.errno === 'string') return rec.errno;
  }
  return undefined;
}

/** Maps any thrown value from a Kubernetes call to a KubeError (never throws). */
export function toKubeError(err: unknown, context?: string): KubeError {
  if (err instanceof KubeHttpError) return fromHttp(err.status, err.body, context);
  // kubectl's own words, and no request was sent.
  if (err instanceof KubeNameError)
    return { kind: 'bad-request', message: err.message, ...(context ? { context } : {}) };
  if (err instanceof KubeCredentialsError) {
    return {
      kind: 'unauthorized',
      message: `Getting credentials${where(context)} failed (${terminalSafe(trimPeriod(err.detail), { maxLength: 300 })}); check the kubeconfig user's exec plugin, token or certificate files.`,
      ...(context ? { context } : {}),
    };
  }
  if (err instanceof KubeTimeoutError) {
    return {
      // No TCP connection and TLS handshake within the connect deadline: as good as unreachable.
      kind: err.phase === 'connect' ? 'unreachable' : 'timeout',
      message:
        err.phase === 'connect'
          ? `The API server${where(context)} could not be connected to within ${seconds(err.ms)} (TCP and TLS handshake); check that it is running and that the kubeconfig's server address is right.`
          : `The API server${where(context)} gave no answer within ${seconds(err.ms)} (--request-timeout); check the network, or try again with a longer --request-timeout.`,
      ...(context ? { context } : {}),
    };
  }
  if (err && typeof err === 'object') {
    const rec = err as { code?: unknown; body?: unknown; statusCode?: unknown; name?: unknown; message?: unknown };
    // client-node's ApiException (code: number, body: Status JSON text), or Watch errors (statusCode).
    const httpCode = typeof rec.code === 'number' ? rec.code : typeof rec.statusCode === 'number' ? rec.statusCode : 0;
    if (httpCode >= 100) return fromHttp(httpCode, parseStatus(rec.body), context);
    // A Status object itself (e.g. a watch ERROR event).
    if (
      rec.body === undefined &&
      (err as KubeStatus).kind === 'Status' &&
      typeof (err as KubeStatus).code === 'number'
    ) {
      return fromHttp((err as KubeStatus).code ?? 0, err as KubeStatus, context);
    }
    const code = errorCode(err);
    const detail = terminalSafe(typeof rec.message === 'string' ? trimPeriod(rec.message) : String(err), {
      maxLength: 300,
    });
    if (rec.name === 'AbortError' || code === 'ABORT_ERR') {
      return {
        kind: 'timeout',
        message: `The request${where(context)} was cancelled.`,
        ...(context ? { context } : {}),
      };
    }
    if (code && (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))) {
      return {
        kind: 'tls',
        message: `TLS with the API server${where(context)} failed (${code}: ${detail}); check the cluster's certificate-authority and the user's client certificate in the kubeconfig.`,
        ...(context ? { context } : {}),
      };
    }
    if (code && TIMEOUT_CODES.has(code)) {
      return {
        kind: 'timeout',
        message: `The API server${where(context)} did not answer in time (${code}); check the network or try again.`,
        ...(context ? { context } : {}),
      };
    }
    if (code && UNREACHABLE_CODES.has(code)) {
      return {
        kind: 'unreachable',
        message: unreachable(code, socketDetail(err), where(context)),
        ...(context ? { context } : {}),
      };
    }
    if (/certificate|self.signed|tls|ssl/i.test(detail)) {
      return {
        kind: 'tls',
        message: `TLS with the API server${where(context)} failed (${detail}); check the kubeconfig's certificate-authority and client certificate.`,
        ...(context ? { context } : {}),
      };
    }
    return {
      kind: 'unknown',
      message: `The request${where(context)} failed: ${detail}.`,
      ...(context ? { context } : {}),
    };
  }
  return {
    kind: 'unknown',
    message: `The request${where(context)} failed: ${String(err)}.`,
    ...(context ? { context } : {}),
  };
}

/** 429, 5xx and timeouts are worth another try; everything else is an answer. */
export function isRetryable(error: KubeError): boolean {
  return error.kind === 'too-many-requests' || error.kind === 'server' || error.kind === 'timeout';
}

export interface RetryOptions {
  /** Attempts in all, the first included. @default 4 */
  attempts?: number;
  /** @default 200 */
  initialMs?: number;
  /** @default 5000 */
  maxMs?: number;
  /** Which failures to retry. @default isRetryable */
  retryable?: (error: KubeError) => boolean;
  signal?: AbortSignal;
  context?: string;
}

/** Capped exponential backoff with full jitter: a random wait in [d/2, d], d = min(max, initial·2^n). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random) {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(d / 2 + (random() * d) / 2);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `fn` and maps its failure to a KubeError; retries 429/5xx/timeouts with capped exponential backoff and
 * jitter (honouring Retry-After), then reports the last error.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<KubeResult<T>> {
  const attempts = options.attempts ?? 4;
  const initialMs = options.initialMs ?? 200;
  const maxMs = options.maxMs ?? 5000;
  const retryable = options.retryable ?? isRetryable;
  let last: KubeError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return ok(await fn());
    } catch (err) {
      last = toKubeError(err, options.context);
      // A deadline of ours that passed is final: retrying would make the command outlast the deadline it states.
      if (err instanceof KubeTimeoutError) break;
      if (!retryable(last) || attempt === attempts - 1 || options.signal?.aborted) break;
      const retryAfter = err instanceof KubeHttpError ? err.retryAfterMs : undefined;
      await sleep(Math.min(maxMs, retryAfter ?? backoffDelay(attempt, initialMs, maxMs)), options.signal);
    }
  }
  return fail(last ?? toKubeError(new Error('no attempt made'), options.context));
}

// The HTTPS transport under every kube call: credentials and TLS from the context's own KubeConfig
// (client-node's applyToHTTPSOptions: client certificates, tokens, exec plugins, OIDC, proxies), a keep-alive
// agent per context, deadlines on every request, and a line-by-line watch stream. Throws KubeHttpError,
// KubeTimeoutError or the socket error; errors.ts maps them.
import type { IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import type { ClusterContext } from './api-types.js';
import { KubeCredentialsError, KubeHttpError, KubeNameError, type KubeStatus, KubeTimeoutError } from './errors.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface HttpOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** Whole-request deadline (connect + answer + body); 0: none. `--request-timeout` overrides it. @default 30000 */
  timeoutMs?: number;
  /** Deadline for the TCP connection and TLS handshake. @default 10000 */
  connectTimeoutMs?: number;
  /** Accept header (e.g. kubectl's server-side Table). @default application/json */
  accept?: string;
  signal?: AbortSignal;
}

/** The process-wide deadlines: `--request-timeout` (kubectl's flag) sets `requestMs` for every non-watch request. */
const deadlines: { connectMs: number; requestMs: number | undefined } = { connectMs: 10_000, requestMs: undefined };

/** kubectl's `--request-timeout`: every request's whole deadline (0: none; the connect deadline still holds). */
export function setRequestTimeout(ms: number | undefined): void {
  deadlines.requestMs = ms;
}

/** `--request-timeout` when it was given (ms; 0: none), else undefined. */
export function givenRequestTimeoutMs(): number | undefined {
  return deadlines.requestMs;
}

/** The whole-request deadline a request with this `timeoutMs` gets (0: none). */
export function requestDeadlineMs(timeoutMs: number | undefined): number {
  return deadlines.requestMs ?? timeoutMs ?? 30_000;
}

/** The connect deadline (TCP + TLS handshake), never longer than the whole-request one. */
function connectDeadlineMs(requested: number | undefined, wholeMs: number): number {
  const ms = requested ?? deadlines.connectMs;
  return wholeMs > 0 ? Math.min(ms, wholeMs) : ms;
}

/** True once the socket is connected and, for TLS, the handshake is done (a reused keep-alive socket is). */
function connected(socket: Socket): boolean {
  // A TLS client has sent its Finished message once its side of the handshake is done.
  if (socket instanceof TLSSocket) return socket.getFinished() !== undefined;
  return !socket.connecting;
}

interface AgentEntry {
  agent: Agent;
  identity: string;
}

const agents = new WeakMap<object, AgentEntry>();

function identityOf(o: RequestOptions): string {
  const s = (v: unknown) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v));
  return [s(o.ca), s(o.cert), s(o.key), s(o.pfx), s(o.rejectUnauthorized), s(o.servername)].join('|');
}

function secureContextOf(
  material: Parameters<typeof createSecureContext>[0],
): { secureContext: SecureContext } | undefined {
  try {
    return { secureContext: createSecureContext(material) };
  } catch {
    return undefined;
  }
}

/** Request options for this context: auth headers fresh every time, the TLS agent reused while its identity holds. */
async function requestOptions(ctx: ClusterContext): Promise<RequestOptions> {
  const opts: RequestOptions = {};
  try {
    await ctx.kubeConfig.applyToHTTPSOptions(opts);
  } catch (err) {
    // An exec plugin, token file or OIDC refresh failed before any request was made.
    throw new KubeCredentialsError(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));
  }
  const theirs = opts.agent;
  // client-node builds a fresh agent per call; keep one keep-alive agent per context instead (same TLS material).
  // No socket cap: every watch holds a socket for minutes, and a cap would queue requests behind them.
  // A proxy agent (HTTPS_PROXY / proxy-url) is kept as client-node built it.
  if (theirs instanceof Agent && theirs.constructor === Agent) {
    const identity = identityOf(opts);
    let entry = agents.get(ctx.kubeConfig);
    if (!entry || entry.identity !== identity) {
      entry?.agent.destroy();
      const material = {
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.cert ? { cert: opts.cert } : {}),
        ...(opts.key ? { key: opts.key } : {}),
        ...(opts.pfx ? { pfx: opts.pfx } : {}),
        ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      };
      entry = {
        identity,
        agent: new Agent({
          keepAlive: true,
          // One TLS context for every socket of the context: each new socket built its own from the PEM (3-7 ms of
          // CPU each; the TUI opens several per context as it starts). Material Node refuses goes to the socket as
          // before, so the request fails with the same error.
          ...(secureContextOf(material) ?? material),
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          ...(opts.servername ? { servername: opts.servername } : {}),
        }),
      };
      agents.set(ctx.kubeConfig, entry);
    }
    theirs.destroy();
    opts.agent = entry.agent;
  }
  return opts;
}

/** Closes the context's idle keep-alive sockets (on store stop). */
export function releaseAgent(ctx: ClusterContext): void {
  const entry = agents.get(ctx.kubeConfig);
  if (entry) {
    entry.agent.destroy();
    agents.delete(ctx.kubeConfig);
  }
}

export function buildUrl(ctx: ClusterContext, path: string, query?: Query): URL {
  // A name `.` or `..` would be resolved away by the URL (`csr/..` is the list, `csr/.` the collection): refused as
  // kubectl refuses it, before any request (a write to it would otherwise go to another object than the one named).
  for (const segment of path.split('/')) {
    if (segment === '.' || segment === '..') throw new KubeNameError(segment);
  }
  const url = new URL(ctx.server + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

function headerValue(v: string | string[] | number | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);
}

async function openRequest(
  ctx: ClusterContext,
  url: URL,
  method: string,
  body: string | undefined,
  contentType: string,
  timeoutMs: number,
  connectMs: number,
  signal: AbortSignal | undefined,
  accept = 'application/json',
): Promise<IncomingMessage> {
  const base = await requestOptions(ctx);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(base.headers ?? {})) {
    const hv = headerValue(v as string | string[] | number | undefined);
    if (hv !== undefined) headers[k] = hv;
  }
  headers.Accept = accept;
  if (base.auth) headers.Authorization = `Basic ${Buffer.from(base.auth).toString('base64')}`;
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return await new Promise<IncomingMessage>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const req = request(url, { ...base, auth: undefined, method, headers });
    const timer = timeoutMs > 0 ? setTimeout(() => req.destroy(new KubeTimeoutError(timeoutMs)), timeoutMs) : undefined;
    const connectTimer = setTimeout(() => req.destroy(new KubeTimeoutError(connectMs, 'connect')), connectMs);
    req.on('socket', (socket: Socket) => {
      if (req.reusedSocket || connected(socket)) clearTimeout(connectTimer);
      else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    const onAbort = () => req.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    req.on('response', (res) => {
      cleanup();
      resolve(res);
    });
    req.on('error', (err) => {
      cleanup();
      reject(req.reusedSocket ? Object.assign(err, { reusedSocket: true }) : err);
    });
    req.end(body);
  });
}

function abortError(): Error {
  const e = new Error('The request was aborted');
  e.name = 'AbortError';
  return e;
}

/** Reads the whole body; `remainingMs` (≤ 0: no deadline) is what is left of `wholeMs`, the deadline named. */
async function readBody(res: IncomingMessage, remainingMs: number, wholeMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer =
      wholeMs > 0 ? setTimeout(() => res.destroy(new KubeTimeoutError(wholeMs)), Math.max(0, remainingMs)) : undefined;
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    res.on('aborted', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('The connection was reset'), { code: 'ECONNRESET' }));
    });
  });
}

function retryAfterMs(res: IncomingMessage): number | undefined {
  const v = headerValue(res.headers['retry-after']);
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

function statusFrom(text: string): KubeStatus | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as KubeStatus) : undefined;
  } catch {
    return text ? { message: text.slice(0, 300) } : undefined;
  }
}

/** Runs `open`, and once more if the server had closed the idle keep-alive connection it reused (the request never
 * reached the server, so sending it again is safe). */
async function resendOnStaleSocket(open: () => Promise<IncomingMessage>): Promise<IncomingMessage> {
  try {
    return await open();
  } catch (err) {
    const e = err as { reusedSocket?: boolean; code?: string };
    if (!e.reusedSocket || (e.code !== 'ECONNRESET' && e.code !== 'EPIPE')) throw err;
    return await open();
  }
}

/** One request; resolves with the body of a 2xx answer as text (e.g. pods/log), throws KubeHttpError otherwise. */
export async function requestText(ctx: ClusterContext, options: HttpOptions): Promise<string> {
  const timeoutMs = requestDeadlineMs(options.timeoutMs);
  const connectMs = connectDeadlineMs(options.connectTimeoutMs, timeoutMs);
  const started = Date.now();
  const url = buildUrl(ctx, options.path, options.query);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const open = () =>
    openRequest(
      ctx,
      url,
      options.method ?? 'GET',
      body,
      options.contentType ?? 'application/json',
      timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0,
      connectMs,
      options.signal,
      options.accept,
    );
  const res = await resendOnStaleSocket(open);
  const text = await readBody(res, timeoutMs - (Date.now() - started), timeoutMs);
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) throw new KubeHttpError(status, statusFrom(text), retryAfterMs(res));
  return text;
}

/** One request; resolves with the parsed JSON of a 2xx answer, throws KubeHttpError otherwise. */
export async function requestJson<T = unknown>(ctx: ClusterContext, options: HttpOptions): Promise<T> {
  const text = await requestText(ctx, options);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface WatchOptions {
  path: string;
  query?: Query;
  /** Connect (until response headers) deadline. @default 10000 */
  connectTimeoutMs?: number;
  /** Abort if nothing at all arrives for this long (the server's timeoutSeconds should end it before). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called once the server has answered 200 (the stream is open). */
  onOpen?: () => void;
}

/**
 * Opens a watch (`watch=true` is added) and calls onEvent per line; resolves when the server ends the stream (or
 * the signal aborts), rejects with KubeHttpError for a non-200 answer or with the socket error.
 */
export async function watchStream(
  ctx: ClusterContext,
  options: WatchOptions,
  onEvent: (event: WatchEvent) => void,
): Promise<void> {
  const url = buildUrl(ctx, options.path, { ...options.query, watch: true });
  const connectTimeoutMs = options.connectTimeoutMs ?? deadlines.connectMs;
  const res = await resendOnStaleSocket(() =>
    openRequest(ctx, url, 'GET', undefined, '', connectTimeoutMs, connectTimeoutMs, options.signal),
  );
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const text = await readBody(res, connectTimeoutMs, connectTimeoutMs);
    throw new KubeHttpError(status, statusFrom(text), retryAfterMs(res));
  }
  options.onOpen?.();
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (!options.idleTimeoutMs) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        finish(new KubeTimeoutError(options.idleTimeoutMs ?? 0));
        res.destroy();
      }, options.idleTimeoutMs);
    };
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => {
      finish();
      res.destroy();
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    armIdle();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      armIdle();
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) {
          let event: WatchEvent | undefined;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            // A torn or non-JSON line: skip it; the resourceVersion logic recovers on the next list.
          }
          if (event && typeof event === 'object' && event.object) {
            try {
              onEvent(event);
            } catch (err) {
              finish(err instanceof Error ? err : new Error(String(err)));
              res.destroy();
              return;
            }
          }
        }
        if (settled) return;
        nl = buffered.indexOf('\n');
      }
    });
    res.on('end', () => finish());
    res.on('aborted', () => finish(Object.assign(new Error('The watch connection was reset'), { code: 'ECONNRESET' })));
    res.on('error', (err) => finish(err));
    res.on('close', () => finish());
  });
}

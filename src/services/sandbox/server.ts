// The HTTPS transport of one simulated cluster: TLS with client-certificate authentication (CN = user, O = groups,
import { createHash } from 'node:crypto';
// as a real API server authenticates x509 users), body limits, Status errors for bad input, chunked watch streams.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type ApiCore, type ApiRequest, errorResponse, MAX_BODY_BYTES } from './api.js';
import { impersonationFromHeaders, resolveImpersonation, type UserInfo } from './authz.js';
import { ApiError } from './errors.js';

export interface TransportOptions {
  certPem: string;
  keyPem: string;
  caPem: string;
  log?: (line: string) => void;
}

function identity(socket: TLSSocket): UserInfo | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return undefined;
  const cn = cert.subject.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = cert.subject.O;
  const orgs = o === undefined ? [] : Array.isArray(o) ? o : [o];
  const groups = [...orgs.filter((g) => g !== 'system:authenticated'), 'system:authenticated'];
  // kube-apiserver ≥ 1.32 names the credential of an x509 user in its extra (the certificate's SHA-256).
  const credential = `X509SHA256=${createHash('sha256').update(cert.raw).digest('hex')}`;
  return { name, groups, extra: { 'authentication.kubernetes.io/credential-id': [credential] } };
}

function send(res: ServerResponse, code: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

function sendError(res: ServerResponse, err: ApiError): void {
  const r = errorResponse(err);
  send(res, r.code, r.body);
}

export class Transport {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** The most connections open at once since listen() (what a client's burst of requests costs the server). */
  peakConnections = 0;

  constructor(
    private readonly api: ApiCore,
    private readonly options: TransportOptions,
  ) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  async listen(port: number): Promise<number> {
    const server = createServer(
      {
        cert: this.options.certPem,
        key: this.options.keyPem,
        ca: this.options.caPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        this.onRequest(req, res).catch((err: unknown) => {
          this.options.log?.(`request failed: ${err instanceof Error ? err.message : String(err)}`);
          if (!res.headersSent) sendError(res, new ApiError(500, 'InternalError', 'Internal error occurred', {}));
          else res.destroy();
        });
      },
    );
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.peakConnections = Math.max(this.peakConnections, this.sockets.size);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', () => {});
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Unparsable HTTP: answer 400 with a Status, as the real server's net/http does, then close.
      if (err.code !== 'ECONNRESET' && socket.writable) {
        const body = JSON.stringify(badRequestStatus(`malformed HTTP request: ${err.message}`));
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
    return this.port;
  }

  /** Stops listening and drops every open connection and watch. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.api.closeWatches();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  private async readBody(req: IncomingMessage): Promise<Buffer | ApiError> {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let user = identity(req.socket as TLSSocket);
    if (!user) {
      req.resume();
      sendError(res, new ApiError(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    // Impersonate-User / -Group / -Uid / -Extra-* (kubectl --as, --as-group), checked against RBAC `impersonate`.
    const impersonation = impersonationFromHeaders(req.headers);
    if (impersonation) {
      const acting = resolveImpersonation(this.api.authz, user, impersonation);
      if (!acting.ok) {
        req.resume();
        const reason = acting.status === 403 ? 'Forbidden' : 'BadRequest';
        sendError(res, new ApiError(acting.status, reason, acting.message, acting.details));
        return;
      }
      user = acting.user;
    }
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    let body: Buffer | undefined;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
      const read = await this.readBody(req);
      if (read instanceof ApiError) {
        res.setHeader('Connection', 'close');
        sendError(res, read);
        req.resume();
        return;
      }
      body = read;
    }
    const apiReq: ApiRequest = {
      user,
      method,
      path: url.pathname,
      query: url.searchParams,
      contentType: String(req.headers['content-type'] ?? ''),
      accept: String(req.headers.accept ?? ''),
    };
    if (body) apiReq.body = body;
    const response = await this.api.handle(apiReq);
    if (response.kind === 'json') {
      send(res, response.code, response.body, response.contentType);
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    let ended = false;
    const closeCallbacks: (() => void)[] = [];
    res.on('close', () => {
      if (ended) return;
      ended = true;
      for (const cb of closeCallbacks) cb();
    });
    response.start({
      send: (line) => {
        if (!ended) res.write(`${line}\n`);
      },
      end: () => {
        if (ended) return;
        ended = true;
        res.end();
      },
      onClose: (cb) => closeCallbacks.push(cb),
    });
  }
}

function badRequestStatus(message: string): unknown {
  return new ApiError(400, 'BadRequest', message).toStatus();
}

function tooLarge(): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`, {});
}

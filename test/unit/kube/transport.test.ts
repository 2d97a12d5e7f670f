// The HTTPS transport against small local servers: bearer tokens from the kubeconfig, deadlines on a server that
// never answers, 503 retried then answered, Retry-After, a wrong CA reported as a TLS error, a watch stream.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterContext } from '../../../src/services/kube/api-types.js';
import { toKubeError, withRetry } from '../../../src/services/kube/errors.js';
import { releaseAgent, requestJson, type WatchEvent, watchStream } from '../../../src/services/kube/transport.js';

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.crt`),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

function contextFor(server: string, caPem: string, name = 'local'): ClusterContext {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name, server, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name, cluster: name, user: 'u' }],
    currentContext: name,
  });
  return { name, server, cluster: name, user: 'u', kubeConfig };
}

describe('transport', () => {
  let dir: string;
  let server: Server;
  let ctx: ClusterContext;
  let wrongCa: ClusterContext;
  let unavailableLeft = 0;
  const seenAuth: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-transport-'));
    const serving = selfSigned(dir, 'serving');
    const other = selfSigned(dir, 'other');
    server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
      seenAuth.push(String(req.headers.authorization));
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url?.startsWith('/reuse')) {
        // The second request on a kept-alive connection finds it closed, as when a server drops idle connections.
        const socket = req.socket as typeof req.socket & { served?: number };
        socket.served = (socket.served ?? 0) + 1;
        if (socket.served > 1) {
          socket.destroy();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"n":1}');
        return;
      }
      if (req.url?.startsWith('/flaky')) {
        if (unavailableLeft-- > 0) {
          res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '0' });
          res.end(JSON.stringify({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'etcd is busy' }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
        return;
      }
      if (req.url?.startsWith('/watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"MOD');
        setTimeout(() => {
          res.write('IFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n');
          res.end();
        }, 20);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'thing "x" not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ctx = contextFor(url, serving.cert);
    wrongCa = contextFor(url, other.cert, 'wrong-ca');
  });

  after(async () => {
    releaseAgent(ctx);
    releaseAgent(wrongCa);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the kubeconfig bearer token and maps a Status 404', async () => {
    await assert.rejects(requestJson(ctx, { path: '/missing' }), (err: unknown) => {
      const e = toKubeError(err, 'local');
      return e.kind === 'not-found' && e.status === 404 && /thing "x" not found/.test(e.message);
    });
    assert.equal(seenAuth.at(-1), 'Bearer secret-token');
  });

  it('sends a request again when a reused keep-alive connection turns out closed', async () => {
    assert.deepEqual(await requestJson(ctx, { path: '/reuse' }), { n: 1 });
    assert.deepEqual(await requestJson(ctx, { path: '/reuse' }), { n: 1 });
  });

  it('gives up on a server that never answers at the deadline', async () => {
    await assert.rejects(requestJson(ctx, { path: '/hang', timeoutMs: 200 }), (err: unknown) => {
      const e = toKubeError(err, 'local');
      return e.kind === 'timeout' && /no answer within/.test(e.message);
    });
  });

  it('retries 503 (Retry-After 0) and then reports the answer', async () => {
    unavailableLeft = 2;
    const r = await withRetry(() => requestJson<{ ok: boolean }>(ctx, { path: '/flaky' }), { initialMs: 5, maxMs: 20 });
    assert.deepEqual(r, { ok: true, value: { ok: true } });
    unavailableLeft = 10;
    const s = await withRetry(() => requestJson(ctx, { path: '/flaky' }), { attempts: 2, initialMs: 5, maxMs: 20 });
    assert.ok(!s.ok && s.error.kind === 'server' && /etcd is busy/.test(s.error.message));
  });

  it('reports a server certificate from another CA as a TLS error', async () => {
    await assert.rejects(requestJson(wrongCa, { path: '/missing', timeoutMs: 2000 }), (err: unknown) => {
      const e = toKubeError(err, 'wrong-ca');
      return e.kind === 'tls' && /certificate-authority/.test(e.message);
    });
  });

  it('reports a failing exec credential plugin as one sentence', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: ctx.server, skipTLSVerify: true }],
      users: [
        { name: 'u', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'no-such-plugin') } },
      ],
      contexts: [{ name: 'exec', cluster: 'c', user: 'u' }],
      currentContext: 'exec',
    });
    const exec: ClusterContext = { name: 'exec', server: ctx.server, cluster: 'c', user: 'u', kubeConfig };
    await assert.rejects(requestJson(exec, { path: '/missing', timeoutMs: 2000 }), (err: unknown) => {
      const e = toKubeError(err, 'exec');
      return e.kind === 'unauthorized' && /^Getting credentials in context exec failed/.test(e.message);
    });
  });

  it('parses a watch stream whose lines arrive split across chunks', async () => {
    const events: WatchEvent[] = [];
    let opened = false;
    await watchStream(ctx, { path: '/watch', onOpen: () => (opened = true) }, (e) => events.push(e));
    assert.ok(opened);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'MODIFIED'],
    );
  });
});

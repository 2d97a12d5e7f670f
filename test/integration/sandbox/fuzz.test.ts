// Random requests (paths, methods, content types, bodies) never crash the server or get a 500: each answer is a
// Status or an object, and the server keeps serving.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

let sb: Sandbox;
let east: SandboxCluster;
before(async () => {
  sb = await startTestSandbox(undefined);
  east = sb.cluster('east');
});
after(() => sb.stop());

function send(
  method: string,
  path: string,
  contentType: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const cert = east.clientCert('admin', ['system:masters']);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: east.port,
        method,
        path,
        ca: east.caCertPem,
        cert: cert.certPem,
        key: cert.keyPem,
        headers: {
          'content-type': contentType,
          ...(method === 'GET' ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    if (method !== 'GET') req.write(body);
    req.end();
  });
}

const segments = fc.constantFrom(
  'api',
  'apis',
  'v1',
  'certificates.k8s.io',
  'certificatesigningrequests',
  'approval',
  'status',
  'namespaces',
  'default',
  'pods',
  'secrets',
  'configmaps',
  'leases',
  'coordination.k8s.io',
  'watch',
  'x',
  '%zz',
  '..',
  'selfsubjectaccessreviews',
  'authorization.k8s.io',
);
const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  fc.constantFrom(
    '{"metadata":{"name":"a"}}',
    '{"metadata":"x"}',
    '[]',
    'null',
    '{"spec":{"request":5}}',
    '{"metadata":{"name":"a"},"spec":{"request":"!!"}}',
  ),
);

it('answers random requests without 500s and keeps serving', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      fc.array(segments, { minLength: 0, maxLength: 6 }),
      fc.constantFrom(
        'application/json',
        'application/yaml',
        'text/plain',
        'application/merge-patch+json',
        'application/json-patch+json',
        'application/strategic-merge-patch+json',
        'application/vnd.kubernetes.protobuf',
      ),
      bodies,
      fc.constantFrom(
        '',
        '?watch=false',
        '?limit=1',
        '?fieldSelector=x%3Dy',
        '?labelSelector=%21%21',
        '?continue=abc',
        '?timeoutSeconds=0',
      ),
      async (method, parts, contentType, body, query) => {
        const r = await send(method, `/${parts.join('/')}${query}`, contentType, body);
        assert.notEqual(r.status, 500, `${method} /${parts.join('/')}${query} → ${r.text}`);
        assert.ok(r.status >= 200 && r.status < 500, `${r.status}`);
        // Every error is a Status but a group nobody serves: Go's plain-text 404, as on a real server.
        if (r.status >= 400 && r.text !== '404 page not found\n')
          assert.equal((JSON.parse(r.text) as { kind: string }).kind, 'Status');
      },
    ),
    { numRuns: 150 },
  );
  const ok = await send('GET', '/api/v1/namespaces', 'application/json', '');
  assert.equal(ok.status, 200);
});

it('answers unparsable HTTP with a 400 Status and keeps serving', async () => {
  const cert = east.clientCert('admin', ['system:masters']);
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    // a DELETE with a body but no length: the body is parsed as the next request line
    const req = request(
      {
        host: '127.0.0.1',
        port: east.port,
        method: 'DELETE',
        path: '/',
        ca: east.caCertPem,
        cert: cert.certPem,
        key: cert.keyPem,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.write(' garbage');
    req.end();
  });
  assert.equal(answer.status, 400);
  assert.equal((JSON.parse(answer.text) as { reason: string }).reason, 'BadRequest');
  assert.equal((await send('GET', '/version', 'application/json', '')).status, 200);
});

// Error mapping and the retry policy of services/kube, without a server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import fc from 'fast-check';
import {
  backoffDelay,
  KubeHttpError,
  KubeTimeoutError,
  toKubeError,
  withRetry,
} from '../../../src/services/kube/errors.js';
import { hasUnsafeCharacters } from '../../../src/services/text/sanitize.js';

const forbiddenStatus = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'certificatesigningrequests.certificates.k8s.io "csr-1" is forbidden: User "bob" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope',
  reason: 'Forbidden',
  details: { name: 'csr-1', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' },
  code: 403,
};

describe('toKubeError', () => {
  it('maps every documented status code to its kind, with one sentence', () => {
    const cases: [number, string | undefined, string][] = [
      [400, 'BadRequest', 'bad-request'],
      [401, 'Unauthorized', 'unauthorized'],
      [403, 'Forbidden', 'forbidden'],
      [404, 'NotFound', 'not-found'],
      [409, 'Conflict', 'conflict'],
      [409, 'AlreadyExists', 'already-exists'],
      [410, 'Expired', 'gone'],
      [422, 'Invalid', 'invalid'],
      [429, 'TooManyRequests', 'too-many-requests'],
      [500, 'InternalError', 'server'],
      [503, 'ServiceUnavailable', 'server'],
      [504, 'Timeout', 'timeout'],
    ];
    for (const [code, reason, kind] of cases) {
      const e = toKubeError(new KubeHttpError(code, { code, reason, message: `m ${code}` }), 'east');
      assert.equal(e.kind, kind, `${code} ${reason}`);
      assert.equal(e.status, code);
      assert.equal(e.context, 'east');
      assert.ok(e.message.endsWith('.'), e.message);
      assert.ok(!e.message.includes('\n'));
    }
  });

  it('names the missing permission of a 403', () => {
    const e = toKubeError(new KubeHttpError(403, forbiddenStatus), 'east');
    assert.equal(e.kind, 'forbidden');
    assert.match(
      e.message,
      /^Forbidden in context east: User "bob" cannot update resource "certificatesigningrequests\/approval"/,
    );
  });

  it('reads client-node ApiException bodies (Status JSON text)', () => {
    const e = toKubeError(new ApiException(403, 'Unknown API Status Code!', JSON.stringify(forbiddenStatus), {}));
    assert.equal(e.kind, 'forbidden');
    assert.match(e.message, /cannot update resource/);
    const u = toKubeError(new ApiException(401, 'Unauthorized', undefined, {}));
    assert.equal(u.kind, 'unauthorized');
  });

  it("keeps the API server's words on a 409 (which object, which precondition)", () => {
    const message = 'Precondition failed: UID in precondition: 0d1e, UID in object meta: 9f2a';
    const e = toKubeError(new KubeHttpError(409, { code: 409, reason: 'Conflict', message }), 'east');
    assert.equal(
      e.message,
      'The object changed while certdesk was writing it in context east (the API server said: Precondition failed: UID in precondition: 0d1e, UID in object meta: 9f2a); reload it and try again.',
    );
  });

  it('keeps 422 causes', () => {
    const e = toKubeError(
      new KubeHttpError(422, {
        code: 422,
        reason: 'Invalid',
        message: 'x is invalid',
        details: { causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.usages' }] },
      }),
    );
    assert.deepEqual(e.causes, [{ field: 'spec.usages', message: 'Required value' }]);
    assert.match(e.message, /spec\.usages: Required value/);
  });

  it('maps socket, TLS and timeout errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(toKubeError(refused).kind, 'unreachable');
    const nested = Object.assign(new Error('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    assert.equal(toKubeError(nested).kind, 'unreachable');
    assert.match(toKubeError(nested).message, /its host name does not resolve \(ENOTFOUND\)/);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const t = toKubeError(tls, 'west');
    assert.equal(t.kind, 'tls');
    assert.match(t.message, /certificate-authority/);
    assert.equal(toKubeError(new KubeTimeoutError(10_000)).kind, 'timeout');
    assert.equal(toKubeError(Object.assign(new Error('t'), { code: 'ETIMEDOUT' })).kind, 'timeout');
    assert.equal(toKubeError('weird').kind, 'unknown');
  });

  it('names what a real socket failed on: the host that does not resolve, the address that refused', async () => {
    const { connect } = await import('node:net');
    const { lookup } = await import('node:dns/promises');
    const fail = (host: string, port: number) =>
      new Promise<unknown>((resolve) => {
        const socket = connect({ host, port });
        socket.on('connect', () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.on('error', resolve);
      });
    const refused = toKubeError(await fail('127.0.0.1', 1), 'east');
    assert.equal(refused.kind, 'unreachable');
    assert.match(
      refused.message,
      /^The API server in context east is unreachable: nothing accepts connections at 127\.0\.0\.1:1 \(ECONNREFUSED\); /,
    );
    // .invalid never resolves (RFC 6761); a resolver that cannot be asked at all gives EAI_AGAIN instead.
    const resolves = await lookup('certdesk-test.invalid').then(
      () => 'yes',
      (e: { code?: string }) => e.code,
    );
    const missing = toKubeError(await fail('certdesk-test.invalid', 6443), 'west');
    assert.equal(missing.kind, 'unreachable');
    if (resolves === 'ENOTFOUND')
      assert.match(
        missing.message,
        /its host name certdesk-test\.invalid does not resolve \(ENOTFOUND\); check the kubeconfig's server address/,
      );
    else assert.match(missing.message, /certdesk-test\.invalid/);
  });

  it('never lets server text act on a terminal', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (message, context) => {
        const e = toKubeError(new KubeHttpError(403, { code: 403, message }), context);
        return !hasUnsafeCharacters(e.message);
      }),
    );
    const e = toKubeError(new KubeHttpError(404, { code: 404, message: 'x "\u001b]0;pwned\u0007" not found' }));
    assert.ok(!hasUnsafeCharacters(e.message));
  });
});

describe('retry policy', () => {
  it('backoff grows, is capped, and is jittered within [d/2, d]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const d = Math.min(5000, 100 * 2 ** n);
        const v = backoffDelay(n, 100, 5000, () => r);
        return v >= Math.floor(d / 2) && v <= d;
      }),
    );
  });

  it('retries 503 and 429, then succeeds', async () => {
    let calls = 0;
    const r = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw new KubeHttpError(503, { code: 503 });
        if (calls === 2) throw new KubeHttpError(429, { code: 429 }, 1);
        return 'done';
      },
      { initialMs: 1, maxMs: 5 },
    );
    assert.deepEqual(r, { ok: true, value: 'done' });
    assert.equal(calls, 3);
  });

  it('does not retry answers such as 404 or 403, and reports the last error after the attempts', async () => {
    let calls = 0;
    const r = await withRetry(async () => {
      calls++;
      throw new KubeHttpError(404, { code: 404, message: 'x not found' });
    });
    assert.equal(calls, 1);
    assert.ok(!r.ok && r.error.kind === 'not-found');
    calls = 0;
    const s = await withRetry(
      async () => {
        calls++;
        throw new KubeHttpError(500, { code: 500 });
      },
      { attempts: 3, initialMs: 1, maxMs: 2 },
    );
    assert.equal(calls, 3);
    assert.ok(!s.ok && s.error.kind === 'server');
  });
});

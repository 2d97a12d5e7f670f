// Bad input gets a proper Status and the server keeps serving; authentication and authorization; discovery;
// SelfSubjectAccessReview; PATCH routing.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import {
  AuthorizationV1Api,
  type CertificatesV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { apiError, clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

let sb: Sandbox;
let east: SandboxCluster;
let certs: CertificatesV1Api;
const pem = makeCsrPem({ commonName: 'p' }).pem;

before(async () => {
  sb = await startTestSandbox(undefined, { clusters: ['east', 'west'] });
  east = sb.cluster('east');
  certs = clients(east.kubeConfigFor('admin', ['system:masters'])).certs;
});
after(() => sb.stop());

interface RawResponse {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

function raw(
  method: string,
  path: string,
  options: {
    body?: string | Buffer;
    contentType?: string;
    noCert?: boolean;
    user?: string;
    groups?: string[];
    headers?: Record<string, string>;
  } = {},
): Promise<RawResponse> {
  const cert = east.clientCert(options.user ?? 'admin', options.groups ?? ['system:masters']);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.contentType) headers['content-type'] = options.contentType;
    const req = request(
      {
        host: '127.0.0.1',
        port: east.port,
        method,
        path,
        ca: east.caCertPem,
        ...(options.noCert ? {} : { cert: cert.certPem, key: cert.keyPem }),
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

async function stillServing(): Promise<void> {
  const r = await raw('GET', CSRS);
  assert.equal(r.status, 200);
  assert.equal(r.body.kind, 'CertificateSigningRequestList');
}

/** A group nobody serves: the real server's plain-text 404 (test/real/differential: 'GET /apis/nope.example.com/v1'). */
function assertPageNotFound(r: RawResponse): void {
  assert.equal(r.status, 404, r.text);
  assert.equal(r.text, '404 page not found\n');
}

function assertStatus(r: RawResponse, code: number, reason: string): void {
  assert.equal(r.status, code, r.text);
  assert.equal(r.body.kind, 'Status');
  assert.equal(r.body.apiVersion, 'v1');
  assert.equal(r.body.status, 'Failure');
  assert.equal(r.body.code, code);
  assert.equal(r.body.reason, reason);
}

describe('bad input', () => {
  it('401 without a client certificate', async () => {
    const r = await raw('GET', CSRS, { noCert: true });
    assertStatus(r, 401, 'Unauthorized');
    assert.equal(r.body.message, 'Unauthorized');
    await stillServing();
  });

  it('400 for malformed JSON', async () => {
    const r = await raw('POST', CSRS, { body: '{"kind": ', contentType: 'application/json' });
    assertStatus(r, 400, 'BadRequest');
    // Go's encoding/json message, as kube-apiserver passes it on.
    assert.equal(
      r.body.message,
      'the object provided is unrecognized (must be of type CertificateSigningRequest): couldn\'t get version/kind; json parse error: unexpected end of JSON input ({"kind": )',
    );
    const key = await raw('POST', CSRS, { body: '{bad', contentType: 'application/json' });
    assert.equal(
      key.body.message,
      "the object provided is unrecognized (must be of type CertificateSigningRequest): couldn't get version/kind; json parse error: invalid character 'b' looking for beginning of object key string ({bad)",
    );
    await stillServing();
  });

  it('415 for a wrong content type', async () => {
    const r = await raw('POST', CSRS, { body: 'hello', contentType: 'text/plain' });
    assertStatus(r, 415, 'UnsupportedMediaType');
    assert.match(
      String(r.body.message),
      /the body of the request was in an unknown format - accepted media types include: application\/json/,
    );
    await stillServing();
  });

  it('413 for a body over 3 MiB', async () => {
    const big = JSON.stringify({ metadata: { name: 'big' }, spec: { request: 'A'.repeat(3 * 1024 * 1024 + 10) } });
    const r = await raw('POST', CSRS, { body: big, contentType: 'application/json' });
    assertStatus(r, 413, 'RequestEntityTooLarge');
    assert.equal(r.body.message, 'Request entity too large: limit is 3145728');
    await stillServing();
  });

  it('404 for unknown resources and groups, 405 for unknown verbs', async () => {
    assertStatus(await raw('GET', '/apis/certificates.k8s.io/v1/widgets'), 404, 'NotFound');
    assertPageNotFound(await raw('GET', '/apis/nope.example.com/v1/things'));
    assertStatus(await raw('GET', '/api/v2/pods'), 404, 'NotFound');
    assertStatus(await raw('GET', '/nonsense'), 404, 'NotFound');
    assertStatus(
      await raw('POST', `${CSRS}/x`, { body: '{}', contentType: 'application/json' }),
      405,
      'MethodNotAllowed',
    );
    assertStatus(await raw('PUT', CSRS, { body: '{}', contentType: 'application/json' }), 405, 'MethodNotAllowed');
    assertStatus(await raw('OPTIONS', CSRS), 405, 'MethodNotAllowed');
    await stillServing();
  });

  it('serves JSON in the real key order (kind, apiVersion, metadata first)', async () => {
    const created = await raw('POST', CSRS, {
      body: JSON.stringify({
        spec: { signerName: 'example.com/x', usages: ['client auth'], request: Buffer.from(pem).toString('base64') },
        metadata: { name: 'ordered' },
      }),
      contentType: 'application/json',
    });
    assert.equal(created.status, 201, created.text);
    assert.match(
      created.text,
      /^\{"kind":"CertificateSigningRequest","apiVersion":"certificates\.k8s\.io\/v1","metadata":\{"name":"ordered","uid":/,
    );
  });

  it('422 for invalid label keys and values', async () => {
    const body = {
      ...csrObject('labels', pem),
      metadata: { name: 'labels', labels: { 'bad key!': 'x', ok: 'not ok!' } },
    };
    const { code, body: status } = await apiError(certs.createCertificateSigningRequest({ body }));
    assert.equal(code, 422);
    assert.match(
      String(status.message),
      /^CertificateSigningRequest\.certificates\.k8s\.io "labels" is invalid: \[metadata\.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters.*, metadata\.labels: Invalid value: "not ok!": a valid label must be an empty string/,
    );
  });

  it('dryRun=All validates and answers without storing', async () => {
    const body = JSON.stringify(csrObject('dry', pem));
    const created = await raw('POST', `${CSRS}?dryRun=All`, { body, contentType: 'application/json' });
    assert.equal(created.status, 201, created.text);
    assert.equal((created.body.spec as { username: string }).username, 'admin');
    assertStatus(await raw('GET', `${CSRS}/dry`), 404, 'NotFound');
    const bad = await raw('POST', `${CSRS}?dryRun=All`, {
      body: JSON.stringify(csrObject('dry', 'x')),
      contentType: 'application/json',
    });
    assertStatus(bad, 422, 'Invalid');
    await raw('POST', CSRS, { body, contentType: 'application/json' });
    assert.equal((await raw('DELETE', `${CSRS}/dry?dryRun=All`)).status, 200);
    assert.equal((await raw('GET', `${CSRS}/dry`)).status, 200);
  });

  it('400 for a bad URL escape', async () => {
    assertStatus(await raw('GET', `${CSRS}/%E0%A4%A`), 400, 'BadRequest');
    await stillServing();
  });

  it('400 when the body name does not match the URL; YAML bodies are accepted', async () => {
    const body = JSON.stringify(csrObject('one', pem));
    const r = await raw('PUT', `${CSRS}/two`, { body, contentType: 'application/json' });
    assertStatus(r, 400, 'BadRequest');
    const yaml = `apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: from-yaml\nspec:\n  request: ${Buffer.from(pem).toString('base64')}\n  signerName: example.com/x\n  usages: [client auth]\n`;
    const created = await raw('POST', CSRS, { body: yaml, contentType: 'application/yaml' });
    assert.equal(created.status, 201, created.text);
  });
});

describe('authorization', () => {
  it('viewer may read but gets 403 with the RBAC message on writes', async () => {
    const viewer = clients(east.kubeConfigFor('viewer')).certs;
    await viewer.listCertificateSigningRequest();
    const { code, body } = await apiError(viewer.createCertificateSigningRequest({ body: csrObject('v', pem) }));
    assert.equal(code, 403);
    assert.equal(body.reason, 'Forbidden');
    assert.equal(
      body.message,
      'certificatesigningrequests.certificates.k8s.io is forbidden: User "viewer" cannot create resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope',
    );
    await certs.createCertificateSigningRequest({ body: csrObject('v-target', pem) });
    const del = await apiError(viewer.deleteCertificateSigningRequest({ name: 'v-target' }));
    assert.equal(
      del.body.message,
      'certificatesigningrequests.certificates.k8s.io "v-target" is forbidden: User "viewer" cannot delete resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope',
    );
  });

  it('an identity without bindings is forbidden in a namespace with the namespace message', async () => {
    const nobody = east.kubeConfigFor('nobody').makeApiClient(CoreV1Api);
    const { code, body } = await apiError(nobody.listNamespacedPod({ namespace: 'default' }));
    assert.equal(code, 403);
    assert.equal(
      body.message,
      'pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "default"',
    );
  });

  it('SelfSubjectAccessReview answers with the authorizer', async () => {
    const asViewer = east.kubeConfigFor('viewer').makeApiClient(AuthorizationV1Api);
    const review = (verb: string, resource: string, group: string, name?: string) =>
      asViewer.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, resource, group, ...(name ? { name } : {}) } } },
      });
    assert.equal((await review('list', 'certificatesigningrequests', 'certificates.k8s.io')).status?.allowed, true);
    assert.equal((await review('approve', 'signers', 'certificates.k8s.io', 'example.com/x')).status?.allowed, false);
    const asAdmin = east.kubeConfigFor('admin', ['system:masters']).makeApiClient(AuthorizationV1Api);
    const r = await asAdmin.createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: {
            verb: 'sign',
            resource: 'signers',
            group: 'certificates.k8s.io',
            name: 'example.com/x',
          },
        },
      },
    });
    assert.equal(r.status?.allowed, true);
  });
});

describe('discovery', () => {
  it('serves /version, /api, /api/v1, /apis and group versions', async () => {
    const version = await raw('GET', '/version');
    assert.equal(version.body.major, '1');
    const api = await raw('GET', '/api');
    assert.deepEqual(api.body.versions, ['v1']);
    const v1 = await raw('GET', '/api/v1');
    const names = (v1.body.resources as { name: string }[]).map((r) => r.name);
    for (const n of ['pods', 'pods/status', 'namespaces', 'secrets', 'configmaps', 'serviceaccounts'])
      assert.ok(names.includes(n), n);
    const apis = await raw('GET', '/apis');
    const groups = (apis.body.groups as { name: string }[]).map((g) => g.name);
    assert.deepEqual(groups, [
      'certificates.k8s.io',
      'coordination.k8s.io',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'rbac.authorization.k8s.io',
      'admissionregistration.k8s.io',
      'apiextensions.k8s.io',
      'apiregistration.k8s.io',
    ]);
    const certsGv = await raw('GET', '/apis/certificates.k8s.io/v1');
    const csr = (certsGv.body.resources as { name: string; verbs: string[]; shortNames?: string[] }[]).find(
      (r) => r.name === 'certificatesigningrequests',
    );
    assert.deepEqual(csr?.shortNames, ['csr']);
    assert.ok(
      (certsGv.body.resources as { name: string }[]).some((r) => r.name === 'certificatesigningrequests/approval'),
    );
  });

  it('operator.tigera.io appears only where enabled', async () => {
    assertPageNotFound(await raw('GET', '/apis/operator.tigera.io/v1/tigerastatuses'));
    east.enableApiGroup('operator.tigera.io');
    const apis = await raw('GET', '/apis');
    assert.ok((apis.body.groups as { name: string }[]).some((g) => g.name === 'operator.tigera.io'));
    const r = await raw('POST', '/apis/operator.tigera.io/v1/tigerastatuses', {
      body: JSON.stringify({
        apiVersion: 'operator.tigera.io/v1',
        kind: 'TigeraStatus',
        metadata: { name: 'calico' },
        spec: {},
      }),
      contentType: 'application/json',
    });
    assert.equal(r.status, 201, r.text);
    assert.equal((r.body.metadata as { generation?: number }).generation, 1);
    const changed = await raw('PUT', '/apis/operator.tigera.io/v1/tigerastatuses/calico', {
      body: JSON.stringify({
        apiVersion: 'operator.tigera.io/v1',
        kind: 'TigeraStatus',
        metadata: { name: 'calico' },
        spec: { x: 1 },
      }),
      contentType: 'application/json',
    });
    assert.equal((changed.body.metadata as { generation?: number }).generation, 2);
    const west = sb.cluster('west');
    const westCert = west.clientCert('admin', ['system:masters']);
    const westApis = await new Promise<string>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port: west.port,
          path: '/apis',
          ca: west.caCertPem,
          cert: westCert.certPem,
          key: westCert.keyPem,
        },
        (res) => {
          let t = '';
          res.on('data', (c) => {
            t += c;
          });
          res.on('end', () => resolve(t));
        },
      )
        .on('error', reject)
        .end();
    });
    assert.ok(!westApis.includes('operator.tigera.io'));
  });
});

describe('PATCH', () => {
  it('merge-patches labels, strategic-merges /approval conditions, 415 for unknown patch types', async () => {
    await certs.createCertificateSigningRequest({ body: csrObject('patchme', pem) });
    const merged = await certs.patchCertificateSigningRequest(
      { name: 'patchme', body: { metadata: { labels: { a: 'b' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.labels, { a: 'b' });
    const approved = await certs.patchCertificateSigningRequestApproval(
      {
        name: 'patchme',
        body: { status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Patched', message: 'yes' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(approved.status?.conditions?.[0]?.reason, 'Patched');
    const r = await raw('PATCH', `${CSRS}/patchme`, { body: '{}', contentType: 'application/xml' });
    assertStatus(r, 415, 'UnsupportedMediaType');
    const bad = await raw('PATCH', `${CSRS}/patchme`, { body: '{nope', contentType: 'application/merge-patch+json' });
    assertStatus(bad, 400, 'BadRequest');
    const stale = await raw('PATCH', `${CSRS}/patchme`, {
      body: JSON.stringify({ metadata: { resourceVersion: '1', labels: { c: 'd' } } }),
      contentType: 'application/merge-patch+json',
    });
    assertStatus(stale, 409, 'Conflict');
  });
});

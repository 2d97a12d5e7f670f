// CSR behaviour of the sandbox over HTTPS with @kubernetes/client-node: create (identity from the client cert,
// validation errors), get/list (limit/continue, field selectors), update (spec immutable, 409 stale), /approval,
// /status, admission (403) — the rules of kube-api.md §1–§4.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CertificatesV1Api, V1CertificateSigningRequest } from '@kubernetes/client-node';
import { apiError, clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

let sb: Sandbox;
let admin: CertificatesV1Api;
let bob: CertificatesV1Api;
let approver: CertificatesV1Api;
const pem = makeCsrPem({ commonName: 'my-svc.my-namespace.svc.cluster.local', dnsNames: ['my-svc.example'] }).pem;

function issueCertPem(): string {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-test-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'k'),
        '-out',
        join(dir, 'c'),
        '-subj',
        '/CN=x',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    return execFileSync('cat', [join(dir, 'c')]).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

before(async () => {
  sb = await startTestSandbox(undefined, {
    users: [
      {
        name: 'bob',
        role: 'none',
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: [
              'certificatesigningrequests',
              'certificatesigningrequests/approval',
              'certificatesigningrequests/status',
            ],
            verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'],
          },
        ],
      },
      {
        name: 'approver',
        role: 'none',
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: [
              'certificatesigningrequests',
              'certificatesigningrequests/approval',
              'certificatesigningrequests/status',
            ],
            verbs: ['get', 'list', 'update'],
          },
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['signers'],
            resourceNames: ['example.com/*'],
            verbs: ['approve', 'sign'],
          },
        ],
      },
    ],
  });
  const east = sb.cluster('east');
  admin = clients(east.kubeConfigFor('admin', ['system:masters'])).certs;
  bob = clients(east.kubeConfigFor('bob', ['team-a'])).certs;
  approver = clients(east.kubeConfigFor('approver')).certs;
});
after(() => sb.stop());

async function create(name: string, signer = 'example.com/serving'): Promise<V1CertificateSigningRequest> {
  return admin.createCertificateSigningRequest({ body: csrObject(name, pem, signer) });
}

describe('CSR create', () => {
  it('takes username and groups from the client certificate and drops client status', async () => {
    const body = csrObject('ident', pem) as V1CertificateSigningRequest;
    body.spec.username = 'mallory';
    body.spec.groups = ['system:masters'];
    body.status = {
      certificate: Buffer.from('x').toString('base64'),
      conditions: [{ type: 'Approved', status: 'True' }],
    };
    const got = await bob.createCertificateSigningRequest({ body });
    assert.equal(got.spec.username, 'bob');
    assert.deepEqual(got.spec.groups, ['team-a', 'system:authenticated']);
    assert.equal(got.status?.certificate, undefined);
    assert.equal(got.status?.conditions, undefined);
    assert.ok(got.metadata?.uid);
    assert.ok(got.metadata?.resourceVersion);
    assert.ok(got.metadata?.creationTimestamp);
  });

  it('generateName makes a name', async () => {
    const body = csrObject('', pem);
    const got = await admin.createCertificateSigningRequest({
      body: { ...body, metadata: { generateName: 'csr-workload-' } },
    });
    assert.match(got.metadata?.name ?? '', /^csr-workload-[a-z0-9]{5}$/);
  });

  it('409 AlreadyExists on a duplicate name', async () => {
    await create('dup');
    const { code, body } = await apiError(create('dup'));
    assert.equal(code, 409);
    assert.equal(body.reason, 'AlreadyExists');
    assert.equal(body.message, 'certificatesigningrequests.certificates.k8s.io "dup" already exists');
    assert.deepEqual(body.details, { name: 'dup', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
  });

  it('422 for a request that is not a CERTIFICATE REQUEST PEM', async () => {
    const body = csrObject('badpem', 'hello');
    const { code, body: status } = await apiError(admin.createCertificateSigningRequest({ body }));
    assert.equal(code, 422);
    assert.equal(status.reason, 'Invalid');
    assert.match(
      String(status.message),
      /^CertificateSigningRequest\.certificates\.k8s\.io "badpem" is invalid: spec\.request: Invalid value: "aGVsbG8=": PEM block type must be CERTIFICATE REQUEST$/,
    );
    const details = status.details as { kind: string; causes: { reason: string; field: string }[] };
    assert.equal(details.kind, 'CertificateSigningRequest');
    assert.deepEqual(details.causes[0]?.reason, 'FieldValueInvalid');
    assert.deepEqual(details.causes[0]?.field, 'spec.request');
  });

  it('400 for a request that is not base64, as a typed decode failure', async () => {
    const body = {
      ...csrObject('b64', pem),
      spec: { request: 'not base64!', signerName: 'example.com/x', usages: ['client auth'] },
    };
    const { code, body: status } = await apiError(admin.createCertificateSigningRequest({ body }));
    assert.equal(code, 400);
    assert.equal(status.reason, 'BadRequest');
    assert.equal(
      status.message,
      'CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: illegal base64 data at input byte 3',
    );
  });

  it('422 for a bad self-signature', async () => {
    const bad = makeCsrPem({ commonName: 'x', badSignature: true }).pem;
    const { code, body } = await apiError(admin.createCertificateSigningRequest({ body: csrObject('badsig', bad) }));
    assert.equal(code, 422);
    assert.match(String(body.message), /spec\.request: Invalid value: .*: x509: ECDSA verification failure$/);
  });

  it('accepts RSA and Ed25519 requests', async () => {
    for (const keyType of ['rsa', 'ed25519'] as const) {
      const p = makeCsrPem({ commonName: keyType, keyType, rsaBits: 1024 }).pem;
      await admin.createCertificateSigningRequest({ body: csrObject(`key-${keyType}`, p) });
    }
    const rsaBad = makeCsrPem({ commonName: 'r', keyType: 'rsa', rsaBits: 1024, badSignature: true }).pem;
    const { body } = await apiError(admin.createCertificateSigningRequest({ body: csrObject('rsabad', rsaBad) }));
    assert.match(String(body.message), /crypto\/rsa: verification error$/);
  });

  it('422 for expirationSeconds 599', async () => {
    const { code, body } = await apiError(
      admin.createCertificateSigningRequest({
        body: csrObject('short', pem, 'example.com/serving', ['client auth'], 599),
      }),
    );
    assert.equal(code, 422);
    assert.equal(
      body.message,
      'CertificateSigningRequest.certificates.k8s.io "short" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
    );
    await admin.createCertificateSigningRequest({
      body: csrObject('ten-min', pem, 'example.com/serving', ['client auth'], 600),
    });
  });

  it('422 for bad signer names', async () => {
    const cases: [string, string][] = [
      [
        'nosigner',
        'spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form \'example.com/signer-name\'',
      ],
      [
        'onelabel',
        'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
      ],
      [
        'legacy',
        'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
      ],
    ];
    const signers: Record<string, string> = {
      nosigner: 'example',
      onelabel: 'example/x',
      legacy: 'kubernetes.io/legacy-unknown',
    };
    for (const [name, expected] of cases) {
      const { code, body } = await apiError(
        admin.createCertificateSigningRequest({ body: csrObject(name, pem, signers[name]) }),
      );
      assert.equal(code, 422, name);
      assert.equal(body.message, `CertificateSigningRequest.certificates.k8s.io "${name}" is invalid: ${expected}`);
    }
    const { body } = await apiError(
      admin.createCertificateSigningRequest({ body: csrObject('Upper', pem, 'Example.com/x') }),
    );
    assert.match(String(body.message), /validating label "Example": a lowercase RFC 1123 label/);
  });

  it('422 for missing, unknown and duplicate usages, aggregated', async () => {
    const { body } = await apiError(
      admin.createCertificateSigningRequest({
        body: csrObject('usages', pem, 'example.com/x', ['foo', 'client auth', 'client auth']),
      }),
    );
    assert.match(
      String(body.message),
      /is invalid: \[spec\.usages\[0\]: Unsupported value: "foo": supported values: "any", "cert sign", .*, spec\.usages\[2\]: Duplicate value: "client auth"\]$/,
    );
    const none = await apiError(
      admin.createCertificateSigningRequest({ body: csrObject('nousage', pem, 'example.com/x', []) }),
    );
    assert.match(String(none.body.message), /spec\.usages: Required value$/);
  });

  it('403 for kube-apiserver-client with O=system:masters', async () => {
    const masters = makeCsrPem({ commonName: 'evil', organizations: ['system:masters'] }).pem;
    const { code, body } = await apiError(
      admin.createCertificateSigningRequest({
        body: csrObject('masters', masters, 'kubernetes.io/kube-apiserver-client', ['client auth']),
      }),
    );
    assert.equal(code, 403);
    assert.equal(
      body.message,
      'certificatesigningrequests.certificates.k8s.io "masters" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
    );
  });
});

describe('CSR read', () => {
  it('lists with limit/continue and field selectors; 400 for unsupported field labels', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await create(n, 'example.org/paged');
    const first = await admin.listCertificateSigningRequest({ limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata?._continue);
    assert.ok((first.metadata?.remainingItemCount ?? 0) > 0);
    const second = await admin.listCertificateSigningRequest({ limit: 1000, _continue: first.metadata?._continue });
    assert.equal(second.metadata?._continue, undefined);
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
    const bySigner = await admin.listCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.org/paged' });
    assert.deepEqual(
      bySigner.items.map((i) => i.metadata?.name),
      ['page-a', 'page-b', 'page-c'],
    );
    const byName = await admin.listCertificateSigningRequest({ fieldSelector: 'metadata.name=page-b' });
    assert.deepEqual(
      byName.items.map((i) => i.metadata?.name),
      ['page-b'],
    );
    const { code, body } = await apiError(admin.listCertificateSigningRequest({ fieldSelector: 'spec.username=bob' }));
    assert.equal(code, 400);
    assert.equal(body.reason, 'BadRequest');
    assert.equal(body.message, 'field label not supported: spec.username');
  });

  it('404 with the real message', async () => {
    const { code, body } = await apiError(admin.readCertificateSigningRequest({ name: 'nope' }));
    assert.equal(code, 404);
    assert.equal(body.message, 'certificatesigningrequests.certificates.k8s.io "nope" not found');
    assert.deepEqual(body.details, { name: 'nope', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
  });
});

describe('CSR update, /approval and /status', () => {
  it('keeps the spec immutable on update and 409 on a stale resourceVersion', async () => {
    const c = await create('upd');
    const stale = structuredClone(c);
    c.spec.signerName = 'example.com/other';
    c.metadata = { ...c.metadata, labels: { team: 'a' } };
    const updated = await admin.replaceCertificateSigningRequest({ name: 'upd', body: c });
    assert.equal(updated.spec.signerName, 'example.com/serving');
    assert.deepEqual(updated.metadata?.labels, { team: 'a' });
    stale.metadata = { ...stale.metadata, labels: { team: 'b' } };
    const { code, body } = await apiError(admin.replaceCertificateSigningRequest({ name: 'upd', body: stale }));
    assert.equal(code, 409);
    assert.equal(body.reason, 'Conflict');
    assert.equal(
      body.message,
      'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "upd": the object has been modified; please apply your changes to the latest version and try again',
    );
    // an empty resourceVersion is an unconditional update
    stale.metadata = { ...stale.metadata, resourceVersion: undefined };
    await admin.replaceCertificateSigningRequest({ name: 'upd', body: stale });
  });

  it('an update that changes nothing keeps the resourceVersion', async () => {
    const c = await create('noop');
    const again = await admin.replaceCertificateSigningRequest({ name: 'noop', body: c });
    assert.equal(again.metadata?.resourceVersion, c.metadata?.resourceVersion);
  });

  it('PUT to a missing name is 404', async () => {
    const body = csrObject('ghost', pem) as V1CertificateSigningRequest;
    const { code } = await apiError(admin.replaceCertificateSigningRequest({ name: 'ghost', body }));
    assert.equal(code, 404);
  });

  it('approves with timestamps, refuses Approved plus Denied and removals', async () => {
    const c = await create('appr');
    c.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] };
    const approved = await admin.replaceCertificateSigningRequestApproval({ name: 'appr', body: c });
    const cond = approved.status?.conditions?.[0];
    assert.equal(cond?.type, 'Approved');
    assert.ok(cond?.lastUpdateTime);
    assert.ok(cond?.lastTransitionTime);

    approved.status?.conditions?.push({ type: 'Denied', status: 'True', reason: 'X', message: 'y' });
    const both = await apiError(admin.replaceCertificateSigningRequestApproval({ name: 'appr', body: approved }));
    assert.equal(both.code, 422);
    assert.equal(
      both.body.message,
      'CertificateSigningRequest.certificates.k8s.io "appr" is invalid: status.conditions: Invalid value: "{conditions[{\\"type\\": \\"Approved\\"}], conditions[{\\"type\\": \\"Denied\\"}]}": must specify at most one of: `conditions[{"type": "Approved"}]`, `conditions[{"type": "Denied"}]`',
    );

    const fresh = await admin.readCertificateSigningRequest({ name: 'appr' });
    fresh.status = { conditions: [] };
    const removed = await apiError(admin.replaceCertificateSigningRequestApproval({ name: 'appr', body: fresh }));
    assert.equal(removed.code, 422);
    assert.equal(
      removed.body.message,
      'CertificateSigningRequest.certificates.k8s.io "appr" is invalid: status.conditions: Forbidden: updates may not remove a condition of type "Approved"',
    );
  });

  it('rejects status values other than True for Approved', async () => {
    const c = await create('appr-false');
    c.status = { conditions: [{ type: 'Approved', status: 'False' }] };
    const { code, body } = await apiError(
      admin.replaceCertificateSigningRequestApproval({ name: 'appr-false', body: c }),
    );
    assert.equal(code, 422);
    assert.match(
      String(body.message),
      /status\.conditions\[0\]\.status: Unsupported value: "False": supported values: "True"$/,
    );
  });

  it('403 approve without the signer permission, allowed with the <domain>/* fallback', async () => {
    const c = await create('need-signer', 'other.io/serving');
    c.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'm' }] };
    const { code, body } = await apiError(
      bob.replaceCertificateSigningRequestApproval({ name: 'need-signer', body: c }),
    );
    assert.equal(code, 403);
    assert.equal(body.reason, 'Forbidden');
    assert.equal(
      body.message,
      'certificatesigningrequests.certificates.k8s.io "need-signer" is forbidden: user not permitted to approve requests with signerName "other.io/serving"',
    );

    const d = await create('domain-ok', 'example.com/anything');
    d.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'm' }] };
    await approver.replaceCertificateSigningRequestApproval({ name: 'domain-ok', body: d });
    const e = await create('domain-no', 'other.io/anything');
    e.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'm' }] };
    assert.equal(
      (await apiError(approver.replaceCertificateSigningRequestApproval({ name: 'domain-no', body: e }))).code,
      403,
    );
  });

  it('sets the certificate once through /status, with sign permission, and allows Failed', async () => {
    const c = await create('sign');
    const cert = issueCertPem();
    c.status = { certificate: Buffer.from(cert).toString('base64') };
    const bobTry = await apiError(bob.replaceCertificateSigningRequestStatus({ name: 'sign', body: c }));
    assert.equal(bobTry.code, 403);
    assert.equal(
      bobTry.body.message,
      'certificatesigningrequests.certificates.k8s.io "sign" is forbidden: user not permitted to sign requests with signerName "example.com/serving"',
    );

    const signed = await approver.replaceCertificateSigningRequestStatus({ name: 'sign', body: c });
    assert.equal(Buffer.from(signed.status?.certificate ?? '', 'base64').toString(), cert);

    const again = structuredClone(signed);
    again.status = { ...again.status, certificate: Buffer.from(issueCertPem()).toString('base64') };
    const twice = await apiError(admin.replaceCertificateSigningRequestStatus({ name: 'sign', body: again }));
    assert.equal(twice.code, 422);
    assert.equal(
      twice.body.message,
      'CertificateSigningRequest.certificates.k8s.io "sign" is invalid: status.certificate: Forbidden: updates may not modify existing certificate content',
    );

    signed.status = {
      ...signed.status,
      conditions: [{ type: 'Failed', status: 'True', reason: 'SignerFailed', message: 'boom' }],
    };
    const failed = await admin.replaceCertificateSigningRequestStatus({ name: 'sign', body: signed });
    assert.equal(failed.status?.conditions?.[0]?.type, 'Failed');
  });

  it('422 for a certificate that is not CERTIFICATE PEM; /status may not add Approved', async () => {
    const c = await create('badcert');
    c.status = {
      certificate: Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').toString('base64'),
    };
    const { code, body } = await apiError(admin.replaceCertificateSigningRequestStatus({ name: 'badcert', body: c }));
    assert.equal(code, 422);
    assert.equal(
      body.message,
      'CertificateSigningRequest.certificates.k8s.io "badcert" is invalid: status.certificate: Invalid value: "<certificate data>": only CERTIFICATE PEM blocks are allowed, found "PRIVATE KEY"',
    );
    const d = await admin.readCertificateSigningRequest({ name: 'badcert' });
    d.status = { conditions: [{ type: 'Approved', status: 'True' }] };
    const add = await apiError(admin.replaceCertificateSigningRequestStatus({ name: 'badcert', body: d }));
    assert.equal(add.code, 422);
    assert.match(
      String(add.body.message),
      /status\.conditions: Forbidden: updates may not add a condition of type "Approved"$/,
    );
  });

  it('the certificate cannot be set through the main resource or /approval (silently kept)', async () => {
    const c = await create('nocert');
    c.status = { certificate: Buffer.from(issueCertPem()).toString('base64') };
    const viaMain = await admin.replaceCertificateSigningRequest({ name: 'nocert', body: c });
    assert.equal(viaMain.status?.certificate, undefined);
    const viaApproval = await admin.replaceCertificateSigningRequestApproval({
      name: 'nocert',
      body: { ...c, metadata: { ...c.metadata, resourceVersion: undefined } },
    });
    assert.equal(viaApproval.status?.certificate, undefined);
  });

  it('deletes, and deletecollection by label', async () => {
    await create('del-me');
    await admin.deleteCertificateSigningRequest({ name: 'del-me' });
    assert.equal((await apiError(admin.readCertificateSigningRequest({ name: 'del-me' }))).code, 404);
    for (const n of ['coll-1', 'coll-2']) {
      const body = csrObject(n, pem);
      await admin.createCertificateSigningRequest({ body: { ...body, metadata: { name: n, labels: { batch: 'x' } } } });
    }
    await admin.deleteCollectionCertificateSigningRequest({ labelSelector: 'batch=x' });
    const left = await admin.listCertificateSigningRequest({ labelSelector: 'batch=x' });
    assert.equal(left.items.length, 0);
  });
});

// PodCertificateRequests and ClusterTrustBundles in the sandbox (certificates.k8s.io v1 and v1beta1, one storage):
// creation by the pod's node (NodeRestriction), the real validation and its messages, status updates (one terminal
// condition, the chain and its times set once and consistent, `sign` on the signer), the trust-bundle name and
// `attest` rules, discovery, Tables, and conversion between the versions.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import type { LoadedCa } from '../../../src/services/pki/types.js';
import { issuedStatus, pcrCondition, podIdentityCa } from '../../helpers/pcr.js';
import { getTable, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

const SIGNER = 'example.com/pod-identity';
const NS = 'workloads';
const V1 = `/apis/certificates.k8s.io/v1/namespaces/${NS}/podcertificaterequests`;
const V1B1 = `/apis/certificates.k8s.io/v1beta1/namespaces/${NS}/podcertificaterequests`;
const CTB = '/apis/certificates.k8s.io/v1/clustertrustbundles';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
const N1 = { name: 'system:node:n1', groups: ['system:nodes'] };
const N2 = { name: 'system:node:n2', groups: ['system:nodes'] };

let sb: Sandbox;
let east: SandboxCluster;
let ca: LoadedCa;
let caPem: string;
const uids: Record<string, string> = {};

type Answer = { code: number; body: Record<string, unknown> };
async function call(user: typeof ADMIN, method: string, path: string, body?: unknown): Promise<Answer> {
  const r = await east.requestAs(user, method, path, body);
  return { code: r.code, body: JSON.parse(r.body) as Record<string, unknown> };
}
const message = (a: Answer) => String(a.body.message);

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

function pcr(name: string, over: Record<string, unknown> = {}, stubPem = makeCsrPem({ commonName: '' }).pem) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'PodCertificateRequest',
    metadata: { name },
    spec: {
      signerName: SIGNER,
      podName: 'web',
      podUID: uids.web,
      serviceAccountName: 'app',
      serviceAccountUID: uids.app,
      nodeName: 'n1',
      nodeUID: uids.n1,
      stubPKCS10Request: derOf(stubPem).toString('base64'),
      ...over,
    },
  };
}

/** Issues for a PCR's stub request with the test CA. */
const issued = (p: { spec: { stubPKCS10Request: string } }, seconds = 3600) =>
  issuedStatus(ca, p.spec.stubPKCS10Request, { signerName: SIGNER, seconds });

const cond = (type: string, reason = 'Because') => pcrCondition(type, reason);

before(async () => {
  sb = await startTestSandbox(undefined);
  east = sb.cluster('east');
  ca = await podIdentityCa();
  caPem = ca.certPem;
  await call(ADMIN, 'POST', '/api/v1/namespaces', { metadata: { name: NS } });
  uids.app = String(
    (
      (await call(ADMIN, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'app' } })).body
        .metadata as { uid: string }
    ).uid,
  );
  for (const [user, node] of [
    [N1, 'n1'],
    [N2, 'n2'],
  ] as const) {
    const created = await call(user, 'POST', '/api/v1/nodes', { metadata: { name: node } });
    uids[node] = String((created.body.metadata as { uid: string }).uid);
  }
  const volume = {
    name: 'identity',
    projected: {
      sources: [{ podCertificate: { signerName: SIGNER, keyType: 'ECDSAP256', credentialBundlePath: 'creds.pem' } }],
    },
  };
  for (const [name, volumes] of [
    ['web', [volume]],
    ['plain', []],
  ] as const) {
    const created = await call(ADMIN, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      metadata: { name },
      spec: { nodeName: 'n1', serviceAccountName: 'app', containers: [{ name: 'c', image: 'x' }], volumes },
    });
    uids[name] = String((created.body.metadata as { uid: string }).uid);
  }
});
after(() => sb.stop());

describe('PodCertificateRequests: create', () => {
  it("the pod's node creates one (defaults, empty status) and reads it at v1 and v1beta1", async () => {
    const created = await call(N1, 'POST', V1, pcr('web-1'));
    assert.equal(created.code, 201, message(created));
    const spec = created.body.spec as Record<string, unknown>;
    assert.equal(spec.maxExpirationSeconds, 86400);
    assert.equal('pkixPublicKey' in spec, false, 'v1 has no pkixPublicKey');
    assert.deepEqual(created.body.status, {});
    const beta = await call(N1, 'GET', `${V1B1}/web-1`);
    assert.equal(beta.body.apiVersion, 'certificates.k8s.io/v1beta1');
    assert.equal((beta.body.spec as Record<string, unknown>).pkixPublicKey, null);
    assert.equal((beta.body.spec as Record<string, unknown>).stubPKCS10Request, spec.stubPKCS10Request);
  });

  it('v1beta1 takes pkixPublicKey + proofOfPossession over the pod UID; v1 does not show them', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const body = pcr('web-pkix', {
      stubPKCS10Request: undefined,
      pkixPublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      proofOfPossession: sign(null, Buffer.from(uids.web ?? ''), privateKey).toString('base64'),
    });
    const created = await call(N1, 'POST', V1B1, { ...body, apiVersion: 'certificates.k8s.io/v1beta1' });
    assert.equal(created.code, 201, message(created));
    const v1 = await call(ADMIN, 'GET', `${V1}/web-pkix`);
    assert.equal('pkixPublicKey' in (v1.body.spec as object), false);
    const bad = await call(N1, 'POST', V1B1, {
      ...body,
      apiVersion: 'certificates.k8s.io/v1beta1',
      metadata: { name: 'web-bad-pop' },
      spec: { ...body.spec, proofOfPossession: Buffer.from('nope').toString('base64') },
    });
    assert.equal(bad.code, 422);
    assert.match(
      message(bad),
      /spec.proofOfPossession: Invalid value: could not verify proof-of-possession signature$/,
    );
  });

  it('validates the key, the lifetime bounds and the key fields with the real messages', async () => {
    const rsa2048 = await call(N1, 'POST', V1, pcr('web-rsa', {}, makeCsrPem({ commonName: '', keyType: 'rsa' }).pem));
    assert.equal(
      message(rsa2048),
      'PodCertificateRequest.certificates.k8s.io "web-rsa" is invalid: spec.stubPKCS10Request: Invalid value: "2048-bit modulus": RSA keys must have modulus size 3072 or 4096',
    );
    const badSig = await call(
      N1,
      'POST',
      V1,
      pcr('web-sig', {}, makeCsrPem({ commonName: '', badSignature: true }).pem),
    );
    assert.match(message(badSig), /spec.stubPKCS10Request: Invalid value: invalid signature$/);
    const short = await call(N1, 'POST', V1, pcr('web-short', { maxExpirationSeconds: 600 }));
    assert.match(
      message(short),
      /spec.maxExpirationSeconds: Invalid value: 600: must be in the range \[3600, 7862400\]$/,
    );
    const kube = await call(
      ADMIN,
      'POST',
      V1,
      pcr('web-kube', { signerName: 'kubernetes.io/x', maxExpirationSeconds: 90000 }),
    );
    assert.match(message(kube), /must be in the range \[3600, 86400\]/);
    const none = await call(N1, 'POST', V1, pcr('web-none', { stubPKCS10Request: undefined }));
    assert.match(
      message(none),
      /spec: Invalid value: exactly one of \(stubPKCS10Request\) or \(pkixPublicKey, proofOfPossession\) must be set$/,
    );
    assert.equal((none.body.details as { causes: unknown[] }).causes.length, 1);
  });

  it("NodeRestriction: only the pod's node, with the right UIDs, for a signer the pod mounts", async () => {
    const other = await call(N2, 'POST', V1, pcr('web-n2', { nodeName: 'n1' }));
    assert.equal(other.code, 403);
    assert.equal(
      message(other),
      'podcertificaterequests.certificates.k8s.io "web-n2" is forbidden: PodCertificateRequest.Spec.NodeName="n1", which is not the requesting node "n2"',
    );
    const uid = await call(N1, 'POST', V1, pcr('web-uid', { podUID: 'not-the-pod' }));
    assert.equal(uid.code, 500);
    assert.match(message(uid), /contains pod UID \("not-the-pod"\) which differs from running pod/);
    const plain = await call(N1, 'POST', V1, pcr('plain-1', { podName: 'plain', podUID: uids.plain }));
    assert.equal(plain.code, 403);
    assert.match(
      message(plain),
      /pod "workloads\/plain" does not mount a podCertificate projected volume for signer "example.com\/pod-identity"$/,
    );
    const sa = await call(N1, 'POST', V1, pcr('web-sa', { serviceAccountName: 'default' }));
    assert.match(message(sa), /contains serviceAccountName \("default"\) that differs from running pod \("app"\)/);
  });

  it('the Node authorizer: a node gets PCRs naming it and lists them only by spec.nodeName', async () => {
    assert.equal((await call(N1, 'GET', `${V1}/web-1`)).code, 200);
    const n2 = await call(N2, 'GET', `${V1}/web-1`);
    assert.equal(n2.code, 403);
    assert.match(message(n2), /node: no relationship found between node 'n2' and this object$/);
    assert.equal((await call(N1, 'GET', V1)).code, 403);
    const mine = await call(N1, 'GET', `${V1}?fieldSelector=spec.nodeName%3Dn1`);
    assert.equal(mine.code, 200);
    const status = await call(N1, 'PUT', `${V1}/web-1/status`, (await call(N1, 'GET', `${V1}/web-1`)).body);
    assert.match(message(status), /nodes may not access the status subresource of PodCertificateRequests$/);
  });
});

describe('PodCertificateRequests: status', () => {
  it('issues once, with the requested key and consistent times; then the status is immutable', async () => {
    const body = pcr('web-issue');
    assert.equal((await call(N1, 'POST', V1, body)).code, 201);
    const current = (await call(ADMIN, 'GET', `${V1}/web-issue`)).body;
    const times = await issued(body);

    const wrongKey = await issued(pcr('x'));
    const bad = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...current,
      status: { conditions: [cond('Issued')], ...wrongKey },
    });
    assert.match(message(bad), /leaf certificate was not issued to the requested public key$/);
    const tooLong = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...current,
      status: { conditions: [cond('Issued')], ...(await issued(body, 2 * 86400)) },
    });
    assert.match(
      message(tooLong),
      /Invalid value: 172800000000000: leaf certificate lifetime must be <= spec.maxExpirationSeconds \(86400\)$/,
    );
    const early = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...current,
      status: { conditions: [cond('Issued')], ...times, beginRefreshAt: times.notBefore },
    });
    assert.match(
      message(early),
      /status.beginRefreshAt: Invalid value: "[^"]+": must be at least 10 minutes after status.notBefore$/,
    );
    const both = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...current,
      status: { conditions: [cond('Issued'), cond('Denied')], ...times },
    });
    assert.match(message(both), /There may be at most one condition with type "Issued", "Denied", or "Failed"/);

    const ok = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...current,
      status: { conditions: [cond('Issued')], ...times },
    });
    assert.equal(ok.code, 200, message(ok));
    const again = await call(ADMIN, 'PUT', `${V1}/web-issue/status`, {
      ...ok.body,
      status: { ...(ok.body.status as object), conditions: [cond('Failed')] },
    });
    assert.match(
      message(again),
      /status: Invalid value: immutable after PodCertificateRequest is issued, denied, or failed$/,
    );
    const table = await getTable(east, `${V1}/web-issue`);
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ['Name', 'PodName', 'ServiceAccountName', 'NodeName', 'SignerName', 'State', 'UnverifiedUserAnnotations'],
    );
    assert.deepEqual(table.rows[0]?.cells, ['web-issue', 'web', 'app', 'n1', SIGNER, 'Issued', '<none>']);
  });

  it('denies and fails without a chain; the spec is immutable; status needs sign on the signer', async () => {
    const body = pcr('web-deny');
    await call(N1, 'POST', V1, body);
    const current = (await call(ADMIN, 'GET', `${V1}/web-deny`)).body;
    const withChain = await call(ADMIN, 'PUT', `${V1}/web-deny/status`, {
      ...current,
      status: { conditions: [cond('Denied')], ...(await issued(body)) },
    });
    assert.match(message(withChain), /non-condition status fields must be empty when denying or failing/);
    const pending = await call(ADMIN, 'PUT', `${V1}/web-deny/status`, {
      ...current,
      status: { conditions: [cond('Ready', 'Fine')] },
    });
    assert.match(message(pending), /Unsupported value: "Ready": supported values: "Issued", "Denied", "Failed"/);
    const spec = await call(ADMIN, 'PUT', `${V1}/web-deny`, {
      ...current,
      spec: { ...(current.spec as object), podName: 'other' },
    });
    assert.match(
      message(spec),
      /spec: Invalid value: \{"SignerName":"example.com\/pod-identity","PodName":"other",.*\}: field is immutable$/,
    );

    // bob may update the status but not sign for the signer.
    await call(ADMIN, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'pcr-status' },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['podcertificaterequests/status'], verbs: ['update'] }],
    });
    await call(ADMIN, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'pcr-status-bob' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pcr-status' },
      subjects: [{ kind: 'User', name: 'bob' }],
    });
    const bob = await call({ name: 'bob', groups: [] }, 'PUT', `${V1}/web-deny/status`, {
      ...current,
      status: { conditions: [cond('Denied', 'UnsupportedKeyType')] },
    });
    assert.equal(bob.code, 422);
    assert.equal(
      message(bob),
      'PodCertificateRequest.certificates.k8s.io "web-deny" is invalid: spec.signerName: Forbidden: User "bob" is not permitted to "sign" for signer "example.com/pod-identity"',
    );
    const denied = await call(ADMIN, 'PUT', `${V1}/web-deny/status`, {
      ...current,
      status: { conditions: [cond('Denied', 'UnsupportedKeyType')] },
    });
    assert.equal(denied.code, 200, message(denied));
  });
});

describe('ClusterTrustBundles', () => {
  it('names follow the signer, the bundle holds CA certificates only, attest is checked', async () => {
    const bundle = (name: string, signerName: string | undefined, trustBundle = caPem) => ({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'ClusterTrustBundle',
      metadata: { name },
      spec: { ...(signerName ? { signerName } : {}), trustBundle },
    });
    assert.equal((await call(ADMIN, 'POST', CTB, bundle('example.com:pod-identity:live', SIGNER))).code, 201);
    const prefix = await call(ADMIN, 'POST', CTB, bundle('live', SIGNER));
    assert.match(message(prefix), /must be named with prefix example.com:pod-identity:$/);
    const colon = await call(ADMIN, 'POST', CTB, bundle('a:b', undefined));
    assert.match(message(colon), /ClusterTrustBundle without signer name must not have ":" in its name$/);
    const notCa = await call(ADMIN, 'POST', CTB, bundle('plain', undefined, (await issued(pcr('y'))).certificateChain));
    assert.match(
      message(notCa),
      /spec.trustBundle: Invalid value: "<value omitted>": entry 0 does not have the CA bit set$/,
    );
    const headers = caPem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n');
    const withHeaders = await call(ADMIN, 'POST', CTB, bundle('hdr', undefined, headers));
    assert.match(message(withHeaders), /entry 0 has PEM block headers$/);
    const dup = await call(ADMIN, 'POST', CTB, bundle('dup', undefined, caPem + caPem));
    assert.match(message(dup), /duplicate trust anchor \(indices \[0 1\]\)$/);

    const noAttest = await call(
      { name: 'carol', groups: [] },
      'POST',
      CTB,
      bundle('example.com:pod-identity:c', SIGNER),
    );
    assert.equal(noAttest.code, 403);
    const v1beta1 = await call(
      ADMIN,
      'GET',
      '/apis/certificates.k8s.io/v1beta1/clustertrustbundles/example.com:pod-identity:live',
    );
    assert.equal(v1beta1.body.apiVersion, 'certificates.k8s.io/v1beta1');
    const current = (await call(ADMIN, 'GET', `${CTB}/example.com:pod-identity:live`)).body;
    const moved = await call(ADMIN, 'PUT', `${CTB}/example.com:pod-identity:live`, {
      ...current,
      spec: { ...(current.spec as object), signerName: 'example.com/other' },
    });
    assert.match(message(moved), /spec.signerName: Invalid value: "example.com\/other": field is immutable/);
    const table = await getTable(east, CTB);
    assert.deepEqual(
      table.rows.map((r) => r.cells),
      [['example.com:pod-identity:live', SIGNER]],
    );
  });

  it('discovery: certificates.k8s.io serves v1 (preferred) and v1beta1', async () => {
    const group = await call(ADMIN, 'GET', '/apis/certificates.k8s.io');
    assert.deepEqual(
      (group.body.versions as { version: string }[]).map((v) => v.version),
      ['v1', 'v1beta1'],
    );
    assert.deepEqual(group.body.preferredVersion, { groupVersion: 'certificates.k8s.io/v1', version: 'v1' });
    const beta = await call(ADMIN, 'GET', '/apis/certificates.k8s.io/v1beta1');
    assert.deepEqual((beta.body.resources as { name: string }[]).map((r) => r.name).sort(), [
      'clustertrustbundles',
      'podcertificaterequests',
      'podcertificaterequests/status',
    ]);
  });
});

// PodCertificateRequests and ClusterTrustBundles (certificates.k8s.io v1 and v1beta1): the sandbox against a real
// kube-apiserver 1.37, row by row. Each server gets the UIDs it gave the node, pod and service account.
import { generateKeyPairSync, sign } from 'node:crypto';
import { issuedStatus, pcrCondition, podIdentityCa } from '../../helpers/pcr.js';
import { makeCsrPem } from '../../helpers/sandbox.js';
import { TABLE } from './fixtures.js';
import { type Answer, type Case, differential, type Servers, statusOf } from './harness.js';

const SIGNER = 'example.com/pod-identity';
const NODE = { user: 'system:node:pn1', groups: ['system:nodes'] };
const OTHER_NODE = { user: 'system:node:pn2', groups: ['system:nodes'] };
const NSP = '/api/v1/namespaces/diff-pcr';
const V1 = '/apis/certificates.k8s.io/v1/namespaces/diff-pcr/podcertificaterequests';
const V1B1 = '/apis/certificates.k8s.io/v1beta1/namespaces/diff-pcr/podcertificaterequests';
const CTB = '/apis/certificates.k8s.io/v1/clustertrustbundles';
const CTB_B1 = '/apis/certificates.k8s.io/v1beta1/clustertrustbundles';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const normal = { replace: [[UUID, '<uuid>']] as [RegExp, string][] };

type Target = 'sandbox' | 'real';
const uids: Record<Target, Record<string, string>> = { sandbox: {}, real: {} };
const body = (a: Answer) => (a.body ?? {}) as Record<string, unknown>;
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const stub = (keyType: 'ec' | 'rsa' | 'ed25519' = 'ec', rsaBits?: number, badSignature = false) =>
  derOf(makeCsrPem({ commonName: '', keyType, ...(rsaBits ? { rsaBits } : {}), badSignature }).pem).toString('base64');
const STUB = stub();
const ed = generateKeyPairSync('ed25519');

/** Reads the UIDs each server gave the objects the rows refer to. */
async function learnUids(s: Servers): Promise<void> {
  for (const target of ['sandbox', 'real'] as const) {
    for (const [key, path] of [
      ['node', '/api/v1/nodes/pn1'],
      ['pod', `${NSP}/pods/web`],
      ['plain', `${NSP}/pods/plain`],
      ['sa', `${NSP}/serviceaccounts/app`],
    ]) {
      const a = await s.send(target, { name: 'uid', path: path ?? '' });
      uids[target][key ?? ''] = String((body(a).metadata as { uid?: string } | undefined)?.uid);
    }
  }
}

type Over = Record<string, unknown> | ((t: Target) => Record<string, unknown>);
function pcr(name: string, over: Over = {}, version = 'v1') {
  return (t: Target) => ({
    apiVersion: `certificates.k8s.io/${version}`,
    kind: 'PodCertificateRequest',
    metadata: { name, labels: { diff: 'yes' } },
    spec: {
      signerName: SIGNER,
      podName: 'web',
      podUID: uids[t].pod,
      serviceAccountName: 'app',
      serviceAccountUID: uids[t].sa,
      nodeName: 'pn1',
      nodeUID: uids[t].node,
      stubPKCS10Request: STUB,
      ...(typeof over === 'function' ? over(t) : over),
    },
  });
}

const volume = (signerName: string) => ({
  name: 'identity',
  projected: { sources: [{ podCertificate: { signerName, keyType: 'ECDSAP256', credentialBundlePath: 'creds.pem' } }] },
});
const pod = (name: string, volumes: unknown[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeName: 'pn1',
    serviceAccountName: 'app',
    tolerations: [{ operator: 'Exists' }],
    containers: [{ name: 'c', image: 'example.invalid/x' }],
    volumes,
  },
});

// The test CA and an issued chain for STUB, made when the status rows run (notBefore must be near the server's now).
let caPem = '';
let issued: Record<string, string> = {};
async function issue(seconds: number): Promise<Record<string, string>> {
  const ca = await podIdentityCa('diff pod-identity CA');
  caPem = ca.certPem;
  return issuedStatus(ca, STUB, { signerName: SIGNER, seconds });
}

const cond = (type: string, reason = 'Because', status = 'True') => pcrCondition(type, reason, 'by the test', status);
/** A status PUT for a PCR as read from that server (resourceVersion included). */
const withStatus = (name: string, status: (t: Target) => unknown) => (t: Target) => ({
  ...current[t][name],
  status: status(t),
});
const current: Record<Target, Record<string, Record<string, unknown>>> = { sandbox: {}, real: {} };
async function read(s: Servers, name: string): Promise<void> {
  for (const t of ['sandbox', 'real'] as const)
    current[t][name] = body(await s.send(t, { name: 'read', path: `${V1}/${name}` }));
}
const bundle = (name: string, signerName: string | undefined, trustBundle: () => string) => () => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'ClusterTrustBundle',
  metadata: { name, labels: { diff: 'yes' } },
  spec: { ...(signerName ? { signerName } : {}), trustBundle: trustBundle() },
});
const code = (a: Answer) => a.code;

const cases: Case[] = [
  // discovery
  {
    name: 'the group serves v1 and v1beta1',
    path: '/apis/certificates.k8s.io',
    pick: (a) => ({ versions: body(a).versions, preferred: body(a).preferredVersion }),
  },
  {
    name: 'v1beta1 resources',
    path: '/apis/certificates.k8s.io/v1beta1',
    pick: (a) =>
      ((body(a).resources ?? []) as { name: string }[])
        .filter((r) => /^(podcertificaterequests|clustertrustbundles)/.test(r.name))
        .map((r) => ({ ...r, storageVersionHash: undefined }))
        .sort((x, y) => x.name.localeCompare(y.name)),
  },
  {
    name: 'v1 resources',
    path: '/apis/certificates.k8s.io/v1',
    pick: (a) =>
      ((body(a).resources ?? []) as { name: string }[])
        .filter((r) => /^(podcertificaterequests|clustertrustbundles)/.test(r.name))
        .map((r) => ({ ...r, storageVersionHash: undefined }))
        .sort((x, y) => x.name.localeCompare(y.name)),
  },
  // the pod, its node and service account
  {
    name: 'namespace',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { metadata: { name: 'diff-pcr' } },
    pick: code,
  },
  {
    name: 'service account',
    method: 'POST',
    path: `${NSP}/serviceaccounts`,
    body: { metadata: { name: 'app' } },
    pick: code,
  },
  {
    name: 'node pn1',
    method: 'POST',
    path: '/api/v1/nodes',
    as: NODE,
    body: { metadata: { name: 'pn1', labels: { diff: 'yes' } } },
    pick: code,
  },
  {
    name: 'node pn2',
    method: 'POST',
    path: '/api/v1/nodes',
    as: OTHER_NODE,
    body: { metadata: { name: 'pn2', labels: { diff: 'yes' } } },
    pick: code,
  },
  {
    name: 'pod with a podCertificate volume',
    method: 'POST',
    path: `${NSP}/pods`,
    body: pod('web', [volume(SIGNER)]),
    pick: code,
  },
  {
    name: 'pod without one',
    method: 'POST',
    path: `${NSP}/pods`,
    body: pod('plain', []),
    pick: code,
  },
  // create
  {
    name: 'the node creates a PCR (v1, defaults)',
    method: 'POST',
    path: V1,
    as: NODE,
    before: learnUids,
    body: pcr('p-one'),
    ...normal,
  },
  { name: 'read it at v1beta1', path: `${V1B1}/p-one`, ...normal },
  { name: 'read it as a Table', path: `${V1}/p-one`, headers: { accept: TABLE }, ...normal },
  { name: 'the node gets its PCR', path: `${V1}/p-one`, as: NODE, pick: code },
  { name: 'another node may not get it', path: `${V1}/p-one`, as: OTHER_NODE, pick: statusOf },
  { name: 'the node may not list all', path: V1, as: NODE, pick: statusOf },
  { name: 'the node lists by spec.nodeName', path: `${V1}?fieldSelector=spec.nodeName%3Dpn1`, as: NODE, pick: code },
  {
    name: 'field selector spec.podName',
    path: `${V1}?fieldSelector=spec.podName%3Dweb`,
    pick: (a) => (body(a).items as unknown[] | undefined)?.length,
  },
  { name: 'unsupported field selector', path: `${V1}?fieldSelector=spec.podUID%3Dx`, pick: statusOf },
  {
    name: 'v1beta1 with pkixPublicKey and proof of possession',
    method: 'POST',
    path: V1B1,
    as: NODE,
    body: pcr(
      'p-pkix',
      (t: Target) => ({
        stubPKCS10Request: undefined,
        pkixPublicKey: ed.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        proofOfPossession: sign(null, Buffer.from(uids[t].pod ?? ''), ed.privateKey).toString('base64'),
      }),
      'v1beta1',
    ),
    ...normal,
    // The proof is a signature over each server's own pod UID.
    omit: ['spec.proofOfPossession'],
  },
  { name: 'the pkix PCR read at v1', path: `${V1}/p-pkix`, ...normal },
  {
    name: 'v1beta1 with a bad proof of possession',
    method: 'POST',
    path: V1B1,
    as: NODE,
    body: pcr(
      'p-badpop',
      {
        stubPKCS10Request: undefined,
        pkixPublicKey: ed.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        proofOfPossession: Buffer.from('nope').toString('base64'),
      },
      'v1beta1',
    ),
    pick: statusOf,
  },
  {
    name: 'an RSA-2048 key',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-rsa', { stubPKCS10Request: stub('rsa', 2048) }),
    pick: statusOf,
  },
  {
    name: 'a bad stub signature',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-sig', { stubPKCS10Request: stub('ec', undefined, true) }),
    pick: statusOf,
  },
  {
    name: 'an Ed25519 key',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-ed', { stubPKCS10Request: stub('ed25519') }),
    pick: code,
  },
  {
    name: 'no key at all',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-nokey', { stubPKCS10Request: undefined }),
    pick: statusOf,
  },
  {
    name: 'maxExpirationSeconds 600',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-short', { maxExpirationSeconds: 600 }),
    pick: statusOf,
  },
  {
    name: 'a kubernetes.io signer over 24 h (as admin)',
    method: 'POST',
    path: V1,
    body: pcr('p-kube', { signerName: 'kubernetes.io/kube-apiserver-client-pod', maxExpirationSeconds: 90000 }),
    pick: statusOf,
  },
  {
    name: 'empty UIDs and names (as admin)',
    method: 'POST',
    path: V1,
    body: pcr('p-empty', { podUID: '', nodeName: 'Bad_Node', serviceAccountUID: '' }),
    pick: statusOf,
  },
  {
    name: 'a user annotation without a domain (as admin)',
    method: 'POST',
    path: V1,
    body: pcr('p-annot', { unverifiedUserAnnotations: { tenant: 'blue' } }),
    pick: statusOf,
  },
  { name: 'another node', method: 'POST', path: V1, as: OTHER_NODE, body: pcr('p-other'), pick: statusOf },
  {
    name: 'a wrong pod UID',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-uid', { podUID: 'not-the-pod' }),
    pick: statusOf,
    ...normal,
  },
  {
    name: 'a wrong node UID',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-nuid', { nodeUID: 'not-the-node' }),
    pick: statusOf,
    ...normal,
  },
  {
    name: 'another service account',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-sa', { serviceAccountName: 'default' }),
    pick: statusOf,
  },
  {
    name: 'a pod that mounts no volume for the signer',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-plain', (t: Target) => ({ podName: 'plain', podUID: uids[t].plain })),
    pick: statusOf,
  },
  {
    name: 'a missing pod',
    method: 'POST',
    path: V1,
    as: NODE,
    body: pcr('p-missing', { podName: 'gone' }),
    pick: statusOf,
  },
  // spec and status updates
  {
    name: 'the spec is immutable',
    method: 'PUT',
    path: `${V1}/p-one`,
    before: (s) => read(s, 'p-one'),
    body: (t: Target) => ({
      ...current[t]['p-one'],
      spec: { ...(current[t]['p-one']?.spec as object), podName: 'other' },
    }),
    pick: statusOf,
    ...normal,
  },
  { name: 'a PUT without resourceVersion', method: 'PUT', path: `${V1}/p-one`, body: pcr('p-one'), pick: statusOf },
  {
    name: 'the node may not update the status',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    as: NODE,
    body: withStatus('p-one', () => ({ conditions: [cond('Denied')] })),
    pick: statusOf,
  },
  {
    name: 'a non-terminal condition type',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Ready')] })),
    pick: statusOf,
  },
  {
    name: 'Issued and Denied together',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    before: async () => {
      issued = await issue(3600);
    },
    body: withStatus('p-one', () => ({ conditions: [cond('Issued'), cond('Denied')], ...issued })),
    pick: statusOf,
  },
  {
    name: 'Denied with a chain',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Denied')], ...issued })),
    pick: statusOf,
  },
  {
    name: 'Issued without times',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Issued')], certificateChain: issued.certificateChain })),
    pick: statusOf,
  },
  {
    name: 'Issued with beginRefreshAt at notBefore',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Issued')], ...issued, beginRefreshAt: issued.notBefore })),
    pick: statusOf,
  },
  {
    name: 'Issued with a condition status False',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Issued', 'Because', 'False')], ...issued })),
    pick: statusOf,
  },
  {
    name: 'Issued by a user without sign',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    as: { user: 'diff-bob' },
    body: withStatus('p-one', () => ({ conditions: [cond('Issued')], ...issued })),
    pick: statusOf,
  },
  {
    name: 'Issued, valid',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    body: withStatus('p-one', () => ({ conditions: [cond('Issued')], ...issued })),
    ...normal,
  },
  { name: 'the issued PCR at v1beta1', path: `${V1B1}/p-one`, ...normal },
  { name: 'the issued PCR as a Table', path: `${V1}/p-one`, headers: { accept: TABLE }, ...normal },
  {
    name: 'Failed after Issued',
    method: 'PUT',
    path: `${V1}/p-one/status`,
    before: (s) => read(s, 'p-one'),
    body: withStatus('p-one', () => ({ conditions: [cond('Failed')] })),
    pick: statusOf,
  },
  {
    name: 'Issued with a certificate for another key',
    method: 'PUT',
    path: `${V1}/p-ed/status`,
    before: async (s) => {
      await read(s, 'p-ed');
    },
    body: withStatus('p-ed', () => ({ conditions: [cond('Issued')], ...issued })),
    pick: statusOf,
  },
  {
    name: 'Denied, valid',
    method: 'PUT',
    path: `${V1}/p-ed/status`,
    body: withStatus('p-ed', () => ({ conditions: [cond('Denied', 'UnsupportedKeyType')] })),
    ...normal,
  },
  // ClusterTrustBundles
  {
    name: 'a bundle for the signer',
    method: 'POST',
    path: CTB,
    body: bundle('example.com:pod-identity:live', SIGNER, () => caPem),
  },
  { name: 'the bundle at v1beta1', path: `${CTB_B1}/example.com:pod-identity:live` },
  {
    name: 'bundles as a Table',
    path: `${CTB}?labelSelector=diff%3Dyes`,
    headers: { accept: TABLE },
    omit: ['metadata.resourceVersion'],
  },
  {
    name: 'a bundle without the signer prefix',
    method: 'POST',
    path: CTB,
    body: bundle('live', SIGNER, () => caPem),
    pick: statusOf,
  },
  {
    name: 'a bundle without signer with a colon',
    method: 'POST',
    path: CTB,
    body: bundle('a:b', undefined, () => caPem),
    pick: statusOf,
  },
  {
    name: 'a bundle holding a leaf',
    method: 'POST',
    path: CTB,
    body: bundle('leafy', undefined, () => issued.certificateChain ?? ''),
    pick: statusOf,
  },
  {
    name: 'a bundle with PEM headers',
    method: 'POST',
    path: CTB,
    body: bundle('headers', undefined, () => caPem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n')),
    pick: statusOf,
  },
  {
    name: 'a bundle with the CA twice',
    method: 'POST',
    path: CTB,
    body: bundle('dup', undefined, () => caPem + caPem),
    pick: statusOf,
  },
  { name: 'an empty bundle', method: 'POST', path: CTB, body: bundle('empty', undefined, () => ''), pick: statusOf },
  {
    name: 'a bundle without attest',
    method: 'POST',
    path: CTB,
    as: { user: 'diff-carol' },
    body: bundle('example.com:pod-identity:c', SIGNER, () => caPem),
    pick: statusOf,
  },
  {
    name: 'a signerless bundle by admin',
    method: 'POST',
    path: CTB,
    body: bundle('plain-roots', undefined, () => caPem),
  },
  {
    name: 'list bundles by signer',
    path: `${CTB}?fieldSelector=spec.signerName%3Dexample.com%2Fpod-identity`,
    pick: (a) => (body(a).items as unknown[] | undefined)?.length,
  },
  // clean-up
  { name: 'delete the PCR namespace', method: 'DELETE', path: '/api/v1/namespaces/diff-pcr', pick: code },
  { name: 'delete a bundle', method: 'DELETE', path: `${CTB}/example.com:pod-identity:live`, pick: statusOf },
  { name: 'delete the other bundle', method: 'DELETE', path: `${CTB}/plain-roots`, pick: code },
];

differential(cases);

// CertificateSigningRequests, /approval and /status: the sandbox against a real kube-apiserver 1.37, row by row.
import { createClusterCa } from '../../../src/services/sandbox/ca.js';
import { ADMIN, type Case, differential, statusOf, VIEWER } from './harness.js';
import {
  b64,
  CSR_PATH,
  condition,
  csr,
  PEM_BAD_SIG,
  PEM_CLIENT,
  PEM_MASTERS,
  TABLE,
  withConditions,
} from './fixtures.js';

const CERT = createClusterCa('diff-cert').certPem;
const JANE = { user: 'jane', groups: ['developers'] };
const json = { 'content-type': 'application/json-patch+json' };
const merge = { 'content-type': 'application/merge-patch+json' };
const smp = { 'content-type': 'application/strategic-merge-patch+json' };
const apply = { 'content-type': 'application/apply-patch+yaml' };
const P = CSR_PATH;
const list = (q: string) => `${P}?labelSelector=diff%3Dyes${q}`;

const cases: Case[] = [
  // create and read
  { name: 'create a CSR', method: 'POST', path: P, body: csr('d-one') },
  { name: 'get it', path: `${P}/d-one` },
  { name: 'get it as the viewer', path: `${P}/d-one`, as: VIEWER },
  { name: 'get it, pretty', path: `${P}/d-one?pretty=true` },
  { name: 'create it again: AlreadyExists', method: 'POST', path: P, body: csr('d-one') },
  { name: 'get a missing CSR: NotFound', path: `${P}/d-missing` },
  { name: 'create with generateName', method: 'POST', path: P, body: csr('', { generateName: 'd-gen-' }) },
  {
    name: 'create with expirationSeconds 600',
    method: 'POST',
    path: P,
    body: csr('d-600', { expirationSeconds: 600 }),
  },
  {
    name: 'create with client-set username, groups and status: replaced and dropped',
    method: 'POST',
    path: P,
    body: {
      ...csr('d-spoof'),
      spec: { ...(csr('d-spoof').spec as object), username: 'root', groups: ['x'], uid: 'u' },
      status: { conditions: [condition('Approved')], certificate: b64(CERT) },
    },
  },
  { name: 'create as a user with groups (jane)', method: 'POST', path: P, as: JANE, body: csr('d-jane') },
  { name: 'create with dryRun=All stores nothing', method: 'POST', path: `${P}?dryRun=All`, body: csr('d-dry') },
  { name: 'the dry-run CSR does not exist', path: `${P}/d-dry` },
  {
    name: 'create with fieldManager',
    method: 'POST',
    path: `${P}?fieldManager=diff-test`,
    body: csr('d-fm'),
  },
  // lists, selectors and pagination
  { name: 'list by label', path: list(''), omit: ['metadata.resourceVersion'] },
  { name: 'list by label, limit=2', path: list('&limit=2'), pick: (a) => pageShape(a) },
  {
    name: 'list by signerName field selector',
    path: list('&fieldSelector=spec.signerName%3Dexample.com%2Fserving'),
    pick: (a) => names(a),
  },
  {
    name: 'list by metadata.name field selector',
    path: `${P}?fieldSelector=metadata.name%3Dd-one`,
    pick: (a) => names(a),
  },
  { name: 'list by metadata.name!=', path: list('&fieldSelector=metadata.name!%3Dd-one'), pick: (a) => names(a) },
  {
    name: 'unsupported field selector spec.username',
    path: `${P}?fieldSelector=spec.username%3Dadmin`,
    pick: statusOf,
  },
  { name: 'field selector without an operator', path: `${P}?fieldSelector=spec.signerName`, pick: statusOf },
  {
    name: 'bad label selector',
    known: 'selector parse errors are worded differently',
    path: `${P}?labelSelector=a%20in%20b`,
    pick: statusOf,
  },
  { name: 'label selector notin', path: `${P}?labelSelector=diff%2Cx%20notin%20(y)`, pick: (a) => names(a) },
  {
    name: 'a bad continue token',
    known: 'continue tokens are the sandbox own encoding',
    path: `${P}?limit=1&continue=garbage`,
    pick: statusOf,
  },
  // tables
  { name: 'Table of one CSR', path: `${P}/d-one`, headers: { accept: TABLE } },
  {
    name: 'Table of the labelled CSRs',
    path: list(''),
    headers: { accept: TABLE },
    omit: ['metadata.resourceVersion'],
  },
  {
    name: 'Table with includeObject=Object',
    path: `${P}/d-600?includeObject=Object`,
    headers: { accept: TABLE },
  },
  // bad input on create
  { name: 'expirationSeconds 599', method: 'POST', path: P, body: csr('d-599', { expirationSeconds: 599 }) },
  {
    name: 'legacy-unknown signer',
    method: 'POST',
    path: P,
    body: csr('d-legacy', { signerName: 'kubernetes.io/legacy-unknown' }),
  },
  { name: 'signerName without a slash', method: 'POST', path: P, body: csr('d-noslash', { signerName: 'example' }) },
  {
    name: 'signerName with a one-label domain',
    method: 'POST',
    path: P,
    body: csr('d-onelabel', { signerName: 'example/serving' }),
  },
  { name: 'empty usages', method: 'POST', path: P, body: csr('d-nousage', { usages: [] }) },
  { name: 'unknown usage', method: 'POST', path: P, body: csr('d-badusage', { usages: ['server auth', 'flying'] }) },
  {
    name: 'duplicate usage',
    method: 'POST',
    path: P,
    body: csr('d-dupusage', { usages: ['server auth', 'server auth'] }),
  },
  {
    name: 'server auth for kube-apiserver-client',
    method: 'POST',
    path: P,
    body: csr('d-kac-usage', { signerName: 'kubernetes.io/kube-apiserver-client', pem: PEM_CLIENT }),
  },
  {
    name: 'O=system:masters for kube-apiserver-client',
    method: 'POST',
    path: P,
    body: csr('d-masters', {
      signerName: 'kubernetes.io/kube-apiserver-client',
      pem: PEM_MASTERS,
      usages: ['client auth'],
    }),
  },
  { name: 'request not PEM', method: 'POST', path: P, body: csr('d-notpem', { request: b64('hello') }) },
  { name: 'request is a CERTIFICATE', method: 'POST', path: P, body: csr('d-cert', { request: b64(CERT) }) },
  { name: 'request with a bad signature', method: 'POST', path: P, body: csr('d-badsig', { pem: PEM_BAD_SIG }) },
  { name: 'request not base64', method: 'POST', path: P, body: csr('d-b64', { request: '!!!' }) },
  { name: 'malformed JSON', method: 'POST', path: P, body: '{bad' },
  { name: 'JSON of the wrong type', method: 'POST', path: P, body: '[]' },
  { name: 'wrong kind', method: 'POST', path: P, body: { ...csr('d-kind'), kind: 'Pod' } },
  { name: 'wrong apiVersion', method: 'POST', path: P, body: { ...csr('d-apiv'), apiVersion: 'v1' } },
  { name: 'no kind nor apiVersion', method: 'POST', path: P, body: { metadata: { name: 'd-nokind' }, spec: {} } },
  { name: 'no name', method: 'POST', path: P, body: csr('') },
  { name: 'name with a slash', method: 'POST', path: P, body: csr('a/b') },
  {
    name: 'unknown field, fieldValidation=Strict',
    known: 'fieldValidation: unknown fields are not detected (no schemas)',
    method: 'POST',
    path: `${P}?fieldValidation=Strict&dryRun=All`,
    body: { ...csr('d-strict'), spec: { ...(csr('d-strict').spec as object), colour: 'blue' } },
  },
  {
    name: 'unknown field, fieldValidation=Warn',
    known: 'fieldValidation: unknown fields are not detected (no schemas)',
    method: 'POST',
    path: `${P}?fieldValidation=Warn&dryRun=All`,
    body: { ...csr('d-warn'), spec: { ...(csr('d-warn').spec as object), colour: 'blue' } },
  },
  {
    name: 'bad fieldValidation value',
    method: 'POST',
    path: `${P}?fieldValidation=Loud&dryRun=All`,
    body: csr('d-loud'),
    pick: statusOf,
  },
  { name: 'create as the viewer: Forbidden', method: 'POST', path: P, as: VIEWER, body: csr('d-viewer') },
  { name: 'unsupported content type', method: 'POST', path: P, headers: { 'content-type': 'text/plain' }, body: 'x' },
  // updates of the main resource
  {
    name: 'PUT with a name mismatch',
    method: 'PUT',
    path: `${P}/d-one`,
    body: csr('d-other'),
  },
  {
    name: 'PUT a missing CSR: NotFound',
    method: 'PUT',
    path: `${P}/d-nothere`,
    body: csr('d-nothere'),
  },
  {
    name: 'PUT with a stale resourceVersion: Conflict',
    method: 'PUT',
    path: `${P}/d-one`,
    body: { ...csr('d-one'), metadata: { name: 'd-one', resourceVersion: '1' } },
  },
  {
    name: 'PUT changing the spec: silently kept',
    method: 'PUT',
    path: `${P}/d-one`,
    body: csr('d-one', { signerName: 'example.com/other', labels: { put: 'yes' } }),
  },
  {
    name: 'merge patch of labels',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: merge,
    body: { metadata: { labels: { merged: 'yes' } } },
  },
  {
    name: 'JSON patch adding an annotation',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: json,
    body: [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }],
  },
  {
    name: 'JSON patch test op that fails',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: json,
    body: [{ op: 'test', path: '/metadata/name', value: 'nope' }],
  },
  {
    name: 'JSON patch on a missing path',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: json,
    body: [{ op: 'replace', path: '/metadata/labels/none', value: 'x' }],
  },
  {
    name: 'strategic merge patch of labels',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: smp,
    body: { metadata: { labels: { smp: 'yes' } } },
  },
  {
    name: 'merge patch changing the spec: silently kept',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: merge,
    body: { spec: { signerName: 'example.com/changed' } },
  },
  {
    name: 'patch with an unknown content type',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: { 'content-type': 'application/foo' },
    body: '{}',
  },
  {
    name: 'server-side apply of labels',
    known: 'server-side apply is not implemented',
    method: 'PATCH',
    path: `${P}/d-one?fieldManager=diff-apply&force=true`,
    headers: apply,
    body: JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'd-one', labels: { applied: 'yes' } },
    }),
  },
  {
    name: 'server-side apply without fieldManager',
    known: 'server-side apply is not implemented',
    method: 'PATCH',
    path: `${P}/d-one`,
    headers: apply,
    body: JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'd-one' },
    }),
  },
  // /approval
  {
    name: 'approval as the viewer: Forbidden',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    as: VIEWER,
    body: withConditions('d-one', [condition('Approved')]),
  },
  {
    name: 'approval by jane without the approve verb on signers',
    method: 'PUT',
    path: `${P}/d-jane/approval`,
    as: JANE,
    body: withConditions('d-jane', [condition('Approved')]),
  },
  {
    name: 'approval with Approved and Denied',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', [condition('Approved'), condition('Denied')]),
  },
  {
    name: 'approval with a duplicate condition',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', [condition('Approved'), condition('Approved')]),
  },
  {
    name: 'approval with status False',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', [condition('Approved', 'False')]),
  },
  {
    name: 'approval with an empty condition type',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', [condition('')]),
  },
  {
    name: 'approve d-one',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', [condition('Approved')]),
  },
  {
    name: 'approval removing Approved: Forbidden',
    method: 'PUT',
    path: `${P}/d-one/approval`,
    body: withConditions('d-one', []),
  },
  {
    name: 'merge patch of /approval adding Denied',
    method: 'PATCH',
    path: `${P}/d-one/approval`,
    headers: merge,
    body: { status: { conditions: [condition('Approved'), condition('Denied')] } },
  },
  {
    name: 'JSON patch of /approval denying d-600',
    method: 'PATCH',
    path: `${P}/d-600/approval`,
    headers: json,
    body: [{ op: 'add', path: '/status/conditions', value: [condition('Denied')] }],
  },
  {
    name: 'strategic merge patch of /approval approving d-jane',
    method: 'PATCH',
    path: `${P}/d-jane/approval`,
    headers: smp,
    body: { status: { conditions: [condition('Approved')] } },
  },
  {
    name: 'Table after approval and denial',
    path: list(''),
    headers: { accept: TABLE },
    omit: ['metadata.resourceVersion'],
  },
  // /status
  {
    name: 'status with a certificate that is not PEM',
    method: 'PUT',
    path: `${P}/d-one/status`,
    body: {
      ...withConditions('d-one', [condition('Approved')]),
      status: { conditions: [condition('Approved')], certificate: b64('nope') },
    },
  },
  {
    name: 'status with a CERTIFICATE REQUEST as certificate',
    method: 'PUT',
    path: `${P}/d-one/status`,
    body: {
      ...csr('d-one'),
      status: { conditions: [condition('Approved')], certificate: b64(PEM_CLIENT) },
    },
  },
  {
    name: 'status setting the certificate',
    method: 'PUT',
    path: `${P}/d-one/status`,
    body: { ...csr('d-one'), status: { conditions: [condition('Approved')], certificate: b64(CERT) } },
  },
  {
    name: 'status changing the certificate: Forbidden',
    method: 'PATCH',
    path: `${P}/d-one/status`,
    headers: merge,
    body: { status: { certificate: b64(`${CERT}${CERT}`) } },
  },
  {
    name: 'status adding Failed by merge patch',
    method: 'PATCH',
    path: `${P}/d-600/status`,
    headers: merge,
    body: { status: { conditions: [condition('Denied'), condition('Failed')] } },
  },
  {
    name: 'status as the viewer: Forbidden',
    method: 'PATCH',
    path: `${P}/d-600/status`,
    as: VIEWER,
    headers: merge,
    body: { status: {} },
  },
  {
    name: 'Table with Issued and Failed',
    path: list(''),
    headers: { accept: TABLE },
    omit: ['metadata.resourceVersion'],
  },
  { name: 'unknown subresource', path: `${P}/d-one/foo` },
  { name: 'POST to a name: MethodNotAllowed', method: 'POST', path: `${P}/d-one`, body: csr('d-one'), pick: statusOf },
  // delete
  { name: 'delete with propagationPolicy', method: 'DELETE', path: `${P}/d-gen-x?propagationPolicy=Background` },
  {
    name: 'delete d-600 with dryRun',
    method: 'DELETE',
    path: `${P}/d-600?dryRun=All`,
    pick: (a) => ({ code: a.code, kind: (a.body as { kind?: string }).kind }),
  },
  { name: 'delete d-600', method: 'DELETE', path: `${P}/d-600`, omit: ['metadata.deletionTimestamp'] },
  { name: 'delete d-600 again: NotFound', method: 'DELETE', path: `${P}/d-600` },
  {
    name: 'delete with a stale uid precondition',
    method: 'DELETE',
    path: `${P}/d-fm`,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'nope' } },
    replace: [[/record \([0-9a-f-]+\)/, 'record (<uid>)']],
  },
  {
    name: 'deletecollection by label as the viewer: Forbidden',
    method: 'DELETE',
    path: list(''),
    as: VIEWER,
  },
  {
    name: 'admin is who the CSR says',
    path: `${P}/d-jane`,
    as: ADMIN,
    pick: (a) => (a.body as { spec?: unknown }).spec,
  },
];

function names(a: { code: number; body: unknown }): unknown {
  const items = (a.body as { items?: { metadata: { name: string } }[] }).items;
  return { code: a.code, names: items?.map((i) => i.metadata.name).sort() };
}

function pageShape(a: { code: number; body: unknown }): unknown {
  const b = a.body as { metadata?: Record<string, unknown>; items?: unknown[] };
  return {
    code: a.code,
    items: b.items?.length,
    continue: typeof b.metadata?.continue === 'string',
    remaining: b.metadata?.remainingItemCount,
  };
}

differential(cases);

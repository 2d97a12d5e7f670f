// Issue 18, item 6: the audit intent is on disk before the API write. The built binary is killed (SIGKILL) right
// after the intent, and right after the write; the next command that writes reconciles each intent against the
// cluster — not done, and done — and says so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { AuditEntry } from '../../../src/services/config/audit.js';
import { csrObject, makeCsrPem } from '../../helpers/sandbox.js';
import { type E2eEnv, ok, startE2e } from './helpers.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
let e: E2eEnv;

before(async () => {
  e = await startE2e({ builtinSigners: false });
});
after(() => e?.stop());

const cluster = () => e.sandbox.cluster('east');

async function create(name: string): Promise<void> {
  const { pem } = makeCsrPem({ commonName: 'web.example.com', dnsNames: ['web.example.com'] });
  await cluster().createAs(ADMIN, CSRS, csrObject(name, pem));
}

async function approved(name: string): Promise<boolean> {
  const r = await cluster().requestAs(ADMIN, 'GET', `${CSRS}/${name}`);
  const csr = JSON.parse(r.body) as V1CertificateSigningRequest;
  return (csr.status?.conditions ?? []).some((c) => c.type === 'Approved');
}

function audit(): AuditEntry[] {
  return readFileSync(join(e.dir, 'state', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEntry);
}

const of = (name: string, phase: 'intent' | 'outcome') =>
  audit().filter((x) => x.csrName === name && x.action === 'approve' && x.phase === phase);

test('a kill between intent and write, and between write and outcome, is reconciled on the next start', async () => {
  await create('crash-before-write');
  await create('crash-after-write');
  await create('next');

  const killedEarly = await e.run(['approve', 'crash-before-write'], { CERTDESK_TEST_CRASH_AT: 'intent' });
  assert.notEqual(killedEarly.code, 0);
  assert.equal(of('crash-before-write', 'intent').length, 1, 'the intent is on disk before the write');
  assert.equal(of('crash-before-write', 'outcome').length, 0);
  assert.equal(await approved('crash-before-write'), false);

  const killedLate = await e.run(['approve', 'crash-after-write'], { CERTDESK_TEST_CRASH_AT: 'write' });
  assert.notEqual(killedLate.code, 0);
  assert.equal(await approved('crash-after-write'), true);
  assert.equal(of('crash-after-write', 'outcome').length, 0, 'killed before its outcome line');

  // The next command that writes settles both, and says so on stderr.
  const next = ok(await e.run(['approve', 'next']));
  const said = `${killedLate.stderr}${next.stderr}`;
  assert.match(said, /audit: reconciled on start: approve of CSR "crash-before-write" .* was not done/);
  assert.match(next.stderr, /audit: reconciled on start: approve of CSR "crash-after-write" .* was done/);
  const early = of('crash-before-write', 'outcome')[0];
  const late = of('crash-after-write', 'outcome')[0];
  assert.equal(early?.reconciled, true);
  assert.equal(early?.outcome, 'error');
  assert.equal(early?.id, of('crash-before-write', 'intent')[0]?.id);
  assert.equal(late?.reconciled, true);
  assert.equal(late?.outcome, 'ok');
  assert.equal(late?.csrUid, of('crash-after-write', 'intent')[0]?.csrUid);

  // Once settled, never again; `certdesk audit` shows one row per action.
  const again = ok(await e.run(['approve', 'next']));
  assert.doesNotMatch(again.stderr, /reconciled/);
  const table = ok(await e.run(['audit'])).stdout;
  assert.match(table, /crash-before-write\s.*error \(reconciled\)/);
  assert.match(table, /crash-after-write\s.*ok \(reconciled\)/);
});

test('a kill during export secret and request is reconciled by reading the object back', async () => {
  const signer = 'example.com/serving';
  const out = join(e.dir, 'web');
  ok(await e.run(['ca', 'init', '--signer', signer]));
  ok(await e.run(['request', '--cn', 'web.example.com', '--signer', signer, '--name', 'web', '--out-dir', out]));
  ok(await e.run(['sign', '--approve', 'web']));
  const exportArgs = (name: string) => ['export', 'secret', name, '--csr', 'web', '--key', join(out, 'server-key.pem')];
  const secret = async (name: string) =>
    (await cluster().requestAs(ADMIN, 'GET', `/api/v1/namespaces/default/secrets/${name}`)).code;
  const exports = (phase: 'intent' | 'outcome') =>
    audit().filter((x) => x.action === 'export-secret' && x.phase === phase);

  // Killed after the POST of the Secret, before its outcome line; then killed right after the intent.
  const late = await e.run(exportArgs('web-tls'), { CERTDESK_TEST_CRASH_AT: 'write' });
  assert.notEqual(late.code, 0);
  assert.equal(await secret('web-tls'), 200);
  const early = await e.run(exportArgs('web-tls-early'), { CERTDESK_TEST_CRASH_AT: 'intent' });
  assert.notEqual(early.code, 0);
  assert.equal(await secret('web-tls-early'), 404);
  assert.equal(exports('intent').length, 2);
  assert.equal(exports('outcome').filter((o) => !o.reconciled).length, 0, 'both killed before their outcome');
  const killedRequest = await e.run(
    ['request', '--cn', 'api.example.com', '--signer', signer, '--name', 'api', '--out-dir', join(e.dir, 'api')],
    { CERTDESK_TEST_CRASH_AT: 'write' },
  );
  assert.notEqual(killedRequest.code, 0);

  // The next command that writes settles what is left, and says so.
  const next = ok(await e.run(['export', 'ca-configmap', 'serving-ca', '--signer', signer]));
  const said = `${early.stderr}${killedRequest.stderr}${next.stderr}`;
  assert.match(
    said,
    /audit: reconciled on start: export-secret of Secret default\/web-tls in east from \S+ was done\n/,
  );
  assert.match(said, /audit: reconciled on start: export-secret of Secret default\/web-tls-early .* was not done/);
  assert.match(next.stderr, /audit: reconciled on start: request of CertificateSigningRequest api .* was done/);
  const settled = exports('outcome');
  assert.equal(settled.length, 2);
  assert.ok(settled.every((o) => o.reconciled));
  assert.deepEqual(settled.map((o) => o.outcome).sort(), ['error', 'ok']);
  const table = ok(await e.run(['audit'])).stdout;
  assert.doesNotMatch(table, /in-flight/);
});

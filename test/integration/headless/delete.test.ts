// `certdesk delete csr` and the TUI's delete-instead-of-deny against a sandbox over HTTPS (docs/safety.md): the
// DELETE names the object checked (uid and resourceVersion preconditions), so a request replaced between the check
// and the delete is not deleted, and one changed meanwhile is checked again; an issued request needs --force; the
// audit has the intent before the delete and the outcome after it, and an intent left open is reconciled.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { runEffect } from '../../../src/app/effects.js';
import { CliError } from '../../../src/headless/cli-error.js';
import { runDeleteCsr } from '../../../src/headless/commands/delete.js';
import { runSign } from '../../../src/headless/commands/sign.js';
import { deleteWithAudit } from '../../../src/services/actions/index.js';
import { reconcileAudit } from '../../../src/services/actions/reconcile.js';
import { type AuditEntry, type AuditInput, appendAudit, readAudit } from '../../../src/services/config/audit.js';
import { getCsr, hasCondition } from '../../../src/services/kube/index.js';
import { fileCaSandbox } from '../../helpers/file-ca-sandbox.js';
import { csrObject, makeCsrPem } from '../../helpers/sandbox.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };

const f = fileCaSandbox('delete');

async function create(name: string, cn = 'web.example.com'): Promise<V1CertificateSigningRequest> {
  const { pem } = makeCsrPem({ commonName: cn, dnsNames: ['web.example.com'] });
  return (await f.cluster.createAs(ADMIN, CSRS, csrObject(name, pem))) as unknown as V1CertificateSigningRequest;
}

async function read(name: string): Promise<V1CertificateSigningRequest | undefined> {
  const r = await getCsr(f.ctx, name);
  if (!r.ok && r.error.kind === 'not-found') return undefined;
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

/** Once, just before the first DELETE of NAME: `then` (the hook's own requests pass through). */
function beforeDelete(name: string, then: () => Promise<void>): void {
  let fired = false;
  f.cluster.api.beforeServe.push(async (req) => {
    if (fired || req.method !== 'DELETE' || req.name !== name) return false;
    fired = true;
    await then();
    return true;
  });
}

/** Deletes NAME and creates another request (O=system:masters) under its name; resolves to the new UID. */
async function replace(name: string): Promise<string> {
  await f.cluster.requestAs(ADMIN, 'DELETE', `${CSRS}/${name}`);
  const { pem } = makeCsrPem({ commonName: 'root', organizations: ['system:masters'] });
  const made = (await f.cluster.createAs(ADMIN, CSRS, csrObject(name, pem))) as unknown as V1CertificateSigningRequest;
  return made.metadata?.uid ?? '';
}

async function cliError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CliError, String(err));
    return err.message;
  }
  assert.fail('expected the command to fail');
}

function audit(name: string): AuditEntry[] {
  return f.audit().filter((e) => e.csrName === name && e.action === 'delete');
}

test('delete csr: the object checked is deleted, with its intent (uid, resourceVersion) before and the outcome after', async () => {
  const made = await create('del-plain');
  await runDeleteCsr(['del-plain'], f.kube());
  assert.equal(await read('del-plain'), undefined);
  const [intent, outcome, ...rest] = audit('del-plain');
  assert.deepEqual(rest, []);
  assert.deepEqual(
    [intent?.phase, intent?.csrUid, intent?.resourceVersion],
    ['intent', made.metadata?.uid, made.metadata?.resourceVersion],
  );
  assert.deepEqual([outcome?.phase, outcome?.outcome, outcome?.id], ['outcome', 'ok', intent?.id]);
});

test('delete csr: a request replaced between the check and the DELETE is not deleted (uid precondition)', async () => {
  const made = await create('del-swap');
  let replacement = '';
  beforeDelete('del-swap', async () => {
    replacement = await replace('del-swap');
  });
  const message = await cliError(runDeleteCsr(['del-swap'], f.kube()));
  assert.match(message, /was replaced after it was checked/);
  assert.equal((await read('del-swap'))?.metadata?.uid, replacement, 'the replacement is still there');
  const lines = audit('del-swap');
  assert.deepEqual(
    lines.map((e) => [e.phase, e.outcome, e.csrUid]),
    [
      ['intent', undefined, made.metadata?.uid],
      ['outcome', 'refused', made.metadata?.uid],
    ],
  );
});

test('delete csr: a request changed between the check and the DELETE is checked again (resourceVersion precondition)', async () => {
  const made = await create('del-changed');
  beforeDelete('del-changed', async () => {
    const r = await f.cluster.requestAs(ADMIN, 'PUT', `${CSRS}/del-changed`, {
      ...made,
      metadata: { ...made.metadata, labels: { touched: 'yes' } },
    });
    assert.equal(r.code, 200, r.body);
  });
  await runDeleteCsr(['del-changed'], f.kube());
  assert.equal(await read('del-changed'), undefined);
  const lines = audit('del-changed');
  assert.deepEqual(
    lines.map((e) => [e.phase, e.outcome]),
    [
      ['intent', undefined],
      ['outcome', 'error'],
      ['intent', undefined],
      ['outcome', 'ok'],
    ],
  );
  assert.equal(lines[0]?.resourceVersion, made.metadata?.resourceVersion);
  assert.notEqual(lines[2]?.resourceVersion, made.metadata?.resourceVersion, 'the second DELETE names the new version');
});

test('delete csr: an issued request is refused without --force, and deleted with it', async () => {
  await create('del-issued');
  await runSign(['del-issued'], { ...f.kube(), caCert: f.caCert, caKey: f.caKey, output: 'name', approve: true });
  assert.ok((await read('del-issued'))?.status?.certificate);
  const message = await cliError(runDeleteCsr(['del-issued'], f.kube()));
  assert.match(message, /is issued.*--force/);
  assert.ok(await read('del-issued'), 'still there');
  assert.deepEqual(
    audit('del-issued').map((e) => [e.phase, e.outcome]),
    [[undefined, 'refused']],
    'refused before any write: one line, no intent',
  );
  await runDeleteCsr(['del-issued'], { ...f.kube(), force: true });
  assert.equal(await read('del-issued'), undefined);
});

test("the TUI's delete: bound to the object shown; a replaced one is not deleted, the one shown is", async () => {
  const shown = await create('tui-del');
  const replacement = await replace('tui-del');
  const deps = { contexts: new Map([['east', f.ctx]]), store: { reconnect: () => {}, snapshot: () => ({}) as never } };
  const target = { key: 'east/tui-del', context: 'east', name: 'tui-del', csr: shown };
  const refused = await runEffect({ id: 1, kind: 'delete', targets: [target] }, deps);
  assert.equal(refused?.tone, 'bad');
  assert.match(refused?.text ?? '', /^Not deleted: .*was replaced after it was checked/);
  const now = await read('tui-del');
  assert.equal(now?.metadata?.uid, replacement);
  assert.ok(!hasCondition(now!, 'Denied'));
  const done = await runEffect({ id: 2, kind: 'delete', targets: [{ ...target, csr: now! }] }, deps);
  assert.deepEqual([done?.tone, done?.text], ['ok', 'Deleted.']);
  assert.equal(await read('tui-del'), undefined);
});

test('reconcile: a delete intent left open is settled by whether that object is gone', async () => {
  const file = join(f.dir, 'reconcile.jsonl');
  const noOutcome = async (e: AuditInput) => {
    if (e.phase !== 'outcome') await appendAudit(e, file);
  };
  const crash = async (e: AuditInput) => {
    await appendAudit(e, file);
    if (e.phase === 'intent') throw new Error('killed');
  };
  await create('rec-del');
  await create('rec-kept');
  assert.ok((await deleteWithAudit(f.ctx, 'rec-del', { audit: noOutcome })).ok);
  await assert.rejects(deleteWithAudit(f.ctx, 'rec-kept', { audit: crash }));
  const said = await reconcileAudit((name) => (name === 'east' ? f.ctx : undefined), { file });
  assert.deepEqual(
    said.map((s) => s.replace(/ \(UID [^)]*\) in east from \S+/, '')),
    [
      'reconciled on start: delete of CSR "rec-del" was done',
      'reconciled on start: delete of CSR "rec-kept" was not done',
    ],
  );
  const outcomes = (await readAudit({ file })).filter((l) => l.phase === 'outcome');
  assert.deepEqual(
    outcomes.map((o) => [o.csrName, o.outcome, o.reconciled]),
    [
      ['rec-del', 'ok', true],
      ['rec-kept', 'error', true],
    ],
  );
});

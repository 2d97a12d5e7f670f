import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { auditedWrites, fieldsSha256 } from '../../../src/services/actions/audit-helpers.js';
import {
  type AuditInput,
  AuditWriteError,
  appendAudit,
  auditLogPath,
  auditStateDir,
  readAudit,
} from '../../../src/services/config/audit.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'certdesk-audit-'));
  dirs.push(d);
  return d;
}

test('state dir follows CERTDESK_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
  assert.equal(auditStateDir({ CERTDESK_STATE_DIR: '/s', XDG_STATE_HOME: '/x' }), '/s');
  assert.equal(auditStateDir({ XDG_STATE_HOME: '/x' }), '/x/certdesk');
  assert.match(auditStateDir({}), /\.local\/state\/certdesk$/);
  assert.equal(auditLogPath({ CERTDESK_STATE_DIR: '/s' }), '/s/audit.jsonl');
});

test('appendAudit writes one JSON line per entry, 0600, and readAudit filters by time', async () => {
  const dir = await tempDir();
  const file = join(dir, 'nested', 'audit.jsonl');
  await appendAudit(
    { context: 'c1', action: 'approve', csrName: 'a', outcome: 'ok', time: '2020-01-01T00:00:00.000Z' },
    file,
  );
  await appendAudit(
    { context: 'c1', action: 'sign', csrName: 'a', outcome: 'ok', serial: '01', detail: undefined },
    file,
  );
  const text = await readFile(file, 'utf8');
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 2);
  const second = JSON.parse(lines[1] ?? '');
  assert.equal(second.action, 'sign');
  assert.equal(typeof second.localUser, 'string');
  assert.ok(!('detail' in second));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const all = await readAudit({ file });
  assert.equal(all.length, 2);
  const recent = await readAudit({ file, since: new Date('2021-01-01T00:00:00Z') });
  assert.deepEqual(
    recent.map((e) => e.action),
    ['sign'],
  );
});

test('a file with loose permissions is tightened to 0600; malformed lines are skipped', async () => {
  const dir = await tempDir();
  const file = join(dir, 'audit.jsonl');
  await writeFile(file, 'not json\n', { mode: 0o644 });
  await chmod(file, 0o644);
  await appendAudit({ context: 'c', action: 'deny', outcome: 'refused' }, file);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await readAudit({ file })).length, 1);
});

test('a failed write rejects with an AuditWriteError', async () => {
  const dir = await tempDir();
  const blocker = join(dir, 'file');
  await writeFile(blocker, '');
  await assert.rejects(
    appendAudit({ context: 'c', action: 'sign', outcome: 'ok' }, join(blocker, 'audit.jsonl')),
    AuditWriteError,
  );
});

test('readAudit of a missing file is empty', async () => {
  const dir = await tempDir();
  assert.deepEqual(await readAudit({ file: join(dir, 'none.jsonl') }), []);
});

test('fieldsSha256: the same values in any key order give the same digest; another value, another field do not', () => {
  const a = { kind: 'Secret', type: 'kubernetes.io/tls', data: { 'tls.crt': 'QQ==', 'tls.key': 'Qg==' } };
  const b = { data: { 'tls.key': 'Qg==', 'tls.crt': 'QQ==' }, type: 'kubernetes.io/tls', metadata: { uid: 'u' } };
  assert.equal(fieldsSha256(a, ['type', 'data']), fieldsSha256(b, ['type', 'data']));
  assert.match(fieldsSha256(a, ['type', 'data']), /^[0-9a-f]{64}$/);
  assert.notEqual(
    fieldsSha256(a, ['type', 'data']),
    fieldsSha256({ ...a, data: { 'tls.crt': 'QQ==' } }, ['type', 'data']),
  );
  assert.notEqual(fieldsSha256(a, ['type', 'data']), fieldsSha256(a, ['data']));
  const csr = { spec: { request: 'UEVN', signerName: 'example.com/x', username: 'added by the server' } };
  assert.equal(
    fieldsSha256(csr, ['spec.request', 'spec.signerName']),
    fieldsSha256({ spec: { signerName: 'example.com/x', request: 'UEVN' } }, ['spec.request', 'spec.signerName']),
  );
});

test('auditedWrites: an intent naming the target before each write, its outcome after; sent says a write was tried', async () => {
  const lines: AuditInput[] = [];
  const object = { kind: 'ConfigMap', metadata: { name: 'ca', namespace: 'ns' }, data: { 'ca.crt': 'x' } };
  const writes = auditedWrites(
    async (e) => {
      lines.push(e);
    },
    { context: 'east', action: 'export-configmap' },
    object,
    ['data'],
  );
  assert.equal(writes.sent, false);
  const path = '/api/v1/namespaces/ns/configmaps/ca';
  const afterCreate = await writes.onWrite({ op: 'create', path });
  assert.equal(lines.length, 1, 'the intent is written before the request is sent');
  await afterCreate({ ok: false, error: { kind: 'already-exists', message: 'exists', context: 'east' } });
  const afterUpdate = await writes.onWrite({ op: 'update', path, uid: 'u1', resourceVersion: '7' });
  await afterUpdate({ ok: true, value: { metadata: { name: 'ca', namespace: 'ns', uid: 'u1' } } });
  assert.equal(writes.sent, true);
  assert.deepEqual(
    lines.map((l) => [l.phase, l.outcome, l.target?.uid, l.target?.resourceVersion, l.detail]),
    [
      ['intent', undefined, undefined, undefined, undefined],
      ['outcome', 'refused', undefined, undefined, 'exists'],
      ['intent', undefined, 'u1', '7', undefined],
      ['outcome', 'ok', 'u1', '7', 'configmap ns/ca updated (uid u1)'],
    ],
  );
  assert.equal(lines[0]?.id, lines[1]?.id);
  assert.notEqual(lines[0]?.id, lines[2]?.id);
  assert.deepEqual(lines[0]?.target, {
    kind: 'ConfigMap',
    namespace: 'ns',
    name: 'ca',
    path,
    fields: ['data'],
    sha256: fieldsSha256(object, ['data']),
  });
});

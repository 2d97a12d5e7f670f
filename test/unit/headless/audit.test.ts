import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
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

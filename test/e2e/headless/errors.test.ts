// Every error path the issue names, with the built binary: non-zero exit and one useful line on stderr.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCa } from '../../../src/services/pki/index.js';
import { type E2eEnv, ok, oneLineError, startE2e } from './helpers.js';

const SIGNER = 'example.com/serving';
let e: E2eEnv;

async function approvedCsr(name: string): Promise<void> {
  ok(await e.run(['request', '--cn', name, '--signer', SIGNER, '--name', name, '--out-dir', join(e.dir, name)]));
  ok(await e.run(['approve', name]));
}

before(async () => {
  e = await startE2e({ builtinSigners: false });
  ok(await e.run(['ca', 'init', '--signer', SIGNER, '--passphrase-env', 'CA_PASS'], { CA_PASS: 'right horse' }));
});
after(async () => {
  await e?.stop();
});

// `get csr nope` prints kubectl's own NotFound line (get-flags.test.ts).
test('unknown CSR', async () => {
  for (const args of [
    ['describe', 'csr', 'nope'],
    ['approve', 'nope'],
    ['sign', 'nope'],
  ]) {
    const line = oneLineError(await e.run(args, { CA_PASS: 'right horse' }));
    assert.match(line, /"nope" not found/, args.join(' '));
  }
});

test('the names . and .. are refused before any request, as kubectl refuses them; nothing is audited', async () => {
  for (const args of [
    ['get', 'csr', '..'],
    ['get', 'csr', '.', '-o', 'json'],
    ['describe', 'csr', '..'],
    ['approve', '.'],
    ['deny', '..'],
    ['sign', '.'],
  ]) {
    const r = await e.run(args, { CA_PASS: 'right horse' });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, /invalid resource name "\.\.?": \[may not be '\.\.?'\]/, args.join(' '));
    // Nothing of any object: `-o json` prints the empty List kubectl prints when nothing was found.
    assert.ok(r.stdout === '' || /"items": \[\]/.test(r.stdout), `${args.join(' ')}: ${r.stdout}`);
  }
  const audit = join(e.env.CERTDESK_STATE_DIR!, 'audit.jsonl');
  let lines = '';
  try {
    lines = readFileSync(audit, 'utf8');
  } catch {}
  // No intent (nothing was about to be written); the refusal is one line, as for any refusal before a write.
  for (const line of lines.trim().split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as { csrName?: string; phase?: string; detail?: string };
    if (entry.csrName !== '.' && entry.csrName !== '..') continue;
    assert.equal(entry.phase, undefined, line);
    assert.match(entry.detail ?? '', /^invalid resource name/, line);
  }
});

test('forbidden: the viewer context may not approve', async () => {
  ok(await e.run(['request', '--cn', 'v', '--signer', SIGNER, '--name', 'v1', '--out-dir', join(e.dir, 'v1')]));
  const line = oneLineError(await e.run(['approve', 'v1', '--context', 'east-viewer']));
  assert.match(line, /User "viewer" cannot update resource "certificatesigningrequests\/approval"/);
});

test('already issued, not approved, denied', async () => {
  await approvedCsr('a1');
  // Approved again: kubectl's line, and a note that nothing was written (so nothing was checked).
  const again = ok(await e.run(['approve', 'a1']));
  assert.match(again.stdout, /^certificatesigningrequest\.certificates\.k8s\.io\/a1 approved\n$/);
  assert.match(again.stderr, /note: CSR "a1" was Approved already; nothing was written/);
  ok(await e.run(['sign', 'a1'], { CA_PASS: 'right horse' }));
  assert.match(oneLineError(await e.run(['sign', 'a1'], { CA_PASS: 'right horse' })), /already issued/);
  ok(await e.run(['request', '--cn', 'p', '--signer', SIGNER, '--name', 'p1', '--out-dir', join(e.dir, 'p1')]));
  assert.match(oneLineError(await e.run(['sign', 'p1'], { CA_PASS: 'right horse' })), /not approved yet/);
  ok(await e.run(['deny', 'p1']));
  assert.match(oneLineError(await e.run(['approve', 'p1'])), /Denied/);
});

test('wrong or missing CA key passphrase', async () => {
  await approvedCsr('w1');
  assert.match(oneLineError(await e.run(['sign', 'w1'], { CA_PASS: 'wrong' })), /passphrase/);
  assert.match(oneLineError(await e.run(['sign', 'w1'])), /CA_PASS/);
});

test('expired CA', async () => {
  await approvedCsr('x1');
  const old = await createCa({ cn: 'Old CA', days: 1, now: new Date(Date.now() - 30 * 86400_000) });
  const dir = join(e.dir, 'old-ca');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.pem'), old.certPem);
  writeFileSync(join(dir, 'ca-key.pem'), old.keyPem, { mode: 0o600 });
  const line = oneLineError(
    await e.run(['sign', 'x1', '--ca-cert', join(dir, 'ca.pem'), '--ca-key', join(dir, 'ca-key.pem')]),
  );
  assert.match(line, /expired/);
});

test('unreachable cluster', async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const kc = readFileSync(e.sandbox.kubeconfigPath, 'utf8').replace(
    /https:\/\/127\.0\.0\.1:\d+/g,
    `https://127.0.0.1:${port}`,
  );
  const file = join(e.dir, 'unreachable.kubeconfig');
  writeFileSync(file, kc, { mode: 0o600 });
  const line = oneLineError(await e.run(['get', 'csr', '--kubeconfig', file]));
  assert.match(line, /unreachable|refused/i);
  const approve = oneLineError(await e.run(['approve', 'x', '--kubeconfig', file]));
  assert.match(approve, /unreachable|refused/i);
  const health = oneLineError(await e.run(['health', '--kubeconfig', file]));
  assert.match(health, /unreachable|refused/i);
});

test('usage errors and bad input are one line too', async () => {
  assert.match(
    oneLineError(await e.run(['get', 'csr', '--context', 'nowhere'])),
    /Context "nowhere" is not in the kubeconfig/i,
  );
  assert.match(
    oneLineError(await e.run(['export', 'secret', 's', '--csr', 'a1', '--key', '/no/such/key.pem'])),
    /does not exist/,
  );
  assert.match(
    oneLineError(await e.run(['request', '--signer', SIGNER, '--expiration', '5m', '--cn', 'x'])),
    /at least 10m/,
  );
  assert.match(oneLineError(await e.run(['audit', '--since', 'yesterday'])), /not a duration/);
});

test('a failed audit write is an error, not a warning', async () => {
  ok(await e.run(['request', '--cn', 'au', '--signer', SIGNER, '--name', 'au1', '--out-dir', join(e.dir, 'au1')]));
  const blocker = join(e.dir, 'not-a-dir');
  writeFileSync(blocker, '');
  const line = oneLineError(await e.run(['approve', 'au1'], { CERTDESK_STATE_DIR: blocker }));
  assert.match(line, /could not write the audit log/);
});

test('an operation that never completes ends with a sentence and a non-zero exit, never a silent 0', async () => {
  // Every file open in the command never answers and nothing else keeps Node's event loop alive: what a PKCS#11
  // module that drops its callback does to a signing command.
  const preload = join(e.dir, 'never-open.mjs');
  writeFileSync(
    preload,
    "import fs from 'node:fs/promises'; import { syncBuiltinESMExports } from 'node:module';\n" +
      'fs.open = () => new Promise(() => {}); syncBuiltinESMExports();\n',
  );
  const pem = join(e.dir, 'some.pem');
  writeFileSync(pem, (await createCa({ cn: 'x' })).certPem);
  const r = await e.run(['inspect', pem], { NODE_OPTIONS: `--import ${preload}` });
  assert.notEqual(r.code, 0);
  assert.match(oneLineError(r), /stopped before the command finished/);
});

// `get certs` and `check certs` with the built binary against a sandbox running the `certificates` scenario: what
// they print, and the exit codes cron and CI rely on (0 listed / nothing due, 1 something due or broken, 2 usage).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type E2eEnv, ok, startE2e } from './helpers.js';

let e: E2eEnv;
before(async () => {
  e = await startE2e({ scenarios: ['certificates'] });
});
after(async () => {
  await e?.stop();
});

test('get certs: a table soonest first, JSON items carrying their context; exit 0 even with problems', async () => {
  const table = ok(await e.run(['get', 'certs', '-n', 'certs-demo']));
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^NAMESPACE\s+OBJECT\s+KEY\s+SUBJECT\s+NOT-AFTER\s+LEFT\s+PROBLEMS$/);
  // Unreadable content first (no expiry to sort by), then the soonest expiry.
  assert.ok(lines.slice(1, 3).some((l) => /secret\/garbage-tls\s+tls\.crt\s+<unparseable>/.test(l)));
  assert.ok(lines.some((l) => /secret\/mismatch-tls .*key-mismatch$/.test(l.replace(/\s+/g, ' '))));
  const json = JSON.parse(ok(await e.run(['get', 'certs', '-A', '-o', 'json', '--source', 'secret'])).stdout);
  assert.equal(json.kind, 'List');
  assert.ok(json.items.length >= 10);
  for (const item of json.items) {
    assert.equal(item.context, 'east');
    assert.equal(item.source, 'secret');
    assert.ok(JSON.stringify(item).indexOf('PRIVATE KEY') < 0);
  }
  const api = json.items.find(
    (i: { location: { name: string; field: string } }) =>
      i.location.name === 'api-tls' && i.location.field === 'tls.crt',
  );
  assert.deepEqual(
    api.problems.map((p: { kind: string }) => p.kind),
    ['expiring'],
  );
  assert.equal(api.subject, 'CN=api');
  // kubectl's get flags, from the shared printer.
  const jp = ok(
    await e.run([
      'get',
      'certs',
      '-n',
      'certs-demo',
      '--source',
      'secret',
      '-o',
      'jsonpath={.items[?(@.location.name=="api-tls")].subject}',
    ]),
  );
  assert.equal(jp.stdout, 'CN=api CN=certs-demo CA');
  const bare = ok(await e.run(['get', 'certs', '-n', 'certs-demo', '--no-headers', '--sort-by', '.location.name']));
  assert.doesNotMatch(bare.stdout, /^NAMESPACE/);
  assert.match(bare.stdout.split('\n')[0] ?? '', /secret\/api-tls|secret\/app-certs/);
  const soon = ok(await e.run(['get', 'certs', '-A', '--expiring-within', '7d', '-o', 'name']));
  assert.ok(soon.stdout.includes('secret/api-tls:tls.crt'));
  assert.ok(!soon.stdout.includes('secret/web-tls:tls.crt'));
});

test('check certs: one line per problem and exit 1; exit 0 when nothing is due; exit 2 on usage errors', async () => {
  const due = await e.run(['check', 'certs', '-A', '--expiring-within', '30d']);
  assert.equal(due.code, 1, due.stderr);
  const lines = due.stdout.trim().split('\n');
  assert.ok(
    lines.includes(
      'east  Secret certs-demo/legacy-tls tls.crt: expired ' +
        (/legacy-tls tls\.crt: expired (\S+)/.exec(due.stdout)?.[1] ?? ''),
    ),
  );
  assert.ok(
    lines.some((l) =>
      l.startsWith('east  Secret certs-demo/mismatch-tls tls.crt: the private key in tls.key does not match'),
    ),
  );
  assert.ok(lines.some((l) => l.startsWith('east  Secret certs-demo/garbage-tls tls.crt: cannot be read')));
  assert.match(due.stderr, /certificates checked in 1 context, \d+ problems/);

  const quiet = await e.run(['check', 'certs', '--source', 'local', '--expiring-within', '1h']);
  assert.equal(quiet.code, 0, quiet.stdout + quiet.stderr);
  assert.equal(quiet.stdout, '');

  for (const args of [['--expiring-within', 'soon'], ['--source', 'secrets,nope'], ['--bogus'], ['-A', '-n', 'x']]) {
    const r = await e.run(['check', 'certs', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
});

test('check certs as a user RBAC forbids Secrets: named once on stderr, the rest checked', async () => {
  const r = await e.run(['check', 'certs', '-A', '--context', 'east-viewer']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('secrets skipped')).length, 1);
  assert.ok(r.stdout.includes('ConfigMap certs-demo/legacy-trust ca.crt#2: expired'));
  assert.ok(!r.stdout.includes('Secret '));
});

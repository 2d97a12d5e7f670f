// Global options before the subcommand (issue 18 item 3): on main they were parsed by the root and dropped, so
// `certdesk --context west approve jane` approved the current context's jane. Built binary against the sandbox.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type E2eEnv, ok, oneLineError, startE2e } from './helpers.js';

const SIGNER = 'example.com/serving';
let e: E2eEnv;

function condition(json: string): string[] {
  const csr = JSON.parse(json) as { status?: { conditions?: { type: string }[] } };
  return (csr.status?.conditions ?? []).map((c) => c.type);
}

before(async () => {
  e = await startE2e({ clusters: ['east', 'west'], builtinSigners: false });
  for (const ctx of ['east', 'west']) {
    ok(
      await e.run([
        'request',
        '--context',
        ctx,
        '--cn',
        'jane',
        '--signer',
        SIGNER,
        '--name',
        'jane',
        '--expiration',
        '24h',
        '--out-dir',
        join(e.dir, ctx),
      ]),
    );
  }
});
after(async () => {
  await e?.stop();
});

test('--context before the subcommand picks the cluster the command acts on', async () => {
  ok(await e.run(['--context', 'west', 'approve', 'jane']));
  assert.deepEqual(condition(ok(await e.run(['get', 'csr', 'jane', '-o', 'json', '--context', 'west'])).stdout), [
    'Approved',
  ]);
  assert.deepEqual(condition(ok(await e.run(['get', 'csr', 'jane', '-o', 'json', '--context', 'east'])).stdout), []);
});

test('--policy before sign --approve is the policy used', async () => {
  ok(await e.run(['ca', 'init', '--signer', SIGNER, '--passphrase-env', 'CA_PASS'], { CA_PASS: 'pw' }));
  const strict = join(e.dir, 'strict.yaml');
  writeFileSync(strict, 'name: strict\nmaxDurationSeconds: 3600\n');
  const line = oneLineError(
    await e.run(['--policy', strict, 'sign', '--approve', 'jane', '--context', 'east', '--passphrase-env', 'CA_PASS'], {
      CA_PASS: 'pw',
    }),
  );
  assert.match(line, /more than the policy.s maximum/);
  assert.deepEqual(condition(ok(await e.run(['get', 'csr', 'jane', '-o', 'json'])).stdout), []);
});

test('--kubeconfig before get is the kubeconfig read', async () => {
  const line = oneLineError(await e.run(['--kubeconfig', join(e.dir, 'nonexistent'), 'get', 'csr']));
  assert.match(line, /nonexistent does not exist/);
});

test('a global option given before and after with different values is an error; the same value is fine', async () => {
  assert.match(
    oneLineError(await e.run(['--context', 'west', 'get', 'csr', '--context', 'east'])),
    /given before 'csr' \(west\) and after it \(east\)/,
  );
  ok(await e.run(['--context', 'west', 'get', 'csr', '--context', 'west']));
  assert.match(
    oneLineError(await e.run(['--policy', 'x.yaml', 'get', 'csr'])),
    /--policy does not apply to 'certdesk get csr'/,
  );
  assert.match(oneLineError(await e.run(['get', 'csr', '--bogus'])), /unknown option '--bogus'/);
  const both = ok(await e.run(['--context', 'east', '--context', 'west', 'get', 'csr']));
  assert.match(both.stdout, /^CONTEXT/);
});

// Issue 18: under umask 000 the built binary still makes every directory it creates 0700 — the state dir with the
// audit log, the config dir with the CA registry and `cas/<signer>`, a request's --out-dir that holds the key — and
// every file 0600, except the two public PEMs (the CA certificate and the request) at 0644, never 0666.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { type E2eEnv, type RunResult, runBinary, startE2e } from './helpers.js';

let e: E2eEnv;
before(async () => {
  e = await startE2e({ builtinSigners: false });
});
after(() => e?.stop());

const SIGNER = 'example.com/serving';
/** Paths that do not exist yet, two levels deep, so that certdesk makes the parents too. */
const state = () => join(e.dir, 'deep', 'state', 'certdesk');
const config = () => join(e.dir, 'deep', 'config', 'certdesk');
const outDir = () => join(e.dir, 'deep', 'out', 'web');

async function run(args: string[]): Promise<RunResult> {
  const r = await runBinary(args, { ...e.env, CERTDESK_STATE_DIR: state(), CERTDESK_CONFIG_DIR: config() }, 60_000, {
    umask: '000',
  });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
}

function modes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = statSync(p);
    out.set(relative(e.dir, p), (st.mode & 0o777).toString(8));
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(root);
  return out;
}

test('under umask 000: state, audit, config, CA and out dirs are 0700, files 0600 (public PEMs 0644)', async () => {
  await run(['ca', 'init', '--signer', SIGNER]);
  await run(['request', '--cn', 'web.example.com', '--signer', SIGNER, '--name', 'web', '--out-dir', outDir()]);
  await run(['sign', '--approve', 'web']);

  const seen = modes(join(e.dir, 'deep'));
  const expected = new Map<string, string>([
    ['deep', '700'],
    ['deep/state', '700'],
    ['deep/state/certdesk', '700'],
    ['deep/state/certdesk/audit.jsonl', '600'],
    ['deep/config', '700'],
    ['deep/config/certdesk', '700'],
    ['deep/config/certdesk/ca-registry.json', '600'],
    ['deep/config/certdesk/cas', '700'],
    ['deep/config/certdesk/cas/example.com_serving', '700'],
    ['deep/config/certdesk/cas/example.com_serving/ca-key.pem', '600'],
    ['deep/config/certdesk/cas/example.com_serving/ca.pem', '644'],
    ['deep/out', '700'],
    ['deep/out/web', '700'],
    ['deep/out/web/server-key.pem', '600'],
    ['deep/out/web/server.csr', '644'],
  ]);
  assert.deepEqual(Object.fromEntries([...seen].sort()), Object.fromEntries([...expected].sort()));
});

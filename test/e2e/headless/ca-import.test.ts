// `certdesk ca import` and `ca init` with the built binary: an RSA-PSS or secp256k1 CA is refused in one line, an
// RSA-1024 CA needs --allow-weak, and under umask 000 what certdesk creates is 0700 (directories) and 0600 (keys).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { opensslCa } from '../../unit/pki/helpers.js';
import { oneLineError, type RunResult, runBinary } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'certdesk-caimport-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = (config: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: dir,
  CERTDESK_CONFIG_DIR: config,
  CERTDESK_STATE_DIR: join(dir, 'state'),
  NO_COLOR: '1',
});

/** Runs the binary under umask 000. */
function run(args: string[], config = join(dir, 'config')): Promise<RunResult> {
  return runBinary(args, env(config), 60_000, { umask: '000' });
}

/** `--cert … --key …` of a self-signed CA made by openssl with `-newkey <newkey>`. */
async function opensslCaArgs(name: string, newkey: string[]): Promise<string[]> {
  const { cert, key } = await opensslCa(dir, name, newkey);
  return ['--cert', cert, '--key', key];
}

test('RSA-PSS and secp256k1 CAs are refused in one line', async () => {
  const pss = await opensslCaArgs('pss', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048']);
  assert.match(
    oneLineError(await run(['ca', 'import', '--signer', 'example.com/pss', ...pss])),
    /^error: the CA key \(RSA-PSS 2048\) cannot sign: Go does not read RSA-PSS/,
  );
  const k1 = await opensslCaArgs('k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']);
  assert.match(
    oneLineError(await run(['ca', 'import', '--signer', 'example.com/k1', ...k1])),
    /secp256k1\) cannot sign/,
  );
  assert.equal((await run(['ca', 'list'])).stdout.includes('example.com/k1'), false);
});

test('an RSA-1024 CA needs --allow-weak', async () => {
  const weak = await opensslCaArgs('weak', ['-newkey', 'rsa:1024']);
  assert.match(
    oneLineError(await run(['ca', 'import', '--signer', 'example.com/weak', ...weak])),
    /weak \(RSA 1024, under 2048 bits\).*--allow-weak/,
  );
  const r = await run(['ca', 'import', '--signer', 'example.com/weak', ...weak, '--allow-weak']);
  assert.equal(r.code, 0, r.stderr);
});

test('under umask 000, ca init makes 0700 directories and a 0600 key', async () => {
  const config = join(dir, 'fresh', 'config');
  const r = await run(['ca', 'init', '--signer', 'example.com/umask'], config);
  assert.equal(r.code, 0, r.stderr);
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  for (const d of [join(dir, 'fresh'), config, join(config, 'cas'), join(config, 'cas', 'example.com_umask')])
    assert.equal(mode(d), '700', d);
  assert.equal(mode(join(config, 'cas', 'example.com_umask', 'ca-key.pem')), '600');
  assert.equal(mode(join(config, 'ca-registry.json')), '600');
});

// CA keys in a PKCS#11 token (SoftHSM2, a token per run in a temp directory) and in encrypted key files, with the
// built binary: `ca init --key-uri` makes a non-extractable key in the token (pkcs11-tool says so), `issue`, `sign`
// on the sandbox and the controller on the sandbox sign with it (openssl verifies), `ca import --key-uri` uses it;
// wrong PIN, removed token, wrong token label, missing key and an unloadable module are one line each. Encrypted
// key files: openssl reads them with the passphrase; a wrong passphrase is one line.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeCsrPem } from '../../helpers/sandbox.js';
import { makeSoftHsm, type SoftHsm, softhsmMissing } from '../../helpers/softhsm.js';
import { type E2eEnv, oneLineError, ok, startE2e } from './helpers.js';

const missing = softhsmMissing();
const PIN = '246810';
const SIGNER = 'example.com/hsm';
let e: E2eEnv;
let hsm: SoftHsm;
let caPem: string;
const children: ChildProcess[] = [];

/** Runs the binary with the token's environment (and the PIN in $CA_PIN unless `extra` says otherwise). */
const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => e.run(args, { ...hsm.env, CA_PIN: PIN, ...extra });

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function csrFile(name: string): string {
  const csr = join(e.dir, `${name}.csr`);
  writeFileSync(csr, makeCsrPem({ commonName: name }).pem);
  return csr;
}

/** `request` a CSR for the token's signer in the sandbox and approve it. */
async function requestApproved(name: string): Promise<void> {
  ok(
    await run([
      'request',
      '--cn',
      name,
      '--host',
      `${name}.default.svc`,
      '--signer',
      SIGNER,
      '--name',
      name,
      '--out-dir',
      join(e.dir, name),
    ]),
  );
  ok(await run(['approve', name]));
}

function verify(ca: string, certPem: string): void {
  const leaf = join(e.dir, 'leaf-to-verify.pem');
  writeFileSync(leaf, certPem);
  assert.match(openssl(['verify', '-CAfile', ca, leaf]), /: OK/);
}

describe('CA keys in a PKCS#11 token and in encrypted files', { skip: missing }, () => {
  before(async () => {
    hsm = makeSoftHsm();
    hsm.initToken('ca-token', PIN);
    e = await startE2e();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await e?.stop();
    hsm?.remove();
  });

  test('ca init --key-uri makes a non-extractable key in the token; issue signs with it; openssl verifies', async () => {
    const init = ok(
      await run([
        'ca',
        'init',
        '--signer',
        SIGNER,
        '--key-uri',
        'pkcs11:token=ca-token;object=ca-key',
        '--pin-env',
        'CA_PIN',
      ]),
    );
    assert.match(init.stdout, /Key:\s+token pkcs11:token=ca-token;object=ca-key;id=(%[0-9a-f]{2}){16}/);
    caPem = join(e.env.CERTDESK_CONFIG_DIR!, 'cas', 'example.com_hsm', 'ca.pem');
    // The token's own word on the key: pkcs11-tool (OpenSC) when installed, else certdesk's attribute read.
    const objects = execFileSync(
      'pkcs11-tool',
      [
        '--module',
        hsm.env.CERTDESK_PKCS11_MODULE,
        '--token-label',
        'ca-token',
        '--login',
        '--pin',
        PIN,
        '--list-objects',
      ],
      { encoding: 'utf8', env: { ...process.env, ...hsm.env } },
    );
    const priv = objects.slice(objects.indexOf('Private Key Object'));
    assert.match(priv, /label:\s+ca-key/);
    assert.match(priv, /Access:\s+sensitive, always sensitive, never extractable, local/);
    assert.match(
      ok(await run(['ca', 'list'])).stdout,
      /example\.com\/hsm\s+CN=example\.com\/hsm CA\s+ECDSA P-256\s+token pkcs11:token=ca-token;object=ca-key;id=/,
    );
    const show = ok(await run(['ca', 'show', SIGNER])).stdout;
    assert.match(show, /Key:\s+token pkcs11:token=ca-token;object=ca-key;id=/);
    assert.match(show, /PIN:\s+from \$CA_PIN/);
    assert.doesNotMatch(show + init.stdout + init.stderr, new RegExp(PIN));

    const cert = ok(await run(['issue', '--csr', csrFile('leaf'), '--signer', SIGNER])).stdout;
    verify(caPem, cert);
    assert.match(
      openssl(['x509', '-noout', '-issuer'].concat(['-in', join(e.dir, 'leaf-to-verify.pem')])),
      /example\.com\/hsm CA/,
    );
  });

  test('wrong PIN, no PIN, removed token, wrong token label, missing key, unloadable module: one line each', async () => {
    const csr = csrFile('errors');
    assert.match(
      oneLineError(await run(['issue', '--csr', csr, '--signer', SIGNER], { CA_PIN: '000000' })),
      /wrong PIN for token "ca-token"/,
    );
    assert.match(
      oneLineError(await run(['issue', '--csr', csr, '--signer', SIGNER], { CA_PIN: undefined })),
      /environment variable CA_PIN .*is not set/,
    );
    assert.match(
      oneLineError(await run(['issue', '--csr', csr, '--signer', SIGNER, '--pin-file', join(e.dir, 'nope')])),
      /PIN file .*nope cannot be read/,
    );
    assert.match(
      oneLineError(
        await run(['issue', '--csr', csr, '--signer', SIGNER], { CERTDESK_PKCS11_MODULE: join(e.dir, 'no-module.so') }),
      ),
      /PKCS#11 module .*no-module\.so could not be loaded/,
    );
    const importTo = (uri: string) =>
      run(['ca', 'import', '--signer', 'example.com/other', '--cert', caPem, '--key-uri', uri, '--pin-env', 'CA_PIN']);
    assert.match(
      oneLineError(await importTo('pkcs11:token=nope;object=ca-key')),
      /no token matching token=nope is present \(tokens here: "ca-token"\)/,
    );
    assert.match(
      oneLineError(await importTo('pkcs11:token=ca-token;object=nokey')),
      /no private key matching object=nokey in token "ca-token"/,
    );
    assert.match(oneLineError(await importTo('pkcs11:token=ca-token;object=ca-key?pin-value=1234')), /carries a PIN/);
    // The token taken away (its directory moved out of SoftHSM's token directory): absent, then back.
    const [tokenSubdir] = readdirSync(hsm.tokenDir);
    const here = join(hsm.tokenDir, tokenSubdir!);
    const away = join(hsm.dir, 'away');
    renameSync(here, away);
    try {
      assert.match(
        oneLineError(await run(['issue', '--csr', csr, '--signer', SIGNER])),
        /no token matching token=ca-token is present/,
      );
    } finally {
      renameSync(away, here);
    }
    ok(await run(['issue', '--csr', csr, '--signer', SIGNER]));
  });

  test('ca import --key-uri registers the key in the token (PIN from a file); issue verifies', async () => {
    const pinFile = join(e.dir, 'pin');
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
    ok(
      await run(
        [
          'ca',
          'import',
          '--signer',
          'example.com/imported',
          '--cert',
          caPem,
          '--key-uri',
          'pkcs11:token=ca-token;object=ca-key',
          '--pin-file',
          pinFile,
        ],
        { CA_PIN: undefined },
      ),
    );
    const cert = ok(
      await run(['issue', '--csr', csrFile('imported'), '--signer', 'example.com/imported'], { CA_PIN: undefined }),
    ).stdout;
    verify(caPem, cert);
  });

  test('sign on the sandbox, and the controller on the sandbox, sign with the token key', async () => {
    await requestApproved('svc-a');
    assert.match(ok(await run(['sign', 'svc-a', '--pin-env', 'CA_PIN'])).stdout, /signed \(serial [0-9A-F]+/i);
    ok(await run(['export', 'files', '--csr', 'svc-a', '--out-dir', join(e.dir, 'svc-a')]));
    verify(caPem, readFileSync(join(e.dir, 'svc-a', 'server.crt'), 'utf8'));

    await requestApproved('svc-b');
    const pinFile = join(e.dir, 'controller-pin');
    writeFileSync(pinFile, PIN, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [
        join(process.cwd(), 'bin/certdesk.js'),
        'controller',
        '--signer',
        SIGNER,
        '--sign',
        '--no-leader-elect',
        '--ca-pin-file',
        pinFile,
        '--metrics-port',
        '0',
        '--metrics-address',
        '127.0.0.1',
      ],
      // A short idle period: the controller lets the token go between requests and opens it again for the next.
      { env: { ...e.env, ...hsm.env, CERTDESK_PKCS11_IDLE_SECONDS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let log = '';
    child.stdout?.on('data', (d) => {
      log += d;
    });
    child.stderr?.on('data', (d) => {
      log += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const until = async (what: string, check: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 60_000;
      while (!(await check())) {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`${what} did not happen: ${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const issued = async (name: string) => /Issued/.test(ok(await run(['get', 'csr', name])).stdout);
    // The module is in the process's memory map while the token is open, and gone after the idle close.
    const tokenLoaded = () => readFileSync(`/proc/${child.pid}/maps`, 'utf8').includes('softhsm');
    await until('the controller issuing svc-b', () => issued('svc-b'));
    ok(await run(['export', 'files', '--csr', 'svc-b', '--out-dir', join(e.dir, 'svc-b')]));
    verify(caPem, readFileSync(join(e.dir, 'svc-b', 'server.crt'), 'utf8'));
    await until('the idle close of the token', () => !tokenLoaded());
    await requestApproved('svc-c');
    await until('the controller issuing svc-c after the idle close', () => issued('svc-c'));
    ok(await run(['export', 'files', '--csr', 'svc-c', '--out-dir', join(e.dir, 'svc-c')]));
    verify(caPem, readFileSync(join(e.dir, 'svc-c', 'server.crt'), 'utf8'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `the controller did not exit cleanly: ${log}`);
    assert.doesNotMatch(log, new RegExp(PIN));
  });

  test('ca init --encrypt: openssl reads the key with the passphrase; issue takes it from a file; a wrong one is one line', async () => {
    const passFile = join(e.dir, 'passphrase');
    writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
    const init = ok(
      await run(['ca', 'init', '--signer', 'example.com/enc', '--encrypt', '--passphrase-file', passFile]),
    );
    assert.match(init.stdout, /Key:\s+encrypted file \S+ca-key\.pem/);
    const keyPath = join(e.env.CERTDESK_CONFIG_DIR!, 'cas', 'example.com_enc', 'ca-key.pem');
    assert.match(readFileSync(keyPath, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.match(openssl(['asn1parse', '-in', keyPath]), /:scrypt[\s\S]*:aes-256-cbc/);
    assert.match(
      openssl(['pkey', '-in', keyPath, '-passin', `file:${passFile}`, '-noout', '-text']),
      /Private-Key: \(256 bit/,
    );
    assert.match(ok(await run(['ca', 'list'])).stdout, /example\.com\/enc\s+.*encrypted file/);
    const encCa = join(e.env.CERTDESK_CONFIG_DIR!, 'cas', 'example.com_enc', 'ca.pem');
    verify(encCa, ok(await run(['issue', '--csr', csrFile('enc'), '--signer', 'example.com/enc'])).stdout);
    assert.match(
      oneLineError(
        await run(['issue', '--csr', csrFile('enc2'), '--signer', 'example.com/enc', '--passphrase-env', 'WRONG'], {
          WRONG: 'nope',
        }),
      ),
      /could not be decrypted; check the passphrase/,
    );
  });
});

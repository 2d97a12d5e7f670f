// The offline PKI commands end to end: `certdesk ca …`, `issue` and `inspect` run as a person would run them,
// with a temp config dir; certificates are checked with openssl.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildHostileRequests } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { generateKeyAndCsr } from '../../../src/services/pki/index.js';
import { openssl, put, tempDir } from '../../unit/pki/helpers.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// The CLI bundled once with esbuild (as scripts/build.mjs does) into node_modules/.cache, so each run starts in a
// fraction of the time tsx needs; removed after the tests.
const bundleDir = join(repo, 'node_modules', '.cache', `certdesk-pki-cli-${process.pid}`);
before(async () => {
  await build({
    entryPoints: { cli: join(repo, 'src/cli.ts') },
    outdir: bundleDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    jsx: 'automatic',
    logLevel: 'error',
  });
});
after(() => rm(bundleDir, { recursive: true, force: true }));

function certdesk(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(bundleDir, 'cli.js'), ...args], {
      cwd: repo,
      env: { ...process.env, ...env, CERTDESK_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(r.stderr, /^error: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('certdesk ca / issue / inspect', () => {
  test('init, list, show, issue (file and stdin), openssl verify', async (t) => {
    const dir = await tempDir(t);
    const env = { CERTDESK_CONFIG_DIR: join(dir, 'config'), CERTDESK_STATE_DIR: join(dir, 'state') };
    const init = await certdesk(
      ['ca', 'init', '--signer', 'example.com/calico', '--cn', 'Calico CA', '--days', '30'],
      env,
    );
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Created a CA for example\.com\/calico/);
    const keyPath = /Key:\s+file (\S+)/.exec(init.stdout)?.[1];
    assert.ok(keyPath);
    assert.equal((await stat(keyPath)).mode & 0o777, 0o600);

    const again = await certdesk(['ca', 'init', '--signer', 'example.com/calico'], env);
    assertOneLineError(again, /already registered.*--force/);

    const list = await certdesk(['ca', 'list'], env);
    assert.match(list.stdout, /^SIGNER\s+SUBJECT\s+KEY\s+KEY IN\s+NOT AFTER\s+SOURCE/);
    assert.match(list.stdout, /example\.com\/calico\s+CN=Calico CA\s+ECDSA P-256\s+file \//);

    const showJson = await certdesk(['ca', 'show', 'example.com/calico', '-o', 'json'], env);
    const shown = JSON.parse(showJson.stdout) as {
      signerName: string;
      certificate: { basicConstraints: { ca: boolean } };
    };
    assert.equal(shown.signerName, 'example.com/calico');
    assert.equal(shown.certificate.basicConstraints.ca, true);
    assert.doesNotMatch(showJson.stdout, /PRIVATE KEY/);
    const caPem = (await certdesk(['ca', 'show', 'example.com/calico', '-o', 'pem'], env)).stdout;
    const caPath = await put(dir, 'ca.pem', caPem);

    const { csrPem } = await generateKeyAndCsr({ cn: 'calico-node', hosts: ['calico-node.calico-system.svc'] });
    const csrPath = await put(dir, 'node.csr', csrPem);
    const issued = await certdesk(
      [
        'issue',
        '--csr',
        csrPath,
        '--signer',
        'example.com/calico',
        '--usages',
        'server auth,client auth',
        '--duration',
        '24h',
      ],
      env,
    );
    assert.equal(issued.code, 0, issued.stderr);
    const leaf = await put(dir, 'leaf.pem', issued.stdout);
    assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
    const text = (await openssl(['x509', '-in', leaf, '-noout', '-text'])).stdout;
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);

    // spec.request style (base64 of PEM) on stdin, written to --out.
    const outPath = join(dir, 'from-stdin.pem');
    const fromStdin = await certdesk(
      ['issue', '--csr', '-', '--signer', 'example.com/calico', '--out', outPath],
      env,
      Buffer.from(csrPem).toString('base64'),
    );
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match((await openssl(['verify', '-CAfile', caPath, outPath])).stdout, /OK/);

    const inspect = await certdesk(['inspect', leaf, '-o', 'json'], env);
    const decoded = JSON.parse(inspect.stdout) as { kind: string; extKeyUsage: string[]; issuer: { text: string } };
    assert.equal(decoded.kind, 'Certificate');
    assert.deepEqual(decoded.extKeyUsage, ['serverAuth', 'clientAuth']);
    assert.equal(decoded.issuer.text, 'CN=Calico CA');

    const unknownSigner = await certdesk(['issue', '--csr', csrPath, '--signer', 'example.com/nope'], env);
    assertOneLineError(unknownSigner, /no CA is registered for signer "example\.com\/nope"/);
    const badUsage = await certdesk(
      ['issue', '--csr', csrPath, '--signer', 'example.com/calico', '--usages', 'root'],
      env,
    );
    assertOneLineError(badUsage, /unknown usage "root"/);

    // Findings gate `issue` as every signing path: O=system:masters is refused (nothing printed), audited; naming
    // the failing code signs it, audited with the serial before the certificate is printed.
    const masters = await put(
      dir,
      'masters.csr',
      (await generateKeyAndCsr({ cn: 'evil', names: [{ O: 'system:masters' }], hosts: ['evil.example.com'] })).csrPem,
    );
    const refused = await certdesk(['issue', '--csr', masters, '--signer', 'example.com/calico'], env);
    assertOneLineError(
      refused,
      /the CSR was not issued: failing findings privileged-group .*--override privileged-group/,
    );
    assert.equal(refused.stdout, '');
    const overridden = await certdesk(
      ['issue', '--csr', masters, '--signer', 'example.com/calico', '--override', 'privileged-group'],
      env,
    );
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.match(overridden.stderr, /privileged-group accepted by --override/);
    assert.match(overridden.stdout, /BEGIN CERTIFICATE/);
    const lines = (await readFile(join(dir, 'state', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; outcome: string; overrides?: string[]; serial?: string });
    const issues = lines.filter((l) => l.action === 'issue');
    assert.deepEqual(
      issues.map((l) => l.outcome),
      ['ok', 'ok', 'refused', 'ok'],
    );
    assert.deepEqual(issues.at(-1)?.overrides, ['privileged-group']);
    assert.match(issues.at(-1)?.serial ?? '', /^[0-9a-f]+$/i);
  });

  test('import: key permissions, encrypted keys, built-in signer rules', async (t) => {
    const dir = await tempDir(t);
    const env = {
      CERTDESK_CONFIG_DIR: join(dir, 'config'),
      CERTDESK_STATE_DIR: join(dir, 'state'),
      CERTDESK_PASS: 'correct horse',
    };
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-keyout',
      `${dir}/ca.key`,
      '-passout',
      'pass:correct horse',
      '-subj',
      '/CN=cluster-ca',
      '-days',
      '3',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${dir}/ca.pem`,
    ]);
    await chmod(`${dir}/ca.key`, 0o644);
    const args = [
      'ca',
      'import',
      '--signer',
      'kubernetes.io/kube-apiserver-client',
      '--cert',
      `${dir}/ca.pem`,
      '--key',
      `${dir}/ca.key`,
    ];
    assertOneLineError(await certdesk(args, env), /readable by group or others \(mode 644\).*chmod 600/);
    await chmod(`${dir}/ca.key`, 0o600);
    assertOneLineError(await certdesk(args, env), /encrypted; give its passphrase/);
    const ok = await certdesk([...args, '--passphrase-env', 'CERTDESK_PASS'], env);
    assert.equal(ok.code, 0, ok.stderr);

    const { csrPem } = await generateKeyAndCsr({ cn: 'alice', names: [{ O: 'dev' }] });
    const csrPath = await put(dir, 'alice.csr', csrPem);
    const refused = await certdesk(
      ['issue', '--csr', csrPath, '--signer', 'kubernetes.io/kube-apiserver-client', '--usages', 'server auth'],
      env,
    );
    assertOneLineError(refused, /invalid usage for client certificate: server auth/);
    const issued = await certdesk(
      [
        'issue',
        '--csr',
        csrPath,
        '--signer',
        'kubernetes.io/kube-apiserver-client',
        '--usages',
        'client auth',
        '--duration',
        '1h',
      ],
      env,
    );
    assert.equal(issued.code, 0, issued.stderr);
    const leaf = await put(dir, 'alice.pem', issued.stdout);
    assert.match((await openssl(['verify', '-CAfile', `${dir}/ca.pem`, leaf])).stdout, /OK/);
  });

  test('inspect: garbage fails in one line; hostile names cannot reach the terminal', async (t) => {
    const dir = await tempDir(t);
    const env = { CERTDESK_CONFIG_DIR: join(dir, 'config'), CERTDESK_STATE_DIR: join(dir, 'state') };
    const garbage = await put(dir, 'garbage.bin', 'this is not a certificate');
    assertOneLineError(
      await certdesk(['inspect', garbage], env),
      /not a certificate request or certificate \(PEM, DER or base64 of PEM\)/,
    );
    assertOneLineError(await certdesk(['inspect', join(dir, 'missing.pem')], env), /does not exist/);

    // The hostile scenario's requests whose names carry control or invisible characters (a few, to stay fast).
    const hostile = (await buildHostileRequests())
      .map((h) => Buffer.from(h.body.spec.request, 'base64').toString('utf8'))
      .filter((pem) => /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u.test(csrText(pem)))
      .slice(0, 3);
    assert.ok(hostile.length > 0, 'the hostile scenario has requests with control characters');
    for (const [i, pem] of hostile.entries()) {
      const path = join(dir, `h${i}.csr`);
      await writeFile(path, pem);
      for (const extra of i === 0 ? [[], ['-o', 'json']] : [[]]) {
        const r = await certdesk(['inspect', path, ...extra], env);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(
          r.stdout,
          /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u,
        );
      }
    }
  });
});

/** The DER of a PEM CSR as latin1 text, enough to see raw control bytes in its names. */
function csrText(pem: string): string {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('utf8');
}

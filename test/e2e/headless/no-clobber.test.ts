// No silent clobbering (issue 18 item 7), with the built binary against the sandbox: `kubeconfig --out` merges into
// the user's kubeconfig as kubectl's config set-* do (checked with kubectl config view and a real get through the
// merged file); export files, issue --out and request refuse to replace a file unless --force. On main,
// `kubeconfig --out ~/.kube/config` replaced the whole file: the admin's contexts were gone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type E2eEnv, ok, oneLineError, startE2e } from './helpers.js';

const exec = promisify(execFile);
let e: E2eEnv;
let jane: string;

before(async () => {
  e = await startE2e();
  jane = join(e.dir, 'jane');
  const waiting = e.run([
    'request',
    '--cn',
    'jane',
    '--signer',
    'kubernetes.io/kube-apiserver-client',
    '--name',
    'jane',
    '--file-prefix',
    'jane',
    '--out-dir',
    jane,
    '--wait',
    '--timeout',
    '60s',
  ]);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await e.run(['approve', 'jane'])).code !== 0) {}
  ok(await waiting);
});
after(async () => {
  await e?.stop();
});

test('kubeconfig --out merges into an existing kubeconfig (kubectl reads it; the admin context still works)', async () => {
  const home = join(e.dir, '.kube');
  mkdirSync(home, { recursive: true });
  const config = join(home, 'config');
  copyFileSync(e.sandbox.kubeconfigPath, config);
  chmodSync(config, 0o644);
  const args = [
    'kubeconfig',
    '--csr',
    'jane',
    '--key',
    join(jane, 'jane-key.pem'),
    '--out',
    config,
    '--kubeconfig',
    e.sandbox.kubeconfigPath,
  ];
  ok(await e.run(args));
  assert.equal(statSync(config).mode & 0o777, 0o600);
  const view = JSON.parse((await exec('kubectl', ['--kubeconfig', config, 'config', 'view', '-o', 'json'])).stdout) as {
    contexts: { name: string }[];
    users: { name: string }[];
    'current-context': string;
  };
  assert.deepEqual(view.contexts.map((c) => c.name).sort(), ['east', 'east-viewer', 'jane@east']);
  assert.ok(view.users.some((u) => u.name === 'jane'));
  assert.equal(view['current-context'], 'east', 'the current context is left alone');
  // Real requests through the merged file: the admin still lists CSRs, jane is authenticated as jane.
  assert.match((await exec('kubectl', ['--kubeconfig', config, 'get', 'csr', 'jane'])).stdout, /jane/);
  const asJane = await exec('kubectl', ['--kubeconfig', config, '--context', 'jane@east', 'get', 'csr']).catch(
    (err: { stderr: string }) => err,
  );
  assert.match(asJane.stderr, /User "jane" cannot list resource "certificatesigningrequests"/);

  // The same entries again: nothing to replace, fine.
  ok(await e.run(args));
  // A file that is not a kubeconfig is never merged into: another kind of object, or YAML that does not parse.
  for (const [file, text, why] of [
    ['pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n', /it holds a Pod, not a Config/],
    ['junk.txt', 'a: [b\n', /its YAML does not parse/],
  ] as const) {
    const path = join(e.dir, file);
    writeFileSync(path, text);
    const withOut = args.map((a) => (a === config ? path : a));
    assert.match(oneLineError(await e.run(withOut)), why);
    assert.equal(readFileSync(path, 'utf8'), text);
  }
  // An entry of that name with other content: refused in one sentence, replaced only with --force.
  const before = readFileSync(config, 'utf8');
  const changed = before.replace(/(name: jane\s+user:\s+client-certificate-data: )\S+/, '$1b3RoZXI=');
  assert.notEqual(changed, before, 'test set-up: jane’s entry edited');
  writeFileSync(config, changed);
  assert.match(oneLineError(await e.run(args)), /already has a user named "jane" with other content; pass --force/);
  assert.equal(readFileSync(config, 'utf8'), changed, 'nothing written when refused');
  ok(await e.run([...args, '--force']));
  assert.doesNotMatch(readFileSync(config, 'utf8'), /b3RoZXI=/);
  assert.match((await exec('kubectl', ['--kubeconfig', config, 'get', 'csr', 'jane'])).stdout, /jane/);
});

test('export files, issue --out and request do not replace a file unless --force', async () => {
  const dir = join(e.dir, 'out');
  ok(await e.run(['export', 'files', '--csr', 'jane', '--out-dir', dir]));
  const crt = readFileSync(join(dir, 'server.crt'), 'utf8');
  writeFileSync(join(dir, 'server.crt'), 'mine\n');
  const refused = await e.run(['export', 'files', '--csr', 'jane', '--out-dir', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /\nerror: \S+server\.crt already exists; .*--force[^\n]*\n$/);
  assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), 'mine\n');
  ok(await e.run(['export', 'files', '--csr', 'jane', '--out-dir', dir, '--force']));
  assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), crt);

  ok(await e.run(['ca', 'init', '--signer', 'example.com/serving']));
  const target = join(dir, 'issued.pem');
  writeFileSync(target, 'mine\n');
  const issue = ['issue', '--csr', join(jane, 'jane.csr'), '--signer', 'example.com/serving', '--out', target];
  assert.match(oneLineError(await e.run(issue)), /issued\.pem already exists/);
  assert.equal(readFileSync(target, 'utf8'), 'mine\n');
  ok(await e.run([...issue, '--force']));
  assert.match(readFileSync(target, 'utf8'), /BEGIN CERTIFICATE/);

  // A kubeconfig needs a client certificate: a serving one is refused, in one sentence.
  const web = join(e.dir, 'web');
  ok(
    await e.run([
      'request',
      '--cn',
      'web.example.com',
      '--signer',
      'example.com/serving',
      '--name',
      'web',
      '--usages',
      'digital signature,key encipherment,server auth',
      '--file-prefix',
      'web',
      '--out-dir',
      web,
    ]),
  );
  ok(await e.run(['sign', '--approve', 'web']));
  assert.match(
    oneLineError(await e.run(['kubeconfig', '--csr', 'web', '--key', join(web, 'web-key.pem')])),
    /is not for client authentication \(it allows serverAuth\)/,
  );

  // ca.crt must verify server.crt: the CA of another signer is refused, and nothing is written.
  const wrong = join(e.dir, 'wrong-ca');
  assert.match(
    oneLineError(
      await e.run(['export', 'files', '--csr', 'jane', '--out-dir', wrong, '--signer', 'example.com/serving']),
    ),
    /the CA given for ca\.crt did not issue CSR "jane"'s certificate .*Nothing was written/,
  );
  assert.equal(existsSync(join(wrong, 'server.crt')), false);

  const req = join(e.dir, 'req');
  mkdirSync(req);
  writeFileSync(join(req, 'server.csr'), 'mine\n');
  assert.match(
    oneLineError(await e.run(['request', '--cn', 'x', '--signer', 'example.com/serving', '--out-dir', req])),
    /server\.csr already exists/,
  );
  assert.equal(existsSync(join(req, 'server-key.pem')), false, 'no key made when refused');
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Command } from 'commander';
import { calicoAlgorithms } from '../../../src/headless/commands/calico.js';
import { bashCompletion, zshCompletion } from '../../../src/headless/commands/completion.js';
import { registerKubeCommands } from '../../../src/headless/register-kube.js';
import { defaultUsages, generateNameFrom } from '../../../src/services/actions/index.js';

function program(): Command {
  const p = new Command('certdesk').exitOverride();
  registerKubeCommands(p);
  return p;
}

function leaves(cmd: Command, path: string[] = []): string[][] {
  const subs = cmd.commands;
  if (subs.length === 0) return [path];
  return subs.flatMap((c) => leaves(c, [...path, c.name()]));
}

test('every command has a description and --help', () => {
  const p = program();
  const all = leaves(p);
  for (const path of [
    ['get', 'csr'],
    ['get', 'pods-in-init'],
    ['health'],
    ['describe', 'csr'],
    ['approve'],
    ['deny'],
    ['sign'],
    ['export', 'secret'],
    ['export', 'ca-configmap'],
    ['export', 'files'],
    ['request'],
    ['kubeconfig'],
    ['calico', 'snippet'],
    ['audit'],
    ['completion'],
  ]) {
    assert.ok(
      all.some((l) => l.join(' ') === path.join(' ')),
      `missing ${path.join(' ')}`,
    );
    let cmd: Command = p;
    for (const part of path) cmd = cmd.commands.find((c) => c.name() === part) as Command;
    assert.ok(cmd.description().length > 10, path.join(' '));
    assert.match(cmd.helpInformation(), /Usage: /);
  }
});

test('kube commands take --kubeconfig and --context; get and health take --all-contexts', () => {
  const p = program();
  const find = (...path: string[]) => {
    let cmd: Command = p;
    for (const part of path) cmd = cmd.commands.find((c) => c.name() === part) as Command;
    return cmd.options.map((o) => o.long);
  };
  assert.ok(find('get', 'csr').includes('--all-contexts'));
  assert.ok(find('health').includes('--all-contexts'));
  assert.ok(find('approve').includes('--context'));
  assert.ok(!find('approve').includes('--all-contexts'));
  assert.ok(find('export', 'secret').includes('--dry-run'));
});

test('completion scripts are valid shell and list the commands', () => {
  const p = program();
  const bash = bashCompletion(p);
  execFileSync('bash', ['-n'], { input: bash });
  assert.match(bash, /"export"\) opts="secret ca-configmap files/);
  assert.match(bash, /"sign"\) opts="[^"]*--approve/);
  assert.match(zshCompletion(p), /^#compdef certdesk/);
  const completions = execFileSync(
    'bash',
    ['-c', `${bash}\nCOMP_WORDS=(certdesk export s); COMP_CWORD=2; _certdesk; echo "\${COMPREPLY[@]}"`],
    { encoding: 'utf8' },
  );
  assert.equal(completions.trim(), 'secret');
});

test('calico algorithm names follow the CA key', () => {
  assert.deepEqual(calicoAlgorithms({ algorithm: 'RSA', rsaBits: 4096 }), {
    keyAlgorithm: 'RSAWithSize4096',
    signatureAlgorithm: 'SHA256WithRSA',
  });
  assert.deepEqual(calicoAlgorithms({ algorithm: 'EC', curve: 'P-384' }), {
    keyAlgorithm: 'ECDSAWithCurve384',
    signatureAlgorithm: 'ECDSAWithSHA384',
  });
});

test('request defaults: usages per signer, generateName from the CN', () => {
  assert.deepEqual(defaultUsages('kubernetes.io/kube-apiserver-client'), [
    'digital signature',
    'key encipherment',
    'client auth',
  ]);
  assert.deepEqual(defaultUsages('example.com/serving'), ['digital signature', 'key encipherment', 'server auth']);
  assert.equal(generateNameFrom('My Pod.example.com'), 'my-pod.example.com-');
  assert.equal(generateNameFrom('***'), 'csr-');
});

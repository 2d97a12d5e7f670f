#!/usr/bin/env node
// Builds the optional native signer (native/certdesk_sign.c) with node-gyp; `npm install` runs it. Never fails the
// install: without python3, make and a C compiler (or with CERTDESK_NATIVE_SIGNER=off) it says so in one line and
// certdesk signs with node:crypto instead (slower for bulk ECDSA, otherwise the same). The addon links only against the
// OpenSSL inside Node, so no OpenSSL headers or libraries are needed beyond Node's own.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');
const say = (line) => process.stderr.write(`certdesk: ${line}\n`);
const fallback = 'certificates will be signed with node:crypto (bulk ECDSA issuing is slower; nothing else changes)';

function nodeGyp() {
  // npm hands its own node-gyp to install scripts; outside npm, look for the copy npm ships with.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return process.env.npm_config_node_gyp;
  }
  const npmCli = process.env.npm_execpath;
  const candidates = [
    npmCli && join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

if (process.env.CERTDESK_NATIVE_SIGNER === 'off' || process.env.CERTDESK_NATIVE_SIGNER === '0') {
  say(`native signer not built (CERTDESK_NATIVE_SIGNER=off); ${fallback}.`);
  process.exit(0);
}
if (!existsSync(join(native, 'binding.gyp'))) process.exit(0);
const gyp = nodeGyp();
if (!gyp) {
  say(`native signer not built (node-gyp not found); ${fallback}.`);
  process.exit(0);
}
// Node's own headers (shipped with Node in include/node, OpenSSL's among them) when they are there: no download.
const args = [gyp, 'rebuild', '--directory', native];
const localHeaders = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${localHeaders}`);
}
const run = spawnSync(process.execPath, args, {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
if (run.status === 0) {
  say('native signer built (native/build/Release/certdesk_sign.node).');
} else {
  const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  const lines = output.split('\n').map((l) => l.trim());
  const reason =
    lines.find((l) => /not found|No such file|Could not find any Python|error:/i.test(l) && !/^gyp info/.test(l)) ??
    lines.find((l) => /^gyp ERR! stack Error/.test(l))?.replace(/^gyp ERR! stack /, '') ??
    `node-gyp exited with ${run.status ?? run.signal}`;
  say(`native signer not built (${reason.slice(0, 200)}); ${fallback}.`);
  say('to build it later: install python3, make and a C compiler, then run `npm run build:native`.');
  if (process.env.CERTDESK_DEBUG) process.stderr.write(output);
}

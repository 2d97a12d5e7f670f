// Deadlines that hold (issue 24), with the built binary: a TCP server on loopback that accepts and never answers,
// and one that completes TLS handshakes but never answers HTTP, next to a healthy sandbox context. On main `get csr`
// took 4 x 60 s (+ backoff) while saying "no answer within 60s" and printed the healthy context only at the end.
// The slack above each deadline (5 s) is for node starting the binary on a busy shared machine.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { parse, stringify } from 'yaml';
import { BIN, type E2eEnv, ok, startE2e } from './helpers.js';

let e: E2eEnv;
let kubeconfig: string;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** When the first stdout byte came, ms after start. */
  firstStdoutMs?: number;
  /** When the first stderr byte came. */
  firstStderrMs?: number;
}

function runTimed(args: string[]): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args, '--kubeconfig', kubeconfig], {
      env: e.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r: Timed = { code: null, stdout: '', stderr: '', ms: 0 };
    child.stdout.on('data', (d: Buffer) => {
      r.firstStdoutMs ??= Date.now() - t0;
      r.stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      r.firstStderrMs ??= Date.now() - t0;
      r.stderr += d.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ ...r, code, ms: Date.now() - t0 });
    });
  });
}

before(async () => {
  e = await startE2e({ clusters: ['east'], builtinSigners: false });
  ok(
    await e.run([
      'request',
      '--cn',
      'jane',
      '--signer',
      'example.com/serving',
      '--name',
      'jane',
      '--out-dir',
      join(e.dir, 'jane'),
    ]),
  );
  // Accepts TCP connections, never sends a byte.
  const silentPort = await listen(createServer(() => {}));
  // Completes the TLS handshake, never answers the HTTP request.
  const dir = join(e.dir, 'tls');
  mkdirSync(dir);
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-days',
      '1',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
    ],
    { stdio: 'ignore' },
  );
  assert.equal(gen.status, 0, 'openssl req');
  const tlsPort = await listen(
    createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, () => {}),
  );
  // A kubeconfig with the sandbox's contexts and the two silent ones.
  const kc = parse(readFileSync(e.sandbox.kubeconfigPath, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
  };
  const user = kc.contexts.find((c) => c.name === 'east')?.context.user ?? '';
  kc.clusters.push(
    { name: 'silent', cluster: { server: `https://127.0.0.1:${silentPort}`, 'insecure-skip-tls-verify': true } },
    { name: 'tlsonly', cluster: { server: `https://127.0.0.1:${tlsPort}`, 'insecure-skip-tls-verify': true } },
  );
  kc.contexts.push(
    { name: 'silent', context: { cluster: 'silent', user } },
    { name: 'tlsonly', context: { cluster: 'tlsonly', user } },
  );
  kubeconfig = join(e.dir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify(kc), { mode: 0o600 });
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await e?.stop();
});

test('get csr: the silent context fails at the 10 s connect deadline; the healthy context is printed first', async () => {
  const r = await runTimed(['get', 'csr', '--context', 'east', '--context', 'silent']);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms >= 9_500 && r.ms < 15_000, `took ${r.ms} ms`);
  assert.match(r.stdout, /^CONTEXT\s+NAME.*\neast\s+jane\s/);
  assert.ok((r.firstStdoutMs ?? Infinity) < 8_000, `east's rows came after ${r.firstStdoutMs} ms`);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0] ?? '', /^error: context silent: .*could not be connected to within 10s/);
  assert.ok((r.firstStderrMs ?? 0) >= 9_500, 'the error line comes when the deadline passes');
  assert.doesNotMatch(r.stdout, /silent/, 'nothing is printed for the context that did not answer');
});

test('get csr: TLS answered but HTTP never: --request-timeout is the deadline and the message says it', async () => {
  const r = await runTimed(['get', 'csr', '--context', 'tlsonly', '--context', 'east', '--request-timeout', '3s']);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms >= 2_800 && r.ms < 8_000, `took ${r.ms} ms`);
  assert.match(r.stderr, /^error: context tlsonly: .*gave no answer within 3s/);
  assert.match(r.stdout, /east\s+jane/);
  assert.ok((r.firstStdoutMs ?? Infinity) < (r.firstStderrMs ?? 0), 'east first');
});

test('describe and approve end at their deadline with one error line', async () => {
  for (const args of [
    ['describe', 'csr', 'jane', '--context', 'silent'],
    ['--context', 'tlsonly', 'approve', 'jane', '--request-timeout', '2s'],
  ]) {
    const r = await runTimed(args);
    const limit = args.includes('2s') ? 2_000 : 10_000;
    assert.equal(r.code, 1, args.join(' '));
    assert.ok(r.ms >= limit - 200 && r.ms < limit + 5_000, `${args.join(' ')} took ${r.ms} ms`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? '',
      args.includes('2s') ? /gave no answer within 2s/ : /could not be connected to within 10s/,
    );
  }
});

test('TUI: q ends the process at once while a context has a request that will never be answered', async () => {
  const { TmuxTerminal } = await import('../tui/tmux.js');
  const term = new TmuxTerminal(120, 30);
  try {
    term.startCertdesk(['--kubeconfig', kubeconfig, '--context', 'east', '--context', 'silent'], {
      env: { CERTDESK_CONFIG_DIR: e.env.CERTDESK_CONFIG_DIR!, CERTDESK_STATE_DIR: e.env.CERTDESK_STATE_DIR! },
    });
    // The healthy context's request is on screen, and the silent one is found unreachable (its connect deadline):
    // it then tries again, and that attempt waits for an answer that never comes.
    await term.waitFor((s) => s.includes('jane') && /silent ✗ unreachable/.test(s), 'silent unreachable', 40_000);
    const t0 = Date.now();
    term.keys('q');
    await term.waitFor(() => term.dead(), 'the process to end', 20_000);
    // Before, it lingered until the silent request's deadline (6-9 s after q).
    assert.ok(Date.now() - t0 < 3000, `ended ${Date.now() - t0} ms after q`);
  } finally {
    term.stop();
  }
});

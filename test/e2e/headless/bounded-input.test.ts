// Reads have a bound, with the built binary: /dev/zero, a FIFO that never stops, stdin from /dev/zero and an
// oversized file end in one line naming the file and the limit, within seconds and with little memory (the run is
// capped at 200 MB of address space growth by --max-old-space-size and a wall-clock timeout).
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, oneLineError, type RunResult } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'certdesk-bounded-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: dir,
  CERTDESK_CONFIG_DIR: join(dir, 'config'),
  CERTDESK_STATE_DIR: join(dir, 'state'),
  NO_COLOR: '1',
  NODE_OPTIONS: '--max-old-space-size=200',
};
const writers: ChildProcess[] = [];
after(() => {
  for (const w of writers) w.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], stdin: 'ignore' | number = 'ignore'): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr: signal ? `killed by ${signal}\n${stderr}` : stderr });
    });
  });
}

test('inspect /dev/zero', async () => {
  assert.match(oneLineError(await run(['inspect', '/dev/zero'])), /\/dev\/zero is larger than 512 KiB/);
});

test('issue --csr /dev/zero', async () => {
  oneLineError(await run(['issue', '--csr', '/dev/zero', '--signer', 'example.com/none'])); // no CA yet
  const init = await run(['ca', 'init', '--signer', 'example.com/bounded']);
  assert.equal(init.code, 0, init.stderr);
  const line = oneLineError(await run(['issue', '--csr', '/dev/zero', '--signer', 'example.com/bounded']));
  assert.match(line, /the CSR file \/dev\/zero is larger than 512 KiB/);
});

test('inspect a FIFO whose writer never stops', async () => {
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  writers.push(spawn('sh', ['-c', 'exec cat /dev/zero > "$1"', 'sh', path], { stdio: 'ignore' }));
  assert.match(oneLineError(await run(['inspect', path])), /fifo is larger than 512 KiB/);
});

test('inspect - with stdin from /dev/zero', async () => {
  const line = oneLineError(await run(['inspect', '-'], openSync('/dev/zero', 'r')));
  assert.match(line, /on stdin is larger than 512 KiB/);
});

test('an oversized file', async () => {
  const big = join(dir, 'big.pem');
  writeFileSync(big, Buffer.alloc(600 * 1024, 0x41));
  assert.match(oneLineError(await run(['inspect', big])), /big\.pem is larger than 512 KiB/);
});

test('--kubeconfig /dev/zero', async () => {
  const line = oneLineError(await run(['get', 'csr', '--kubeconfig', '/dev/zero']));
  assert.match(line, /kubeconfig file \/dev\/zero is larger than 16 MiB/);
});

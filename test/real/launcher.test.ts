// `npm run real-apiserver` as a user meets it: one "ready" line, a kubeconfig with the sandbox's contexts, a clean
// stop on SIGINT/SIGTERM (no process, no state directory left), children gone even after kill -9 of the launcher,
// and one line without Go.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { until } from './helpers.js';

const SCRIPT = 'scripts/real-apiserver.mjs';

function start(args: string[]): { child: ChildProcess; ready: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const ready = until('the ready line', async () => out.split('\n').find((l) => l.startsWith('ready: ')), 180_000);
  return { child, ready, output: () => out };
}

/** Pids of processes whose command line mentions `needle`. */
function pidsWith(needle: string): number[] {
  const r = spawnSync('pgrep', ['-f', needle], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => p !== process.pid);
}

test('ready line, both contexts per cluster, SIGINT stops everything and removes the state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-launcher-'));
  try {
    const kubeconfig = join(dir, 'kc');
    const run = start(['--clusters', 'east,west', '--kubeconfig-out', kubeconfig, '--state-dir', dir]);
    const line = await run.ready;
    assert.match(line, /^ready: east=https:\/\/127\.0\.0\.1:\d+ west=https:\/\/127\.0\.0\.1:\d+ kubeconfig=/);
    const state = /state=(\S+)/.exec(line)?.[1] as string;
    assert.ok(existsSync(join(state, 'east', 'kube-apiserver.log')));
    const doc = JSON.parse(readFileSync(kubeconfig, 'utf8')) as { contexts: { name: string }[] };
    assert.deepEqual(
      doc.contexts.map((c) => c.name),
      ['east', 'east-viewer', 'west', 'west-viewer'],
    );
    assert.ok(pidsWith(state).length >= 4, 'two apiservers and two controller-managers run from the state dir');
    run.child.kill('SIGINT');
    await until('the launcher to exit', async () => run.child.exitCode !== null, 60_000);
    assert.equal(run.child.exitCode, 0, run.output());
    await until('no process left', async () => pidsWith(state).length === 0, 30_000);
    assert.equal(existsSync(state), false, 'the state directory is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of the launcher takes its servers with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-launcher-'));
  try {
    const run = start(['--clusters', 'east', '--kubeconfig-out', join(dir, 'kc'), '--state-dir', dir]);
    const line = await run.ready;
    const state = /state=(\S+)/.exec(line)?.[1] as string;
    // The launcher binary is a child of the node script: kill it, not the script.
    const [launcher] = pidsWith(`real-cluster up --clusters east --kubeconfig-out ${join(dir, 'kc')}`);
    assert.ok(launcher, 'the launcher runs');
    process.kill(launcher as number, 'SIGKILL');
    await until('the servers to die with it', async () => pidsWith(state).length === 0, 30_000);
    await until('the script to exit', async () => run.child.exitCode !== null, 30_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without Go: one line saying so, exit 1', () => {
  const node = dirname(process.execPath);
  const r = spawnSync(process.execPath, [SCRIPT, '--kubeconfig-out', '/tmp/x'], {
    encoding: 'utf8',
    env: { PATH: `${node}:/usr/bin/does-not-exist`, HOME: process.env.HOME },
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /Go is not installed.*install Go 1\.26/);
});

test('a bad or repeated cluster name: one line saying so, exit 2, nothing started', () => {
  for (const clusters of ['Bad Name', 'east,east']) {
    const r = spawnSync(process.execPath, [SCRIPT, '--clusters', clusters, '--kubeconfig-out', '/tmp/never-written'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr.trim(),
      /^realcluster: cluster name ".*" is not valid or repeated; use unique lower-case names/,
    );
    assert.equal(existsSync('/tmp/never-written'), false);
  }
});

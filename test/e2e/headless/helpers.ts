// Runs the built binary (bin/certdesk.js → dist/) as a user would, against a sandbox, with temp config and state
// dirs. dist/ is rebuilt first when the sources changed (scripts/build.mjs does nothing otherwise).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../../src/services/sandbox/index.js';

export const BIN = resolve('bin/certdesk.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface E2eEnv {
  sandbox: Sandbox;
  dir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult>;
  stop(): Promise<void>;
}

export interface RunOptions {
  /** Run under this umask (e.g. '000'), through `sh -c 'umask …; exec node bin/certdesk.js …'`. */
  umask?: string;
}

export function runBinary(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = options.umask
      ? spawn('sh', ['-c', `umask ${options.umask}; exec "$@"`, 'sh', process.execPath, BIN, ...args], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Builds dist/ when the sources changed since it was built (a no-op otherwise), so a lone test run is never stale. */
export function ensureDist(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function startE2e(options: SandboxOptions = {}): Promise<E2eEnv> {
  ensureDist();
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-e2e-'));
  const sandbox = await startSandbox({ clusters: ['east'], ...options });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: sandbox.kubeconfigPath,
    CERTDESK_CONFIG_DIR: join(dir, 'config'),
    CERTDESK_STATE_DIR: join(dir, 'state'),
    NO_COLOR: '1',
  };
  return {
    sandbox,
    dir,
    env,
    run: (args, extraEnv = {}) => runBinary(args, { ...env, ...extraEnv }),
    stop: async () => {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts a failure the way a user sees it: non-zero exit, exactly one `error:` line on stderr, no stack. */
export function oneLineError(r: RunResult): string {
  if (r.code === 0) throw new Error(`expected a failure, got exit 0 (stdout: ${r.stdout})`);
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1 || !lines[0]?.startsWith('error: ') || /\bat .+:\d+:\d+/.test(r.stderr)) {
    throw new Error(`expected one error line, got: ${r.stderr}`);
  }
  return lines[0];
}

/** Fails the test with the command's output when it did not exit 0. */
export function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`command failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return r;
}

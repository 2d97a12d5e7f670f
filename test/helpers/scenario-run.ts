// `certdesk scenario run` as a background process for e2e tests: started with the built binary, ready once it says
// the scenarios run, stopped with SIGINT (as Ctrl-C) and awaited while it removes what it created.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ScenarioProcess {
  child: ChildProcess;
  output(): string;
  /** SIGINT, then the exit code once its clean-up is done. */
  interrupt(): Promise<number>;
}

export async function startScenarioRun(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyTimeoutMs = 120_000,
): Promise<ScenarioProcess> {
  const child = spawn(process.execPath, [resolve('bin/certdesk.js'), 'scenario', 'run', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? 1)));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`scenario run was not ready: ${out}`)), readyTimeoutMs);
    const check = (): void => {
      if (/Press Ctrl-C/.test(out)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`scenario run exited (${code}) before it was ready: ${out}`));
    });
  });
  return {
    child,
    output: () => out,
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/**
 * `--set calico-rollout.caCertPem=…` with the CA certdesk registered for `signer` under `env`'s config dir: the
 * Installation then trusts it, as seed 000 has the admin do (certdesk signs Calico's requests with no other CA).
 */
export function trustRegisteredCa(env: NodeJS.ProcessEnv, signer = 'example.com/calico'): string[] {
  const pem = readFileSync(join(env.CERTDESK_CONFIG_DIR ?? '', 'cas', signer.replace('/', '_'), 'ca.pem'), 'utf8');
  return ['--set', `calico-rollout.caCertPem=${pem}`];
}

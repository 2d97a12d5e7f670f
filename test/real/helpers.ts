// The real-server tier's environment for the built binary: a real kube-apiserver 1.37 (+ kube-controller-manager)
// instead of the sandbox, with temp config and state dirs, as test/e2e/headless/helpers.ts does for the sandbox.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDist, type RunResult, runBinary } from '../e2e/headless/helpers.js';
import { type RealCluster, startRealCluster } from '../helpers/real-cluster.js';

export interface RealEnv {
  cluster: RealCluster;
  dir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult>;
  /** kubectl v1.37 built from the same module, on this cluster's kubeconfig. */
  kubectl(args: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

export async function startRealEnv(clusters: string[] = ['east']): Promise<RealEnv> {
  ensureDist();
  const cluster = await startRealCluster(undefined, { clusters });
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-real-e2e-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: cluster.kubeconfigPath,
    CERTDESK_CONFIG_DIR: join(dir, 'config'),
    CERTDESK_STATE_DIR: join(dir, 'state'),
    NO_COLOR: '1',
  };
  return {
    cluster,
    dir,
    env,
    run: (args, extraEnv = {}, timeoutMs = 60_000) => runBinary(args, { ...env, ...extraEnv }, timeoutMs),
    kubectl: async (args) => {
      try {
        const r = await execFileP(cluster.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args], { env });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const x = e as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
      }
    },
    stop: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

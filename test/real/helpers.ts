// The real-server tier's environment for the built binary: a real kube-apiserver 1.37 (+ kube-controller-manager)
// instead of the sandbox, with temp config and state dirs, as test/e2e/headless/helpers.ts does for the sandbox.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** `kubectl create -o json` of `doc`, written to `<env.dir>/<name>.json` (left there), with `as` (`--as …`): its uid. */
export async function create(env: RealEnv, name: string, doc: unknown, as: string[] = []): Promise<string> {
  const file = join(env.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const r = await env.kubectl(['create', '-f', file, '-o', 'json', ...as]);
  if (r.code !== 0) throw new Error(`kubectl create ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { metadata: { uid: string } }).metadata.uid;
}

/** openssl run in env.dir (relative file names are there): its stdout. */
export function openssl(env: RealEnv, args: string[]): string {
  const r = spawnSync('openssl', args, { cwd: env.dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** The uid of the default namespace's default ServiceAccount, once kube-controller-manager has made it. */
export function defaultServiceAccountUid(env: RealEnv): Promise<string> {
  return until('the default service account', async () => {
    const r = await env.kubectl([
      'get',
      'serviceaccount',
      'default',
      '-n',
      'default',
      '-o',
      'jsonpath={.metadata.uid}',
    ]);
    return r.code === 0 && r.stdout;
  });
}

/**
 * A Pod in the default namespace bound to `nodeName` (no scheduler, no kubelet) that mounts a podCertificate volume
 * for `signerName`: NodeRestriction lets the node ask only for a signer the pod mounts (or one RBAC grants the node).
 */
export function podCertificatePod(name: string, nodeName: string, signerName: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName,
      serviceAccountName: 'default',
      containers: [{ name: 'c', image: 'example.invalid/x' }],
      volumes: [
        {
          name: 'identity',
          projected: {
            sources: [{ podCertificate: { signerName, keyType: 'ECDSAP256', credentialBundlePath: 'bundle.pem' } }],
          },
        },
      ],
    },
  };
}

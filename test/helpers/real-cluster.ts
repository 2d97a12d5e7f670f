// The real-server tier's helper: a real kube-apiserver 1.37 + kube-controller-manager (+ embedded etcd) per cluster,
// built from k8s.io/kubernetes by scripts/real-apiserver.mjs, started for a test file and stopped when it ends.
// The kubeconfig has the contexts `certdesk sandbox` writes: `<cluster>` (admin, system:masters) and
// `<cluster>-viewer` (get/list/watch only).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
// @ts-expect-error: a plain .mjs script without types
import { ensureBuilt } from '../../scripts/real-apiserver.mjs';

export interface RealCluster {
  kubeconfigPath: string;
  /** Cluster name → https://127.0.0.1:PORT */
  servers: Record<string, string>;
  /** The directory of the built binaries (kube-apiserver, kube-controller-manager, kubectl, real-cluster). */
  binDir: string;
  /** kubectl v1.37 built from the same module. */
  kubectl: string;
  /** The launcher's state directory (`<stateDir>/<cluster>/ca.crt`, `ca.key`, logs). */
  stateDir: string;
  /** A client certificate for (user, groups) issued by the cluster's CA (CN = user, O = groups), minted once. */
  clientCert(cluster: string, user: string, groups?: string[]): { certPem: string; keyPem: string };
  stop(): Promise<void>;
}

/** Builds when needed (cached), starts the clusters, and stops them when the test ends. */
export async function startRealCluster(
  t: TestContext | undefined,
  options: { clusters?: string[]; readyTimeoutMs?: number } = {},
): Promise<RealCluster> {
  const binDir: string = ensureBuilt({ log: () => {} });
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-real-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const child = spawn(
    join(binDir, 'real-cluster'),
    [
      'up',
      '--clusters',
      (options.clusters ?? ['east']).join(','),
      '--kubeconfig-out',
      kubeconfigPath,
      '--state-dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };
  t?.after(stop);
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the real cluster was not ready within ${options.readyTimeoutMs ?? 180000} ms: ${err}`)),
      options.readyTimeoutMs ?? 180_000,
    );
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready: '));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the real cluster exited (${code}) before it was ready: ${err.trim()}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const servers: Record<string, string> = {};
  for (const [, name, url] of ready.matchAll(/(\S+?)=(https:\/\/\S+)/g)) servers[name as string] = url as string;
  const stateDir = /\bstate=(\S+)/.exec(ready)?.[1] ?? dir;
  // The viewer's read access is the built-in `view` role, an aggregated ClusterRole whose rules
  // kube-controller-manager fills in a moment after the server is ready: a test that reads as the viewer at once
  // got a 403 the sandbox does not give (the differential "configmaps as the viewer", red once in CI).
  for (const name of Object.keys(servers)) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = spawnSync(
        join(binDir, 'kubectl'),
        ['--kubeconfig', kubeconfigPath, '--context', name, 'get', 'clusterrole', 'view', '-o', 'jsonpath={.rules}'],
        { encoding: 'utf8' },
      );
      if (r.status === 0 && r.stdout.includes('configmaps')) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`the real cluster ${name}'s view role was not aggregated within 60 s: ${r.stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const certs = new Map<string, { certPem: string; keyPem: string }>();
  const clientCert = (cluster: string, user: string, groups: string[] = []) => {
    const key = [cluster, user, ...groups].join('\u0000');
    let cert = certs.get(key);
    if (!cert) {
      cert = issueClientCert(join(stateDir, cluster), user, groups);
      certs.set(key, cert);
    }
    return cert;
  };
  return { kubeconfigPath, servers, binDir, kubectl: join(binDir, 'kubectl'), stateDir, clientCert, stop };
}

/**
 * Issues a client certificate (CN = user, O = each group, clientAuth, one day) with the CA in `caDir` (ca.crt, ca.key
 * of a real cluster's state directory), by openssl, which the machine has for the PKI tests anyway.
 */
export function issueClientCert(
  caDir: string,
  user: string,
  groups: string[] = [],
): { certPem: string; keyPem: string } {
  const work = mkdtempSync(join(tmpdir(), 'certdesk-real-cert-'));
  try {
    const esc = (v: string) => v.replace(/[/\\+=,]/g, (c) => `\\${c}`);
    const subj = `/CN=${esc(user)}${groups.map((g) => `/O=${esc(g)}`).join('')}`;
    const run = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
    };
    writeFileSync(join(work, 'ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    run(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem'].concat([
        '-subj',
        subj,
        '-out',
        'req.pem',
      ]),
    );
    run(
      ['x509', '-req', '-in', 'req.pem', '-CA', join(caDir, 'ca.crt'), '-CAkey', join(caDir, 'ca.key')].concat([
        '-CAcreateserial',
        '-CAserial',
        join(work, 'serial'),
        '-days',
        '1',
        '-extfile',
        'ext',
        '-out',
        'cert.pem',
      ]),
    );
    return {
      certPem: readFileSync(join(work, 'cert.pem'), 'utf8'),
      keyPem: readFileSync(join(work, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether the real tier can run here (Go present). */
export function haveGo(): boolean {
  return spawnSync('go', ['version']).status === 0;
}

/** Debian's kubectl 1.20 (`kubernetes-client`), unpacked by .ci/run under ~/.cache/certdesk/debian-kubectl, if there. */
export function debianKubectl(): string | undefined {
  const candidates = [
    process.env.CERTDESK_DEBIAN_KUBECTL,
    join(process.env.HOME ?? '', '.cache', 'certdesk', 'debian-kubectl', 'usr', 'bin', 'kubectl'),
    '/usr/bin/kubectl',
  ];
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ['version', '--client', '--short'], { encoding: 'utf8' });
    if (r.status === 0 && /v1\.20\./.test(r.stdout)) return c;
  }
  return undefined;
}

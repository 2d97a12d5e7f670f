#!/usr/bin/env node
// The real Kubernetes control plane for certdesk's real-server tier (docs/real-cluster.md).
//
//   npm run real-apiserver -- [--clusters east,west] --kubeconfig-out PATH [--keep]   build if needed, start, serve
//   npm run real-apiserver -- build                                                  build if needed, print the dir
//   npm run real-apiserver -- kubectl ARGS…                                          the kubectl built beside it
//
// Builds kube-apiserver, kube-controller-manager and kubectl from k8s.io/kubernetes (test/real-cluster/go.mod pins
// the version) plus the launcher test/real-cluster/main.go, into ~/.cache/certdesk/real-cluster/<hash>, where <hash>
// covers go.mod, go.sum, main.go and the Go version: a second run with the same inputs builds nothing. Go's own caches
// (GOMODCACHE, GOCACHE) stay where Go keeps them, under the home directory.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const moduleDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'real-cluster');
export const KUBERNETES_VERSION = 'v1.37.2';
const BINARIES = ['real-cluster', 'kube-apiserver', 'kube-controller-manager', 'kubectl'];

class Refusal extends Error {}

function goVersion() {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Refusal(
      'real-apiserver: Go is not installed (needed to build kube-apiserver from k8s.io/kubernetes); install Go 1.26 or newer and run again.',
    );
  return r.stdout.trim();
}

/** The directory holding the four binaries, building them first when the inputs changed. */
export function ensureBuilt({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const version = goVersion();
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(moduleDir, f)));
  hash.update(version);
  const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'certdesk', 'real-cluster');
  const dir = join(cacheRoot, hash.digest('hex').slice(0, 16));
  if (BINARIES.every((b) => existsSync(join(dir, b)))) return dir;
  mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(
    `real-apiserver: building kube-apiserver, kube-controller-manager and kubectl ${KUBERNETES_VERSION} (first time: minutes)…`,
  );
  const started = Date.now();
  const ldflags = [
    '-s',
    '-w',
    ...['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=${KUBERNETES_VERSION.split('.')[1]}`,
      `-X ${pkg}.gitTreeState=clean`,
    ]),
  ].join(' ');
  const r = spawnSync(
    'go',
    [
      'build',
      `-ldflags=${ldflags}`,
      '-o',
      `${tmp}/`,
      '.',
      'k8s.io/kubernetes/cmd/kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-controller-manager',
      'k8s.io/kubernetes/cmd/kubectl',
    ],
    { cwd: moduleDir, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Refusal(
      `real-apiserver: the build failed (go build exited ${r.status ?? r.signal}); its output is above.`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another build finished first with the same inputs: keep its binaries.
    rmSync(tmp, { recursive: true, force: true });
    if (!BINARIES.every((b) => existsSync(join(dir, b)))) throw e;
  }
  log(`real-apiserver: built in ${Math.round((Date.now() - started) / 1000)} s into ${dir}`);
  return dir;
}

async function main(argv) {
  if (argv[0] === 'build') {
    console.log(ensureBuilt());
    return 0;
  }
  if (argv[0] === 'kubectl') {
    const dir = ensureBuilt();
    const r = spawnSync(join(dir, 'kubectl'), argv.slice(1), { stdio: 'inherit' });
    return r.status ?? 1;
  }
  if (!argv.includes('--kubeconfig-out')) {
    console.error(
      'real-apiserver: usage: npm run real-apiserver -- [--clusters east,west] --kubeconfig-out PATH [--keep]',
    );
    return 2;
  }
  const dir = ensureBuilt();
  const child = spawn(join(dir, 'real-cluster'), ['up', ...argv], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  return await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Refusal ? e.message : `real-apiserver: ${e?.message ?? e}`);
      process.exit(1);
    },
  );
}

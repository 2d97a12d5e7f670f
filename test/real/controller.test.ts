// The controller and `request --wait` against the real kube-apiserver 1.37: two replicas of the built binary with
// deploy/'s service account and RBAC (a real token from the TokenRequest API) on the calico-rollout scenario; one
// holds the real coordination.k8s.io Lease, the pods run; the leader is killed (-9), the follower takes the Lease
// and handles what comes next (the hostile scenario's requests, denied by policy). Then `request --wait` returns once the real
// kube-controller-manager has issued what `approve` allowed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ok } from '../e2e/headless/helpers.js';
import { type ScenarioProcess, startScenarioRun, trustRegisteredCa } from '../helpers/scenario-run.js';
import { type RealEnv, startRealEnv, until } from './helpers.js';

const SIGNER = 'example.com/calico';
let e: RealEnv;
let run: ScenarioProcess | undefined;
const replicas = new Map<string, { child: ChildProcess; log: string }>();

before(async () => {
  e = await startRealEnv(['east']);
});
after(async () => {
  for (const r of replicas.values()) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  if (run && run.child.exitCode === null) await run.interrupt();
  await e?.stop();
});

/** A kubeconfig for deploy/'s service account, with a token the real TokenRequest API issued. */
async function controllerKubeconfig(): Promise<string> {
  for (const f of ['namespace.yaml', 'serviceaccount.yaml', 'rbac.yaml']) {
    ok(await e.kubectl(['apply', '-f', resolve('deploy', f)]));
  }
  const token = ok(
    await e.kubectl(['-n', 'certdesk', 'create', 'token', 'certdesk-controller', '--duration', '1h']),
  ).stdout.trim();
  const admin = parse(readFileSync(e.cluster.kubeconfigPath, 'utf8'));
  const cluster = admin.clusters.find((c: { name: string }) => c.name === 'east');
  const path = join(e.dir, 'controller.kubeconfig');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: [{ name: 'certdesk-controller', user: { token } }],
      contexts: [
        { name: 'controller', context: { cluster: 'east', user: 'certdesk-controller', namespace: 'certdesk' } },
      ],
      'current-context': 'controller',
    }),
    { mode: 0o600 },
  );
  return path;
}

function startReplica(identity: string, kubeconfig: string, caDir: string): void {
  const child = spawn(
    process.execPath,
    [
      resolve('bin/certdesk.js'),
      'controller',
      '--signer',
      SIGNER,
      '--approve',
      '--sign',
      '--ca-cert',
      join(caDir, 'ca.pem'),
      '--ca-key',
      join(caDir, 'ca-key.pem'),
      '--kubeconfig',
      kubeconfig,
      '--identity',
      identity,
      '--lease-duration',
      '4',
      '--renew-deadline',
      '3',
      '--retry-period',
      '1',
      '--metrics-port',
      '0',
      '--metrics-address',
      '127.0.0.1',
    ],
    { env: e.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const r = { child, log: '' };
  child.stdout?.on('data', (b: Buffer) => {
    r.log += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    r.log += b.toString();
  });
  replicas.set(identity, r);
}

async function holder(): Promise<string> {
  const r = await e.kubectl([
    '-n',
    'certdesk',
    'get',
    'lease',
    'certdesk-controller',
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]);
  return r.code === 0 ? r.stdout.trim() : '';
}

async function runningPods(): Promise<number> {
  const out = ok(await e.kubectl(['get', 'pods', '-n', 'calico-system'])).stdout;
  return (out.match(/1\/1\s+Running/g) ?? []).length;
}

test('two controller replicas on the real server: one Lease holder, pods Running; kill -9 the leader, the other takes over', async () => {
  const kubeconfig = await controllerKubeconfig();
  ok(await e.run(['ca', 'init', '--signer', SIGNER]));
  const caDir = join(e.env.CERTDESK_CONFIG_DIR ?? '', 'cas', 'example.com_calico');
  assert.ok(existsSync(join(caDir, 'ca-key.pem')), `no CA key in ${caDir}`);
  run = await startScenarioRun(
    ['calico-rollout', '--set', 'calico-rollout.nodes=2', ...trustRegisteredCa(e.env)],
    e.env,
  );
  startReplica('replica-a', kubeconfig, caDir);
  startReplica('replica-b', kubeconfig, caDir);

  const leader = await until('a Lease holder', async () => {
    const h = await holder();
    return h === 'replica-a' || h === 'replica-b' ? h : undefined;
  });
  await until('3 calico pods Running', async () => (await runningPods()) === 3, 90_000);
  const approved = ok(await e.kubectl(['get', 'csr', '-o', 'json'])).stdout;
  assert.equal((approved.match(/"reason": "CertdeskPolicyApproved"/g) ?? []).length, 3);

  // The leader dies without releasing the Lease: the other replica takes it once it expires, and does the work
  // that comes next (the hostile requests, denied by policy, never signed).
  const killedAt = Date.now();
  replicas.get(leader)?.child.kill('SIGKILL');
  const follower = leader === 'replica-a' ? 'replica-b' : 'replica-a';
  await until('the follower to hold the Lease', async () => (await holder()) === follower, 30_000);
  assert.ok(Date.now() - killedAt < 15_000, `hand-over took ${Date.now() - killedAt} ms`);
  const hostile = await startScenarioRun(['hostile'], e.env);
  try {
    await until('hostile requests denied by the new leader', async () => {
      const out = ok(await e.kubectl(['get', 'csr'])).stdout;
      return /hostile-system-masters\s.*Denied/.test(out) && /hostile-escape-sequences\s.*Denied/.test(out);
    });
    assert.doesNotMatch(ok(await e.kubectl(['get', 'csr'])).stdout, /hostile-\S+\s.*Issued/);
  } finally {
    assert.equal(await hostile.interrupt(), 0);
  }
  assert.match(replicas.get(follower)?.log ?? '', /denied/i);
});

test('request --wait returns once approve lets the real kube-controller-manager issue', async () => {
  const out = join(e.dir, 'bob');
  const waiting = spawn(
    process.execPath,
    [
      resolve('bin/certdesk.js'),
      'request',
      '--cn',
      'bob',
      '--signer',
      'kubernetes.io/kube-apiserver-client',
      '--name',
      'bob',
      '--expiration',
      '1h',
      '--out-dir',
      out,
      '--wait',
      '--timeout',
      '60s',
    ],
    { env: e.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  waiting.stdout?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  waiting.stderr?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  const exited = new Promise<number>((r) => waiting.on('close', (code) => r(code ?? 1)));
  await until('CSR bob created', async () => (await e.kubectl(['get', 'csr', 'bob'])).code === 0);
  ok(await e.run(['approve', 'bob', '--reason', 'Onboarding', '--message', 'bob joins the team']));
  assert.equal(await exited, 0, text);
  const cert = readFileSync(join(out, 'server.crt'), 'utf8');
  assert.match(cert, /BEGIN CERTIFICATE/);
  const issuer = ok(await e.kubectl(['get', 'csr', 'bob', '-o', 'jsonpath={.status.certificate}'])).stdout;
  assert.equal(Buffer.from(issuer, 'base64').toString('utf8').trim(), cert.trim());
});

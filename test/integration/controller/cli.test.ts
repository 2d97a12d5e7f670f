// `certdesk controller` as a process: serves the calico rollout, exposes /metrics, exits 0 on SIGTERM after
// releasing its Lease; bad input ends with one line on stderr.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ControllerEnv, NAMESPACE, SA_GROUPS, SA_USER, SIGNER, startControllerEnv, waitFor } from './env.js';

const CLI = new URL('../../../src/cli.ts', import.meta.url).pathname;
let env: ControllerEnv;
let dir: string;
let kubeconfig: string;
let caCert: string;
let caKey: string;
const children: ChildProcess[] = [];

function certdesk(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-controller-cli-'));
  env = await startControllerEnv({
    scenarios: ['calico-rollout'],
    scenarioOptions: { 'calico-rollout': { nodes: 1 } },
  });
  kubeconfig = env.sandbox.clusters[0]?.writeKubeconfig(join(dir, 'kubeconfig'), SA_USER, SA_GROUPS) ?? '';
  caCert = join(dir, 'ca.crt');
  caKey = join(dir, 'ca.key');
  writeFileSync(caCert, env.caCertPem);
  writeFileSync(caKey, env.caKeyPem, { mode: 0o600 });
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('certdesk controller (process)', () => {
  it('runs the rollout to Available, serves /metrics, and on SIGTERM releases the lease and exits 0', async () => {
    const { child, out, exited } = certdesk([
      'controller',
      '--signer',
      SIGNER,
      '--approve',
      '--sign',
      '--ca-cert',
      caCert,
      '--ca-key',
      caKey,
      '--kubeconfig',
      kubeconfig,
      '--lease-namespace',
      NAMESPACE,
      '--lease-duration',
      '2',
      '--renew-deadline',
      '1.5',
      '--retry-period',
      '0.25',
      '--metrics-port',
      '0',
      '--metrics-address',
      '127.0.0.1',
      '--identity',
      'cli-replica',
    ]);
    const port = await waitFor(
      'the metrics port',
      () => out.stdout.match(/metrics address=\S+ port=(\d+)/)?.[1],
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; stdout: ${out.stdout.slice(-500)}; stderr: ${out.stderr.slice(-500)}`);
    });
    await waitFor(
      'TigeraStatus calico Available',
      async () => {
        const ts = (await env.custom.getClusterCustomObject({
          group: 'operator.tigera.io',
          version: 'v1',
          plural: 'tigerastatuses',
          name: 'calico',
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return ts.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      },
      60_000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^certdesk_controller_issued_total\{signer="example.com\/calico"\} [1-9]/m);
    assert.match(metrics, /^certdesk_controller_leader 1$/m);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.stderr);
    const lease = await env.leases.readNamespacedLease({ namespace: NAMESPACE, name: 'certdesk-controller' });
    assert.equal(lease.spec?.holderIdentity, '', 'the lease was released');
    assert.match(out.stdout, /released by cli-replica/);
    assert.doesNotMatch(out.stdout + out.stderr, /PRIVATE KEY/);
  });

  it('refuses a CA key readable by others, and a signer without a CA, in one line', async () => {
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, 'irrelevant', { mode: 0o644 });
    const a = certdesk([
      'controller',
      '--signer',
      SIGNER,
      '--sign',
      '--ca-cert',
      caCert,
      '--ca-key',
      loose,
      '--kubeconfig',
      kubeconfig,
    ]);
    const b = certdesk(['controller', '--signer', 'other.example.com/x', '--sign', '--kubeconfig', kubeconfig]);
    assert.equal(await a.exited, 1);
    assert.match(a.out.stderr, /^error: .*readable by group or others.*chmod 600/);
    assert.equal(a.out.stderr.trim().split('\n').length, 1, a.out.stderr);
    const c = certdesk([
      'controller',
      '--signer',
      SIGNER,
      '--sign',
      '--signer-ca',
      `other.example.com/x=${caCert},${caKey}`,
      '--kubeconfig',
      kubeconfig,
    ]);
    assert.equal(await b.exited, 2);
    assert.match(b.out.stderr, /^error: no CA for signer other.example.com\/x: pass --ca-cert/);
    assert.equal(await c.exited, 2);
    assert.match(
      c.out.stderr,
      /^error: --signer-ca names other.example.com\/x, which is not one of the --signer names/,
    );
  });
});

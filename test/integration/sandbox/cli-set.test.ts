// `certdesk sandbox --set SCENARIO.KEY=VALUE` reaches the scenario (calico-rollout with 2 nodes), and a bad value is
// a one-line usage error with exit code 1 before anything starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../../helpers/sandbox.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function cli(args: string[]): {
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  kill: (sig: NodeJS.Signals) => void;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sandbox', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => stdout, err: () => stderr, exited, kill: (sig) => child.kill(sig) };
}

describe('certdesk sandbox --set', () => {
  it('passes calico-rollout.nodes to the scenario', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'certdesk-sbx-set-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'kc');
    const run = cli([
      '--scenario',
      'calico-rollout',
      '--set',
      'calico-rollout.nodes=2',
      '--set',
      'calico-rollout.backoffMs=5000',
      '--kubeconfig-out',
      out,
      '--no-builtin-signers',
    ]);
    t.after(() => run.kill('SIGKILL'));
    await waitFor(() => run.out().includes('Press Ctrl-C to stop.'), 'the sandbox banner', 30_000);
    const kc = new KubeConfig();
    kc.loadFromFile(out);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'calico-system' });
    const nodes = pods.items.filter((p) => p.metadata?.name?.startsWith('calico-node-')).map((p) => p.spec?.nodeName);
    assert.deepEqual(nodes.sort(), ['node-1', 'node-2']);
    run.kill('SIGINT');
    assert.equal(await run.exited, 0);
  });

  it('a bad setting is one line on stderr and exit code 1', async () => {
    for (const args of [
      ['--scenario', 'calico-rollout', '--set', 'calico-rollout.nodes=many'],
      ['--set', 'calico-rollout.nodes=2'],
      ['--scenario', 'calico-rollout', '--set', 'calico-rollout.signerName=no-slash'],
    ]) {
      const run = cli(['--no-builtin-signers', ...args]);
      assert.equal(await run.exited, 1, args.join(' '));
      const lines = run.err().trim().split('\n');
      assert.equal(lines.length, 1, run.err());
      assert.match(lines[0] ?? '', /calico-rollout/);
      assert.equal(run.out(), '');
    }
  });
});

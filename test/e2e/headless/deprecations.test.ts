// The built binary causes no deprecation warning of its own. Node 22 and 24 print, by default, a deprecation
// warning when code outside node_modules uses a deprecated API (the built-in `punycode`, `url.parse()`); code in
// node_modules is left alone. Our bundle in dist/ is outside node_modules, so a dependency bundled into it that
// uses one prints the warning on every command — and over the TUI's screen (found on Node 22 and 24: client-node's
// node-fetch 2, bundled, did both). Node 20 only prints these with --pending-deprecation, and then also for code
// in node_modules; so the commands run here with --pending-deprecation --trace-deprecation, and every warning's
// first frame outside Node itself must be in node_modules, which is the rule Node 22 and 24 apply.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, type E2eEnv, startE2e } from './helpers.js';

const TRACE = { NODE_OPTIONS: '--pending-deprecation --trace-deprecation' };

/** Warnings (with --trace-deprecation) whose first frame outside Node's own code is not in node_modules. */
function ownDeprecations(stderr: string): string[] {
  const own: string[] = [];
  const blocks = stderr.split(/(?=\(node:\d+\) \[DEP\d+\])/).filter((b) => /^\(node:\d+\) \[DEP\d+\]/.test(b));
  for (const block of blocks) {
    const frames = block.split('\n').filter((l) => /^\s+at /.test(l));
    // A frame's location: in the last parentheses, or after `at`. Node's own code is `node:…`; `<anonymous>` is
    // a native frame such as `new Promise`.
    const location = (f: string) => /\(([^()]*)\)\s*$/.exec(f)?.[1] ?? f.trim().slice(3);
    const first = frames.find((f) => !/^(node:|<anonymous>$)/.test(location(f)));
    if (!first?.includes('/node_modules/')) own.push(`${block.split('\n')[0]} — first frame: ${first ?? 'none'}`);
  }
  return own;
}

describe('built binary: no deprecation warnings of its own (the rule Node 22 and 24 apply)', () => {
  let e: E2eEnv;
  before(async () => {
    e = await startE2e({ scenarios: ['calico-rollout'] });
  });
  after(async () => {
    await e?.stop();
  });

  it('the checker itself: a warning from dist/ counts, one from node_modules does not', () => {
    const fromDist =
      '(node:1) [DEP0169] DeprecationWarning: x\n    at urlParse (node:url:1:1)\n    at f (/a/dist/c.js:1:1)\n';
    const fromDeps =
      '(node:1) [DEP0040] DeprecationWarning: y\n    at node:punycode:5:10\n    at g (/a/node_modules/tr46/index.js:3:1)\n';
    assert.equal(ownDeprecations(fromDist + fromDeps).length, 1);
    assert.equal(ownDeprecations(fromDeps).length, 0);
  });

  for (const args of [
    ['--help'],
    ['get', 'csr'],
    ['get', 'csr', '-o', 'yaml'],
    ['health'],
    ['ca', 'init', '--signer', 'example.com/deprecations', '--days', '30'],
    ['ca', 'list'],
  ]) {
    it(`certdesk ${args.join(' ')}`, async () => {
      const r = await e.run(args, TRACE);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ownDeprecations(r.stderr), []);
    });
  }

  it('certdesk inspect on bad input: one error line', async () => {
    const file = join(e.dir, 'garbage.pem');
    writeFileSync(file, 'not a certificate');
    const r = await e.run(['inspect', file], TRACE);
    assert.equal(r.code, 1);
    assert.deepEqual(ownDeprecations(r.stderr), []);
  });

  it('certdesk sandbox with a scenario (client-node API clients, node-fetch)', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'sandbox', '--scenario', 'calico-rollout', '--kubeconfig-out', join(e.dir, 'sandbox-kubeconfig')],
      { env: { ...e.env, ...TRACE }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the scenario did not start: ${stderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Every CSR created through the API clients: their requests have gone through node-fetch.
        if (/wait for certificates from signer/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      await done;
    } finally {
      child.kill('SIGTERM');
    }
    assert.deepEqual(ownDeprecations(stderr), []);
  });
});

// The built binary prints no deprecation warnings. Node 22 and 24 print some by default that Node 20 only prints
// with --pending-deprecation (the built-in `punycode`, which a bundled dependency loaded, printed DEP0040 on every
// cluster command on Node 22); so the commands run here with --pending-deprecation, which shows them on all three.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type E2eEnv, startE2e } from './helpers.js';

describe('built binary: no deprecation warnings', () => {
  let e: E2eEnv;
  before(async () => {
    e = await startE2e({ scenarios: ['calico-rollout'] });
  });
  after(async () => {
    await e?.stop();
  });

  const pending = { NODE_OPTIONS: '--pending-deprecation' };

  for (const args of [
    ['--help'],
    ['get', 'csr'],
    ['get', 'csr', '-o', 'yaml'],
    ['health'],
    ['ca', 'init', '--signer', 'example.com/deprecations', '--days', '30'],
    ['ca', 'list'],
  ]) {
    it(`certdesk ${args.join(' ')}`, async () => {
      const r = await e.run(args, pending);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /DeprecationWarning|\(node:\d+\)/, r.stderr);
    });
  }

  it('certdesk inspect on bad input: one error line, no warning', async () => {
    const file = join(e.dir, 'garbage.pem');
    writeFileSync(file, 'not a certificate');
    const r = await e.run(['inspect', file], pending);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});

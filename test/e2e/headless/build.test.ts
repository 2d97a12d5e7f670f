// scripts/build.mjs builds only when its inputs changed: a second build is a no-op that leaves dist/ alone, and
// editing a source builds again. Runs on a copy of the inputs (node_modules linked), never on this checkout's dist/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

describe('scripts/build.mjs builds only when a source changed', { timeout: 240_000 }, () => {
  let dir: string;
  const build = async () => {
    const t0 = performance.now();
    const { stderr } = await run(process.execPath, ['scripts/build.mjs'], { cwd: dir });
    return { stderr, ms: performance.now() - t0 };
  };
  const cliMtime = () => statSync(join(dir, 'dist', 'cli.js')).mtimeMs;
  const version = async () => (await run(process.execPath, ['bin/certdesk.js', '--version'], { cwd: dir })).stdout;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'certdesk-build-'));
    for (const p of ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      cpSync(join(root, p), join(dir, p), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds, skips an unchanged second build, and rebuilds after an edit', async () => {
    const first = await build();
    assert.doesNotMatch(first.stderr, /up to date/);
    const builtAt = cliMtime();
    const expected = (await run(process.execPath, [join(root, 'bin/certdesk.js'), '--version'])).stdout;
    assert.equal(await version(), expected);

    const second = await build();
    assert.match(second.stderr, /dist\/ is up to date/);
    assert.equal(cliMtime(), builtAt, 'dist/ left as it was');
    // A no-op reads and hashes the inputs: well under a second (a build takes 10-30 s on the shared machine).
    assert.ok(second.ms < 5_000, `the no-op took ${second.ms.toFixed(0)} ms`);

    appendFileSync(join(dir, 'src', 'cli.ts'), '\n// edited\n');
    const third = await build();
    assert.doesNotMatch(third.stderr, /up to date/);
    assert.notEqual(cliMtime(), builtAt, 'dist/ rebuilt after a source changed');
    assert.equal(await version(), expected);
    assert.match((await build()).stderr, /up to date/);
  });
});

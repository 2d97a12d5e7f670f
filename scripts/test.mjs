// Runs the test suite with node's test runner (TypeScript through tsx) and ends with the line
// `N passed, N failed` that CI reads. Usage: node scripts/test.mjs [unit|views|integration|e2e|real ...]
// Without groups it runs every group but `real` (the real kube-apiserver tier: `npm run test:real`).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const groups = process.argv.slice(2);
const roots = groups.length
  ? groups.map((g) => join('test', g))
  : readdirSync('test')
      .filter((g) => g !== 'real' && statSync(join('test', g)).isDirectory())
      .map((g) => join('test', g));

function collect(dir, acc) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, acc);
    else if (/\.test\.tsx?$/.test(name)) acc.push(path);
  }
  return acc;
}
const files = roots.flatMap((r) => collect(r, [])).sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}

const tap = join(mkdtempSync(join(tmpdir(), 'certdesk-test-')), 'report.tap');
const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  '--test-timeout=180000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...files,
];
// A test that forgets its own directories writes to these, never to this machine's CA registry or audit log.
const scratch = mkdtempSync(join(tmpdir(), 'certdesk-test-home-'));
const env = {
  CERTDESK_CONFIG_DIR: join(scratch, 'config'),
  CERTDESK_STATE_DIR: join(scratch, 'state'),
  ...process.env,
  FORCE_COLOR: '0',
};
const child = spawn(process.execPath, args, { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  let text = '';
  try {
    text = readFileSync(tap, 'utf8');
  } catch {}
  const count = (key) => Number([...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped') + count('todo');
  const ok = code === 0 && failed === 0 && passed > 0;
  console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed, ${skipped} skipped`);
  if (signal) console.error(`test runner ended by ${signal}`);
  process.exit(ok ? 0 : code || 1);
});

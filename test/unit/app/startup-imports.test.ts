// What the TUI's start loads: every module imported before the first frame is CPU the listing does not pay. The CA
// registry (conf and its JSON-schema validator, ajv: ~0.2 s of CPU at start) loads when a CA is first needed, never
// with the App, the renewal radar's watch or run-tui (docs/tui.md, "Start-up").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = (path: string) => fileURLToPath(new URL(`../../../src/${path}`, import.meta.url));

/** How many of ajv's files a fresh process has loaded after importing `modules` (ajv is CommonJS: require.cache). */
function ajvFilesAfter(modules: string[]): number {
  const script = [
    "import { createRequire } from 'node:module';",
    ...modules.map((m) => `await import(${JSON.stringify(m)});`),
    'const cache = createRequire(import.meta.url).cache;',
    "console.log(Object.keys(cache).filter((k) => k.includes('/node_modules/ajv/')).length);",
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

describe('TUI start-up imports', () => {
  it('the App, run-tui and the certificates watch do not load the CA registry', () => {
    assert.equal(ajvFilesAfter([src('app/run-tui.ts'), src('app/app.tsx'), src('services/certs/watch.ts')]), 0);
    // The check can fail: the registry itself does load ajv.
    assert.ok(ajvFilesAfter([src('services/config/ca-registry.ts')]) > 0);
  });
});

// Ink's Output class (an internal of Ink: its package exports only the index), from the copy of Ink that
// `import('ink')` loads. Run from source (tsx, tests) that is node_modules' Ink, found next to its index. The build
// bundles Ink and puts in place of this module one that imports the bundled output.js (scripts/build.mjs), so the
// class patched is the one the binary draws with.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadInkOutput(): Promise<unknown> {
  const index = createRequire(import.meta.url).resolve('ink');
  const mod = (await import(pathToFileURL(join(dirname(index), 'output.js')).href)) as { default: unknown };
  return mod.default;
}

// Bundles src/cli.ts into dist/ with esbuild: one ESM entry plus lazily loaded chunks per face,
// so `certdesk --help` does not load React, the Kubernetes client or the PKI stack.
import { rename, rm, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const out = `dist.tmp-${process.pid}`;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  jsx: 'automatic',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
// Swap atomically so a concurrent run of the binary never sees a half-written dist/.
const old = `dist.old-${process.pid}`;
await rename('dist', old).catch(() => {});
await rename(out, 'dist');
await rm(old, { recursive: true, force: true });

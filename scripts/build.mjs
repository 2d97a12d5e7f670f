// Bundles src/cli.ts into dist/ with esbuild: one ESM entry plus lazily loaded chunks per face,
// so `certdesk --help` does not load React, the Kubernetes client or the PKI stack.
//
// Most packages stay external (imported from node_modules at run time). A few are bundled because loading them from
// node_modules dominated startup (docs/performance.md, "Startup"):
// - @kubernetes/client-node, with its modules marked side-effect free, so a command that only needs KubeConfig and
//   a few model classes gets those (~40 kB) instead of ~2,500 generated models and ~70 API classes (~3,000 files);
// - the packages client-node imports (node-fetch, js-yaml, openid-client, socks-proxy-agent, …), which would
//   otherwise be hundreds of small files resolved and compiled one by one;
// - commander (every command, --help included) and yaml (every command's output);
// - ink and react (the TUI): from node_modules, Node resolved, opened and lexed some 150 files and took 0.36-0.75 s
//   to import them; bundled, 0.11-0.14 s. Ink's Output class, which src/views/ink-line-cache.ts patches, is then
//   the bundled one: src/views/ink-output.ts is replaced by a module importing it (NARROWED below).
// Bundled CommonJS code calls require() for Node's built-ins; the banner gives each ESM chunk a real one.
//
// A build is skipped when dist/ was built from the same inputs (BUILD_INPUTS: a SHA-256 of their paths and contents,
// kept in dist/.build-stamp), so `npm run demo`, `npm test` and `npm run bench` start at once when nothing changed.
// To build anyway (e.g. after editing a package inside node_modules by hand), remove dist/.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { patchStringWidth } from './string-width-patch.mjs';

/** Packages bundled when imported from our own sources; whatever they import is bundled with them. */
const BUNDLED = new Set(['@kubernetes/client-node', 'commander', 'yaml', 'ink', 'react']);
/** Ink's own output.js (not in its package exports, so by path), for src/views/ink-output.ts in the bundle. */
const INK_OUTPUT = join(dirname(createRequire(import.meta.url).resolve('ink')), 'output.js');
const INK_OUTPUT_MODULE = `import Output from ${JSON.stringify(INK_OUTPUT)};\nexport async function loadInkOutput() {\n  return Output;\n}\n`;
/**
 * Packages that bundled packages import but that stay in node_modules. node-fetch 2 (client-node's) calls
 * `url.parse()`, and through whatwg-url 5 and tr46 loads the built-in `punycode`; Node 24 and 22 print a
 * deprecation warning (DEP0169, DEP0040) when code outside node_modules does that, which a bundle in dist/ is —
 * over the TUI's screen, in `certdesk demo`. Loaded from node_modules, the same code is left alone, as Node intends
 * for dependencies. It is a production dependency of ours so that it resolves from dist/.
 */
const LEFT_IN_NODE_MODULES = new Set(['node-fetch']);
/** yoga-layout 3.x's wasm loader: `fetch` when there is one, else its synchronous base64 decoder (see below). */
const YOGA_FETCH = 'function ya(){return w||"function"!=typeof fetch?';
const YOGA_NO_FETCH = 'function ya(){return true?';
/** Packages whose modules have no import-time side effects that anything relies on (checked: no bare imports). */
const SIDE_EFFECT_FREE = ['/node_modules/@kubernetes/client-node/'];
/**
 * node-fetch for the two client-node modules every kubeconfig reader loads: config.js (Headers, used only in
 * applyToFetchOptions) and the default HTTP library of the generated API clients (fetch, used only when a request
 * is sent). Both run only in client-node's own API clients (the sandbox, the controller), so node-fetch — with
 * whatwg-url, tr46 and its 260 kB mapping table — loads then, from node_modules (see LEFT_IN_NODE_MODULES), and
 * not at the start of every command (~15 ms).
 */
const LAZY_NODE_FETCH = [
  "import { createRequire } from 'node:module';",
  'let nodeFetch;',
  "const load = () => (nodeFetch ??= createRequire(import.meta.url)('node-fetch'));",
  'export default function fetch(url, init) {',
  '  return load()(url, init);',
  '}',
  'export function Headers(init) {',
  '  return new (load().Headers)(init);',
  '}',
  '',
].join('\n');

/**
 * Imports replaced in the bundle by a module of our own, keyed by the importing file and the import:
 * - Barrel imports inside bundled packages, replaced by the few names actually imported. esbuild assigns whole
 *   files to chunks by which commands can reach them through imports, used or not: client-node's config.js
 *   (KubeConfig) imports two functions from gen/index.js, which re-exports every model and API, so without this
 *   every command that reads a kubeconfig would load the chunk holding all of them (~5 MB). If an upgrade of
 *   client-node imports more from there, the build fails with "No matching export" instead of silently loading
 *   the whole barrel.
 * - node-fetch, loaded on first use (LAZY_NODE_FETCH); node:http, required (REQUIRED_HTTP).
 * - src/views/ink-output.ts, replaced by a module importing the bundled Ink's output.js (INK_OUTPUT_MODULE).
 */
/**
 * node:http through require() instead of an ESM import. An ESM import of a built-in builds a facade that reads every
 * export, and Node 22+ export WebSocket and friends from node:http as getters that load undici (~20 ms at the start
 * of every command that reads a kubeconfig, seen in a profile of `certdesk get csr` on Node 22).
 */
const REQUIRED_HTTP =
  "import { createRequire } from 'node:module';\nexport default createRequire(import.meta.url)('node:http');\n";

const NARROWED = {
  '/node_modules/@kubernetes/client-node/dist/config.js': {
    'node:http': REQUIRED_HTTP,
    './gen/index.js':
      "export { createConfiguration } from './configuration.js';\nexport { ServerConfiguration } from './servers.js';\n",
    'node-fetch': LAZY_NODE_FETCH,
  },
  '/node_modules/@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js': { 'node-fetch': LAZY_NODE_FETCH },
  '/src/views/ink-line-cache.ts': { './ink-output.js': INK_OUTPUT_MODULE },
};

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isBare = (spec) => !spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('node:');

/** @type {import('esbuild').Plugin} */
const dependencies = {
  name: 'certdesk-dependencies',
  setup(b) {
    b.onLoad({ filter: /.*/, namespace: 'certdesk-narrowed' }, (args) => ({
      contents: args.pluginData.contents,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
    // Yoga (Ink's layout engine) ships its WebAssembly as a base64 data: URL and, where `fetch` exists, loads it
    // with fetch(). On Node that first touch of `fetch` loads undici (~20 ms) to decode a data: URL; the module's
    // own synchronous decoder does the same work without it. Only an optimisation: if an upgrade changes the
    // code, the build says so and leaves it alone.
    b.onLoad({ filter: /[/\\]yoga-layout[/\\]dist[/\\]binaries[/\\]yoga-wasm-base64-esm\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const parts = source.split(YOGA_FETCH);
      if (parts.length !== 2) {
        console.warn(`build: yoga-layout no longer loads its wasm as expected; ${args.path} left as it is`);
        return undefined;
      }
      return { contents: parts.join(YOGA_NO_FETCH), loader: 'js' };
    });
    // string-width's emoji class, built on first need instead of when Ink loads (scripts/string-width-patch.mjs).
    b.onLoad({ filter: /[/\\]node_modules[/\\]string-width[/\\]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      // string-width 7 (wrap-ansi's) has no such class: it is left as it is, as are modules it does not know.
      if (!source.includes('rgiEmojiRegex')) return undefined;
      const patched = patchStringWidth(source);
      if (patched === undefined) {
        console.warn(`build: string-width no longer builds its emoji class as expected; ${args.path} left as it is`);
        return undefined;
      }
      return { contents: patched, loader: 'js' };
    });
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.certdeskResolved || args.kind === 'entry-point') return undefined;
      const narrowed = Object.entries(NARROWED).find(([file]) => args.importer.endsWith(file))?.[1]?.[args.path];
      if (narrowed) {
        const path = join(args.resolveDir, args.path);
        return { path, namespace: 'certdesk-narrowed', sideEffects: false, pluginData: { contents: narrowed } };
      }
      if (LEFT_IN_NODE_MODULES.has(args.path) && args.importer.includes('/node_modules/')) {
        return { path: args.path, external: true };
      }
      const fromPackage = args.importer.includes('/node_modules/');
      if (isBare(args.path) && !fromPackage && !BUNDLED.has(packageName(args.path))) {
        return { path: args.path, external: true };
      }
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { certdeskResolved: true },
      });
      // An optional dependency that is not installed (node-fetch's `encoding`, ws's `bufferutil`, …) is required
      // inside try/catch by its package: leave the require() for run time, where it fails and is caught as before.
      if (resolved.errors.length && isBare(args.path) && fromPackage) return { path: args.path, external: true };
      if (resolved.errors.length || resolved.external) return resolved;
      if (SIDE_EFFECT_FREE.some((dir) => resolved.path.includes(dir))) return { ...resolved, sideEffects: false };
      return resolved;
    });
  },
};

/**
 * Packages that bundled code requires at run time only if they are installed, inside try/catch or behind a
 * condition, and that certdesk does not install: node-fetch's `encoding`, debug's `supports-color`, ws's
 * `bufferutil` and `utf-8-validate`, and `react-devtools-core`, which Ink loads only when DEV=true.
 */
const OPTIONAL_AT_RUN_TIME = new Set([
  'encoding',
  'supports-color',
  'bufferutil',
  'utf-8-validate',
  'react-devtools-core',
]);

/**
 * Every package dist/ still imports must be a production dependency: an image or `npm install --omit=dev` has
 * nothing else (deploy/Dockerfile prunes the dev dependencies). Fails the build otherwise.
 */
function checkExternals(metafile) {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const production = new Set(Object.keys(pkg.dependencies ?? {}));
  const missing = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || !isBare(imported.path) || isBuiltin(imported.path)) continue;
      const name = packageName(imported.path);
      if (!production.has(name) && !OPTIONAL_AT_RUN_TIME.has(name)) missing.add(name);
    }
  }
  if (missing.size > 0) {
    throw new Error(`dist/ imports packages that are not production dependencies: ${[...missing].join(', ')}`);
  }
}

/**
 * What dist/ is built from: our sources, this script, the compiler settings, and the dependencies' versions (the
 * lockfile; bundled packages come from node_modules). assets/ is read at run time, not bundled, so it is not here.
 */
const BUILD_INPUTS = [
  'src',
  'scripts/build.mjs',
  'scripts/string-width-patch.mjs',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];
const STAMP = '.build-stamp';

async function filesUnder(path) {
  const entries = await readdir(path, { withFileTypes: true }).catch((err) => {
    if (err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!entries) return [path];
  const nested = await Promise.all(entries.map((e) => filesUnder(join(path, e.name))));
  return nested.flat();
}

/** SHA-256 over every input file's path and content, in path order. */
async function inputsHash() {
  const files = (await Promise.all(BUILD_INPUTS.map(filesUnder))).flat().sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const content = await readFile(file);
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

const stamp = `${await inputsHash()}\n`;
const built = await readFile(join('dist', STAMP), 'utf8').catch(() => '');
if (built === stamp) {
  console.error('build: dist/ is up to date (no source changed since it was built).');
  process.exit(0);
}

const { build } = await import('esbuild');
const out = `dist.tmp-${process.pid}`;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
// A failed build (esbuild's errors, checkExternals) leaves no half-written dist.tmp-* behind.
try {
  const result = await build({
    entryPoints: { cli: 'src/cli.ts' },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [dependencies],
    banner: {
      js: "import { createRequire as __certdeskCreateRequire } from 'node:module';\nconst require = __certdeskCreateRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    jsx: 'automatic',
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    metafile: true,
  });
  checkExternals(result.metafile);
  await writeFile(join(out, STAMP), stamp);
} catch (err) {
  await rm(out, { recursive: true, force: true });
  throw err;
}
// Swap atomically so a concurrent run of the binary never sees a half-written dist/.
const old = `dist.old-${process.pid}`;
await rename('dist', old).catch(() => {});
await rename(out, 'dist');
await rm(old, { recursive: true, force: true });

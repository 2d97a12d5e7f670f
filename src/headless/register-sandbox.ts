// Declares the sandbox commands; each action imports its implementation lazily.
import { type Command, InvalidArgumentError } from 'commander';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('Give a number from 1 to 65535.');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Give a whole number, 0 or more.');
  return n;
}

export function registerSandboxCommands(program: Command): void {
  program
    .command('sandbox')
    .description('Start an embedded Kubernetes API server per simulated cluster (for tests, demos and practice).')
    .option('--clusters <names>', 'comma-separated cluster names', collect)
    .option('--scenario <name>', 'scenario to run; repeat or comma-separate for several', collect)
    .option('--port <n>', 'first port (cluster i listens on port+i; default: random free ports)', parsePort)
    .option('--kubeconfig-out <path>', 'where to write the kubeconfig (default: a temp file)')
    .option('--no-builtin-signers', "don't run the clusters' kubernetes.io signers")
    .option('--scale-csrs <n>', 'CSRs to preload (the scale scenario; default 10000)', parseCount)
    .option('--scale-pods <n>', 'pods to preload (the scale scenario; default 5000)', parseCount)
    .action(async (opts: SandboxCommandOptions) => {
      const { runSandbox } = await import('./sandbox.js');
      await runSandbox(opts);
    });

  program
    .command('demo')
    .description('A two-cluster sandbox with every scenario but scale and demo CAs, then the TUI on it.')
    .option('--port <n>', 'first port (default: random free ports)', parsePort)
    .option('--kubeconfig-out <path>', 'where to write the kubeconfig (default: a temp file)')
    .option('--no-tui', "don't open the TUI; print how to use the demo with kubectl and serve until Ctrl-C")
    .action(async (opts: { port?: number; kubeconfigOut?: string; tui?: boolean }) => {
      const { runDemo } = await import('./sandbox.js');
      await runDemo(opts);
    });
}

export interface SandboxCommandOptions {
  clusters?: string[];
  scenario?: string[];
  port?: number;
  kubeconfigOut?: string;
  builtinSigners?: boolean;
  scaleCsrs?: number;
  scalePods?: number;
}

// `certdesk sandbox` and `certdesk demo`: start the embedded API servers, say where they are, serve until Ctrl-C.
import { type Sandbox, type SandboxOptions, startSandbox } from '../services/sandbox/index.js';
import { CliError } from './cli-error.js';
import type { SandboxCommandOptions } from './register-sandbox.js';

function explain(sb: Sandbox, title: string): string {
  const lines = [
    title,
    '',
    ...sb.clusters.map((c) => `  ${c.name.padEnd(10)} ${c.server}   contexts: ${c.name} (admin), ${c.name}-viewer`),
    '',
    `kubeconfig: ${sb.kubeconfigPath}`,
    '',
    'Try:',
    `  export KUBECONFIG=${sb.kubeconfigPath}`,
    '  kubectl get csr',
    '  kubectl get pods -A',
    `  kubectl --context ${sb.clusters[0]?.name ?? 'east'}-viewer get csr`,
    '  kubectl certificate approve <name>',
    '',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

async function serveUntilSignal(sb: { stop(): Promise<void> }): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  process.stderr.write('stopping the sandbox…\n');
  await sb.stop();
}

async function start(options: SandboxOptions): Promise<Sandbox> {
  try {
    return await startSandbox(options);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
}

export async function runSandbox(opts: SandboxCommandOptions): Promise<void> {
  const options: SandboxOptions = { log: (line) => process.stderr.write(`${line}\n`) };
  if (opts.clusters?.length) options.clusters = opts.clusters;
  if (opts.scenario?.length) options.scenarios = opts.scenario;
  if (opts.port !== undefined) options.port = opts.port;
  if (opts.kubeconfigOut) options.kubeconfigOut = opts.kubeconfigOut;
  if (opts.builtinSigners === false) options.builtinSigners = false;
  if (opts.scaleCsrs !== undefined || opts.scalePods !== undefined) {
    options.scale = { csrs: opts.scaleCsrs ?? 10_000, pods: opts.scalePods ?? 5_000 };
  }
  const sb = await start(options);
  process.stdout.write(explain(sb, `certdesk sandbox: ${sb.clusters.length} cluster(s) serving.`));
  await serveUntilSignal(sb);
}

export async function runDemo(opts: { port?: number; kubeconfigOut?: string }): Promise<void> {
  const { startDemo, describeDemo } = await import('../services/sandbox/demo.js');
  const options: Parameters<typeof startDemo>[0] = { log: (line) => process.stderr.write(`${line}\n`) };
  if (opts.port !== undefined) options.port = opts.port;
  if (opts.kubeconfigOut) options.kubeconfigOut = opts.kubeconfigOut;
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo(options);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  process.stdout.write(describeDemo(demo));
  await serveUntilSignal(demo);
}

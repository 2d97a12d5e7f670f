// `certdesk sandbox` and `certdesk demo`: start the embedded API servers, say where they are, serve until Ctrl-C.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
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
  if (opts.set?.length) {
    const { parseScenarioSettings, ScenarioOptionError } = await import('../services/sandbox/scenarios/options.js');
    const running = [...(opts.scenario ?? []), ...(options.scale ? ['scale'] : [])];
    try {
      options.scenarioOptions = parseScenarioSettings(opts.set, running);
    } catch (err) {
      if (err instanceof ScenarioOptionError) throw new CliError(err.message);
      throw err;
    }
  }
  const sb = await start(options);
  process.stdout.write(explain(sb, `certdesk sandbox: ${sb.clusters.length} cluster(s) serving.`));
  await serveUntilSignal(sb);
}

export async function runDemo(opts: { port?: number; kubeconfigOut?: string; tui?: boolean }): Promise<void> {
  const { startDemo, describeDemo } = await import('../services/sandbox/demo.js');
  const interactive = opts.tui !== false && process.stdout.isTTY === true && process.stdin.isTTY === true;
  // With the TUI on screen, scenario chatter would scribble over it.
  const log = interactive ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const options: Parameters<typeof startDemo>[0] = { log };
  if (opts.port !== undefined) options.port = opts.port;
  if (opts.kubeconfigOut) options.kubeconfigOut = opts.kubeconfigOut;
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo(options);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  // The demo's CA keys live in a temp dir: remove it however the process ends.
  const caDir = demo.caDir;
  const sandboxDir = opts.kubeconfigOut ? undefined : dirname(demo.sandbox.kubeconfigPath);
  const cleanup = (): void => {
    rmSync(caDir, { recursive: true, force: true });
    if (sandboxDir) rmSync(sandboxDir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  if (!interactive) {
    process.stdout.write(describeDemo(demo));
    await serveUntilSignal(demo);
    return;
  }
  const { exitSoonAfterTui, runTui } = await import('../app/run-tui.js');
  try {
    await runTui({
      kubeconfig: demo.sandbox.kubeconfigPath,
      contexts: demo.sandbox.clusters.map((c) => c.contextName),
      demo: { kubeconfig: demo.sandbox.kubeconfigPath, janeKey: demo.janeKeyPath },
    });
  } finally {
    await demo.stop();
    process.off('exit', cleanup);
    exitSoonAfterTui();
  }
}

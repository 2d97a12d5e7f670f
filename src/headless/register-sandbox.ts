// Declares the sandbox commands; each action imports its implementation lazily.
import { type Command, InvalidArgumentError } from 'commander';
import { withKube } from './register-kube.js';
import type { ScenarioCommandOptions } from './scenario.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const SET_HELP = `
Scenario options (--set SCENARIO.KEY=VALUE, repeatable; numbers are parsed; the scenario must be run):
  calico-rollout.nodes=N (1-500, default 3), calico-rollout.signerName=DOMAIN/NAME,
  calico-rollout.keyAlgorithm=RSAWithSize2048|…|ECDSAWithCurve256|…, calico-rollout.signatureAlgorithm=…,
  calico-rollout.backoffMs=N, calico-rollout.podInitializingMs=N, calico-rollout.caCertPem=PEM,
  istio-signers.ttlSeconds=N (600 or more), istio-signers.deleteAfterMs=N, onboarding.keyOut=PATH,
  hostile.signerName=DOMAIN/NAME, scale.csrs=N, scale.pods=N, pod-certificates.pods=N (default 3),
  pod-certificates.signerName=DOMAIN/NAME (default example.com/pod-identity), pod-certificates.backoffMs=N

Example:
  certdesk sandbox --scenario calico-rollout --set calico-rollout.nodes=20 --set calico-rollout.backoffMs=5000
`;

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
    .option('--set <scenario.key=value>', 'a scenario option, e.g. calico-rollout.nodes=10 (repeatable)', collectRaw)
    .addHelpText('after', SET_HELP)
    .action(async (opts: SandboxCommandOptions) => {
      const { runSandbox } = await import('./sandbox.js');
      await runSandbox(opts);
    });

  const scenario = program
    .command('scenario')
    .description("Run the sandbox's scenarios against any cluster (a kind cluster, npm run real-apiserver).");
  withKube(
    scenario
      .command('run')
      .argument(
        '<name...>',
        'calico-rollout, istio-signers, onboarding, hostile, certificates, pod-certificates, scale',
      )
      .description(
        "Act as the scenarios' components (impersonated from the admin context) until Ctrl-C, then remove what they created.",
      ),
  )
    .option('--set <scenario.key=value>', 'a scenario option, e.g. calico-rollout.nodes=10 (repeatable)', collectRaw)
    .option('--yes', 'run on a cluster certdesk did not create (it writes namespaces, RBAC, CRDs, nodes, pods, CSRs)')
    .addHelpText(
      'after',
      SET_HELP.replace('certdesk sandbox --scenario calico-rollout', 'certdesk scenario run calico-rollout'),
    )
    .action(async (names: string[], opts: ScenarioCommandOptions) => {
      const { runScenarioCommand } = await import('./scenario.js');
      await runScenarioCommand(names, opts);
    });
  withKube(
    scenario
      .command('clean')
      .argument('<name...>', 'the scenarios whose objects to remove')
      .description('Remove what scenario runs left (objects labelled certdesk.dev/scenario=NAME), e.g. after kill -9.'),
  )
    .option('--yes', 'clean a cluster certdesk did not create')
    .action(async (names: string[], opts: ScenarioCommandOptions) => {
      const { cleanScenarioCommand } = await import('./scenario.js');
      await cleanScenarioCommand(names, opts);
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
  set?: string[];
}

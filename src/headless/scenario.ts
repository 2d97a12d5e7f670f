// `certdesk scenario run NAME...`: the sandbox's scenarios against any cluster, as API clients with each component's
// identity (impersonation from the admin context), until Ctrl-C; then what they created is removed.
// `certdesk scenario clean NAME...` removes what an earlier run left (after a kill -9).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import type { ClusterContext } from '../services/kube/api-types.js';
import { describeError } from '../services/sandbox/scenarios/kube.js';
import { cleanupScenarios, runScenarios, unknownScenario } from '../services/sandbox/scenarios/run.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { CliError } from './cli-error.js';
import { contextFrom, type KubeCliOptions } from './commands/common.js';

export interface ScenarioCommandOptions extends KubeCliOptions {
  set?: string[];
  yes?: boolean;
}

/** The kubeconfig extension `certdesk sandbox` and `npm run real-apiserver` put on the clusters they create. */
export const CREATED_BY_EXTENSION = 'certdesk.dev/created-by';

/** Who created the context's cluster, from the kubeconfig entry that defines it (the first file wins, as kubectl). */
export function createdBy(opts: KubeCliOptions, ctx: ClusterContext): string | undefined {
  const paths = opts.kubeconfig ?? process.env.KUBECONFIG ?? join(process.env.HOME ?? homedir(), '.kube', 'config');
  for (const file of paths.split(delimiter).filter(Boolean)) {
    let doc: { clusters?: { name?: string; cluster?: { extensions?: { name?: string; extension?: unknown }[] } }[] };
    try {
      doc = parse(readFileSync(file, 'utf8')) ?? {};
    } catch {
      continue;
    }
    const entry = doc.clusters?.find((c) => c.name === ctx.cluster);
    if (!entry) continue;
    const ext = entry.cluster?.extensions?.find((e) => e.name === CREATED_BY_EXTENSION)?.extension;
    const by = (ext as { by?: unknown } | undefined)?.by;
    return typeof by === 'string' ? by : undefined;
  }
  return undefined;
}

function checkNames(names: string[]): void {
  for (const name of names) {
    const problem = unknownScenario(name);
    if (problem) throw new CliError(terminalSafe(problem));
  }
}

function line(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`);
}

async function clean(ctx: ClusterContext, names: string[]): Promise<void> {
  const removed = await cleanupScenarios(ctx.kubeConfig, names, line);
  const parts = Object.entries(removed).map(([kind, n]) => `${n} ${kind}`);
  line(`removed ${parts.length ? parts.join(', ') : 'nothing'} labelled certdesk.dev/scenario in (${names.join(',')})`);
}

export async function runScenarioCommand(names: string[], opts: ScenarioCommandOptions): Promise<void> {
  checkNames(names);
  let scenarioOptions: Record<string, Record<string, unknown>> = {};
  if (opts.set?.length) {
    const { parseScenarioSettings, ScenarioOptionError } = await import('../services/sandbox/scenarios/options.js');
    try {
      scenarioOptions = parseScenarioSettings(opts.set, names);
    } catch (err) {
      if (err instanceof ScenarioOptionError) throw new CliError(err.message.replace('add --scenario', 'name it'));
      throw err;
    }
  }
  const ctx = contextFrom(opts);
  const by = createdBy(opts, ctx);
  if (!by && !opts.yes) {
    throw new CliError(
      `context "${terminalSafe(ctx.name)}" is not a cluster certdesk created (certdesk sandbox, npm run real-apiserver), and scenarios write namespaces, RBAC, CRDs, nodes, pods and CSRs to it; pass --yes to run them there anyway`,
    );
  }
  const abort = new AbortController();
  let interrupted = false;
  const stop = (): void => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const log = (text: string): void => {
    if (!abort.signal.aborted) line(`[${ctx.name}] ${text}`);
  };
  try {
    await runScenarios({
      admin: ctx.kubeConfig,
      name: ctx.name,
      scenarios: names,
      scenarioOptions,
      signal: abort.signal,
      log,
    });
    if (!interrupted) {
      process.stdout.write(
        `certdesk scenario: ${names.join(', ')} running on context ${terminalSafe(ctx.name)} (${terminalSafe(ctx.server)}).\nPress Ctrl-C to stop and remove what the scenarios created.\n`,
      );
      // Scenarios that only submit (hostile, onboarding) leave nothing pending: hold the process until Ctrl-C.
      const hold = setInterval(() => {}, 3_600_000);
      await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
      clearInterval(hold);
    }
  } catch (err) {
    abort.abort();
    line(`stopping: ${describeError(err)}`);
    await clean(ctx, names);
    throw new CliError(`scenario run failed on context ${terminalSafe(ctx.name)}: ${terminalSafe(describeError(err))}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  line('stopping the scenarios and removing what they created…');
  // Let requests already on the wire land before their objects are removed.
  await new Promise((r) => setTimeout(r, 300));
  await clean(ctx, names);
}

export async function cleanScenarioCommand(names: string[], opts: ScenarioCommandOptions): Promise<void> {
  checkNames(names);
  const ctx = contextFrom(opts);
  if (!createdBy(opts, ctx) && !opts.yes) {
    throw new CliError(
      `context "${terminalSafe(ctx.name)}" is not a cluster certdesk created; pass --yes to delete what scenarios labelled there`,
    );
  }
  await clean(ctx, names);
}

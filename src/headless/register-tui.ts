// Declares the TUI as the default action of `certdesk` (no subcommand); the TUI itself is imported lazily.
import type { Command } from 'commander';
import { CliError } from './cli-error.js';
import { applyGlobalOptions } from './global-options.js';

function repeat(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface TuiCommandOptions {
  kubeconfig?: string;
  context?: string[];
  allContexts?: boolean;
  namespace?: string;
  policy?: string;
  requestTimeout?: string;
  color: boolean;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function registerTui(program: Command): void {
  program
    // Root options are read only before a subcommand; the preAction hook hands them to the subcommand (where a
    // value given in both places must agree), so they work before or after it, as kubectl's do.
    .enablePositionalOptions()
    .hook('preAction', (root, action) => applyGlobalOptions(root, action))
    .option('--kubeconfig <path>', 'kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'context to show; repeat for several (default: current context)', repeat)
    .option('--all-contexts', 'show every context in the kubeconfig')
    .option('-n, --namespace <name>', 'follow pods in this namespace only')
    .option('--policy <file>', 'policy file for the findings (default: the built-in policy)')
    .option('--request-timeout <duration>', 'deadline of each API request, e.g. 5s; 0: none (default 30s, lists 60s)')
    .option('--no-color', 'no colours (also when NO_COLOR is set)')
    // Anything that is not a known command reaches this action: say so instead of commander's "too many arguments".
    .allowExcessArguments(true)
    .action(async (opts: TuiCommandOptions, self: Command) => {
      const command = self.args[0];
      if (command !== undefined) {
        const known = program.commands.map((c) => c.name());
        const near = known.find((k) => editDistance(k, command) <= 2);
        throw new CliError(
          `unknown command '${command}'${near ? ` (did you mean '${near}'?)` : ''}; run 'certdesk --help' for the list`,
        );
      }
      if (opts.requestTimeout !== undefined) {
        const { parseRequestTimeoutMs } = await import('./global-options.js');
        const { setRequestTimeout } = await import('../services/kube/transport.js');
        setRequestTimeout(parseRequestTimeoutMs(opts.requestTimeout));
      }
      // The young generation kept small: Node 24's would take ~95 MiB more (src/services/young-generation.ts).
      void import('../services/young-generation.js').then((m) => m.capYoungGeneration());
      const { exitSoonAfterTui, runTui } = await import('../app/run-tui.js');
      try {
        await runTui({
          ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
          ...(opts.context?.length ? { contexts: opts.context } : {}),
          ...(opts.allContexts ? { allContexts: true } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          ...(opts.policy ? { policyFile: opts.policy } : {}),
          ...(opts.color === false ? { color: false } : {}),
        });
      } catch (err) {
        // The TUI's errors are sentences for a person already: one line, no stack, no debug hint.
        if (err instanceof CliError) throw err;
        throw new CliError(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));
      } finally {
        exitSoonAfterTui();
      }
    });
}

// Declares the renewal radar's commands, `get certs` and `check certs`; the work is imported lazily.
import { type Command, CommanderError } from 'commander';
import { guard, withGetOutput, withKube } from './register-kube.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

function withSelection(cmd: Command, defaultWindow?: string): Command {
  return withKube(cmd, true)
    .option('-n, --namespace <ns>', 'namespaced sources only in this namespace (default: the context’s)')
    .option('-A, --all-namespaces', 'every namespace')
    .option(
      '--expiring-within <duration>',
      defaultWindow
        ? `the window, e.g. 30d, 72h (default: ${defaultWindow})`
        : 'only certificates ending within this, e.g. 30d',
    )
    .option('--source <list>', 'secret,configmap,webhook,trust-bundle,csr,pcr,local (default: all)', collect);
}

export function registerCertsCommands(program: Command): void {
  const get = program.commands.find((c) => c.name() === 'get') ?? program.command('get');
  withGetOutput(
    withSelection(
      get
        .command('certs')
        .aliases(['cert', 'certificates'])
        .description(
          'Every certificate certdesk can see (Secrets, CA ConfigMaps, webhook caBundles, trust bundles, issued CSRs, local CAs, kubeconfig), soonest expiry first, with its problems.',
        ),
    ),
  ).action(async (opts) => {
    const { runGetCerts } = await import('./commands/certs.js');
    await guard(() => runGetCerts(opts));
  });

  const check = program.command('check').description('Checks for cron and CI: one line per problem, exit 1 if any.');
  withSelection(
    check
      .command('certs')
      .aliases(['cert', 'certificates'])
      .description(
        'One line per certificate problem (expired, expiring within the window, broken chain or key, unreadable); exit 1 if any, 0 if none, 2 on usage errors.',
      ),
    '30d',
  )
    // Usage errors exit 2, so cron and CI can tell "something expires" (1) from "the command line is wrong" (2).
    .exitOverride((err) => {
      if (err.exitCode === 0) throw err;
      throw new CommanderError(2, err.code, err.message);
    })
    .action(async (opts) => {
      const { runCheckCerts } = await import('./commands/certs.js');
      await guard(() => runCheckCerts(opts));
    });
}

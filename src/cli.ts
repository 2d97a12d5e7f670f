// Entry point: parses argv and hands over to one face (TUI, headless command, controller, sandbox).
// Each registration module only declares options; the work is imported lazily inside its action,
// so `certdesk --help` stays fast.
import { Command, CommanderError } from 'commander';
import { splitShortAssignments } from './headless/argv.js';
import { CliError } from './headless/cli-error.js';
import { registerCertsCommands } from './headless/register-certs.js';
import { registerControllerCommands } from './headless/register-controller.js';
import { registerKubeCommands } from './headless/register-kube.js';
import { registerPkiCommands } from './headless/register-pki.js';
import { registerPodCertificateCommands } from './headless/register-pod-certificates.js';
import { registerSandboxCommands } from './headless/register-sandbox.js';
import { registerTui } from './headless/register-tui.js';

export const VERSION = '0.1.0';

function buildProgram(): Command {
  const program = new Command('certdesk')
    .description('The on-call desk for Kubernetes CertificateSigningRequests.')
    .version(VERSION)
    .exitOverride()
    // A usage error is one `error:` line that says where to look (kubectl prints a second line; we keep one).
    .configureOutput({
      outputError: (str, write) => write(str.replace(/\n*$/, str.startsWith('error:') ? ' (see --help)\n' : '\n')),
    });
  registerTui(program);
  registerKubeCommands(program);
  registerCertsCommands(program);
  registerPodCertificateCommands(program);
  registerPkiCommands(program);
  registerControllerCommands(program);
  registerSandboxCommands(program);
  return program;
}

function oneLine(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}

// `certdesk get csr | head`: the reader went away; stop quietly, as kubectl does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// A command whose work waits on something that can never answer (a PKCS#11 module that drops a callback, say) would
// otherwise end with Node's bare exit code 0 and no word, the loop being empty: say what happened, and never exit 0.
// An exit by process.exit() (a signal, a closed pipe) sets process.exitCode and is not this.
let settled = false;
process.on('exit', () => {
  if (settled || process.exitCode !== undefined) return;
  process.stderr.write(
    'error: certdesk stopped before the command finished: an operation it was waiting for never completed (nothing after it was done; check the audit log with `certdesk audit`)\n',
  );
  process.exitCode = 1;
});

// Not a top-level await: Node 24 prints a warning with the source line when an entry's top-level await is left
// unsettled at exit.
async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(splitShortAssignments(process.argv));
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version, or a usage error).
      process.exitCode = err.exitCode;
    } else if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`error: ${oneLine(err)}\n`);
      if (process.env.CERTDESK_DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
      else process.stderr.write('(set CERTDESK_DEBUG=1 for details)\n');
      process.exitCode = 1;
    }
  }
  settled = true;
}
void main();

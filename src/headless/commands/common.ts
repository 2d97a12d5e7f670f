// What every kube command shares: loading contexts from the options, turning typed results into one-line
// CliErrors, writing output, and reading local files with a useful error.
import { BoundedReadError, PEM_FILE_LIMIT, readBoundedText } from '../../services/files/read-bounded.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { KubeConfigError, loadContexts } from '../../services/kube/contexts.js';
import { setRequestTimeout } from '../../services/kube/transport.js';
import type { KubeResult } from '../../services/kube/types.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { parseRequestTimeoutMs } from '../global-options.js';

export interface KubeCliOptions {
  kubeconfig?: string;
  context?: string[];
  allContexts?: boolean;
  /** kubectl's --request-timeout (a duration; 0: none). */
  requestTimeout?: string;
}

export interface OutputCliOptions {
  output?: string;
}

/** The contexts the options name (several only when `multi`); a kubeconfig problem becomes a CliError. */
export function contextsFrom(opts: KubeCliOptions, multi = false): ClusterContext[] {
  if (!multi && (opts.context?.length ?? 0) > 1) {
    throw new CliError('this command works on one context; pass --context once');
  }
  if (opts.requestTimeout !== undefined) setRequestTimeout(parseRequestTimeoutMs(opts.requestTimeout));
  try {
    return loadContexts({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context?.length ? { contexts: opts.context } : {}),
      ...(multi && opts.allContexts ? { allContexts: true } : {}),
    });
  } catch (err) {
    if (err instanceof KubeConfigError) throw new CliError(oneSentence(err.message));
    throw err;
  }
}

export function contextFrom(opts: KubeCliOptions): ClusterContext {
  const [ctx] = contextsFrom(opts, false);
  if (!ctx) throw new CliError('no context to use; pass --context NAME');
  return ctx;
}

/** Lower-cases the first letter and drops the final period, so it reads after `error: `. */
export function oneSentence(message: string): string {
  const line = terminalSafe(message.split('\n')[0] ?? message);
  const trimmed = line.replace(/\.\s*$/, '');
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0]?.toLowerCase() + trimmed.slice(1) : trimmed;
}

/** The value of an ok result, or a CliError carrying the KubeError's sentence. */
export function unwrap<T>(result: KubeResult<T>): T {
  if (result.ok) return result.value;
  throw new CliError(oneSentence(result.error.message));
}

export function out(text: string): void {
  process.stdout.write(text);
}

export function warn(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`);
}

/** Reads a local file (PEM, CSR…) or throws a CliError naming it. */
export async function readLocalFile(path: string, what: string): Promise<string> {
  try {
    return await readBoundedText(path, { what: what.replace(/ file$/, ''), limit: PEM_FILE_LIMIT });
  } catch (err) {
    if (err instanceof BoundedReadError) throw new CliError(oneSentence(err.message));
    throw err;
  }
}

/** The namespace to use: -n, else the context's default, else `default`. */
export function namespaceFor(ctx: ClusterContext, namespace?: string): string {
  return namespace ?? ctx.namespace ?? 'default';
}

/** kubectl's `--dry-run` values. */
export function isClientDryRun(value: string | undefined): boolean {
  return value === 'client';
}

const CSR_TYPES = [
  'certificatesigningrequest.certificates.k8s.io',
  'certificatesigningrequests.certificates.k8s.io',
  'certificatesigningrequest',
  'certificatesigningrequests',
  'csr',
];

/**
 * CSR names as kubectl takes them: NAME, or TYPE/NAME as `-o name` prints it (`certificatesigningrequest.certificates
 * .k8s.io/NAME`, `csr/NAME`), so that `certdesk get csr -o name | xargs certdesk approve` works. Another type is an
 * error: a CSR's name never holds a `/`.
 */
export function csrNames(args: readonly string[]): string[] {
  return args.map((arg) => {
    const slash = arg.indexOf('/');
    if (slash < 0) return arg;
    const type = arg.slice(0, slash).toLowerCase();
    if (CSR_TYPES.includes(type) && slash < arg.length - 1) return arg.slice(slash + 1);
    throw new CliError(
      `"${terminalSafe(arg, { maxLength: 120 })}" is not a CertificateSigningRequest name: give NAME or certificatesigningrequest/NAME`,
    );
  });
}

// `certdesk get csr` and `certdesk get pods-in-init`, kubectl-style, over one or several contexts. Contexts are read
// at the same time and each one's rows print as it answers (a table, names, custom columns); a context that does not
// answer gets its one error line when its deadline passes. JSON/YAML/jsonpath and --sort-by print at the end.
import type { ClusterContext } from '../../services/kube/api-types.js';
import { queryCsrs, queryCsrTable, readCsr, type WireCsr, watchCsrs } from '../../services/kube/csr-query.js';
import { givenRequestTimeoutMs } from '../../services/kube/transport.js';
import type { KubeError } from '../../services/kube/types.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { CSR_COLUMNS, type CsrInContext, csrPrintOptions } from '../output/csr.js';
import { humanDuration } from '../output/duration.js';
import { type GetOutputOptions, GetPrinter, parseGetFormat, prepareGetFormat } from '../output/get-printer.js';
import { withTypeMeta } from '../../services/kube/wire.js';
import { contextsFrom, csrNames, type KubeCliOptions, oneSentence, out, warn } from './common.js';

export interface GetCsrOptions extends KubeCliOptions, GetOutputOptions {
  signer?: string;
  pending?: boolean;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
}

/** kubectl's line for a name that is not there. */
function notFoundLine(name: string, context: string | undefined): string {
  const where = context ? ` (context ${terminalSafe(context)})` : '';
  return `Error from server (NotFound): certificatesigningrequests.certificates.k8s.io "${terminalSafe(name)}" not found${where}\n`;
}

function isPendingCsr(csr: WireCsr): boolean {
  const conditions = csr.status?.conditions ?? [];
  return !conditions.some((c) => c.type === 'Approved' || c.type === 'Denied');
}

export async function runGetCsr(args: string[], opts: GetCsrOptions): Promise<void> {
  const names = csrNames(args);
  const format = parseGetFormat(opts.output);
  await prepareGetFormat(format);
  const contexts = contextsFrom(opts, true);
  const multi = contexts.length > 1;
  if (names.length > 0 && (opts.selector || opts.fieldSelector)) {
    throw new CliError('names cannot be combined with -l/--selector or --field-selector; give one or the other');
  }
  const fieldSelector =
    [opts.fieldSelector, opts.signer ? `spec.signerName=${opts.signer}` : undefined].filter(Boolean).join(',') ||
    undefined;
  const query = {
    ...(opts.selector ? { labelSelector: opts.selector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
  };
  const printer = new GetPrinter<CsrInContext>(
    format,
    {
      ...csrPrintOptions(multi, !(names.length === 1 && !multi)),
      ...(opts.headers === false ? { headers: false } : {}),
      ...(opts.sortBy ? { sortBy: opts.sortBy } : {}),
      ...(opts.watch ? { watch: true } : {}),
    },
    out,
  );
  const keep = (csr: WireCsr) => !opts.pending || isPendingCsr(csr);
  const failed: KubeError[] = [];
  let missing = 0;
  const fail = (ctx: ClusterContext, error: KubeError) => {
    failed.push(error);
    if (multi) warn(`error: context ${ctx.name}: ${oneSentence(error.message)}`);
  };
  const versions = new Map<string, string | undefined>();
  // The plain table is what kubectl get prints from the server's own Table (no objects sent: a fraction of the bytes
  // and of the decoding); every other output needs the objects.
  const serverTable = format.kind === 'table' && !opts.sortBy && !opts.watch && names.length === 0;

  await Promise.all(
    contexts.map(async (ctx, order) => {
      const rows: CsrInContext[] = [];
      if (serverTable) {
        const table = await queryCsrTable(ctx, query);
        if (!table.ok) return fail(ctx, table.error);
        const at = CSR_COLUMNS.map((c) => table.value?.columns.indexOf(c) ?? -1);
        if (table.value && at.every((i) => i >= 0)) {
          const condition = at[5] ?? 5;
          for (const cells of table.value.rows) {
            if (opts.pending && /Approved|Denied/.test(String(cells[condition]))) continue;
            const ordered = at.map((i) => cells[i]);
            rows.push({ context: ctx.name, csr: { metadata: { name: String(ordered[0]) } }, cells: ordered });
          }
          return printer.add(rows, order);
        }
      }
      if (names.length === 0) {
        const listed = await queryCsrs(ctx, query);
        if (!listed.ok) return fail(ctx, listed.error);
        versions.set(ctx.name, listed.value.resourceVersion);
        for (const csr of listed.value.items) if (keep(csr)) rows.push({ context: ctx.name, csr });
      } else {
        for (const name of names) {
          const r = await readCsr(ctx, name);
          if (r.ok) rows.push({ context: ctx.name, csr: r.value });
          else if (r.error.kind === 'not-found') {
            missing++;
            process.stderr.write(notFoundLine(name, multi ? ctx.name : undefined));
          } else return fail(ctx, r.error);
        }
      }
      printer.add(rows, order);
    }),
  );
  const printed = printer.end();
  if (printed === 0 && !opts.watch && missing === 0 && failed.length < contexts.length) {
    if (format.kind === 'table' || format.kind === 'wide' || format.kind === 'custom-columns') {
      process.stderr.write('No resources found.\n');
    }
  }
  if (failed.length > 0 && !multi) throw new CliError(oneSentence(failed[0]?.message ?? ''));
  if (opts.watch && names.length === 0) await watchAll(contexts, versions, query, printer, keep);
  if (failed.length > 0)
    throw new CliError(`${failed.length} of ${contexts.length} contexts could not be read (see above)`);
  if (missing > 0) process.exitCode = 1;
}

/** -w: one watch per context that listed, rows as events come, until Ctrl-C (exit 0) or every watch has failed. */
async function watchAll(
  contexts: ClusterContext[],
  versions: Map<string, string | undefined>,
  query: { labelSelector?: string; fieldSelector?: string },
  printer: GetPrinter<CsrInContext>,
  keep: (csr: WireCsr) => boolean,
): Promise<void> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // kubectl get -w --request-timeout 3s watches for 3 s, then ends (exit 0).
  const limit = givenRequestTimeoutMs();
  const timer = limit ? setTimeout(stop, limit) : undefined;
  try {
    const results = await Promise.all(
      contexts
        .filter((ctx) => versions.has(ctx.name))
        .map(async (ctx) => {
          const r = await watchCsrs(
            ctx,
            { ...query, resourceVersion: versions.get(ctx.name), signal: abort.signal },
            // Every change, a deletion too (its last state), as kubectl get -w prints them.
            (_type, csr) => {
              if (keep(csr)) printer.add([{ context: ctx.name, csr }]);
            },
          );
          if (!r.ok) warn(`error: context ${ctx.name}: ${oneSentence(r.error.message)}`);
          return r.ok;
        }),
    );
    if (!abort.signal.aborted && results.length > 0 && results.every((ok) => !ok)) {
      throw new CliError('every watch ended with an error (see above)');
    }
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export interface GetPodsOptions extends KubeCliOptions, GetOutputOptions {
  namespace?: string;
  allNamespaces?: boolean;
}

export async function runGetPodsInInit(opts: GetPodsOptions): Promise<void> {
  const format = parseGetFormat(opts.output, ['json', 'yaml', 'wide']);
  await prepareGetFormat(format);
  const contexts = contextsFrom(opts, true);
  const { snapshotsOf } = await import('./snapshots.js');
  const { computeHealth, podAge } = await import('../../services/health/index.js');
  const { snapshots, failures } = await snapshotsOf(contexts, {
    ...(opts.namespace && !opts.allNamespaces ? { namespaces: [opts.namespace] } : {}),
    tigera: false,
  });
  const now = Date.now();
  const items = snapshots.flatMap((snap) =>
    computeHealth(snap, now).podsInInit.map((p) => ({
      context: snap.context,
      pod: snap.pods.get(`${p.namespace}/${p.name}`),
      info: p,
    })),
  );
  const multi = contexts.length > 1;
  type Item = (typeof items)[number];
  const printer = new GetPrinter<Item>(
    format,
    {
      ...(opts.headers === false ? { headers: false } : {}),
      ...(opts.sortBy ? { sortBy: opts.sortBy } : {}),
      name: (i) => `pod/${i.info.name}`,
      data: (i) => withTypeMeta(i.pod ?? {}, 'v1', 'Pod'),
      table: {
        headers: [...(multi ? ['CONTEXT'] : []), 'NAMESPACE', 'NAME', 'STATUS', 'AGE', 'CSR', 'CONDITION'],
        row: (i) => [
          ...(multi ? [i.context] : []),
          i.info.namespace,
          i.info.name,
          i.info.status,
          humanDuration(podAge(i.info, now) / 1000),
          i.info.csrName ?? '<none>',
          i.info.csrCondition ?? '',
        ],
        wideHeaders: ['NODE', 'SERVICEACCOUNT', 'LINKED-BY'],
        wideRow: (i) => [
          i.pod?.spec?.nodeName ?? '<none>',
          i.pod?.spec?.serviceAccountName ?? '<none>',
          i.info.linkedBy ?? '<none>',
        ],
      },
    },
    out,
  );
  printer.add(items);
  printer.end();
  // Pods this user may not list (or that failed to list) are not "no pods in Init": say so, and fail as kubectl does.
  // (The message names the context.)
  const unread = snapshots.flatMap((s) => (s.errors.pods ? [oneSentence(s.errors.pods.message)] : []));
  if (items.length === 0 && unread.length === 0 && (format.kind === 'table' || format.kind === 'wide'))
    process.stderr.write('No pods in Init.\n');
  if (unread.length === 1 && failures === 0 && contexts.length === 1) throw new CliError(unread[0]!);
  for (const message of unread) process.stderr.write(`error: ${message}\n`);
  const failed = failures + unread.length;
  if (failed > 0) throw new CliError(`${failed} of ${contexts.length} contexts could not be read (see above)`);
}

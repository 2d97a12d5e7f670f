// `certdesk get csr` and `certdesk get pods-in-init`, kubectl-style, over one or several contexts.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { computeHealth, podAge } from '../../services/health/index.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { hasCondition } from '../../services/kube/csr-state.js';
import type { KubeResult } from '../../services/kube/types.js';
import { getCsr, listCsrs } from '../../services/kube/writes.js';
import { CliError } from '../cli-error.js';
import { type CsrInContext, csrPrintOptions } from '../output/csr.js';
import { humanDuration } from '../output/duration.js';
import { withTypeMeta } from '../output/objects.js';
import { formatItems, parseOutputFormat } from '../output/print.js';
import { contextsFrom, type KubeCliOptions, oneSentence, type OutputCliOptions, out, warn } from './common.js';

export interface GetCsrOptions extends KubeCliOptions, OutputCliOptions {
  signer?: string;
  pending?: boolean;
}

/** Collects per-context results; failed contexts are reported on stderr and make the command fail at the end. */
async function perContext<T>(
  contexts: ClusterContext[],
  fetch: (ctx: ClusterContext) => Promise<KubeResult<T[]>>,
): Promise<{ items: { context: string; value: T }[]; failures: number }> {
  const results = await Promise.all(contexts.map(async (ctx) => ({ ctx, result: await fetch(ctx) })));
  const items: { context: string; value: T }[] = [];
  let failures = 0;
  for (const { ctx, result } of results) {
    if (result.ok) for (const value of result.value) items.push({ context: ctx.name, value });
    else {
      failures++;
      if (contexts.length > 1) warn(`error: context ${ctx.name}: ${oneSentence(result.error.message)}`);
      else throw new CliError(oneSentence(result.error.message));
    }
  }
  return { items, failures };
}

export async function runGetCsr(names: string[], opts: GetCsrOptions): Promise<void> {
  const format = parseOutputFormat(opts.output);
  const contexts = contextsFrom(opts, true);
  const { items, failures } = await perContext<V1CertificateSigningRequest>(contexts, async (ctx) => {
    if (names.length === 0) return listCsrs(ctx, opts.signer ? { signerName: opts.signer } : {});
    const found: V1CertificateSigningRequest[] = [];
    for (const name of names) {
      const r = await getCsr(ctx, name);
      if (!r.ok) return r;
      found.push(r.value);
    }
    return { ok: true, value: found };
  });
  const rows: CsrInContext[] = items
    .map((i) => ({ context: i.context, csr: i.value }))
    .filter((i) => !opts.signer || i.csr.spec?.signerName === opts.signer)
    .filter((i) => !opts.pending || (!hasCondition(i.csr, 'Approved') && !hasCondition(i.csr, 'Denied')));
  if (names.length === 0) {
    rows.sort(
      (a, b) =>
        a.context.localeCompare(b.context) || (a.csr.metadata?.name ?? '').localeCompare(b.csr.metadata?.name ?? ''),
    );
  }
  const text = formatItems(
    rows,
    csrPrintOptions(format, contexts.length > 1, !(names.length === 1 && contexts.length === 1)),
  );
  if (rows.length === 0 && (format === 'table' || format === 'wide')) {
    process.stderr.write(contexts.length > 1 ? 'No resources found.\n' : 'No resources found.\n');
  }
  out(text);
  if (failures > 0) throw new CliError(`${failures} of ${contexts.length} contexts could not be read (see above)`);
}

export interface GetPodsOptions extends KubeCliOptions, OutputCliOptions {
  namespace?: string;
  allNamespaces?: boolean;
}

export async function runGetPodsInInit(opts: GetPodsOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'wide']);
  const contexts = contextsFrom(opts, true);
  const { snapshotsOf } = await import('./snapshots.js');
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
  const text = formatItems(items, {
    format,
    data: (i) => withTypeMeta(i.pod ?? {}, 'v1', 'Pod'),
    name: (i) => `pod/${i.info.name}`,
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
  });
  if (items.length === 0 && (format === 'table' || format === 'wide')) process.stderr.write('No pods in Init.\n');
  out(text);
  if (failures > 0) throw new CliError(`${failures} of ${contexts.length} contexts could not be read (see above)`);
}

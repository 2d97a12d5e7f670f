// `certdesk get pcr`, `describe pcr`, `get trustbundles`, `describe trustbundle` (issue 20, first steps): kubectl-style
// reads of PodCertificateRequests and ClusterTrustBundles at the version the cluster serves (v1, else v1beta1). A
// cluster that serves neither lists nothing. Every cluster string goes through terminalSafe (the printers do it).
import type { ClusterContext } from '../../services/kube/api-types.js';
import {
  listCtbs,
  listPcrs,
  type PodCertificateApis,
  pcrState,
  podCertificateApis,
  readCtb,
  readPcr,
  type WireCtb,
  type WirePcr,
} from '../../services/kube/pod-certificates.js';
import type { KubeResult } from '../../services/kube/types.js';
import { pcrFindings } from '../../services/actions/pcr.js';
import { decodeCertificates } from '../../services/pki/index.js';
import type { Policy } from '../../services/policy/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { age, humanDuration } from '../output/duration.js';
import { type GetOutputOptions, GetPrinter, parseGetFormat, prepareGetFormat } from '../output/get-printer.js';
import { type DescribeRow, renderDescribe } from '../output/table.js';
import { contextFrom, type KubeCliOptions, namespaceFor, out, unwrap } from './common.js';
import { time } from './describe.js';
import { policyFor } from './safety.js';

export interface GetPcrOptions extends KubeCliOptions, GetOutputOptions {
  namespace?: string;
  allNamespaces?: boolean;
}

async function apisOf(ctx: ClusterContext): Promise<PodCertificateApis> {
  return unwrap(await podCertificateApis(ctx));
}

function notServed(what: string, ctx: ClusterContext): CliError {
  return new CliError(
    `context ${terminalSafe(ctx.name)} does not serve ${what} (certificates.k8s.io v1 or v1beta1); enable the API on the cluster`,
  );
}

function notFound(resource: string, name: string): CliError {
  return new CliError(`${resource}.certificates.k8s.io "${terminalSafe(name)}" not found`);
}

function found<T>(r: KubeResult<T>, resource: string, name: string): T {
  if (!r.ok && r.error.kind === 'not-found') throw notFound(resource, name);
  return unwrap(r);
}

function certCount(bundle: string | undefined): number {
  return (bundle ?? '').match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

function noneFound(count: number, kind: string, namespace?: string): void {
  if (count === 0 && (kind === 'table' || kind === 'wide' || kind === 'custom-columns')) {
    process.stderr.write(
      namespace ? `No resources found in ${terminalSafe(namespace)} namespace.\n` : 'No resources found.\n',
    );
  }
}

export async function runGetPcr(names: string[], opts: GetPcrOptions): Promise<void> {
  const format = parseGetFormat(opts.output);
  await prepareGetFormat(format);
  const ctx = contextFrom(opts);
  const all = !!opts.allNamespaces;
  if (all && names.length) throw new CliError('names cannot be combined with -A; pass -n NAMESPACE instead');
  const namespace = all ? undefined : namespaceFor(ctx, opts.namespace);
  const version = (await apisOf(ctx)).podCertificateRequests;
  let items: WirePcr[];
  if (names.length && version && namespace) {
    items = [];
    for (const name of names)
      items.push(found(await readPcr(ctx, version, namespace, name), 'podcertificaterequests', name));
  } else if (names.length) {
    throw notServed('PodCertificateRequests', ctx);
  } else items = unwrap(await listPcrs(ctx, version, namespace));
  const now = Date.now();
  const printer = new GetPrinter<WirePcr>(
    format,
    {
      ...(opts.headers === false ? { headers: false } : {}),
      ...(opts.sortBy ? { sortBy: opts.sortBy } : {}),
      alwaysList: names.length !== 1,
      data: (p) => p as Record<string, unknown>,
      name: (p) => `podcertificaterequest.certificates.k8s.io/${p.metadata?.name ?? ''}`,
      table: {
        headers: [...(all ? ['NAMESPACE'] : []), 'NAME', 'AGE', 'SIGNERNAME', 'POD', 'SERVICEACCOUNT', 'NODE', 'STATE'],
        row: (p) => [
          ...(all ? [p.metadata?.namespace ?? ''] : []),
          p.metadata?.name ?? '',
          age(p.metadata?.creationTimestamp, now),
          p.spec?.signerName || '<none>',
          p.spec?.podName || '<none>',
          p.spec?.serviceAccountName || '<none>',
          p.spec?.nodeName || '<none>',
          pcrState(p),
        ],
        wideHeaders: ['MAXEXPIRATION', 'NOTAFTER'],
        wideRow: (p) => [
          p.spec?.maxExpirationSeconds ? humanDuration(p.spec.maxExpirationSeconds) : '<none>',
          p.status?.notAfter ?? '<none>',
        ],
      },
    },
    out,
  );
  printer.add(items);
  noneFound(printer.end(), format.kind, namespace);
}

/** The requested key, its proof of possession, and the findings (the pod, node and service account read now). */
async function keyAndFindingRows(ctx: ClusterContext, p: WirePcr, policy: Policy): Promise<DescribeRow[]> {
  const { findings, key } = await pcrFindings(ctx, p, { policy });
  const rows: DescribeRow[] = key
    ? [
        { key: 'Public Key', value: `${key.description} (${key.source})` },
        {
          key: 'Proof of Possession',
          value: key.proofOfPossession.verified
            ? key.source === 'stubPKCS10Request'
              ? 'verified (stubPKCS10Request is signed by the subject key)'
              : 'verified (proofOfPossession signs the pod UID)'
            : `NOT verified (${key.proofOfPossession.error ?? 'unknown'})`,
        },
      ]
    : [{ key: 'Public Key', value: '<unreadable>' }];
  rows.push({ key: 'Findings' });
  for (const f of findings) rows.push({ key: `${f.level.padEnd(4)} ${f.code}`, value: f.message, level: 1 });
  return rows;
}

async function chainRows(pem: string, key: string): Promise<DescribeRow[]> {
  try {
    const certs = await decodeCertificates(pem);
    const rows: DescribeRow[] = [{ key, value: `${certs.length} certificate(s)` }];
    for (const c of certs) {
      rows.push({ key: c.subject.text || '<empty subject>', value: `expires ${time(c.notAfter)}`, level: 1 });
    }
    return rows;
  } catch (err) {
    return [{ key, value: `unreadable (${(err as Error).message})` }];
  }
}

export async function describePcr(ctx: ClusterContext, p: WirePcr, policy: Policy): Promise<string> {
  const s = p.spec ?? {};
  const annotations = Object.entries(s.unverifiedUserAnnotations ?? {});
  const rows: DescribeRow[] = [
    { key: 'Name', value: p.metadata?.name ?? '' },
    { key: 'Namespace', value: p.metadata?.namespace ?? '' },
    { key: 'API Version', value: p.apiVersion ?? '' },
    { key: 'CreationTimestamp', value: time(p.metadata?.creationTimestamp) },
    { key: 'Signer', value: s.signerName || '<none>' },
    { key: 'State', value: pcrState(p) },
    { key: 'Pod', value: `${s.podName ?? ''} (uid ${s.podUID ?? '<none>'})` },
    { key: 'Service Account', value: `${s.serviceAccountName ?? ''} (uid ${s.serviceAccountUID ?? '<none>'})` },
    { key: 'Node', value: `${s.nodeName ?? ''} (uid ${s.nodeUID ?? '<none>'})` },
    {
      key: 'Max Expiration',
      value: s.maxExpirationSeconds
        ? `${humanDuration(s.maxExpirationSeconds)} (${s.maxExpirationSeconds}s)`
        : '<none>',
    },
    ...(await keyAndFindingRows(ctx, p, policy)),
    { key: 'Unverified User Annotations', value: annotations.length ? undefined : '<none>' },
    ...annotations.map(([k, v]) => ({ key: k, value: v, level: 1 })),
  ];
  const conditions = p.status?.conditions ?? [];
  rows.push({ key: 'Conditions', value: conditions.length ? undefined : '<none>' });
  for (const c of conditions) {
    const message = c.message ? `: ${c.message}` : '';
    rows.push({
      key: c.type ?? '',
      value: `${c.status} ${c.reason ?? ''}${message} (${time(c.lastTransitionTime)})`,
      level: 1,
    });
  }
  const st = p.status ?? {};
  if (st.notBefore) rows.push({ key: 'Not Before', value: time(st.notBefore) });
  if (st.beginRefreshAt) rows.push({ key: 'Begin Refresh At', value: time(st.beginRefreshAt) });
  if (st.notAfter) rows.push({ key: 'Not After', value: time(st.notAfter) });
  if (st.certificateChain) rows.push(...(await chainRows(st.certificateChain, 'Certificate Chain')));
  return renderDescribe(rows);
}

export async function runDescribePcr(
  names: string[],
  opts: KubeCliOptions & { namespace?: string; policy?: string },
): Promise<void> {
  const ctx = contextFrom(opts);
  const policy = await policyFor(opts.policy);
  const version = (await apisOf(ctx)).podCertificateRequests;
  if (!version) throw notServed('PodCertificateRequests', ctx);
  const namespace = namespaceFor(ctx, opts.namespace);
  const parts: string[] = [];
  for (const name of names) {
    const pcr = found(await readPcr(ctx, version, namespace, name), 'podcertificaterequests', name);
    parts.push(await describePcr(ctx, pcr, policy));
  }
  out(parts.join('\n\n'));
}

export async function runGetTrustBundles(names: string[], opts: KubeCliOptions & GetOutputOptions): Promise<void> {
  const format = parseGetFormat(opts.output);
  await prepareGetFormat(format);
  const ctx = contextFrom(opts);
  const version = (await apisOf(ctx)).clusterTrustBundles;
  let items: WireCtb[];
  if (names.length && !version) throw notServed('ClusterTrustBundles', ctx);
  if (names.length && version) {
    items = [];
    for (const name of names) items.push(found(await readCtb(ctx, version, name), 'clustertrustbundles', name));
  } else items = unwrap(await listCtbs(ctx, version));
  const now = Date.now();
  const printer = new GetPrinter<WireCtb>(
    format,
    {
      ...(opts.headers === false ? { headers: false } : {}),
      ...(opts.sortBy ? { sortBy: opts.sortBy } : {}),
      alwaysList: names.length !== 1,
      data: (b) => b as Record<string, unknown>,
      name: (b) => `clustertrustbundle.certificates.k8s.io/${b.metadata?.name ?? ''}`,
      table: {
        headers: ['NAME', 'SIGNERNAME', 'CERTIFICATES', 'AGE'],
        row: (b) => [
          b.metadata?.name ?? '',
          b.spec?.signerName || '<none>',
          certCount(b.spec?.trustBundle),
          age(b.metadata?.creationTimestamp, now),
        ],
      },
    },
    out,
  );
  printer.add(items);
  noneFound(printer.end(), format.kind);
}

export async function runDescribeTrustBundle(names: string[], opts: KubeCliOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const version = (await apisOf(ctx)).clusterTrustBundles;
  if (!version) throw notServed('ClusterTrustBundles', ctx);
  const parts: string[] = [];
  for (const name of names) {
    const b = found(await readCtb(ctx, version, name), 'clustertrustbundles', name);
    const rows: DescribeRow[] = [
      { key: 'Name', value: b.metadata?.name ?? '' },
      { key: 'API Version', value: b.apiVersion ?? '' },
      { key: 'CreationTimestamp', value: time(b.metadata?.creationTimestamp) },
      { key: 'Signer', value: b.spec?.signerName || '<none>' },
      ...(await chainRows(b.spec?.trustBundle ?? '', 'Certificates')),
    ];
    parts.push(renderDescribe(rows));
  }
  out(parts.join('\n\n'));
}

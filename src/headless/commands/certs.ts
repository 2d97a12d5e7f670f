// `certdesk get certs` and `certdesk check certs`: the renewal radar over one or several contexts, kubectl-style
// output for people and scripts, and one line per problem with an exit code for cron and CI.
import {
  CERT_SOURCES,
  type CertRecord,
  type CertSource,
  describeLocation,
  isoSeconds,
  problemsAt,
  type RadarResult,
  scanCertificates,
} from '../../services/certs/index.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { humanDuration, parseDurationSeconds } from '../../services/text/duration.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { type GetOutputOptions, GetPrinter, parseGetFormat, prepareGetFormat } from '../output/get-printer.js';
import { contextsFrom, type KubeCliOptions, oneSentence, type OutputCliOptions, out, warn } from './common.js';

export interface CertsCliOptions extends KubeCliOptions, OutputCliOptions, GetOutputOptions {
  namespace?: string;
  allNamespaces?: boolean;
  expiringWithin?: string;
  source?: string[];
}

const DEFAULT_WINDOW = '30d';
const USAGE = 2;

interface Selection {
  contexts: ClusterContext[];
  sources: Set<CertSource>;
  namespace: string | ((ctx: ClusterContext) => string | undefined) | undefined;
  windowMs: number;
}

function select(opts: CertsCliOptions): Selection {
  if (opts.allNamespaces && opts.namespace) {
    throw new CliError('-A and -n cannot be used together; pass one of them', USAGE);
  }
  const windowText = opts.expiringWithin ?? DEFAULT_WINDOW;
  const seconds = parseDurationSeconds(windowText);
  if (seconds === undefined) {
    throw new CliError(
      `--expiring-within "${terminalSafe(windowText)}" is not a duration; use e.g. 30d, 72h or 90m`,
      USAGE,
    );
  }
  const wanted = opts.source?.length ? opts.source : [...CERT_SOURCES];
  const unknown = wanted.filter((s) => !(CERT_SOURCES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new CliError(
      `unknown --source ${unknown.map((u) => `"${terminalSafe(u)}"`).join(', ')}; use ${CERT_SOURCES.join(', ')}`,
      USAGE,
    );
  }
  const namespace = opts.allNamespaces
    ? undefined
    : (opts.namespace ?? ((ctx: ClusterContext) => ctx.namespace ?? 'default'));
  return {
    contexts: contextsFrom(opts, true),
    sources: new Set(wanted as CertSource[]),
    namespace,
    windowMs: seconds * 1000,
  };
}

async function scan(sel: Selection): Promise<RadarResult> {
  const result = await scanCertificates(sel.contexts, {
    sources: sel.sources,
    ...(sel.namespace !== undefined ? { namespace: sel.namespace } : {}),
  });
  for (const s of result.skipped) {
    const where = s.context ? `context ${s.context}: ` : '';
    warn(`warning: ${where}${s.resource} skipped: ${oneSentence(s.message)}`);
  }
  for (const f of result.failures) warn(`error: context ${f.context}: ${oneSentence(f.error.message)}`);
  return result;
}

function leftText(r: CertRecord, now: number): string {
  if (!r.cert) return '<unknown>';
  const left = r.cert.notAfter.getTime() - now;
  return left <= 0 ? `expired ${humanDuration(now - r.cert.notAfter.getTime())} ago` : humanDuration(left);
}

function objectName(r: CertRecord): string {
  return `${r.location.kind.toLowerCase()}/${r.location.name}`;
}

/** The JSON/YAML shape of one certificate (exact data for scripts; `context` is null for the local registry). */
function certJson(r: CertRecord, now: number, windowMs: number): Record<string, unknown> {
  const c = r.cert;
  return {
    apiVersion: 'certdesk.dev/v1alpha1',
    kind: 'Certificate',
    context: r.context ?? null,
    source: r.location.source,
    location: {
      kind: r.location.kind,
      ...(r.location.namespace ? { namespace: r.location.namespace } : {}),
      name: r.location.name,
      field: r.location.field,
      index: r.location.index,
      ...(r.copies ? { copies: r.copies } : {}),
    },
    ...(c
      ? {
          subject: c.subject,
          sans: c.sans,
          issuer: c.issuer,
          serialNumber: c.serial,
          keyType: c.keyType,
          signatureAlgorithm: c.signatureAlgorithm,
          isCA: c.isCa,
          notBefore: isoSeconds(c.notBefore),
          notAfter: isoSeconds(c.notAfter),
          secondsLeft: Math.floor((c.notAfter.getTime() - now) / 1000),
          sha256Fingerprint: c.fingerprint,
        }
      : {}),
    chain: r.chain.map((l) => ({ ...l, notAfter: isoSeconds(l.notAfter) })),
    problems: problemsAt(r, now, windowMs),
    renewal: r.renewal,
  };
}

export async function runGetCerts(opts: CertsCliOptions): Promise<void> {
  const format = parseGetFormat(opts.output);
  await prepareGetFormat(format);
  const sel = select(opts);
  const result = await scan(sel);
  const now = Date.now();
  const filterWindow = opts.expiringWithin !== undefined;
  const items = filterWindow
    ? result.records.filter((r) => !r.cert || r.cert.notAfter.getTime() - now <= sel.windowMs)
    : result.records;
  const multi = sel.contexts.length > 1;
  const printer = new GetPrinter<CertRecord>(
    format,
    {
      ...(opts.headers === false ? { headers: false } : {}),
      ...(opts.sortBy ? { sortBy: opts.sortBy } : {}),
      data: (r) => certJson(r, now, sel.windowMs),
      name: (r) => `${objectName(r)}:${r.location.field}${r.location.index > 0 ? `#${r.location.index + 1}` : ''}`,
      table: {
        headers: [
          ...(multi ? ['CONTEXT'] : []),
          'NAMESPACE',
          'OBJECT',
          'KEY',
          'SUBJECT',
          'NOT-AFTER',
          'LEFT',
          'PROBLEMS',
        ],
        row: (r) => [
          ...(multi ? [r.context ?? '<local>'] : []),
          r.location.namespace ?? '',
          objectName(r),
          `${r.location.field}${r.location.index > 0 ? `#${r.location.index + 1}` : ''}`,
          r.cert ? (r.cert.commonName ?? r.cert.subject) || '<none>' : '<unparseable>',
          r.cert ? isoSeconds(r.cert.notAfter) : '',
          leftText(r, now),
          problemsAt(r, now, sel.windowMs)
            .map((p) => p.kind)
            .join(',') || '<none>',
        ],
        wideHeaders: ['ISSUER', 'SANS', 'SERIAL', 'KEY-TYPE', 'NOT-BEFORE', 'SIGNER'],
        wideRow: (r) => [
          r.cert?.issuer ?? '',
          r.cert?.sans.join(',') || '<none>',
          r.cert?.serial ?? '',
          r.cert?.keyType ?? '',
          r.cert ? isoSeconds(r.cert.notBefore) : '',
          r.renewal.signerName ?? (r.renewal.calico ? 'calico' : '<none>'),
        ],
      },
    },
    out,
  );
  printer.add(items);
  printer.end();
  if (items.length === 0 && (format.kind === 'table' || format.kind === 'wide')) {
    process.stderr.write('No certificates found.\n');
  }
  if (result.failures.length > 0) {
    throw new CliError(`${result.failures.length} of ${sel.contexts.length} contexts could not be read (see above)`);
  }
}

/** One line per problem on stdout; exit 1 when anything expires within the window or is broken, else 0. */
export async function runCheckCerts(opts: CertsCliOptions): Promise<void> {
  const sel = select(opts);
  const result = await scan(sel);
  const now = Date.now();
  let problems = 0;
  const lines: string[] = [];
  for (const r of result.records) {
    for (const p of problemsAt(r, now, sel.windowMs)) {
      problems++;
      lines.push(`${r.context ?? 'local'}  ${describeLocation(r.location)}: ${p.message}`);
    }
  }
  out(lines.map((l) => `${terminalSafe(l)}\n`).join(''));
  const summary = `${result.records.length} certificates checked in ${sel.contexts.length} context${sel.contexts.length === 1 ? '' : 's'}, ${problems} problem${problems === 1 ? '' : 's'}`;
  process.stderr.write(`${summary}\n`);
  if (result.failures.length > 0) {
    throw new CliError(`${result.failures.length} of ${sel.contexts.length} contexts could not be read (see above)`);
  }
  if (problems > 0) process.exitCode = 1;
}

// `certdesk describe csr NAME…`: kubectl's describe, plus the decoded request, the approver's findings, the pod
// waiting on it (service-account requestors) and the issued certificate. Every value is terminal-safe. The findings
// are made with the same facts as the TUI's and the controller's (services/actions facts.ts): the requester's
// namespace's pods, the Nodes when a node-serving signer asks, every CSR of the context and the audit log's keys.
// `-o json|yaml`: the CSR as kubectl prints it, with `findings: [{level, code, message}]`.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { decodeCsrOf } from '../../services/actions/index.js';
import { dnsChecksFor, factsOf, needsNodes } from '../../services/actions/facts.js';
import { readAudit } from '../../services/config/audit.js';
import { computeHealth } from '../../services/health/index.js';
import type { ClusterContext, ContextSnapshot } from '../../services/kube/api-types.js';
import { csrCondition } from '../../services/kube/csr-state.js';
import { getCsr } from '../../services/kube/writes.js';
import { checkSignerRules, type DecodedCertificate, decodeCertificate } from '../../services/pki/index.js';
import {
  auditedRequests,
  DEFAULT_POLICY,
  evaluateCsr,
  type Finding,
  loadPolicy,
  type Policy,
  PolicyError,
  RequestIndexCache,
} from '../../services/policy/index.js';
import { CliError } from '../cli-error.js';
import { humanDuration } from '../output/duration.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { withTypeMeta } from '../../services/kube/wire.js';
import { type DescribeRow, renderDescribe } from '../output/table.js';
import { contextFrom, csrNames, type KubeCliOptions, oneSentence, out, unwrap } from './common.js';

export interface DescribeCliOptions extends KubeCliOptions {
  policy?: string;
  output?: string;
}

const SA_PREFIX = 'system:serviceaccount:';

function list(values: readonly string[] | undefined): string {
  return values?.length ? values.join(', ') : '<none>';
}

function mapText(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '<none>';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** kubectl describe's times: Go's RFC1123Z in the local zone, `Mon, 07 Dec 2026 01:31:13 +0000`. */
export function time(t: Date | string | undefined): string {
  if (!t) return '<unknown>';
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return '<unknown>';
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${DAYS[d.getDay()]}, ${p(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

/**
 * The cluster around one CSR, listed once, as `approve` and `sign` read it (headless/commands/safety.ts gateFacts),
 * so that describe's findings are the ones the gate decides on: every pod (a requester's pod, and Calico's
 * provisioners, which say whose signer it is), the Nodes when its signer serves a node under the policy, every CSR
 * of the context. Undefined when the context cannot be listed in 5 s (the findings are then made without these facts).
 */
async function clusterOf(
  ctx: ClusterContext,
  csr: V1CertificateSigningRequest,
  policy: Policy,
): Promise<ContextSnapshot | undefined> {
  const { snapshotsOf } = await import('./snapshots.js');
  try {
    const { snapshots } = await snapshotsOf([ctx], {
      tigera: false,
      pods: true,
      nodes: needsNodes(policy, [csr.spec?.signerName ?? '']),
      timeoutMs: 5000,
    });
    return snapshots[0];
  } catch {
    return undefined;
  }
}

function linkedPod(
  snap: ContextSnapshot | undefined,
  csr: V1CertificateSigningRequest,
): { pod: string; status: string } | undefined {
  if (!snap || !(csr.spec?.username ?? '').startsWith(SA_PREFIX)) return undefined;
  const hit = computeHealth(snap, Date.now()).podsInInit.find((p) => p.csrName === csr.metadata?.name);
  return hit ? { pod: `${hit.namespace}/${hit.name}`, status: hit.status } : undefined;
}

/** The findings of a CSR with what is known of its cluster (`snap`) and the audit log's decided keys. */
async function findingsOf(
  ctx: ClusterContext,
  csr: V1CertificateSigningRequest,
  decoded: Parameters<typeof evaluateCsr>[0]['decoded'],
  policy: Policy,
  snap: ContextSnapshot | undefined,
): Promise<Finding[]> {
  const dns = dnsChecksFor(policy);
  const facts = snap
    ? factsOf(
        {
          store: { snapshot: () => snap, contexts: () => [ctx.name] },
          index: new RequestIndexCache(),
          audited: auditedRequests(await readAudit().catch(() => [])),
          nodes: needsNodes(policy, [csr.spec?.signerName ?? '']),
          ...(dns ? { dns } : {}),
        },
        ctx.name,
      )
    : undefined;
  // The policy's DNS check: describe shows the answers (waiting at most its timeout), not `resolving…`.
  await dns?.settle(decoded.sans.dns.filter((d) => !d.includes('*')));
  return evaluateCsr({
    csr: csr as Parameters<typeof evaluateCsr>[0]['csr'],
    decoded,
    policy,
    ...(facts ? { pods: facts.pods } : {}),
    ...(facts ? { cluster: facts.cluster } : {}),
    checkSignerRules,
  });
}

function certificateRows(cert: DecodedCertificate): DescribeRow[] {
  return [
    { key: 'Certificate' },
    { key: 'Subject', value: cert.subject.text, level: 1 },
    { key: 'Issuer', value: cert.issuer.text, level: 1 },
    { key: 'Serial', value: cert.serialNumber, level: 1 },
    { key: 'Not Before', value: time(cert.notBefore), level: 1 },
    { key: 'Not After', value: time(cert.notAfter), level: 1 },
    { key: 'Key Usage', value: list(cert.keyUsage), level: 1 },
    { key: 'Extended Key Usage', value: list(cert.extKeyUsage), level: 1 },
    { key: 'SHA-256 Fingerprint', value: cert.sha256Fingerprint, level: 1 },
  ];
}

/** One CSR as data: the object as kubectl prints it, with its findings. */
async function describeData(ctx: ClusterContext, name: string, policy: Policy): Promise<Record<string, unknown>> {
  const csr = unwrap(await getCsr(ctx, name));
  const decoded = await decodeCsrOf(csr, ctx.name);
  const findings: Finding[] = decoded.ok
    ? await findingsOf(ctx, csr, decoded.value, policy, await clusterOf(ctx, csr, policy))
    : [{ level: 'fail', code: 'decode', message: decoded.error.message }];
  return {
    ...withTypeMeta(csr, 'certificates.k8s.io/v1', 'CertificateSigningRequest'),
    findings: findings.map((f) => ({ level: f.level, code: f.code, message: f.message })),
  };
}

async function describeOne(ctx: ClusterContext, name: string, policy: Policy): Promise<string> {
  const csr = unwrap(await getCsr(ctx, name));
  const spec = csr.spec;
  const rows: DescribeRow[] = [
    { key: 'Name', value: csr.metadata?.name ?? '' },
    { key: 'Context', value: ctx.name },
    { key: 'Labels', value: mapText(csr.metadata?.labels) },
    { key: 'Annotations', value: mapText(csr.metadata?.annotations) },
    { key: 'CreationTimestamp', value: time(csr.metadata?.creationTimestamp) },
    { key: 'Requesting User', value: spec?.username ?? '' },
    { key: 'Groups', value: list(spec?.groups) },
    { key: 'Signer', value: spec?.signerName ?? '<none>' },
    { key: 'Requested Duration', value: spec?.expirationSeconds ? humanDuration(spec.expirationSeconds) : '<none>' },
    { key: 'Usages', value: list(spec?.usages) },
    { key: 'Status', value: csrCondition(csr) },
  ];
  const extra = Object.entries(spec?.extra ?? {});
  if (extra.length) {
    rows.push({ key: 'Extra' });
    for (const [k, v] of extra) rows.push({ key: k, value: v.join(', '), level: 1 });
  }
  const conditions = csr.status?.conditions ?? [];
  if (conditions.length) {
    rows.push({ key: 'Conditions' });
    for (const c of conditions) {
      rows.push({
        key: c.type,
        value: `${c.status} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''} (${time(c.lastUpdateTime ?? c.lastTransitionTime)})`,
        level: 1,
      });
    }
  }
  const decoded = await decodeCsrOf(csr, ctx.name);
  const snap = decoded.ok ? await clusterOf(ctx, csr, policy) : undefined;
  if (!decoded.ok) {
    rows.push({ key: 'Request', value: decoded.error.message });
  } else {
    const d = decoded.value;
    rows.push(
      { key: 'Subject' },
      { key: 'Common Name', value: d.subject.commonName ?? '', level: 1 },
      { key: 'Organization', value: list(d.subject.organizations), level: 1 },
      { key: 'Distinguished Name', value: d.subject.text, level: 1 },
      { key: 'Subject Alternative Names' },
      { key: 'DNS Names', value: list(d.sans.dns), level: 1 },
      { key: 'IP Addresses', value: list(d.sans.ip), level: 1 },
    );
    if (d.sans.uri.length) rows.push({ key: 'URIs', value: list(d.sans.uri), level: 1 });
    if (d.sans.email.length) rows.push({ key: 'Emails', value: list(d.sans.email), level: 1 });
    rows.push(
      { key: 'Public Key', value: d.publicKey.description },
      { key: 'Signature Algorithm', value: d.signatureAlgorithm },
      {
        key: 'Proof of Possession',
        value: d.proofOfPossession.verified ? 'verified' : `NOT verified (${d.proofOfPossession.error ?? 'unknown'})`,
      },
    );
    const findings = await findingsOf(ctx, csr, d, policy, snap);
    rows.push({ key: 'Findings' });
    for (const f of findings) rows.push({ key: `${f.level.padEnd(4)} ${f.code}`, value: f.message, level: 1 });
  }
  const pod = linkedPod(snap, csr);
  if (pod) rows.push({ key: 'Waiting Pod', value: `${pod.pod} (${pod.status})` });
  if (csr.status?.certificate) {
    try {
      const cert = await decodeCertificate(Buffer.from(csr.status.certificate, 'base64').toString('utf8'));
      rows.push(...certificateRows(cert));
    } catch (err) {
      rows.push({ key: 'Certificate', value: `unreadable (${err instanceof Error ? err.message : String(err)})` });
    }
  }
  rows.push({ key: 'Events', value: '<none>' });
  return renderDescribe(rows);
}

export async function runDescribeCsr(args: string[], opts: DescribeCliOptions): Promise<void> {
  const names = csrNames(args);
  const ctx = contextFrom(opts);
  const format = parseOutputFormat(opts.output, ['json', 'yaml']);
  let policy: Policy = DEFAULT_POLICY;
  if (opts.policy) {
    try {
      policy = await loadPolicy(opts.policy);
    } catch (err) {
      if (err instanceof PolicyError) throw new CliError(oneSentence(err.message));
      throw err;
    }
  }
  if (format === 'json' || format === 'yaml') {
    const items: Record<string, unknown>[] = [];
    for (const name of names) items.push(await describeData(ctx, name, policy));
    const value = items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: {} };
    out(format === 'json' ? toJson(value) : toYaml(value));
    return;
  }
  const parts: string[] = [];
  for (const name of names) parts.push(await describeOne(ctx, name, policy));
  out(parts.join('\n\n'));
}

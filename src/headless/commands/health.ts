// `certdesk health`: per context, TigeraStatus, the pending queue, the signer backlog (approved but unissued), pods
// held in Init with the CSR each waits on, and PodCertificateRequests per signer (waiting, overdue for refresh, trust
// bundle), as the TUI's Health pane shows them.
import { existsSync } from 'node:fs';
import type { LocalCaTrust } from '../../services/actions/ca-trust.js';
import { type ContextHealth, computeHealth, podAge } from '../../services/health/index.js';
import { type PcrSignerHealth, pcrSignerHealth, trustBundleText } from '../../services/health/pcr.js';
import type { ContextSnapshot } from '../../services/kube/api-types.js';
import type { ClusterContext } from '../../services/kube/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { humanDuration } from '../output/duration.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { renderTable } from '../output/table.js';
import { contextsFrom, type KubeCliOptions, oneSentence, type OutputCliOptions, out } from './common.js';

function since(ms: number | undefined, now: number): string {
  return ms === undefined ? '' : humanDuration((now - ms) / 1000);
}

/** A table's lines under a section heading (four spaces in). */
function indented(table: string): string[] {
  return table
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`);
}

/** PodCertificateRequests per signer; `not-served` where the cluster has no such API, or why they could not be read. */
export type PcrHealth = PcrSignerHealth[] | 'not-served' | { error: string };

function pcrHealthOf(snap: ContextSnapshot, now: number): PcrHealth {
  const error = snap.errors.pcrs ?? snap.errors.trustBundles;
  if (error) return { error: oneSentence(error.message) };
  // Discovery never answered within the deadline: not known to be unserved.
  if (!snap.podCertificateApis)
    return { error: 'the API server did not say whether it serves them (discovery failed)' };
  return pcrSignerHealth(snap, now) ?? 'not-served';
}

function renderPcrHealth(pcrs: PcrHealth, now: number): string[] {
  if (pcrs === 'not-served') return ['  PodCertificateRequests: not served'];
  if (!Array.isArray(pcrs)) return [`  PodCertificateRequests: could not be read: ${pcrs.error}`];
  if (pcrs.length === 0) return ['  PodCertificateRequests: 0'];
  const table = renderTable(
    ['SIGNER', 'WAITING', 'OLDEST', 'OVERDUE-REFRESH', 'TRUST-BUNDLE'],
    pcrs.map((p) => [
      p.signerName,
      p.waiting,
      p.oldestWaiting ? humanDuration((now - Date.parse(p.oldestWaiting)) / 1000) : '',
      p.overdueForRefresh,
      trustBundleText(p),
    ]),
  );
  return ['  PodCertificateRequests:', ...indented(table)];
}

/** Per signer of a context's backlog with a CA registered here: what the cluster says of that CA. */
export type LocalCas = ReadonlyMap<string, LocalCaTrust>;

const LOCAL_CA_WORD: Record<LocalCaTrust['trust'], string> = {
  trusted: 'trusted',
  untrusted: 'NOT TRUSTED',
  'not-stated': 'not compared',
  unread: 'unread',
  error: 'unknown',
};

/**
 * For each context, the CAs registered here for the signers of its backlog, compared with what the cluster trusts
 * for them (ca-untrusted): so that `health` says before anyone signs that the CA at hand would be refused. Nothing
 * when no CA is registered; the keys are never read.
 */
async function localCasOf(contexts: ClusterContext[], health: ContextHealth[]): Promise<LocalCas[] | undefined> {
  const signers = new Set(health.flatMap((h) => h.signerBacklog.map((s) => s.signerName)));
  if (signers.size === 0) return undefined;
  const { listCas, registeredCaCertificates, registryDir } = await import('../../services/config/ca-registry.js');
  // No registry on this machine: nothing to compare (and `health` creates no config directory).
  if (!existsSync(registryDir())) return undefined;
  let registered: string[];
  try {
    registered = listCas()
      .map((e) => e.signerName)
      .filter((s) => signers.has(s));
  } catch {
    return undefined; // an unreadable registry is `ca list`'s to explain; health shows the clusters
  }
  if (registered.length === 0) return undefined;
  const { localCaTrust } = await import('../../services/actions/ca-trust.js');
  const certs = new Map(
    await Promise.all(
      registered.map(async (signer) => {
        const read = await registeredCaCertificates(signer).then(
          (ca) => ({ ca }),
          (err: unknown) => ({ error: oneSentence(err instanceof Error ? err.message : String(err)) }),
        );
        return [signer, read] as const;
      }),
    ),
  );
  const byName = new Map(contexts.map((c) => [c.name, c]));
  return Promise.all(
    health.map(async (h) => {
      const ctx = byName.get(h.context);
      const out = new Map<string, LocalCaTrust>();
      for (const { signerName } of h.signerBacklog) {
        const read = certs.get(signerName);
        if (!read || !ctx) continue;
        out.set(
          signerName,
          'ca' in read
            ? await localCaTrust(ctx, read.ca, signerName)
            : { trust: 'error', message: `the CA registered here could not be read: ${read.error}` },
        );
      }
      return out;
    }),
  );
}

export function renderHealth(h: ContextHealth, now: number, pcrs?: PcrHealth, localCas?: LocalCas): string {
  const lines: string[] = [`Context: ${terminalSafe(h.context)}`];
  lines.push(
    `  Pending CSRs: ${h.pendingCount}${h.oldestPendingCsr ? ` (oldest ${terminalSafe(h.oldestPendingCsr)}, ${humanDuration((h.oldestPendingAge ?? 0) / 1000)})` : ''}`,
  );
  if (h.tigera === 'not-installed') lines.push('  TigeraStatus: not installed');
  else if (h.tigera.length === 0) lines.push('  TigeraStatus: none');
  else {
    lines.push('  TigeraStatus:');
    const table = renderTable(
      ['NAME', 'AVAILABLE', 'PROGRESSING', 'DEGRADED', 'SINCE', 'MESSAGE'],
      h.tigera.map((t) => [
        t.name,
        t.available?.status ?? '',
        t.progressing?.status ?? '',
        t.degraded?.status ?? '',
        since(t.since, now),
        t.degraded?.status === 'True'
          ? t.degraded.message
          : t.available?.status !== 'True'
            ? (t.available?.message ?? '')
            : '',
      ]),
    );
    lines.push(...indented(table));
  }
  if (h.signerBacklog.length) {
    lines.push('  Signers:');
    const local = localCas && localCas.size > 0 ? localCas : undefined;
    const table = renderTable(
      ['SIGNER', 'PENDING', 'APPROVED-UNISSUED', 'OLDEST', 'STATE', ...(local ? ['LOCAL-CA'] : [])],
      h.signerBacklog.map((s) => {
        const trust = local?.get(s.signerName);
        return [
          s.signerName,
          s.pending,
          s.approvedUnissued,
          s.approvedUnissued ? `${s.oldestCsr} (${humanDuration(s.oldestAge / 1000)})` : '',
          s.stalled ? 'STALLED' : 'ok',
          ...(local ? [trust ? LOCAL_CA_WORD[trust.trust] : 'none'] : []),
        ];
      }),
    );
    lines.push(...indented(table));
    // Why a CA held here would be refused, or could not be compared: the sentence, under the table.
    for (const [signer, trust] of local ?? []) {
      if (trust.message) lines.push(`    ${terminalSafe(signer)}: ${terminalSafe(trust.message)}`);
    }
  }
  if (h.podsInInit.length) {
    lines.push(`  Pods in Init: ${h.podsInInit.length}`);
    const table = renderTable(
      ['NAMESPACE', 'NAME', 'STATUS', 'AGE', 'CSR', 'CONDITION'],
      h.podsInInit.map((p) => [
        p.namespace,
        p.name,
        p.status,
        humanDuration(podAge(p, now) / 1000),
        p.csrName ?? '<none>',
        p.csrCondition ?? '',
      ]),
    );
    lines.push(...indented(table));
  } else if (h.podsError) lines.push(`  Pods in Init: could not be read: ${terminalSafe(oneSentence(h.podsError))}`);
  else lines.push('  Pods in Init: 0');
  if (pcrs !== undefined) lines.push(...renderPcrHealth(pcrs, now));
  return `${lines.join('\n')}\n`;
}

export async function runHealth(opts: KubeCliOptions & OutputCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml']);
  const contexts = contextsFrom(opts, true);
  const { snapshotsOf } = await import('./snapshots.js');
  const { snapshots, failures } = await snapshotsOf(contexts, { podCertificates: true });
  const now = Date.now();
  const health = snapshots.map((s) => computeHealth(s, now));
  const pcrs = snapshots.map((s) => pcrHealthOf(s, now));
  const localCas = await localCasOf(contexts, health);
  // Machine output: each pod's age in ms at `now`, and its creation time as kubectl writes timestamps. The ages
  // are as of `now` already, so the pass time (`at`, for the TUI's clock) is left out.
  const data = () =>
    health.map(({ at: _at, ...h }, i) => ({
      ...h,
      ...(localCas
        ? {
            signerBacklog: h.signerBacklog.map((s) => {
              const trust = localCas[i]?.get(s.signerName);
              return trust ? { ...s, localCa: trust } : s;
            }),
          }
        : {}),
      podCertificateRequests: pcrs[i],
      podsInInit: h.podsInInit.map(({ created, ...p }) => ({
        ...p,
        ...(created !== undefined ? { created: new Date(created).toISOString() } : {}),
        age: podAge({ created }, now),
      })),
    }));
  if (format === 'json') out(toJson(data()));
  else if (format === 'yaml') out(toYaml(data()));
  else out(health.map((h, i) => renderHealth(h, now, pcrs[i], localCas?.[i])).join('\n'));
  if (failures > 0) throw new CliError(`${failures} of ${contexts.length} contexts could not be read (see above)`);
}

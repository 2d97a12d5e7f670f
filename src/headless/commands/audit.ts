// `certdesk audit`: the audit log as a table, one row per action (terminal-safe), or every line as exact JSON/YAML.
import { openIntents } from '../../services/actions/reconcile.js';
import { auditLogPath, readAudit } from '../../services/config/audit.js';
import { CliError } from '../cli-error.js';
import { parseDurationSeconds } from '../output/duration.js';
import { formatItems, parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { out } from './common.js';

export interface AuditCliOptions {
  since?: string;
  output?: string;
}

export async function runAudit(opts: AuditCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml']);
  let since: Date | undefined;
  if (opts.since !== undefined) {
    const seconds = parseDurationSeconds(opts.since);
    if (seconds === undefined) throw new CliError(`--since "${opts.since}" is not a duration; use e.g. 30m, 24h or 7d`);
    since = new Date(Date.now() - seconds * 1000);
  }
  const all = await readAudit(since ? { since } : {});
  if (format === 'json' || format === 'yaml') {
    out(format === 'json' ? toJson(all) : toYaml(all));
    return;
  }
  // One row per action: its outcome line, or its intent while it has none (in flight, or its process died and
  // no start has reconciled it yet).
  const open = new Set(openIntents(all).map((e) => e.id));
  const entries = all.filter((e) => e.phase !== 'intent' || open.has(e.id));
  if (entries.length === 0) {
    process.stderr.write(`No audit entries${opts.since ? ` in the last ${opts.since}` : ''} (${auditLogPath()}).\n`);
    return;
  }
  out(
    formatItems(entries, {
      format: 'table',
      data: (e) => e,
      name: (e) => e.time,
      table: {
        headers: ['TIME', 'USER', 'CONTEXT', 'ACTION', 'CSR', 'SIGNER', 'OUTCOME', 'SERIAL', 'DETAIL'],
        row: (e) => [
          e.time,
          e.localUser,
          e.context,
          e.action,
          e.csrName ?? '',
          e.signer ?? '',
          e.phase === 'intent' ? 'in-flight' : `${e.outcome ?? ''}${e.reconciled ? ' (reconciled)' : ''}`,
          e.serial ?? '',
          e.detail ?? e.reason ?? '',
        ],
      },
    }),
  );
}

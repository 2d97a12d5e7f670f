// `certdesk audit`: the audit log as a table (terminal-safe) or as exact JSON/YAML.
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
  const entries = await readAudit(since ? { since } : {});
  if (format === 'json' || format === 'yaml') {
    out(format === 'json' ? toJson(entries) : toYaml(entries));
    return;
  }
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
          e.outcome,
          e.serial ?? '',
          e.detail ?? e.reason ?? '',
        ],
      },
    }),
  );
}

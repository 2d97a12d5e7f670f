// Prints objects as kubectl does for `-o json|yaml|name|wide` or a table. JSON and YAML stay exact (they are data
// for scripts); the table and name forms are terminal-safe.
import { stringify } from 'yaml';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { asList, toJson } from './list.js';
import { renderTable } from './table.js';

export { asList, toJson };

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const;

/** Validates `-o`; undefined → table. */
export function parseOutputFormat(
  value: string | undefined,
  allowed: readonly string[] = OUTPUT_FORMATS,
): OutputFormat {
  if (value === undefined || value === '') return 'table';
  if (!allowed.includes(value)) {
    throw new CliError(`unknown output format "${terminalSafe(value)}"; use one of: ${allowed.join(', ')}`);
  }
  return value as OutputFormat;
}

export function toYaml(value: unknown): string {
  // YAML 1.1 quoting and unindented sequences, as kubectl (go-yaml) prints them.
  return stringify(value, { lineWidth: 0, indentSeq: false, version: '1.1' });
}

export interface TableSpec<T> {
  headers: readonly string[];
  row: (item: T) => readonly unknown[];
  wideHeaders?: readonly string[];
  wideRow?: (item: T) => readonly unknown[];
}

export interface PrintOptions<T> {
  format: OutputFormat;
  /** The plain data for json/yaml (per item). */
  data: (item: T) => unknown;
  /** `<kind>.<group>/<name>` for -o name. */
  name: (item: T) => string;
  table: TableSpec<T>;
  /** Printed (to stderr by the caller) when there is nothing in table form. */
  emptyMessage?: string;
  /** Wrap single items in a List too (kubectl does it for `get` without names). @default true */
  alwaysList?: boolean;
}

export function formatItems<T>(items: readonly T[], opts: PrintOptions<T>): string {
  switch (opts.format) {
    case 'json':
    case 'yaml': {
      const data =
        items.length === 1 && opts.alwaysList === false ? opts.data(items[0] as T) : asList(items.map(opts.data));
      return opts.format === 'json' ? toJson(data) : toYaml(data);
    }
    case 'name':
      return items.map((i) => `${terminalSafe(opts.name(i))}\n`).join('');
    case 'wide':
    case 'table': {
      if (items.length === 0) return '';
      const wide = opts.format === 'wide' && opts.table.wideHeaders && opts.table.wideRow;
      const headers = wide ? [...opts.table.headers, ...(opts.table.wideHeaders ?? [])] : opts.table.headers;
      const rows = items.map((i) =>
        wide ? [...opts.table.row(i), ...(opts.table.wideRow?.(i) ?? [])] : opts.table.row(i),
      );
      return renderTable(headers, rows);
    }
  }
}

// kubectl's `get` output for any resource: -o json|yaml|name|wide|jsonpath=…|custom-columns=…, --no-headers and
// --sort-by, printed as each context answers where the format allows (tables, names, custom columns without
// --sort-by) and at the end otherwise (a JSON/YAML List or a template needs every item). `get csr` uses it; any other
// resource's `get` can too: give it a PrintOptions and call add() per context, then end(). Register the flags with
// withGetOutput (register-kube.ts).
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { evaluate, executeTemplate, relaxedPath, goValueText, valueText } from './jsonpath.js';
import { asList, toJson } from './list.js';
import type { PrintOptions } from './print.js';

/** The YAML printer, loaded only for -o yaml (the yaml library is a quarter of a table's start-up otherwise). */
let toYaml: ((value: unknown) => string) | undefined;

/** Loads what this format needs; call once before printing (parseGetFormat is synchronous). */
export async function prepareGetFormat(format: GetFormat): Promise<void> {
  if (format.kind === 'yaml' && !toYaml) toYaml = (await import('./print.js')).toYaml;
}

function yaml(value: unknown): string {
  if (!toYaml) throw new Error('internal: prepareGetFormat(format) was not awaited before printing YAML');
  return toYaml(value);
}

export type GetFormat =
  | { kind: 'table' | 'wide' | 'json' | 'yaml' | 'name' }
  | { kind: 'jsonpath'; template: string }
  | { kind: 'custom-columns'; columns: { header: string; expr: string }[] };

export interface GetOutputOptions {
  output?: string;
  /** commander's name for --no-headers: false when given. */
  headers?: boolean;
  sortBy?: string;
}

const PLAIN = ['json', 'yaml', 'wide', 'name'];

/** Validates -o: `jsonpath=…`, `jsonpath='…'`, `custom-columns=H:.path,…`, or a plain format. */
export function parseGetFormat(value: string | undefined, plain: readonly string[] = PLAIN): GetFormat {
  if (value === undefined || value === '') return { kind: 'table' };
  const eq = value.indexOf('=');
  const kind = eq < 0 ? value : value.slice(0, eq);
  const arg = eq < 0 ? '' : value.slice(eq + 1);
  if (kind === 'jsonpath' || kind === 'jsonpath-as-json') {
    if (!arg) throw new CliError("-o jsonpath needs a template: -o jsonpath='{.items[*].metadata.name}'");
    const template = /^'.*'$/s.test(arg) ? arg.slice(1, -1) : arg;
    executeTemplate(template, {}); // parse errors now, before any request
    return { kind: 'jsonpath', template };
  }
  if (kind === 'custom-columns') {
    const columns = arg.split(',').map((spec) => {
      const colon = spec.indexOf(':');
      if (colon <= 0 || colon === spec.length - 1) {
        throw new CliError(
          `custom-columns format "${terminalSafe(spec)}" is not HEADER:JSONPATH; use e.g. -o custom-columns=NAME:.metadata.name`,
        );
      }
      const expr = spec.slice(colon + 1);
      relaxedPath(expr);
      return { header: spec.slice(0, colon), expr };
    });
    return { kind: 'custom-columns', columns };
  }
  if (eq < 0 && plain.includes(value)) return { kind: value as 'json' };
  throw new CliError(
    `unknown output format "${terminalSafe(value)}"; use one of: ${plain.join(', ')}, jsonpath=…, custom-columns=…`,
  );
}

/** kubectl's --sort-by order: missing values first, numbers by value, everything else by its text. */
function sortKey(value: unknown): { missing: boolean; n?: number; s: string } {
  if (value === undefined) return { missing: true, s: '' };
  if (typeof value === 'number') return { missing: false, n: value, s: '' };
  return { missing: false, s: valueText(value) };
}

export function sortByPath<T>(items: readonly T[], expr: string, data: (item: T) => unknown): T[] {
  const path = relaxedPath(expr);
  const keyed = items.map((item) => ({ item, key: sortKey(evaluate(path, data(item))[0]) }));
  keyed.sort((a, b) => {
    if (a.key.missing !== b.key.missing) return a.key.missing ? -1 : 1;
    if (a.key.n !== undefined && b.key.n !== undefined) return a.key.n - b.key.n;
    return a.key.s < b.key.s ? -1 : a.key.s > b.key.s ? 1 : 0;
  });
  return keyed.map((k) => k.item);
}

/** Columns padded to the widest cell seen so far plus three spaces (kubectl's tabwriter with RememberWidths). */
export class StreamTable {
  private widths: number[] = [];
  private headerDone = false;

  constructor(
    private readonly headers: readonly string[],
    private readonly printHeaders = true,
  ) {}

  /** The lines for these rows, the header first if it is not printed yet. */
  render(rows: readonly (readonly unknown[])[]): string {
    const cells = rows.map((row) => this.headers.map((_, i) => terminalSafe(row[i] ?? '')));
    const withHeader = !this.headerDone && this.printHeaders;
    const all = withHeader ? [this.headers as string[], ...cells] : cells;
    if (all.length === 0) return '';
    this.headerDone = true;
    for (const r of all) {
      for (let i = 0; i < r.length; i++) this.widths[i] = Math.max(this.widths[i] ?? 0, (r[i] ?? '').length);
    }
    const last = this.headers.length - 1;
    let text = '';
    for (const r of all) {
      let line = '';
      for (let i = 0; i < r.length; i++) line += i === last ? r[i] : (r[i] ?? '').padEnd((this.widths[i] ?? 0) + 3);
      text += `${line.trimEnd()}\n`;
    }
    return text;
  }
}

export interface GetPrinterOptions<T> extends Omit<PrintOptions<T>, 'format'> {
  /** false: --no-headers. */
  headers?: boolean;
  sortBy?: string;
  /** -w: every format prints each object as it comes (JSON objects one after another, YAML documents, a template
   * per object), as kubectl's watch does. */
  watch?: boolean;
}

/** Prints `get` results in the chosen format; streamable formats print per add(), the others in end(). */
export class GetPrinter<T> {
  private readonly held: { order: number; items: readonly T[] }[] = [];
  private readonly table: StreamTable | undefined;
  readonly streams: boolean;
  private printed = 0;

  constructor(
    private readonly format: GetFormat,
    private readonly opts: GetPrinterOptions<T>,
    private readonly write: (text: string) => void,
  ) {
    const k = format.kind;
    this.streams =
      !!opts.watch || (!opts.sortBy && (k === 'table' || k === 'wide' || k === 'name' || k === 'custom-columns'));
    if (k === 'table' || k === 'wide' || k === 'custom-columns') {
      this.table = new StreamTable(this.headers(), opts.headers !== false);
    }
  }

  private headers(): string[] {
    const t = this.opts.table;
    if (this.format.kind === 'custom-columns') return this.format.columns.map((c) => c.header);
    return this.format.kind === 'wide' && t.wideHeaders ? [...t.headers, ...t.wideHeaders] : [...t.headers];
  }

  /** One item's cells in the table formats (also used for watch events). */
  row(item: T): unknown[] {
    const t = this.opts.table;
    if (this.format.kind === 'custom-columns') {
      const data = this.opts.data(item);
      return this.format.columns.map((c) => {
        const values = evaluate(relaxedPath(c.expr), data);
        return values.length ? values.map(goValueText).join(',') : '<none>';
      });
    }
    return this.format.kind === 'wide' && t.wideRow ? [...t.row(item), ...t.wideRow(item)] : [...t.row(item)];
  }

  /**
   * Items of one context (or one watch event): printed now when the format streams, else held for end(), where
   * they come in `order` (the context's place on the command line), not in the order the contexts answered.
   */
  add(items: readonly T[], order = 0): void {
    if (!this.streams) {
      this.held.push({ order, items });
      return;
    }
    this.printed += items.length;
    const f = this.format;
    if (f.kind === 'json') for (const i of items) this.write(toJson(this.opts.data(i)));
    else if (f.kind === 'yaml') for (const i of items) this.write(`---\n${yaml(this.opts.data(i))}`);
    else if (f.kind === 'jsonpath') for (const i of items) this.write(executeTemplate(f.template, this.opts.data(i)));
    else if (f.kind === 'name') this.write(items.map((i) => `${terminalSafe(this.opts.name(i))}\n`).join(''));
    else if (items.length) this.write(this.table?.render(items.map((i) => this.row(i))) ?? '');
  }

  /** Prints what was held; returns how many items were printed in all. */
  end(): number {
    if (this.streams) return this.printed;
    const held = this.held.toSorted((a, b) => a.order - b.order).flatMap((h) => h.items);
    const items = this.opts.sortBy ? sortByPath(held, this.opts.sortBy, this.opts.data) : held;
    const f = this.format;
    const single = items.length === 1 && this.opts.alwaysList === false;
    const data = () => (single ? this.opts.data(items[0] as T) : asList(items.map(this.opts.data)));
    if (f.kind === 'json') this.write(toJson(data()));
    else if (f.kind === 'yaml') this.write(yaml(data()));
    else if (f.kind === 'jsonpath') {
      this.write(executeTemplate(f.template, data()));
    } else if (f.kind === 'name') this.write(items.map((i) => `${terminalSafe(this.opts.name(i))}\n`).join(''));
    else if (items.length) this.write(this.table?.render(items.map((i) => this.row(i))) ?? '');
    return items.length;
  }
}

// kubectl-style tables: upper-case headers, columns left-aligned and separated by three spaces, every cell made
// terminal-safe (cells may hold cluster or CSR text).
import { terminalSafe } from '../../services/text/sanitize.js';

export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const safeRows = rows.map((row) => headers.map((_, i) => terminalSafe(row[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...safeRows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...safeRows.map(line)].join('\n') + '\n';
}

/** `describe`-style `Key:  value` lines, values terminal-safe; nested rows indent by two spaces per level. */
export interface DescribeRow {
  key: string;
  value?: unknown;
  level?: number;
}

export function renderDescribe(rows: readonly DescribeRow[]): string {
  const keyWidth = Math.max(0, ...rows.map((r) => (r.level ?? 0) * 2 + terminalSafe(r.key).length + 1));
  return (
    rows
      .map((r) => {
        const label = `${' '.repeat((r.level ?? 0) * 2)}${terminalSafe(r.key)}:`;
        if (r.value === undefined) return label;
        return `${label.padEnd(keyWidth + 2)}${terminalSafe(r.value)}`.trimEnd();
      })
      .join('\n') + '\n'
  );
}

// Pure screen arithmetic shared by the views and the selectors: which panes show, and how many rows each gets.

export type PaneId = 'csrs' | 'init' | 'health';

/** The panes in Tab order, with their tab title and the `:` commands that switch to them (k9s style). A new pane
 * (e.g. certificates, `:certs`) is one entry here plus its view. */
export const PANES: readonly { id: PaneId; title: string; commands: readonly string[] }[] = [
  { id: 'csrs', title: 'CSRs', commands: ['csr', 'csrs'] },
  { id: 'init', title: 'Pods in Init', commands: ['pods', 'pod', 'po', 'init'] },
  { id: 'health', title: 'Health', commands: ['health'] },
];

export interface ScreenLayout {
  /** Panes become tabs on small terminals (80×24): one pane at a time, full height. */
  tabs: boolean;
  columns: number;
  rows: number;
  /** Outer heights (borders included) of each pane shown. 0 when hidden. */
  csrHeight: number;
  bottomHeight: number;
  /** Visible list rows inside each pane. */
  csrRows: number;
  initRows: number;
  healthRows: number;
  /** Outer width of the Health pane: the whole screen as a tab, else what the Pods in Init pane leaves. */
  healthColumns: number;
}

/** Header, notice line, footer (status line + key line). */
export const CHROME_ROWS = 4;
/** Border top/bottom, title line, column headings. */
const CSR_PANE_CHROME = 4;
/** Border top/bottom, title line. */
const SMALL_PANE_CHROME = 3;

export function screenLayout(columns: number, rows: number, pane: PaneId): ScreenLayout {
  const cols = Math.max(40, columns);
  const height = Math.max(10, rows);
  const body = height - CHROME_ROWS;
  const tabs = cols < 100 || height < 30;
  if (tabs) {
    // One tab line, then the pane.
    const paneHeight = body - 1;
    return {
      tabs,
      columns: cols,
      rows: height,
      csrHeight: pane === 'csrs' ? paneHeight : 0,
      bottomHeight: pane === 'csrs' ? 0 : paneHeight,
      csrRows: Math.max(1, paneHeight - CSR_PANE_CHROME),
      initRows: Math.max(1, paneHeight - SMALL_PANE_CHROME),
      healthRows: Math.max(1, paneHeight - SMALL_PANE_CHROME),
      healthColumns: cols,
    };
  }
  const bottomHeight = Math.max(6, Math.floor(body * 0.35));
  const csrHeight = body - bottomHeight;
  return {
    tabs,
    columns: cols,
    rows: height,
    csrHeight,
    bottomHeight,
    csrRows: Math.max(1, csrHeight - CSR_PANE_CHROME),
    initRows: Math.max(1, bottomHeight - SMALL_PANE_CHROME),
    healthRows: Math.max(1, bottomHeight - SMALL_PANE_CHROME),
    healthColumns: cols - initColumns(cols),
  };
}

/** Outer width of the Pods in Init pane beside the Health pane. */
export function initColumns(columns: number): number {
  return Math.floor(columns * 0.6);
}

/** The Health pane's label column (context names): 4 to 12 wide. */
export function healthLabelWidth(labels: readonly string[]): number {
  return Math.min(12, Math.max(4, ...labels.map((l) => l.length)));
}

/**
 * `text` in lines of at most `width` code points, broken after spaces where a line has one, so that a long reason
 * (an unreachable server's sentence) is read whole in a narrow pane rather than cut.
 */
export function wrapLine(text: string, width: number): string[] {
  const chars = [...text];
  if (width < 1 || chars.length <= width) return [text];
  const lines: string[] = [];
  let start = 0;
  while (chars.length - start > width) {
    let end = start + width;
    const space = chars.lastIndexOf(' ', end);
    if (space > start) end = space + 1;
    lines.push(chars.slice(start, end).join('').trimEnd());
    start = end;
    while (chars[start] === ' ') start++;
  }
  if (start < chars.length) lines.push(chars.slice(start).join(''));
  return lines;
}

export interface CsrColumns {
  ctx: number;
  name: number;
  age: number;
  signer: number;
  requestor: number;
  condition: number;
  /** Abbreviate conditions (Pend, Appr,Iss): only when the terminal is too narrow for them whole (< 60 columns). */
  short: boolean;
}

/** The widest value of each column among the rows on screen. */
export interface NaturalWidths {
  name: number;
  signer: number;
  requestor: number;
  condition: number;
}

/**
 * Shares `room` among columns wanting `demands` cells: each gets what it wants when that fits; what is left is
 * split among those that want more in proportion to their `weights` (the narrow ones are never cut to feed the
 * wide ones).
 */
export function shareWidths(room: number, demands: readonly number[], weights?: readonly number[]): number[] {
  const weight = (i: number) => weights?.[i] ?? 1;
  const out = demands.map(() => 0);
  const order = demands.map((_, i) => i).sort((a, b) => demands[a]! / weight(a) - demands[b]! / weight(b));
  let left = Math.max(0, room);
  let weightLeft = order.reduce((n, i) => n + weight(i), 0);
  for (const i of order) {
    out[i] = Math.min(demands[i]!, Math.floor((left * weight(i)) / weightLeft));
    left -= out[i]!;
    weightLeft -= weight(i);
  }
  return out;
}

const WIDE: NaturalWidths = { name: 60, signer: 40, requestor: 40, condition: 16 };

/** Column widths for the CSR table inside a pane of `width` cells; columns drop from the right when narrow, free
 * width goes to the columns whose values need it, and the condition is never abbreviated when it fits. */
export function csrColumns(width: number, ctxWidth: number, natural: NaturalWidths = WIDE): CsrColumns {
  const inner = width - 2 - 2; // borders, then the marker column
  const short = inner < 56;
  const condition = short ? 9 : Math.max(4, natural.condition);
  const age = 5;
  const badge = 2;
  const ctx = Math.min(Math.max(3, ctxWidth), 12);
  const rest = inner - ctx - age - condition - badge - 4;
  const name = Math.max(4, natural.name);
  const signer = Math.max(6, natural.signer);
  const requestor = Math.max(9, natural.requestor);
  // Columns drop from the right: requestor first, then signer (each needs a separator).
  if (rest - 2 >= Math.min(name, 24) + Math.min(signer, 20) + Math.min(requestor, 20)) {
    const [n, s, r] = shareWidths(rest - 2, [name, signer, requestor], [2, 1, 1]);
    return { ctx, name: n! + (rest - 2 - n! - s! - r!), age, signer: s!, requestor: r!, condition, short };
  }
  if (rest - 1 >= Math.min(name, 24) + Math.min(signer, 18)) {
    const [n, s] = shareWidths(rest - 1, [name, signer], [2, 1]);
    return { ctx, name: n! + (rest - 1 - n! - s!), age, signer: s!, requestor: 0, condition, short };
  }
  return { ctx, name: Math.max(8, rest), age, signer: 0, requestor: 0, condition, short };
}

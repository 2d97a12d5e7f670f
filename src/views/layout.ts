// Pure screen arithmetic shared by the views and the selectors: which panes show, and how many rows each gets.

export type PaneId = 'csrs' | 'init' | 'health';

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
  };
}

export interface CsrColumns {
  ctx: number;
  name: number;
  age: number;
  signer: number;
  requestor: number;
  condition: number;
  /** Abbreviate conditions (Pend, Appr,Iss) on narrow screens. */
  short: boolean;
}

/** Column widths for the CSR table inside a pane of `width` cells; columns drop from the right when narrow. */
export function csrColumns(width: number, ctxWidth: number): CsrColumns {
  const inner = width - 2 - 2; // borders, then the marker column
  const short = inner < 130;
  const condition = short ? 9 : 16;
  const age = 5;
  const badge = 2;
  const ctx = Math.min(Math.max(3, ctxWidth), 12);
  let rest = inner - ctx - age - condition - badge - 4;
  let signer = 0;
  let requestor = 0;
  if (rest >= 72) {
    rest -= 2;
    signer = Math.floor(rest * 0.3);
    requestor = Math.floor(rest * 0.28);
  } else if (rest >= 45) {
    rest -= 1;
    signer = Math.floor(rest * 0.35);
  }
  rest -= signer + requestor;
  return { ctx, name: Math.max(8, rest), age, signer, requestor, condition, short };
}

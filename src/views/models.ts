// View models: what the pure views draw. Every string here is already terminal-safe (the selectors in
// src/app/selectors.ts build them); views only lay them out.

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info' | 'accent' | 'plain';

export interface ContextBadgeVm {
  name: string;
  /** e.g. `live`, `retrying 3s (connection refused)`, `forbidden: …`. */
  state: string;
  tone: Tone;
}

export interface HeaderVm {
  contexts: ContextBadgeVm[];
  /** Undefined until every context shown has been counted (the header shows `…`, never a 0 beside rows). */
  pending?: number;
  stalled?: number;
  init?: number;
  healthTone: Tone;
}

/** ✓ ok, ! warn, ✗ fail, ⏳ approved and waiting for a signature, · not decoded yet. */
export type CsrBadge = 'ok' | 'warn' | 'fail' | 'waiting' | 'unknown';

export interface CsrRowVm {
  key: string;
  context: string;
  name: string;
  age: string;
  signer: string;
  requestor: string;
  /** kubectl's CONDITION column. */
  condition: string;
  badge: CsrBadge;
  /** Part of the bulk selection. */
  marked: boolean;
  /** Its context is not live: the row is as of when the connection was lost (drawn dim; the title says since when). */
  stale?: boolean;
}

export interface ListWindowVm<Row> {
  /** Only the visible rows. */
  rows: Row[];
  /** Index of rows[0] in the whole list. */
  offset: number;
  total: number;
  selectedKey?: string;
  /** Still being listed: no count yet (the pane says so instead of "none"). */
  listing?: boolean;
  /** Nothing can be listed: no context shown has answered (unreachable, forbidden); the Health pane says why. */
  unanswered?: boolean;
}

export interface InitPodRowVm {
  key: string;
  context: string;
  /** namespace/name */
  pod: string;
  /** e.g. `Init:0/1`, `Init:CrashLoopBackOff`. */
  status: string;
  age: string;
  /** The CSR it waits on (its name); empty when none is linked. */
  csr: string;
  /** That CSR's condition, e.g. `Pending` (never cut). */
  csrCondition: string;
  tone: Tone;
}

export interface StyledText {
  text: string;
  tone?: Tone;
}

/** A labelled block of lines (inspect sections, health per context, dialog details). */
export interface SectionVm {
  label: string;
  lines: StyledText[];
}

export interface InspectVm {
  /** The CSR's name (cut, when it must be, keeping its distinguishing tail). */
  title: string;
  /** Where this is, before the title (with facts). @default 'CSRs' */
  crumb?: string;
  /** `· east · Pending · 41s`: never cut. With it the header reads `CSRs › TITLE FACTS`. */
  facts?: string;
  sections: SectionVm[];
  /** Keys that work here, e.g. `a approve  x deny (not allowed: …)`. */
  actions: StyledText[];
}

export interface DialogFieldVm {
  label: string;
  value: string;
  active: boolean;
  /** Shown after the value, e.g. `(tab: next field)`. */
  hint?: string;
}

export interface DialogVm {
  title: string;
  tone: Tone;
  details: SectionVm[];
  fields: DialogFieldVm[];
  /** A preview block (YAML), already cut to fit. */
  preview?: string[];
  /** The last line: what to press. */
  prompt: string;
  error?: string;
}

export interface KeyHintVm {
  key: string;
  label: string;
  disabled?: boolean;
}

export interface HelpGroupVm {
  title: string;
  keys: KeyHintVm[];
}

/** One certificate row of the Certificates view. */
export interface CertRowVm {
  key: string;
  context: string;
  /** `Secret ns/name`, `ValidatingWebhookConfiguration x`. */
  where: string;
  field: string;
  subject: string;
  /** Time left, `-3d` once expired, `?` when unreadable. */
  left: string;
  problems: string;
  tone: Tone;
  /** Marked with Space for a verb on several (the PCR view). */
  marked?: boolean;
}

export interface CertsVm extends ListWindowVm<CertRowVm> {
  title: string;
  /** Sources not read (forbidden), or "reading…". */
  note?: string;
  /** The filter being typed. */
  prompt?: string;
  /** Column headings when the list is not certificates (the PodCertificateRequests view reuses this one). */
  headings?: { where: string; field: string; subject: string; left: string; problems: string };
  /** Shares of the free width for WHERE and FIELD (SUBJECT gets the rest). @default { where: 0.42, field: 0.2 } */
  shares?: { where: number; field: number };
  /** What an empty list says. @default 'no certificates' */
  empty?: string;
}

export type OverlayVm =
  | { kind: 'certs'; certs: CertsVm }
  | { kind: 'inspect'; inspect: InspectVm; offset: number }
  | { kind: 'dialog'; dialog: DialogVm }
  | { kind: 'help'; groups: HelpGroupVm[]; places: SectionVm[]; offset: number }
  | { kind: 'yaml'; title: string; lines: string[]; offset: number }
  | { kind: 'picker'; title: string; items: string[]; index: number };

/** Everything the main screen draws, for one frame. */
export interface ScreenVm {
  columns: number;
  rows: number;
  header: HeaderVm;
  notice?: StyledText | undefined;
  pane: 'csrs' | 'init' | 'health';
  csrs: ListWindowVm<CsrRowVm>;
  csrScope: string;
  ctxWidth: number;
  initPods: ListWindowVm<InitPodRowVm>;
  health: SectionVm[];
  healthOffset: number;
  tabLabels: { csrs: string; init: string; health: string };
  overlay?: OverlayVm | undefined;
  footer: { status?: StyledText | undefined; input?: { prompt: string; text: string } | undefined; keys: KeyHintVm[] };
}

// The CSR pane: pending first, then oldest; only the visible window is rendered.
import { Box, Text } from 'ink';
import { csrColumns } from './layout.js';
import type { CsrBadge, CsrRowVm, ListWindowVm } from './models.js';
import { sharedPrefixes, fit, fitDistinct, ToneText } from './theme.js';

export interface CsrTableProps {
  list: ListWindowVm<CsrRowVm>;
  /** Title after `CSRs`, e.g. `all contexts · pending first · filter calico`. */
  scope: string;
  width: number;
  /** Outer height, borders included. */
  height: number;
  focused: boolean;
  /** Widest context name (for the CTX column). */
  ctxWidth: number;
}

const badgeGlyph: Record<CsrBadge, string> = { ok: '✓', warn: '!', fail: '✗', waiting: '◷', unknown: '·' };
const badgeTone = { ok: 'ok', warn: 'warn', fail: 'bad', waiting: 'info', unknown: 'muted' } as const;

export function shortCondition(condition: string): string {
  return condition
    .replace('Pending', 'Pend')
    .replace('Approved', 'Appr')
    .replace('Denied', 'Deny')
    .replace('Failed', 'Fail')
    .replace('Issued', 'Iss');
}

function conditionTone(condition: string) {
  if (condition.includes('Denied') || condition.includes('Failed')) return 'bad' as const;
  if (condition.includes('Issued')) return 'ok' as const;
  if (condition.startsWith('Approved')) return 'info' as const;
  return 'warn' as const;
}

export function CsrTable({ list, scope, width, height, focused, ctxWidth }: CsrTableProps) {
  const visibleRows = Math.max(0, height - 4);
  const shown = list.rows.slice(0, visibleRows);
  const widest = (pick: (r: CsrRowVm) => string) => Math.max(0, ...shown.map((r) => [...pick(r)].length));
  const cols = csrColumns(width, ctxWidth, {
    name: widest((r) => r.name),
    signer: widest((r) => r.signer),
    requestor: widest((r) => r.requestor),
    condition: widest((r) => r.condition),
  });
  // Cuts come out of what the rows on screen share, so the part that tells them apart stays.
  const common = {
    name: sharedPrefixes(shown.map((r) => r.name)),
    signer: sharedPrefixes(shown.map((r) => r.signer)),
    requestor: sharedPrefixes(shown.map((r) => r.requestor)),
  };
  const cells = (ctx: string, name: string, age: string, signer: string, requestor: string, heading = false) =>
    [
      fit(ctx, cols.ctx),
      heading ? fit(name, cols.name) : fitDistinct(name, cols.name, common.name),
      fit(age, cols.age, 'right'),
      cols.signer ? (heading ? fit(signer, cols.signer) : fitDistinct(signer, cols.signer, common.signer)) : undefined,
      cols.requestor
        ? heading
          ? fit(requestor, cols.requestor)
          : fitDistinct(requestor, cols.requestor, common.requestor)
        : undefined,
    ]
      .filter((c) => c !== undefined)
      .join(' ');
  const last = list.offset + list.rows.length;
  const range = list.total === 0 ? 'none' : `${list.offset + 1}–${last} of ${list.total}`;
  const innerWidth = Math.max(0, width - 2);
  // No overflow="hidden" on the pane: its rows are cut to the pane's height and truncated to its width already,
  // and a clip makes Ink re-slice every line inside it (slice-ansi) on every frame.
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderColor={focused ? 'cyan' : 'gray'}
    >
      <Box width={innerWidth} height={1}>
        <Box flexGrow={1} overflow="hidden">
          <Text bold wrap="truncate-end">
            CSRs <Text bold={false}>{scope}</Text>
          </Text>
        </Box>
        <Text> {range}</Text>
      </Box>
      <Text bold wrap="truncate-end">
        {`  ${cells('CTX', 'NAME', 'AGE', 'SIGNER', 'REQUESTOR', true)} ${fit('COND', cols.condition)}`}
      </Text>
      {list.rows.length === 0 ? <ToneText tone="muted"> no CSRs here</ToneText> : null}
      {shown.map((row) => {
        const selected = row.key === list.selectedKey;
        const marker = `${selected ? '▶' : ' '}${row.marked ? '●' : ' '}`;
        const condition = cols.short ? shortCondition(row.condition) : row.condition;
        const inverse = selected && focused;
        return (
          // The glyphs (▶ ● ✓ …) get Text nodes of their own so that the long middle one stays ASCII: Ink measures
          // every Text node with string-width on every frame, and any non-ASCII character sends the whole string
          // through a grapheme segmenter (most of a frame's cost when the row was one node).
          <Box key={row.key} width={innerWidth} height={1}>
            <Text inverse={inverse}>{marker}</Text>
            <Text inverse={inverse} dimColor={row.stale === true} wrap="truncate-end">
              {`${cells(row.context, row.name, row.age, row.signer, row.requestor)} `}
              <ToneText tone={conditionTone(row.condition)}>{fit(condition, cols.condition)}</ToneText>{' '}
            </Text>
            <Text inverse={inverse}>
              <ToneText tone={badgeTone[row.badge]}>{badgeGlyph[row.badge]}</ToneText>
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}

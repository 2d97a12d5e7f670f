// Pods held in Init, each with the CSR it waits on and that CSR's state.
import { Box, Text } from 'ink';
import type { InitPodRowVm, ListWindowVm } from './models.js';
import { sharedPrefixes, fit, fitDistinct, ToneText } from './theme.js';

export interface InitPodsPaneProps {
  list: ListWindowVm<InitPodRowVm>;
  width: number;
  height: number;
  focused: boolean;
  ctxWidth: number;
}

export function InitPodsPane({ list, width, height, focused, ctxWidth }: InitPodsPaneProps) {
  const inner = Math.max(0, width - 2);
  const ctx = Math.min(Math.max(3, ctxWidth), 10);
  const status = Math.min(22, Math.max(8, ...list.rows.map((r) => r.status.length)));
  const age = 5;
  const visibleRows = Math.max(0, height - 3);
  const shown = list.rows.slice(0, visibleRows);
  // The CSR's condition is never cut: its column is as wide as the widest shown.
  const cond = Math.max(0, ...shown.map((r) => r.csrCondition.length));
  const rest = Math.max(10, inner - 7 - ctx - status - age - (cond ? cond + 6 : 0));
  const podWant = Math.max(0, ...shown.map((r) => r.pod.length));
  const pod = Math.max(10, Math.min(podWant, Math.floor(rest * 0.55)));
  const csr = Math.max(0, rest - pod);
  const common = { pod: sharedPrefixes(shown.map((r) => r.pod)), csr: sharedPrefixes(shown.map((r) => r.csr)) };
  // No overflow="hidden": rows are cut to the height and truncated to the width already (see csr-table.tsx).
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderColor={focused ? 'cyan' : 'gray'}
    >
      <Box width={inner} height={1}>
        <Box flexGrow={1}>
          <Text bold>Pods in Init</Text>
        </Box>
        <Text>{list.total === 0 ? '' : `${list.offset + 1}–${list.offset + list.rows.length} of ${list.total}`}</Text>
      </Box>
      {list.rows.length === 0 ? (
        <ToneText tone="muted">
          {list.unanswered ? 'no context answered (Health says why)' : list.listing ? 'listing pods…' : 'none waiting'}
        </ToneText>
      ) : null}
      {shown.map((row) => {
        const selected = row.key === list.selectedKey;
        const inverse = selected && focused;
        // Glyphs (▶ ←) in Text nodes of their own, the rest ASCII (see csr-table.tsx).
        return (
          <Box key={row.key} width={inner} height={1}>
            <Text inverse={inverse}>{selected ? '▶' : ' '}</Text>
            <Text inverse={inverse} wrap="truncate-end">
              {` ${fit(row.context, ctx)} ${fitDistinct(row.pod, pod, common.pod)} `}
              <ToneText tone={row.tone}>{fit(row.status, status)}</ToneText>
              {` ${fit(row.age, age, 'right')} `}
            </Text>
            <Text inverse={inverse}>{row.csr ? '←' : ' '}</Text>
            <Text inverse={inverse} wrap="truncate-end">
              {row.csr ? ` csr ${fitDistinct(row.csr, csr, common.csr)} ${fit(row.csrCondition, cond)}` : ''}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}

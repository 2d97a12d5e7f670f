// Health per context: TigeraStatus conditions and the signer backlog. Lines come wrapped to the pane's width
// (app/store.ts healthPane): a reason is read whole, and scrolling reaches the last line.
import { Box, Text } from 'ink';
import { healthLabelWidth } from './layout.js';
import type { SectionVm } from './models.js';
import { fit, ToneText } from './theme.js';

export interface HealthPaneProps {
  sections: SectionVm[];
  width: number;
  height: number;
  focused: boolean;
  /** First line shown (scrolling). */
  offset: number;
}

export function HealthPane({ sections, width, height, focused, offset }: HealthPaneProps) {
  const inner = Math.max(0, width - 2);
  const label = healthLabelWidth(sections.map((s) => s.label));
  const lines = sections.flatMap((s) =>
    s.lines.map((l, i) => ({ key: `${s.label}:${i}`, label: i === 0 ? s.label : '', ...l })),
  );
  const visible = lines.slice(offset, offset + Math.max(0, height - 3));
  // No overflow="hidden": rows are cut to the height and truncated to the width already (see csr-table.tsx).
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderColor={focused ? 'cyan' : 'gray'}
    >
      <Text bold>Health</Text>
      {visible.map((l) => (
        <Box key={l.key} width={inner} height={1}>
          <Text wrap="truncate-end">
            <Text bold>{`${fit(l.label, label)} `}</Text>
            <ToneText tone={l.tone}>{l.text}</ToneText>
          </Text>
        </Box>
      ))}
    </Box>
  );
}

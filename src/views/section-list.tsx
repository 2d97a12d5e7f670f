// Labelled sections laid out as a two-column block, cut to a window of lines (inspect, dialogs, help).
import { Box, Text } from 'ink';
import type { SectionVm } from './models.js';
import { fit, ToneText } from './theme.js';

export interface SectionListProps {
  sections: SectionVm[];
  width: number;
  /** Lines to show at most. */
  height: number;
  offset?: number;
  labelWidth?: number;
}

/** Flattens sections to one entry per screen line (label only on the first line of a section). */
export function sectionLines(sections: SectionVm[]) {
  return sections.flatMap((s, si) =>
    s.lines.length === 0
      ? [{ key: `${si}:0`, label: s.label, text: '', tone: undefined }]
      : s.lines.map((l, i) => ({ key: `${si}:${i}`, label: i === 0 ? s.label : '', text: l.text, tone: l.tone })),
  );
}

export function SectionList({ sections, width, height, offset = 0, labelWidth = 11 }: SectionListProps) {
  const lines = sectionLines(sections).slice(offset, offset + Math.max(0, height));
  return (
    <Box flexDirection="column" width={width} overflow="hidden">
      {lines.map((l) => (
        <Box key={l.key} width={width} height={1}>
          <Text wrap="truncate-end">
            <Text bold>{` ${fit(l.label, labelWidth)} `}</Text>
            <ToneText tone={l.tone}>{l.text}</ToneText>
          </Text>
        </Box>
      ))}
    </Box>
  );
}

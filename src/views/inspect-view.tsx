// Inspect (Enter): the decoded request, requestor, usages, conditions, certificate, findings and linked pod.
import { Box, Text } from 'ink';
import type { InspectVm } from './models.js';
import { SectionList } from './section-list.js';
import { ToneText } from './theme.js';

export interface InspectViewProps {
  inspect: InspectVm;
  width: number;
  height: number;
  offset: number;
}

export function InspectView({ inspect, width, height, offset }: InspectViewProps) {
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box width={width} height={1}>
        <Box flexGrow={1} overflow="hidden">
          <Text bold wrap="truncate-end">{` ${inspect.title}`}</Text>
        </Box>
        <Text> esc back y yaml ↑↓ scroll </Text>
      </Box>
      <SectionList sections={inspect.sections} width={width} height={Math.max(0, height - 2)} offset={offset} />
      <Box width={width} height={1} overflow="hidden">
        {inspect.actions.map((a) => (
          <ToneText key={a.text} tone={a.tone}>{` ${a.text} `}</ToneText>
        ))}
      </Box>
    </Box>
  );
}

// Inspect (Enter): the decoded request, requestor, usages, conditions, certificate, findings and linked pod.
import { Box, Text } from 'ink';
import type { InspectVm } from './models.js';
import { SectionList } from './section-list.js';
import { fitDistinct, ToneText } from './theme.js';

export interface InspectViewProps {
  inspect: InspectVm;
  width: number;
  height: number;
  offset: number;
}

export function InspectView({ inspect, width, height, offset }: InspectViewProps) {
  // One line at any width: the hint shrinks first, then the name is cut keeping its tail; the facts (context,
  // state, age) are never cut.
  const wide = inspect.crumb ? ' esc back  ↑↓ scroll ' : ' esc back  y yaml  ↑↓ scroll ';
  const hint = width >= 100 ? wide : width >= 70 ? ' esc back ' : '';
  const facts = inspect.facts ?? '';
  const crumb = inspect.facts === undefined ? ' ' : ` ${inspect.crumb ?? 'CSRs'} › `;
  const nameRoom = Math.max(8, width - crumb.length - facts.length - 1 - hint.length);
  const name = [...inspect.title].length > nameRoom ? fitDistinct(inspect.title, nameRoom) : inspect.title;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box width={width} height={1}>
        <Box flexGrow={1} overflow="hidden">
          <Text bold wrap="truncate-end">{`${crumb}${name}${facts ? ` ${facts}` : ''}`}</Text>
        </Box>
        {hint ? (
          <Box flexShrink={0}>
            <Text>{hint}</Text>
          </Box>
        ) : null}
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

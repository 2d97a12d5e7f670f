// On small terminals the panes become tabs: `CSRs 7 | Init 5 | Health ⚠`.
import { Box, Text } from 'ink';
import { PANES, type PaneId } from './layout.js';

export interface TabsProps {
  active: PaneId;
  labels: Record<PaneId, string>;
  width: number;
}

export function Tabs({ active, labels, width }: TabsProps) {
  return (
    <Box width={width} height={1} overflow="hidden">
      {PANES.map(({ id }, i) => (
        <Text key={id}>
          {i > 0 ? ' | ' : ' '}
          <Text bold={id === active} inverse={id === active}>
            {` ${labels[id]} `}
          </Text>
        </Text>
      ))}
    </Box>
  );
}

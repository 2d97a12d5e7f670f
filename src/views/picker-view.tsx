// A list to choose one from (`:ctx` with no name: the contexts, and all).
import { Box, Text } from 'ink';

export interface PickerViewProps {
  title: string;
  items: string[];
  index: number;
  width: number;
  height: number;
}

export function PickerView({ title, items, index, width, height }: PickerViewProps) {
  const room = Math.max(1, height - 1);
  const top = Math.max(0, Math.min(index - room + 1, items.length - room));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">{` ${title}`}</Text>
      {items.slice(top, top + room).map((item, i) => (
        <Text key={item} inverse={top + i === index} wrap="truncate-end">
          {`${top + i === index ? ' ▶ ' : '   '}${item}`}
        </Text>
      ))}
    </Box>
  );
}

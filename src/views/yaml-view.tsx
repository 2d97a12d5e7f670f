// The object's YAML (y), scrollable.
import { Box, Text } from 'ink';

export interface YamlViewProps {
  title: string;
  lines: string[];
  width: number;
  height: number;
  offset: number;
}

export function YamlView({ title, lines, width, height, offset }: YamlViewProps) {
  const room = Math.max(0, height - 1);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text
        bold
        wrap="truncate-end"
      >{` ${title} — esc back, ↑↓ PgUp PgDn scroll (${offset + 1}/${lines.length})`}</Text>
      {lines.slice(offset, offset + room).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <Text key={offset + i} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Box>
  );
}

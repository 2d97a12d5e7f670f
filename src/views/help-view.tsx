// Help (?): every key, grouped, the command-mode commands, and where config, audit log and CA registry live.
import { Box, Text } from 'ink';
import type { HelpGroupVm, SectionVm } from './models.js';
import { SectionList } from './section-list.js';
import { fit } from './theme.js';

export interface HelpViewProps {
  groups: HelpGroupVm[];
  places: SectionVm[];
  width: number;
  height: number;
  offset: number;
}

export function HelpView({ groups, places, width, height, offset }: HelpViewProps) {
  const lines = groups.flatMap((g) => [
    { key: `g:${g.title}`, title: g.title, hint: undefined },
    ...g.keys.map((k) => ({ key: `${g.title}:${k.key}`, title: undefined, hint: k })),
  ]);
  const placesHeight = places.reduce((n, s) => n + Math.max(1, s.lines.length), 0);
  const room = Math.max(0, height - 2 - placesHeight);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold> Help — esc or ? to close, ↑↓ to scroll</Text>
      <Box flexDirection="column" height={room} overflow="hidden">
        {lines.slice(offset, offset + room).map((l) =>
          l.title ? (
            <Text key={l.key} bold underline wrap="truncate-end">{` ${l.title}`}</Text>
          ) : (
            <Text key={l.key} wrap="truncate-end">
              {'   '}
              <Text bold>{fit(l.hint?.key ?? '', 18)}</Text> {l.hint?.label}
            </Text>
          ),
        )}
      </Box>
      <Text> </Text>
      <SectionList sections={places} width={width} height={placesHeight} labelWidth={12} />
    </Box>
  );
}

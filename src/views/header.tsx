// The top line: contexts with their connection state, and the counts that matter on call.
import { Box, Text } from 'ink';
import type { HeaderVm } from './models.js';
import { ToneText } from './theme.js';

export interface HeaderProps {
  header: HeaderVm;
  width: number;
}

export function Header({ header, width }: HeaderProps) {
  // Small terminals keep the contexts readable: shorter labels for the counts.
  const compact = width < 100;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Box flexGrow={1} flexShrink={1} overflow="hidden">
        <Text wrap="truncate-end">
          <Text bold> certdesk </Text>
          <Text> ctx:</Text>
          {header.contexts.map((c) => (
            <Text key={c.name}>
              {' '}
              <Text bold>{c.name}</Text> <ToneText tone={c.tone}>{stateGlyph(c.tone)}</ToneText>{' '}
              <ToneText tone={c.tone}>{c.state}</ToneText>
            </Text>
          ))}
        </Text>
      </Box>
      <Box flexShrink={0}>
        <Text>
          <ToneText tone={header.pending > 0 ? 'warn' : 'plain'}>
            {` ${compact ? 'pend' : 'pending'} ${header.pending}`}
          </ToneText>
          <ToneText tone={header.stalled > 0 ? 'bad' : 'plain'}>
            {` ${compact ? 'stall' : 'stalled'} ${header.stalled}`}
          </ToneText>
          <ToneText tone={header.init > 0 ? 'warn' : 'plain'}>{` init ${header.init}`}</ToneText>
          <ToneText tone={header.healthTone}>
            {`${compact ? ' ' : ' health '}${header.healthTone === 'ok' ? '✓' : header.healthTone === 'muted' ? '–' : '⚠'}`}
          </ToneText>
          <Text>{compact ? ' ? ' : ' ? help '}</Text>
        </Text>
      </Box>
    </Box>
  );
}

function stateGlyph(tone: string): string {
  if (tone === 'ok') return '●';
  if (tone === 'bad') return '✗';
  return '◐';
}

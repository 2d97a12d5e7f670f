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
          {count(compact ? 'pend' : 'pending', header.pending, 'warn')}
          {count(compact ? 'stall' : 'stalled', header.stalled, 'bad')}
          {count('init', header.init, 'warn')}
          <ToneText tone={header.healthTone}>
            {`${compact ? ' ' : ' health '}${header.healthTone === 'ok' ? '✓' : header.healthTone === 'muted' ? '–' : '⚠'}`}
          </ToneText>
          <Text>{compact ? ' ? ' : ' ? help '}</Text>
        </Text>
      </Box>
    </Box>
  );
}

/** `pending 7`, or `pending …` while not every context has been counted. */
function count(label: string, n: number | undefined, tone: 'warn' | 'bad') {
  return <ToneText tone={n ? tone : 'plain'}>{` ${label} ${n ?? '…'}`}</ToneText>;
}

function stateGlyph(tone: string): string {
  if (tone === 'ok') return '●';
  if (tone === 'bad') return '✗';
  return '◐';
}

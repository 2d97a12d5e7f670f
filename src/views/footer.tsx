// The bottom two lines: the status of the last action (or the filter/command being typed), then the keys that work here.
import { Box, Text } from 'ink';
import type { KeyHintVm, StyledText } from './models.js';
import { ToneText } from './theme.js';

export interface FooterProps {
  status?: StyledText | undefined;
  /** While typing a filter or a command: the prompt (`/`, `:`) and the text so far. */
  input?: { prompt: string; text: string } | undefined;
  keys: KeyHintVm[];
  width: number;
}

export function Footer({ status, input, keys, width }: FooterProps) {
  return (
    <Box flexDirection="column" width={width} height={2} overflow="hidden">
      {input ? (
        <Text wrap="truncate-end">
          <Text bold>{input.prompt}</Text>
          {input.text}
          <Text inverse> </Text>
        </Text>
      ) : (
        <ToneText tone={status?.tone}>{` ${status?.text ?? ''}`}</ToneText>
      )}
      <Text wrap="truncate-end">
        {keys.map((k) => (
          <Text key={k.key + k.label}>
            {' '}
            <Text bold={!k.disabled} dimColor={k.disabled}>
              {k.key}
            </Text>{' '}
            <Text dimColor={k.disabled}>{k.label}</Text>{' '}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

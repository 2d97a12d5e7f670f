// One line under the header: a new CSR arrived, or nothing.
import { Box } from 'ink';
import type { StyledText } from './models.js';
import { ToneText } from './theme.js';

export function Notice({ notice, width }: { notice?: StyledText | undefined; width: number }) {
  return (
    <Box width={width} height={1} overflow="hidden">
      <ToneText tone={notice?.tone ?? 'info'}>{notice ? ` ${notice.text}` : ''}</ToneText>
    </Box>
  );
}

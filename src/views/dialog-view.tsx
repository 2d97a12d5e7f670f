// A confirmation or form (approve, deny with reason, sign, export): details, fields being typed, preview, prompt.
import { Box, Text } from 'ink';
import type { DialogVm } from './models.js';
import { SectionList, sectionLines } from './section-list.js';
import { ToneText } from './theme.js';

export interface DialogViewProps {
  dialog: DialogVm;
  width: number;
  height: number;
}

export function DialogView({ dialog, width, height }: DialogViewProps) {
  const inner = Math.max(10, width - 2);
  const detailLines = sectionLines(dialog.details).length;
  const fixed = 2 + 1 + dialog.fields.length + 1 + (dialog.error ? 1 : 0) + 1;
  const previewRoom = Math.max(0, height - fixed - detailLines - 1);
  const preview = dialog.preview?.slice(0, previewRoom) ?? [];
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="double"
      borderColor={dialog.tone === 'bad' ? 'red' : dialog.tone === 'warn' ? 'yellow' : 'cyan'}
      overflow="hidden"
    >
      <ToneText tone={dialog.tone} bold>
        {` ${dialog.title}`}
      </ToneText>
      <SectionList sections={dialog.details} width={inner} height={Math.max(0, height - fixed)} />
      {dialog.fields.map((f) => (
        <Box key={f.label} width={inner} height={1}>
          <Text bold>{` ${f.active ? '›' : ' '} ${f.label}: `}</Text>
          <Text wrap="truncate-start">{f.value}</Text>
          {f.active ? <Text inverse> </Text> : null}
          {f.hint ? <ToneText tone="muted">{`  ${f.hint}`}</ToneText> : null}
        </Box>
      ))}
      {preview.length > 0 ? (
        <Box flexDirection="column" width={inner} marginTop={1}>
          {preview.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: preview lines have no identity beyond their position
            <ToneText key={i} tone="muted">{`   ${line}`}</ToneText>
          ))}
        </Box>
      ) : null}
      {dialog.error ? <ToneText tone="bad">{` ${dialog.error}`}</ToneText> : null}
      <Box marginTop={1}>
        <Text bold>{` ${dialog.prompt}`}</Text>
      </Box>
    </Box>
  );
}

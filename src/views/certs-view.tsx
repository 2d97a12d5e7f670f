// The Certificates view: every certificate the desk can see, soonest expiry first, one row each (context, where,
// key, subject, time left, problems), with the filter prompt at the bottom while it is typed.
import { Box, Text } from 'ink';
import type { CertsVm } from './models.js';
import { fit, fitMiddle, ToneText } from './theme.js';

export interface CertsViewProps {
  certs: CertsVm;
  width: number;
  height: number;
}

export function CertsView({ certs, width, height }: CertsViewProps) {
  const inner = Math.max(0, width - 2);
  const ctx = Math.min(10, Math.max(3, ...certs.rows.map((r) => r.context.length)));
  const left = 7;
  const problems = Math.min(30, Math.max(8, ...certs.rows.map((r) => r.problems.length)));
  const rest = Math.max(20, inner - 2 - ctx - left - problems - 5);
  const where = Math.floor(rest * (certs.shares?.where ?? 0.42));
  const field = Math.floor(rest * (certs.shares?.field ?? 0.2));
  const subject = Math.max(0, rest - where - field);
  const visible = Math.max(0, height - 4 - (certs.prompt !== undefined ? 1 : 0));
  const h = certs.headings ?? { where: 'WHERE', field: 'KEY', subject: 'SUBJECT', left: 'LEFT', problems: 'PROBLEMS' };
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="single" borderColor="cyan">
      <Box width={inner} height={1}>
        <Box flexGrow={1} overflow="hidden">
          <Text bold wrap="truncate-end">
            {certs.title}
          </Text>
        </Box>
        <Text>
          {certs.total === 0 ? '' : ` ${certs.offset + 1}–${certs.offset + certs.rows.length} of ${certs.total}`}
        </Text>
      </Box>
      <Text bold wrap="truncate-end">
        {`  ${fit('CTX', ctx)} ${fit(h.where, where)} ${fit(h.field, field)} ${fit(h.subject, subject)} ${fit(h.left, left, 'right')} ${fit(h.problems, problems)}`}
      </Text>
      {certs.note ? <ToneText tone="muted">{fit(` ${certs.note}`, inner)}</ToneText> : null}
      {certs.rows.length === 0 && !certs.note ? (
        <ToneText tone="muted"> {certs.empty ?? 'no certificates'}</ToneText>
      ) : null}
      {certs.rows.slice(0, certs.note ? Math.max(0, visible - 1) : visible).map((row) => {
        const selected = row.key === certs.selectedKey;
        return (
          <Box key={row.key} width={inner} height={1}>
            <Text inverse={selected}>{selected ? '▶' : ' '}</Text>
            <Text inverse={selected} wrap="truncate-end">
              {`${row.marked ? '●' : ' '}${fit(row.context, ctx)} ${fitMiddle(row.where, where)} ${fitMiddle(row.field, field)} ${fit(row.subject, subject)} `}
              <ToneText
                tone={row.tone}
              >{`${fit(row.left, left, 'right')} ${fit(row.problems || '✓', problems)}`}</ToneText>
            </Text>
          </Box>
        );
      })}
      {certs.prompt !== undefined ? <Text wrap="truncate-end">{certs.prompt}▏</Text> : null}
    </Box>
  );
}

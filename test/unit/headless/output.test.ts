import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanDuration, parseDurationSeconds } from '../../../src/headless/output/duration.js';
import { type GetFormat, GetPrinter } from '../../../src/headless/output/get-printer.js';
import { formatItems, parseOutputFormat } from '../../../src/headless/output/print.js';
import { renderTable } from '../../../src/headless/output/table.js';

test('humanDuration matches kubectl', () => {
  assert.equal(humanDuration(45), '45s');
  assert.equal(humanDuration(600), '10m');
  assert.equal(humanDuration(3600 * 24), '24h');
  assert.equal(humanDuration(3600 * 5 + 60 * 20), '5h20m');
  assert.equal(humanDuration(86400 * 365), '365d');
  assert.equal(humanDuration(86400 * 3), '3d');
});

test('parseDurationSeconds reads Go-style durations', () => {
  assert.equal(parseDurationSeconds('24h'), 86400);
  assert.equal(parseDurationSeconds('1h30m'), 5400);
  assert.equal(parseDurationSeconds('600'), 600);
  assert.equal(parseDurationSeconds('5m'), 300);
  assert.equal(parseDurationSeconds('soon'), undefined);
});

test('tables align columns and escape control characters', () => {
  const out = renderTable(
    ['NAME', 'AGE'],
    [
      ['a\x1b[31m', '1m'],
      ['bb', '2m'],
    ],
  );
  assert.ok(!out.includes('\x1b'));
  assert.equal(out.split('\n')[0], 'NAME        AGE');
  assert.ok(out.includes('a\\x1b[31m   1m'));
});

test('formatItems prints json lists exactly and names safely', () => {
  const spec = {
    data: (s: string) => ({ name: s }),
    name: (s: string) => `thing/${s}`,
    table: { headers: ['NAME'], row: (s: string) => [s] },
  };
  const json = JSON.parse(formatItems(['x\x07'], { ...spec, format: 'json' }));
  assert.equal(json.kind, 'List');
  assert.equal(json.items[0].name, 'x\x07');
  assert.equal(formatItems(['x\x07'], { ...spec, format: 'name' }), 'thing/x\\x07\n');
  assert.throws(() => parseOutputFormat('xml'), /unknown output format/);
});

test('get: a List holds each context in its place on the command line, not in the order they answered', () => {
  type Item = { context: string; name: string };
  const printed = (format: GetFormat, order: 'answered' | 'reversed') => {
    let text = '';
    const printer = new GetPrinter<Item>(
      format,
      {
        data: (i) => ({ kind: 'X', metadata: { name: i.name, annotations: { ctx: i.context } } }),
        name: (i) => `x/${i.name}`,
        table: { headers: ['CONTEXT', 'NAME'], row: (i) => [i.context, i.name] },
      },
      (t) => {
        text += t;
      },
    );
    const east = [{ context: 'east', name: 'a' }];
    const west = [{ context: 'west', name: 'b' }];
    // west (second on the command line) answers first.
    if (order === 'answered') {
      printer.add(west, 1);
      printer.add(east, 0);
    } else {
      printer.add(east, 0);
      printer.add(west, 1);
    }
    printer.end();
    return text;
  };
  for (const format of [{ kind: 'json' }, { kind: 'jsonpath', template: '{.items[*].metadata.name}' }] as const) {
    assert.equal(printed(format, 'answered'), printed(format, 'reversed'), format.kind);
  }
  assert.match(printed({ kind: 'json' }, 'answered'), /"a"[\s\S]*"b"/);
  // A table streams: each context's rows as they come.
  assert.match(printed({ kind: 'table' }, 'answered'), /west +b\neast +a/);
});

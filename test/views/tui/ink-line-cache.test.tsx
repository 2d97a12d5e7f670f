// The shared line cache must leave Ink's frames exactly as Ink draws them alone: random writes (styled, wide,
// multi-line, clipped, transformed) through Ink's own Output with and without it, and the real screens rendered
// before and after it is installed. It must also install on the Ink we ship (else an Ink upgrade changed the
// internals it relies on and someone has to look again).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  INK_GET,
  inkOutputClass,
  installLineCache,
  type OutputClass,
  SharedOutputCaches,
  unsupportedReason,
} from '../../../src/views/ink-line-cache.js';
import { MainScreen } from '../../../src/views/main-screen.js';
import { screen } from './fixtures.js';
import { frameOf } from './render.js';

type Op =
  | { kind: 'write'; x: number; y: number; text: string; transform: number }
  | { kind: 'clip'; x1?: number; x2?: number; y1?: number; y2?: number }
  | { kind: 'unclip' };

// Few distinct pieces, so the same lines come back across frames and the cache is hit.
const pieces = [
  'pending',
  'calico-system:calico-node-x7k2p:a1b2',
  '\u001b[1mbold\u001b[22m',
  '\u001b[31mred\u001b[39m and plain',
  '日本語',
  '👍🏽 ok',
  'e\u0301',
  '│ border │',
  '',
  '   ',
  '\u001b[38;2;1;2;3mtrue colour\u001b[39m',
];
const transforms: ((line: string, index: number) => string)[] = [
  (line) => line,
  (line) => `\u001b[32m${line}\u001b[39m`,
  (line, index) => (index % 2 ? line.toUpperCase() : `\u001b[7m${line}\u001b[27m`),
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      x: fc.integer({ min: -3, max: 30 }),
      y: fc.integer({ min: -2, max: 9 }),
      // Recurring pieces (cache hits) and numbered rows (enough distinct lines to retire cache generations).
      text: fc
        .array(
          fc.oneof(
            fc.constantFrom(...pieces),
            fc.nat(4000).map((n) => `row ${n} 日${n % 7}`),
          ),
          {
            minLength: 1,
            maxLength: 4,
          },
        )
        .map((p) => p.join(p.length > 2 ? '\n' : ' ')),
      transform: fc.integer({ min: 0, max: transforms.length - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        kind: fc.constant('clip' as const),
        x1: fc.integer({ min: 0, max: 20 }),
        x2: fc.integer({ min: 5, max: 35 }),
        y1: fc.integer({ min: 0, max: 5 }),
        y2: fc.integer({ min: 2, max: 10 }),
      },
      { requiredKeys: ['kind'] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'unclip' as const }) },
);

type Get = () => { output: string; height: number };

function draw(Output: OutputClass, get: Get, ops: Op[], width: number) {
  const out = new Output({ width, height: 8 }) as InstanceType<OutputClass> & {
    clip(c: object): void;
    unclip(): void;
  };
  for (const op of ops) {
    if (op.kind === 'write') out.write(op.x, op.y, op.text, { transformers: [transforms[op.transform]!] });
    else if (op.kind === 'clip') out.clip(op);
    else out.unclip();
  }
  return get.call(out);
}

describe('Ink line cache', () => {
  it('installs on the Ink we ship, and only once', async () => {
    const Output = await inkOutputClass();
    assert.equal(unsupportedReason(Output), undefined);
    const original = Output.prototype.get;
    assert.deepEqual(installLineCache(Output), { installed: true });
    const wrapped = Output.prototype.get;
    assert.notEqual(wrapped, original);
    assert.deepEqual(installLineCache(Output), { installed: true });
    assert.equal(Output.prototype.get, wrapped, 'not wrapped twice');
  });

  it('refuses an Output that does not look like the one it was written for', () => {
    class Other {
      caches = { styledChars: new Map(), widths: new Map(), blockWidths: new Map() };
      write() {}
      get() {
        return { output: '', height: 0 };
      }
    }
    const result = installLineCache(Other as unknown as OutputClass);
    assert.equal(result.installed, false);
    assert.match(String(!result.installed && result.reason), /getStyledChars|caches/);
  });

  it('draws random frames exactly as Ink does alone, across many frames sharing the cache', async () => {
    const Output = await inkOutputClass();
    installLineCache(Output);
    const proto = Output.prototype as unknown as { get: Get; [INK_GET]: Get };
    // Ink's own get on an Output keeps that Output's fresh cache: Ink alone.
    const alone = proto[INK_GET];
    assert.equal(typeof alone, 'function');
    let runs = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), fc.integer({ min: 1, max: 40 }), (ops, width) => {
        runs++;
        assert.deepEqual(draw(Output, proto.get, ops, width), draw(Output, alone, ops, width));
      }),
      { numRuns: 500, seed: 7 },
    );
    assert.equal(runs, 500);
  });

  it('keeps what recent frames drew and stays bounded', async () => {
    const Output = await inkOutputClass();
    const shared = new SharedOutputCaches(() => new Output({ width: 0, height: 0 }).caches as never);
    const first = shared.getStyledChars('a line drawn every frame');
    for (let i = 0; i < 50_000; i++) {
      shared.getStyledChars(`scrolling line ${i}`);
      shared.getStringWidth(`w${i}`);
      // Drawn again each "frame": it stays (moved up when its generation is retired).
      if (i % 300 === 0) assert.equal(shared.getStyledChars('a line drawn every frame'), first, `at ${i}`);
    }
    assert.ok(shared.size < 20_000, `${shared.size} entries after 100,000 distinct keys`);
    assert.notEqual(shared.getStyledChars('scrolling line 0'), undefined);
  });

  it('leaves the real screens as they were before it was installed', async () => {
    const Output = await inkOutputClass();
    const proto = Output.prototype as unknown as { get: Get; [INK_GET]?: Get };
    const elements = () => [
      <MainScreen key="wide" screen={screen()} />,
      <MainScreen key="narrow" screen={screen({ columns: 80, rows: 24 })} />,
      <MainScreen key="init" screen={screen({ pane: 'init' })} />,
    ];
    // This file's other tests may have installed it already: draw "before" with Ink's own get.
    const own = proto[INK_GET];
    const wrapped = proto.get;
    if (own) proto.get = own;
    const before: string[] = [];
    for (const e of elements()) before.push(await frameOf(e));
    proto.get = wrapped;
    installLineCache(Output);
    for (let round = 0; round < 3; round++) {
      const after: string[] = [];
      for (const e of elements()) after.push(await frameOf(e));
      assert.deepEqual(after, before, `round ${round}`);
    }
  });
});

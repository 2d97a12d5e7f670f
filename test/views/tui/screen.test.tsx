// The whole frame at 80×24 and 140×45, built by the selectors from a store state (issue 24, "The screen"): cuts
// keep the part that tells rows apart, states are never abbreviated when they fit, counts agree, the inspect header
// is one line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectScreen } from '../../../src/app/selectors.js';
import { type Action, csrKey, initialState, reducer, type TuiState } from '../../../src/app/store.js';
import type { ContextHealth } from '../../../src/services/health/index.js';
import type { ContextSnapshot } from '../../../src/services/kube/index.js';
import { MainScreen } from '../../../src/views/main-screen.js';
import { ColorContext } from '../../../src/views/theme.js';
import { csr, NOW, snapshot } from '../../unit/app/fixtures.js';
import { frameAt, lines } from './render.js';

const places = { config: '/c', auditLog: '/a', caRegistry: '/r' };
const noInsights = { insight: () => undefined, certificate: () => undefined, capability: () => undefined };
const SA = 'system:serviceaccount:';

function state(columns: number, rows: number, ...actions: Action[]): TuiState {
  const csrs = [
    csr('calico-system:calico-typha-688c9d7f4-7cjnm:2b0d82', {
      ageSeconds: 40,
      user: `${SA}calico-system:calico-typha`,
    }),
    csr('calico-system:calico-typha-688c9d7f4-h9c5w:9a3a10', {
      ageSeconds: 41,
      user: `${SA}calico-system:calico-typha`,
    }),
    csr('calico-system:calico-node-5ckvq:4f1c2e', { ageSeconds: 42, user: `${SA}calico-system:calico-node` }),
    csr('istio-csr-foo', {
      ageSeconds: 43,
      signer: 'clusterissuers.cert-manager.io/foo',
      user: `${SA}istio-system:istiod`,
    }),
    csr('istio-csr-bar', {
      ageSeconds: 44,
      signer: 'clusterissuers.cert-manager.io/bar',
      user: `${SA}istio-system:istiod`,
    }),
    csr('web-old', { ageSeconds: 900, state: 'Issued', signer: 'example.com/serving', user: 'jane@example.com' }),
  ];
  const health = {
    pendingCount: 5,
    signerBacklog: [],
    tigera: 'not-installed',
    podsInInit: [
      {
        namespace: 'calico-system',
        name: 'calico-typha-688c9d7f4-7cjnm',
        status: 'Init:0/1',
        csrName: 'calico-system:calico-typha-688c9d7f4-7cjnm:2b0d82',
        csrCondition: 'Pending',
      },
    ],
  } as unknown as ContextHealth;
  const s = initialState({ contexts: ['east'], columns, rows, now: NOW });
  return [
    { type: 'snapshots', snapshots: { east: snapshot('east', csrs) } } as Action,
    { type: 'health', health: { east: health } } as Action,
    ...actions,
  ].reduce(reducer, s);
}

async function frame(s: TuiState): Promise<string[]> {
  const screen = selectScreen(s, noInsights, places);
  const f = await frameAt(
    <ColorContext.Provider value={false}>
      <MainScreen screen={screen} />
    </ColorContext.Provider>,
    s.columns,
  );
  return lines(f);
}

function assertFits(l: string[], columns: number, rows: number): void {
  assert.equal(l.length, rows, l.join('\n'));
  for (const line of l) assert.ok([...line].length <= columns, `wider than ${columns}: ${line}`);
}

describe('inspect wraps what does not fit', () => {
  it('a long requestor reads whole across lines, under its label, at 80 and 140 columns', async () => {
    const long = `${SA}tenant-${'x'.repeat(150)}:worker`;
    for (const [columns, rows] of [
      [80, 24],
      [140, 45],
    ] as const) {
      let s = initialState({ contexts: ['east'], columns, rows, now: NOW });
      s = reducer(s, { type: 'snapshots', snapshots: { east: snapshot('east', [csr('long-one', { user: long })]) } });
      s = reducer(s, { type: 'open-inspect' } as Action);
      const l = await frame(s);
      assertFits(l, columns, rows);
      const joined = l.map((x) => x.slice(13).trim()).join('');
      assert.ok(joined.includes(long), `${columns}: the requestor is cut:\n${l.join('\n')}`);
    }
  });
});

describe('help in the demo at 80×24', () => {
  it('G reaches the last key though the demo adds two places', async () => {
    const s = state(80, 24, { type: 'open-help' } as Action, { type: 'move-to', where: 'last' } as Action);
    const demo = { ...places, demo: { kubeconfig: '/tmp/demo/kubeconfig', janeKey: '/tmp/demo/jane.key' } };
    const screen = selectScreen(s, noInsights, demo);
    const l = lines(
      await frameAt(
        <ColorContext.Provider value={false}>
          <MainScreen screen={screen} />
        </ColorContext.Provider>,
        80,
      ),
    );
    assert.ok(
      l.some((x) => /^\s+q\s+quit/.test(x)),
      l.join('\n'),
    );
    assert.ok(l.some((x) => x.includes("jane's key")));
  });
});

describe('the screen at 140×45 and 80×24 (issue 24)', () => {
  it('140×45: signers, names and requestors keep the part that tells rows apart; states whole', async () => {
    const l = await frame(state(140, 45));
    assertFits(l, 140, 45);
    const row = (name: string) => l.find((x) => x.includes(name)) ?? assert.fail(`no row ${name}:\n${l.join('\n')}`);
    assert.match(row('istio-csr-foo'), /clusterissuers\.cert-.*\/foo/);
    assert.match(row('istio-csr-bar'), /clusterissuers\.cert-.*\/bar/);
    assert.match(row('7cjnm:2b0d82'), /calico-typha/);
    assert.match(row('h9c5w:9a3a10'), /calico-typha/);
    for (const r of l.filter((x) => x.includes('calico-system:calico-typha'))) assert.match(r, /Pending/);
    assert.match(row('web-old'), /Approved,Issued/);
    assert.doesNotMatch(l.join('\n'), /Pend\b|Pen~|Appr\b/);
    // The Pods in Init pane keeps the CSR's state whole, and the pod's distinguishing tail.
    const pod = row('← csr');
    assert.match(pod, /7cjnm/);
    assert.match(pod, /Pending/);
    // Header counts and the list agree.
    assert.match(l[0]!, /pending 5/);
  });

  it('80×24: nothing abbreviated that fits, and the CSRs tab counts the filtered list', async () => {
    const l = await frame(state(80, 24));
    assertFits(l, 80, 24);
    assert.doesNotMatch(l.join('\n'), /Pend\b|Pen~|Appr\b/);
    assert.match(l.find((x) => x.includes('7cjnm')) ?? '', /Pending/);
    assert.match(l.find((x) => x.includes('istio-csr-foo')) ?? '', /\/foo/);
    assert.match(l.find((x) => x.includes('istio-csr-bar')) ?? '', /\/bar/);
    const filtered = await frame(
      state(80, 24, { type: 'start-filter' }, { type: 'text-input', text: 'typha' }, { type: 'text-submit' }),
    );
    assert.match(filtered.join('\n'), /CSRs 2 /);
    assert.match(filtered.join('\n'), /1–2 of 2/);
    const pods = await frame(state(80, 24, { type: 'next-pane', direction: 1 }));
    assert.match(pods.find((x) => x.includes('← csr')) ?? '', /Pending/);
  });

  it('the first frame shows … for counts not known yet, never 0 beside rows', async () => {
    const s = reducer(initialState({ contexts: ['east'], columns: 140, rows: 45, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: snapshot('east', [csr('a'), csr('b')]) },
    });
    const l = await frame(s);
    assert.match(l[0]!, /pending … stalled … init …/);
    assert.doesNotMatch(l[0]!, /pending 0/);
  });

  it('80×24 inspect: the header is one line with the state and esc; G leaves the frame whole', async () => {
    const key = csrKey('east', 'calico-system:calico-typha-688c9d7f4-7cjnm:2b0d82');
    const s = state(80, 24, { type: 'select-key', pane: 'csrs', key }, { type: 'open-inspect' });
    const l = await frame(s);
    assertFits(l, 80, 24);
    assert.match(l[2]!, /^ CSRs › .*7cjnm:2b0d82 · east · Pending · \d+s +esc back$/);
    assert.doesNotMatch(l[3]!, /esc|yaml/);
    const end = await frame(reducer(s, { type: 'move-to', where: 'last' }));
    assertFits(end, 80, 24);
    assert.match(end[2]!, /Pending/);
  });
});

describe('the Health pane reads a reason whole (wrapped, not cut)', () => {
  const message =
    "The API server in context west is unreachable: its host name api.west.example.invalid does not resolve (ENOTFOUND); check the kubeconfig's server address, and the DNS or VPN that should resolve it.";
  const withUnreachable = (columns: number, rows: number, ...actions: Action[]) => {
    const s = initialState({ contexts: ['east', 'west'], columns, rows, now: NOW });
    const west = {
      ...snapshot('west', []),
      synced: false,
      connection: { phase: 'unreachable', message, nextAttemptAt: NOW + 5000 },
      errors: { csrs: { kind: 'unreachable', message, context: 'west' }, pods: { kind: 'forbidden', message: 'no' } },
    } as ContextSnapshot;
    return [
      { type: 'snapshots', snapshots: { east: snapshot('east', [csr('a')]), west } } as Action,
      ...actions,
    ].reduce(reducer, s);
  };
  const collapse = (text: string) => text.replace(/\s+/g, ' ');

  it('140×45: the unreachable sentence spans lines of the pane, every word of it on screen', async () => {
    const l = await frame(withUnreachable(140, 45));
    assertFits(l, 140, 45);
    // The Health pane is the right-hand box of the bottom row: its text between its borders.
    const pane = l
      .map((line) => [...line])
      .filter((chars) => chars.length === 140 && chars[139] === '│' && chars[84] === '│')
      .map((chars) => chars.slice(85, 139).join(''));
    assert.ok(pane.length > 3, l.join('\n'));
    assert.ok(
      collapse(pane.join(' ')).includes(`unreachable: ${message} (r reconnects now)`),
      `the reason is cut:\n${pane.join('\n')}`,
    );
    // Said once: the CSRs' error is the connection's; the pods' error is another and is listed.
    assert.equal(collapse(pane.join(' ')).split('resolve it.').length, 2, pane.join('\n'));
    assert.ok(collapse(pane.join(' ')).includes('pods not followed: no'), pane.join('\n'));
  });

  it('Pods in Init says no context answered when none did; listing while one still might', async () => {
    const never = (c: string) =>
      ({
        ...snapshot(c, []),
        synced: false,
        connection: { phase: 'unreachable', message, nextAttemptAt: NOW + 5000 },
      }) as ContextSnapshot;
    const s = reducer(initialState({ contexts: ['east', 'west'], columns: 140, rows: 45, now: NOW }), {
      type: 'snapshots',
      snapshots: { east: never('east'), west: never('west') },
    });
    const l = await frame(s);
    assert.ok(
      l.some((line) => line.includes('no context answered (Health says why)')),
      l.join('\n'),
    );
    assert.match(l[0] ?? '', /pending … stalled … init …/);
    const connecting = reducer(s, {
      type: 'snapshots',
      snapshots: { east: { ...never('east'), connection: { phase: 'connecting' } } as ContextSnapshot },
    });
    assert.ok((await frame(connecting)).some((line) => line.includes('listing pods…')));
  });

  it('80×24 as a tab: scrolling to the end shows the last wrapped line', async () => {
    // Health is the third tab; G goes to its last line.
    const s = withUnreachable(80, 24, { type: 'next-pane', direction: 1 }, { type: 'next-pane', direction: 1 });
    assert.equal(s.pane, 'health');
    const sections = selectScreen(s, noInsights, places).health;
    const last = sections.at(-1)?.lines.at(-1)?.text ?? '';
    for (const line of sections.flatMap((x) => x.lines)) assert.ok([...line.text].length <= 80 - 2 - 4 - 1, line.text);
    const end = await frame(reducer(s, { type: 'move-to', where: 'last' }));
    assertFits(end, 80, 24);
    assert.ok(last && end.some((line) => line.includes(last)), `${last}\n${end.join('\n')}`);
  });
});

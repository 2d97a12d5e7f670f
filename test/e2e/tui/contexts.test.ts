// The built binary in tmux with three contexts, two of which reach one cluster (east as admin and as viewer): the
// grouping (one row per request, `east-viewer=east` in the header), a context that goes away (its rows stale, the
// title says since when, and back), keys sent together (Down Down Down, Escape Escape) and sorting by context (X).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { selectedRow, TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
const EAST = ['grp-e1', 'grp-e2', 'grp-e3'];
const WEST = ['grp-w1', 'grp-w2'];

/** The context and name of each CSR row on screen, top to bottom. */
function rows(screen: string): string[] {
  return screen
    .split('\n')
    .map((l) => /^│[▶ ][● ](east|west|east-viewer) +(grp-\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => `${m[1]} ${m[2]}`);
}

/**
 * Whether the text `name` is drawn dim: tmux's capture (-e) emits an SGR sequence only where the attributes change,
 * so a dim row after another dim row carries no sequence of its own; follow the state from the top of the screen.
 */
function dimAt(styled: string, name: string): boolean {
  const at = styled.indexOf(name);
  assert.ok(at >= 0, `${name} on screen`);
  let dim = false;
  for (const m of styled.slice(0, at).matchAll(/\x1b\[([\d;]*)m/g)) {
    const params = (m[1] ?? '').split(';');
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p === '38' || p === '48' || p === '58')
        i += params[i + 1] === '5' ? 2 : 4; // a colour's own numbers
      else if (p === '2') dim = true;
      else if (p === '' || p === '0' || p === '22') dim = false;
    }
  }
  return dim;
}

describe('TUI with contexts that share a cluster, and one that goes away (built binary in tmux)', {
  timeout: 180_000,
}, () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    sandbox = await startTestSandbox(undefined, { clusters: ['east', 'west'], builtinSigners: false });
    for (const [cluster, names] of [
      ['east', EAST],
      ['west', WEST],
    ] as const) {
      for (const name of names) {
        const { pem } = makeCsrPem({ commonName: `${name}.example.com`, dnsNames: [`${name}.example.com`] });
        await sandbox.cluster(cluster).createAs(ADMIN, CSRS, csrObject(name, pem, 'example.com/serving'));
      }
    }
    term = new TmuxTerminal(140, 30);
    term.startCertdesk([
      '--kubeconfig',
      sandbox.kubeconfigPath,
      ...['east', 'east-viewer', 'west'].flatMap((c) => ['--context', c]),
    ]);
    await term.waitFor((s) => rows(s).length === EAST.length + WEST.length, 'every request listed', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
  });

  it('lists each request of the shared cluster once, and says which contexts are one cluster', async () => {
    const screen = await term.waitForText('east-viewer=east');
    const listed = rows(screen);
    assert.deepEqual(
      listed.filter((r) => r.startsWith('east-viewer ')),
      [],
      'nothing listed under east-viewer',
    );
    for (const name of [...EAST, ...WEST]) assert.equal(listed.filter((r) => r.endsWith(` ${name}`)).length, 1, name);
  });

  it('sorts by context with X (the CTX column); X again reverses', async () => {
    term.keys('X');
    let screen = await term.waitForText('by context');
    assert.deepEqual(
      rows(screen).map((r) => r.split(' ')[0]),
      ['east', 'east', 'east', 'west', 'west'],
    );
    term.keys('X');
    screen = await term.waitForText('by context (reversed)');
    assert.deepEqual(
      rows(screen).map((r) => r.split(' ')[0]),
      ['west', 'west', 'east', 'east', 'east'],
    );
    term.keys('P');
    await term.waitForText('pending first');
  });

  it('reads Down Down Down sent at once as three moves, and Escape Escape as two steps back', async () => {
    term.keys('g');
    const first = await term.waitFor((s) => selectedRow(s) !== undefined && rows(s).length === 5, 'the list');
    const order = rows(first);
    const selectedId = (s: string) => rows(s).find((r) => selectedRow(s)?.includes(r.split(' ')[1] ?? '?'));
    assert.equal(selectedId(first), order[0]);
    term.keysAtOnce('Down', 'Down', 'Down');
    await term.waitFor((s) => selectedId(s) === order[3], `the cursor on the fourth row (${order[3]})`);
    term.keysAtOnce('Up', 'Up');
    await term.waitFor((s) => selectedId(s) === order[1], `the cursor on the second row (${order[1]})`);
    // Inspect, then its YAML; two Escapes in one chunk go back twice, to the list.
    term.keys('Enter');
    await term.waitForText(/esc back {2}y yaml/);
    term.keys('y');
    await term.waitForText(/› yaml/);
    term.keysAtOnce('Escape', 'Escape');
    await term.waitForText('CTX  NAME');
  });

  it('a context that goes away: its rows stay, dim, and the title says since when; back when it returns', async () => {
    await sandbox.cluster('west').pause();
    const screen = await term.waitForText(/west stale since \d\d:\d\d:\d\d UTC/, 30_000);
    assert.equal(rows(screen).filter((r) => r.startsWith('west ')).length, WEST.length, 'the rows are kept');
    const styled = term.styledScreen();
    for (const name of WEST) assert.ok(dimAt(styled, name), `${name}'s row is dim`);
    for (const name of EAST) assert.ok(!dimAt(styled, name), `${name}'s row is not dim`);
    await sandbox.cluster('west').resume();
    await term.waitFor((s) => !/stale since/.test(s) && /west ● live/.test(s), 'west live again', 60_000);
  });
});

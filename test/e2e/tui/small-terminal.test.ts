// The built binary at 80×24 with NO_COLOR: panes become tabs, no colour sequences, a resize to 140×40 brings the
// panes back, and q leaves cleanly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('TUI on a small terminal without colour (built binary in tmux)', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    sandbox = await startTestSandbox(undefined, { clusters: ['east'], scenarios: ['hostile'] });
    term = new TmuxTerminal(80, 24);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east'], { env: { NO_COLOR: '1' } });
    // Live, and counted: a context is counted in the health pass right after it synced (until then `Init …`).
    await term.waitFor(
      (s) => /east ● live/.test(s) && /hostile-/.test(s) && /Init \d+/.test(s),
      'the context live with its CSRs, counted',
      60_000,
    );
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
  });

  it('shows tabs at 80×24, fits the terminal, and uses no colour', async () => {
    const screen = term.screen();
    assert.match(screen, /CSRs \d+ {2}\| {2}Init \d+ {2}\| {2}Health/);
    const lines = screen.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    assert.ok(lines.length <= 24, `at most 24 lines, got ${lines.length}`);
    assert.ok(lines.every((l) => [...l].length <= 80));
    assert.doesNotMatch(term.styledScreen(), /\x1b\[(3\d|9\d|38;)/, 'no foreground colour sequences');
    term.keys('Tab', 'Tab');
    await term.waitForText('TigeraStatus not installed');
  });

  /** Every line within 80 columns and 24 rows, the header on the first line and the keys on the last. */
  const whole = (screen: string) => {
    const lines = screen.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    return (
      lines.length <= 24 && lines.every((l) => [...l].length <= 80) && /^ certdesk {2}ctx: east/.test(lines[0] ?? '')
    );
  };

  it('80×24: G and g leave the frame whole; the inspect header is one line; help lines never wrap (issue 24)', async () => {
    term.keys('Tab');
    let screen = await term.waitFor((s) => /^│▶ east +\S+/m.test(s), 'the CSR list');
    const selected = (s: string) => /^│▶ east +(\S+)/m.exec(s)?.[1];
    const first = selected(screen)!;
    term.keys('G');
    screen = await term.waitFor((s) => (selected(s) ?? first) !== first, 'G');
    assert.ok(whole(screen), screen);
    assert.match(screen, /│ *\n└─/, 'the pane closes under its last row');
    term.keys('g');
    screen = await term.waitFor((s) => selected(s) === first, 'g');
    assert.ok(whole(screen), screen);
    term.keys('Enter');
    screen = await term.waitForText(new RegExp(`^ CSRs › ${first} · east · Pending · \\d+[smhd]\\S* +esc back$`, 'm'));
    assert.ok(whole(screen), screen);
    assert.match(screen.split('\n')[3] ?? '', /^ Request /, 'the line under the header is the first section');
    term.keys('G');
    screen = await term.waitForText(new RegExp(`^ CSRs › ${first} · east · Pending`, 'm'));
    assert.ok(whole(screen), screen);
    term.keys('Escape');
    await term.waitForText('CTX  NAME');
    term.keys('?');
    screen = await term.waitForText('Help — esc or ? to close');
    assert.ok(whole(screen), screen);
    const body = screen.split('\n').slice(3, 18);
    for (const line of body) assert.match(line, /^( {3}\S| \S|$)/, `a help line that wrapped: ${JSON.stringify(line)}`);
    term.keys('Escape');
    await term.waitForText('CTX  NAME');
  });

  it('follows a resize to 140×40: the panes come back side by side', async () => {
    term.resize(140, 40);
    await term.waitFor((s) => s.includes('Pods in Init') && s.includes('Health') && s.includes('CTX  NAME'), 'panes');
  });

  it('quits with q', async () => {
    term.keys('q');
    const deadline = Date.now() + 10_000;
    while (!term.dead() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(term.dead());
  });
});

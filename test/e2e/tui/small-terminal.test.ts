// The built binary at 80×24 with NO_COLOR: panes become tabs, no colour sequences, a resize to 140×40 brings the
// panes back, and q leaves cleanly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('TUI on a small terminal without colour (built binary in tmux)', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    sandbox = await startTestSandbox(undefined, { clusters: ['east'], scenarios: ['hostile'] });
    term = new TmuxTerminal(80, 24);
    term.start(
      `env NO_COLOR=1 TERM=xterm-256color ${quote(process.execPath)} ${quote(join(root, 'bin', 'certdesk.js'))} --kubeconfig ${quote(sandbox.kubeconfigPath)} --context east`,
    );
    await term.waitFor((s) => /east ● live/.test(s) && /hostile-/.test(s), 'the context live with its CSRs', 60_000);
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

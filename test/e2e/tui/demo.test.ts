// `certdesk demo` in tmux (the built binary): its first status line and `?` say where its kubeconfig and jane's key
// are (issue 24), and those files exist.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('certdesk demo (built binary in tmux)', { timeout: 120_000 }, () => {
  let term: TmuxTerminal | undefined;
  after(() => term?.stop());

  it("shows where the demo's kubeconfig and jane's key are, first thing and in ?", async () => {
    if (!existsSync(join(root, 'dist', 'cli.js'))) {
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    }
    term = new TmuxTerminal(200, 40);
    term.start(`env TERM=xterm-256color ${quote(process.execPath)} ${quote(join(root, 'bin', 'certdesk.js'))} demo`);
    const screen = await term.waitForText(/demo: kubeconfig (\S+) · jane's key (\S+) · \? shows them again/, 90_000);
    const [, kubeconfig, janeKey] = /demo: kubeconfig (\S+) · jane's key (\S+)/.exec(screen) ?? [];
    assert.ok(kubeconfig && existsSync(kubeconfig), `the kubeconfig ${kubeconfig} exists`);
    await term.waitFor(() => existsSync(janeKey ?? ''), `jane's key ${janeKey}`, 30_000);
    term.keys('?');
    const help = await term.waitForText("(the demo's)");
    assert.ok(help.includes(`kubeconfig   ${kubeconfig} (the demo's)`), help);
    assert.match(help, /jane's key +\S+jane\.key/);
    term.keys('Escape');
    term.keys('q');
    await term.waitFor(() => term!.dead(), 'the demo to exit', 20_000);
  });
});

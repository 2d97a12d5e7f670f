// The harness's exit status (TmuxTerminal.exitStatus): tmux before 3.6 built with libutempter (Debian's 3.3a, what CI
// installs) now and then misses the SIGCHLD of a pane's process (tmux issue 4559) and then reports the pane dead with
// no status for ever, the process unreaped: a TUI that quit at once looked as if it never exited. Forty short-lived
// panes at once, each ending with status 3: every one must report 3. Before exitStatus() sent the server a SIGCHLD,
// this failed in 3 runs of 4 here (tmux 3.3a, 2 cores, load 5); a lone pane's status was missed about once in 7.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TmuxTerminal } from './tmux.js';

describe('tmux harness', () => {
  it('reads the exit status of every pane, including those whose SIGCHLD tmux missed', async () => {
    const terms = Array.from({ length: 40 }, () => new TmuxTerminal(40, 5));
    try {
      // Long enough to set remain-on-exit (after the session starts) before it ends.
      for (const term of terms) term.start(`sh -c 'sleep 1; exit 3'`);
      const statuses = await Promise.all(
        terms.map(async (term) => {
          await term.waitFor(() => term.exitStatus() !== undefined, 'the exit status', 15_000);
          return term.exitStatus();
        }),
      );
      assert.deepEqual(statuses, Array(40).fill(3));
    } finally {
      for (const term of terms) term.stop();
    }
  });
});

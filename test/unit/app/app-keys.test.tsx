// The App as Ink drives it: a stdin chunk holding several keystrokes (fast typing, tmux send-keys) arrives as ONE
// input string; every printable character of it must count as its own key press, except in text fields.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { App, EARLY_ENTER } from '../../../src/app/app.js';
import type { InsightCache } from '../../../src/app/insights.js';
import type { CsrInsights } from '../../../src/app/selectors.js';
import type { TuiState } from '../../../src/app/store.js';
import type { ClusterStore, ContextSnapshot } from '../../../src/services/kube/api-types.js';
import { csr, NOW, snapshot } from './fixtures.js';

function fakeStore(snap: ContextSnapshot): ClusterStore {
  return {
    start() {},
    stop() {},
    reconnect() {},
    subscribe: () => () => {},
    snapshot: () => snap,
    contexts: () => [snap.context],
    whenSynced: async () => true,
    releaseRest() {},
  };
}

const noInsights: CsrInsights = {
  insight: () => undefined,
  certificate: () => undefined,
  capability: () => undefined,
} as unknown as CsrInsights;

/** Findings all ok, for the dialogs (which ask insightNow). */
const cleanInsights = {
  ...noInsights,
  insightNow: async () => ({ findings: [{ level: 'ok', message: 'fine' }], worst: 'ok' }),
};

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function startApp(insights: object = noInsights) {
  const names = ['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5'];
  // Oldest first: c-5 is the oldest pending CSR, so it is the first row.
  const csrs = names.map((n, i) => csr(n, { ageSeconds: 10 + i }));
  const store = fakeStore(snapshot('east', csrs));
  let state: TuiState | undefined;
  const instance = render(
    <App
      store={store}
      insights={insights as unknown as InsightCache}
      registryDir={mkdtempSync(join(tmpdir(), 'certdesk-app-keys-'))}
      effects={{ contexts: new Map(), store } as never}
      places={{ config: '/tmp/c', auditLog: '/tmp/a', caRegistry: '/tmp/r' }}
      color={false}
      now={() => NOW}
      onFrame={(s) => {
        state = s;
      }}
    />,
  );
  const current = () => {
    if (!state) throw new Error('no frame yet');
    return state;
  };
  return { instance, current, ready: () => until('first rows', () => (state?.snapshots.east?.csrs.size ?? 0) > 0) };
}

describe('App keys: several keystrokes in one stdin chunk', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });

  it("'jj' moves two rows, 'k' one back", async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('jj');
    await until('two rows down', () => app.current().cursorIndex.csrs === 2);
    app.instance.stdin.write('jjjk');
    await until('two more rows down', () => app.current().cursorIndex.csrs === 4);
  });

  it("'  ' marks two rows", async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('  ');
    await until('two marks', () => app.current().marked.size === 2);
    assert.deepEqual([...app.current().marked].sort(), ['east\u0000c-4', 'east\u0000c-5'].sort());
    assert.equal(app.current().cursorIndex.csrs, 2);
  });

  it('an arrow key between letters still parses as an arrow', async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('j\x1b[Bj');
    await until('three rows down', () => app.current().cursorIndex.csrs === 3);
  });

  it('arrow keys in one chunk each move a row (CSI and SS3 forms)', async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('\x1b[B\x1b[B\x1b[B');
    await until('three rows down', () => app.current().cursorIndex.csrs === 3);
    app.instance.stdin.write('\x1bOA\x1bOA');
    await until('two rows up', () => app.current().cursorIndex.csrs === 1);
    app.instance.stdin.write('\x1b[F\x1b[A');
    await until('End, then one up', () => app.current().cursorIndex.csrs === 4);
  });

  it('Esc Esc in one chunk goes back twice (YAML → inspect → list); Esc then ↓ clears the marks, then moves', async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('\r');
    await until('inspect', () => app.current().mode.kind === 'inspect');
    app.instance.stdin.write('y');
    await until('yaml', () => app.current().mode.kind === 'yaml');
    app.instance.stdin.write('\x1b\x1b');
    await until('the list', () => app.current().mode.kind === 'list');
    app.instance.stdin.write(' ');
    await until('one mark', () => app.current().marked.size === 1 && app.current().cursorIndex.csrs === 1);
    app.instance.stdin.write('\x1b\x1b[B');
    await until(
      'marks cleared and one row down',
      () => app.current().marked.size === 0 && app.current().cursorIndex.csrs === 2,
    );
  });

  it('Esc then / in one chunk from inspect: back to the list, and what follows is the filter, never verbs', async () => {
    const app = startApp(cleanInsights);
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('\r');
    await until('inspect', () => app.current().mode.kind === 'inspect');
    // What a terminal sends for Esc, /, typed at once: Ink reads ESC plus punctuation as the key alone.
    app.instance.stdin.write('\x1b/');
    await until('the filter prompt', () => app.current().mode.kind === 'filter');
    app.instance.stdin.write('c-3\r');
    await until('filter applied', () => app.current().filter.text === 'c-3');
    assert.equal(app.current().mode.kind, 'list');
    assert.equal(app.current().nextEffectId, 1, 'nothing was approved');
    app.instance.stdin.write('\r');
    await until('inspect again', () => app.current().mode.kind === 'inspect');
    app.instance.stdin.write('\x1b:');
    await until('the command prompt', () => app.current().mode.kind === 'command');
  });

  it('a and ⏎ in one chunk open the dialog but do not confirm it; a ⏎ once it is on screen does', async () => {
    const app = startApp(cleanInsights);
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('a\r');
    await until('the approve dialog', () => app.current().mode.kind === 'dialog');
    await until('the note', () => app.current().status?.text === EARLY_ENTER);
    assert.equal(app.current().nextEffectId, 1, 'nothing was approved');
    await until('the dialog on screen', () => /Approve 1 CSR\?/.test(app.instance.lastFrame() ?? ''));
    app.instance.stdin.write('\r');
    await until('the approval queued', () => app.current().nextEffectId === 2);
  });

  it('a chunk typed into the filter prompt is text, and Enter at its end submits it', async () => {
    const app = startApp();
    cleanup = () => app.instance.unmount();
    await app.ready();
    app.instance.stdin.write('/');
    await until('filter prompt', () => app.current().mode.kind === 'filter');
    app.instance.stdin.write('c-3 j\r');
    await until('filter applied', () => app.current().filter.text === 'c-3 j');
    assert.equal(app.current().mode.kind, 'list');
  });
});

describe('App: the sign dialog of a CSR that is not approved yet', () => {
  it('names A and a, and both keys work from inside it', async () => {
    const app = startApp(cleanInsights);
    try {
      await app.ready();
      app.instance.stdin.write('s');
      await until('the sign dialog', () => {
        const m = app.current().mode;
        return m.kind === 'dialog' && m.dialog.action === 'sign';
      });
      await until('the hint on screen', () => (app.instance.lastFrame() ?? '').includes('A approve and sign'));
      assert.match(app.instance.lastFrame() ?? '', /press A to approve and sign, or a to approve first/);
      assert.match(app.instance.lastFrame() ?? '', /A approve and sign {3}a approve first {3}esc close/);
      app.instance.stdin.write('A');
      await until('the approve-and-sign dialog', () => {
        const m = app.current().mode;
        return m.kind === 'dialog' && m.dialog.action === 'approve-sign';
      });
      const m = app.current().mode;
      assert.ok(m.kind === 'dialog' && m.dialog.targets.length === 1 && m.dialog.targets[0] === 'east\u0000c-5');
      // Esc closes it to the list, not back to the sign dialog.
      app.instance.stdin.write('\x1b');
      await until('the list', () => app.current().mode.kind === 'list');
      app.instance.stdin.write('s');
      await until('the sign dialog again', () => {
        const d = app.current().mode;
        return d.kind === 'dialog' && d.dialog.action === 'sign';
      });
      app.instance.stdin.write('a');
      await until('the approve dialog', () => {
        const d = app.current().mode;
        return d.kind === 'dialog' && d.dialog.action === 'approve';
      });
    } finally {
      app.instance.unmount();
    }
  });
});

describe('App: Ctrl plus a letter (issue 18.9)', () => {
  it('Ctrl-A then Enter opens nothing and approves nothing; a then Enter does', async () => {
    const app = startApp(cleanInsights);
    try {
      await app.ready();
      // The raw bytes a terminal sends: Ctrl-A is 0x01, Ctrl-X 0x18, Ctrl-E 0x05; then Enter.
      for (const bytes of ['\x01', '\x18', '\x05', '\x01']) app.instance.stdin.write(bytes);
      // `j` after them: once it has moved the cursor, the control bytes were all handled.
      app.instance.stdin.write('j');
      await until('the j after them', () => app.current().cursorIndex.csrs === 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(app.current().mode.kind, 'list');
      // Enter inspects (it is listed in ?): no "Approve 1 CSR?" to confirm.
      app.instance.stdin.write('\r');
      await until('inspect', () => app.current().mode.kind === 'inspect');
      assert.equal(app.current().nextEffectId, 1, 'no effect was queued');
      assert.doesNotMatch(app.instance.lastFrame() ?? '', /Approve 1 CSR/);
      app.instance.stdin.write('\x1b');
      await until('the list', () => app.current().mode.kind === 'list');
      app.instance.stdin.write('a');
      await until('the approve dialog', () => app.current().mode.kind === 'dialog');
      assert.match(app.instance.lastFrame() ?? '', /Approve 1 CSR\?/);
    } finally {
      app.instance.unmount();
    }
  });
});

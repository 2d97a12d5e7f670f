// Drives the built binary in a real terminal: a tmux server of its own (own socket), keys in, screen out,
// conditions polled with a deadline. Everything it starts is stopped by stop().
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/** A word for a shell line, quoted. */
export const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class TmuxTerminal {
  readonly socket = `certdesk-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private started = false;

  constructor(
    readonly columns = 140,
    readonly rows = 40,
  ) {}

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Starts `command` (a shell line) in a detached session sized columns × rows. */
  start(command: string): void {
    // Without CI, FORCE_COLOR and NO_COLOR in its environment (scripts/test.mjs sets FORCE_COLOR=0 for the runner's
    // own output; .ci/run sets CI=true): with any of them chalk gives an interactive terminal no colour and no dim
    // at all, while a person's terminal has them, and the styled checks would see a plain screen.
    const line = `env -u CI -u FORCE_COLOR -u NO_COLOR ${command}`;
    this.tmux('new-session', '-d', '-s', 'tui', '-x', String(this.columns), '-y', String(this.rows), line);
    this.started = true;
    // Keep the pane after the program ends, so a crash stays readable in the failure message.
    this.tmux('set-option', '-t', 'tui', 'remain-on-exit', 'on');
  }

  /**
   * Starts the built binary with `args`: its config and state under `dir` (and its stderr in dir/stderr.log) when
   * given, TERM=xterm-256color, and `env` beside.
   */
  startCertdesk(args: readonly string[], options: { dir?: string; env?: Record<string, string> } = {}): void {
    const env = {
      ...(options.dir
        ? { CERTDESK_CONFIG_DIR: join(options.dir, 'config'), CERTDESK_STATE_DIR: join(options.dir, 'state') }
        : {}),
      TERM: 'xterm-256color',
      ...options.env,
    };
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
    const command = [process.execPath, join(ROOT, 'bin', 'certdesk.js'), ...args].map(quote).join(' ');
    this.start(
      `env ${assignments.join(' ')} ${command}${options.dir ? ` 2>${quote(join(options.dir, 'stderr.log'))}` : ''}`,
    );
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'tui');
  }

  /** The screen with its colour and style sequences (capture-pane -e). */
  styledScreen(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', 'tui');
  }

  title(): string {
    return this.tmux('display', '-p', '-t', 'tui', '#{pane_title}').trim();
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', 'tui', '-x', String(columns), '-y', String(rows));
  }

  dead(): boolean {
    return this.tmux('display', '-p', '-t', 'tui', '#{pane_dead}').trim() === '1';
  }

  /**
   * The program's exit status once it has ended (the pane stays: remain-on-exit). tmux before 3.6 built with
   * libutempter (Debian's 3.3a, Ubuntu's 3.4) can miss the SIGCHLD of a pane's process that ends while utempter's
   * own handler is in (tmux issue 4559): the pane reads dead, its status never comes and the process stays unreaped.
   * A SIGCHLD sent to the server then makes it reap and record the status, as tmux 3.6 does itself.
   */
  exitStatus(): number | undefined {
    const [dead, status] = this.tmux('display', '-p', '-t', 'tui', '#{pane_dead}:#{pane_dead_status}')
      .trim()
      .split(':');
    if (dead !== '1') return undefined;
    if (status) return Number(status);
    process.kill(Number(this.tmux('display', '-p', '#{pid}').trim()), 'SIGCHLD');
    return undefined;
  }

  /** Named keys (Enter, Escape, Tab, Space, Down …), one send each. */
  keys(...names: string[]): void {
    for (const name of names) this.tmux('send-keys', '-t', 'tui', name);
  }

  /** Several named keys in ONE send-keys call: tmux writes them to the terminal together, so the TUI reads them as
   * one chunk (as when someone types faster than a frame). */
  keysAtOnce(...names: string[]): void {
    this.tmux('send-keys', '-t', 'tui', ...names);
  }

  /** Literal text. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'tui', '-l', text);
  }

  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.screen();
      if (check(screen)) {
        // tmux's capture-pane does not wait for the end of a synchronized update (Ink's ESC[?2026h … l), so one
        // capture can hold the top of a new frame over the bottom of the old: the condition must hold in a second
        // capture a moment later, which is what is returned.
        await new Promise((r) => setTimeout(r, 30));
        const again = this.screen();
        if (check(again)) return again;
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  waitForText(text: string | RegExp, timeoutMs?: number): Promise<string> {
    return this.waitFor(
      (s) => (typeof text === 'string' ? s.includes(text) : text.test(s)),
      `"${String(text)}" on screen`,
      timeoutMs,
    );
  }

  /** `/`, Ctrl-U (`/` starts from the filter in force), TEXT, ⏎; resolves once the list says `filter TEXT` and a
   * row is selected (a request just created through the API may reach the TUI's watch after the filter). */
  async filter(text: string): Promise<string> {
    this.keys('/');
    await this.waitForText(/^\s*\/.*$/m, 5000).catch(() => undefined);
    this.keys('C-u');
    await this.waitForText(/^\s*\/\s*$/m, 5000).catch(() => undefined);
    this.type(text);
    this.keys('Enter');
    return this.waitFor(
      (s) => s.includes(`filter ${text}`) && s.includes('▶'),
      `the filter ${text} and a row selected`,
    );
  }

  /** Answers whatever guard the open dialog asks for (⏎, y, or typing NAME). */
  async confirm(name: string): Promise<void> {
    const screen = await this.waitFor((s) => /⏎ confirm|y go ahead|to confirm/.test(s), 'a confirmation prompt');
    if (screen.includes('y go ahead')) this.type('y');
    else if (screen.includes(`type ${name} to confirm`)) {
      this.type(name);
      this.keys('Enter');
    } else this.keys('Enter');
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

/** The row of the CSR table marked as selected (▶), as text. */
export function selectedRow(screen: string): string | undefined {
  return screen.split('\n').find((l) => l.startsWith('│▶'));
}

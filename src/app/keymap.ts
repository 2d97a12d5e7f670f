// Keys → intents, one pure function per input owner (list, inspect, text prompt, dialog, scrolling views).
// keyIntent picks the one owner of a key from the current mode (app.tsx reads the mode as of the previous key,
// not the previous frame, so fast typing never lands in the wrong handler).
import type { Key } from 'ink';
import type { Action, DialogAction, DialogState, Mode, SortColumn } from './store.js';

/** Verbs that need I/O before their dialog can open (findings, CA, can-i): app.tsx runs them. */
export type Verb = DialogAction;

export type Intent =
  | { kind: 'action'; action: Action }
  /** `replacesDialog`: close the open dialog first (back to where it was opened), then open this verb's. */
  | { kind: 'verb'; verb: Verb; replacesDialog?: boolean }
  | { kind: 'reconnect' }
  /** The logs of the selected pod's waiting init container (fetched, then shown). */
  | { kind: 'logs' };

const act = (action: Action): Intent => ({ kind: 'action', action });

export type KeyLike = Partial<Key>;

/** Ctrl or Alt held: only the keys `?` lists with a modifier (Ctrl-B, Ctrl-F) act; Ctrl-A is not `a`. */
function modified(key: KeyLike): boolean {
  return key.ctrl === true || key.meta === true;
}

function movement(input: string, key: KeyLike): Intent | undefined {
  if (key.pageUp || (key.ctrl && input === 'b')) return act({ type: 'page', direction: -1 });
  if (key.pageDown || (key.ctrl && input === 'f')) return act({ type: 'page', direction: 1 });
  if (key.upArrow) return act({ type: 'move', delta: -1 });
  if (key.downArrow) return act({ type: 'move', delta: 1 });
  if (modified(key)) return undefined;
  if (input === 'k') return act({ type: 'move', delta: -1 });
  if (input === 'j') return act({ type: 'move', delta: 1 });
  if (key.home || input === 'g') return act({ type: 'move-to', where: 'first' });
  if (key.end || input === 'G') return act({ type: 'move-to', where: 'last' });
  return undefined;
}

function verbs(input: string): Intent | undefined {
  switch (input) {
    case 'a':
      return { kind: 'verb', verb: 'approve' };
    case 'x':
      return { kind: 'verb', verb: 'deny' };
    case 's':
      return { kind: 'verb', verb: 'sign' };
    case 'A':
      return { kind: 'verb', verb: 'approve-sign' };
    case 'e':
      return { kind: 'verb', verb: 'export-secret' };
    case 'E':
      return { kind: 'verb', verb: 'export-configmap' };
    default:
      return undefined;
  }
}

/** Shift plus a letter sorts the CSR list by a column (as k9s); the same key again reverses. `A` and `E` are
 * verbs and `C` opens Certificates here, so age is `T` (time) and the context is `X` (the CTX column). */
export const SORT_KEYS: Record<string, SortColumn> = {
  P: 'pending',
  N: 'name',
  T: 'age',
  S: 'signer',
  R: 'requestor',
  X: 'context',
};

/** The main screen. */
export function listKey(input: string, key: KeyLike): Intent | undefined {
  const move = movement(input, key);
  if (move) return move;
  if (key.tab) return act({ type: 'next-pane', direction: key.shift ? -1 : 1 });
  if (key.return) return act({ type: 'open-inspect' });
  if (key.escape) return act({ type: 'back' });
  if (modified(key)) return undefined;
  const verb = verbs(input);
  if (verb) return verb;
  const sort = SORT_KEYS[input];
  if (sort) return act({ type: 'sort', column: sort });
  switch (input) {
    case ' ':
      return act({ type: 'toggle-mark' });
    case '/':
      return act({ type: 'start-filter' });
    case ':':
      return act({ type: 'start-command' });
    case 'y':
      return act({ type: 'open-yaml' });
    case 'd':
      return act({ type: 'open-describe' });
    case 'l':
      return { kind: 'logs' };
    case '?':
      return act({ type: 'open-help' });
    case 'C':
      return act({ type: 'open-certs' });
    case 'p':
      return act({ type: 'open-pcrs' });
    case 'r':
      return { kind: 'reconnect' };
    case 'q':
      return act({ type: 'quit' });
    default:
      return undefined;
  }
}

/** Inspect: scrolling plus the verbs on the inspected CSR. */
export function inspectKey(input: string, key: KeyLike): Intent | undefined {
  const move = movement(input, key);
  if (move) return move;
  if (key.escape || key.leftArrow) return act({ type: 'back' });
  if (modified(key)) return undefined;
  if (input === 'q') return act({ type: 'back' });
  const verb = verbs(input);
  if (verb) return verb;
  if (input === 'y') return act({ type: 'open-yaml' });
  if (input === 'l') return { kind: 'logs' };
  if (input === '?') return act({ type: 'open-help' });
  return undefined;
}

/** Help and YAML: scroll, and back. */
export function scrollKey(input: string, key: KeyLike): Intent | undefined {
  const move = movement(input, key);
  if (move) return move;
  if (key.escape || key.leftArrow) return act({ type: 'back' });
  if (modified(key)) return undefined;
  if (input === 'q' || input === '?') return act({ type: 'back' });
  return undefined;
}

/** The context picker (`:ctx` with no name). */
export function pickerKey(input: string, key: KeyLike): Intent | undefined {
  if (key.return) return act({ type: 'picker-choose' });
  if (key.escape) return act({ type: 'back' });
  if (key.upArrow || (!modified(key) && input === 'k')) return act({ type: 'move', delta: -1 });
  if (key.downArrow || (!modified(key) && input === 'j')) return act({ type: 'move', delta: 1 });
  return undefined;
}

/** Printable text only: a pasted escape sequence or control character never reaches the state. */
export function printable(input: string): string {
  return input.replace(/[\p{Cc}\p{Cf}]/gu, '');
}

/** The `/` filter and `:` command prompts. */
export function promptKey(input: string, key: KeyLike): Intent | undefined {
  if (key.return) return act({ type: 'text-submit' });
  if (key.escape) return act({ type: 'back' });
  if (key.backspace || key.delete) return act({ type: 'text-backspace' });
  if (key.ctrl && input === 'u') return act({ type: 'text-clear' });
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow) return undefined;
  const text = printable(input);
  return text ? act({ type: 'text-input', text }) : undefined;
}

/** Dialogs: fields, the typed confirmation, y for warnings, Enter, esc. */
export function dialogKey(input: string, key: KeyLike): Intent | undefined {
  if (key.return) return act({ type: 'dialog-submit' });
  if (key.escape) return act({ type: 'back' });
  if (key.tab || key.downArrow) return act({ type: 'dialog-next-field', direction: key.shift ? -1 : 1 });
  if (key.upArrow) return act({ type: 'dialog-next-field', direction: -1 });
  if (key.backspace || key.delete) return act({ type: 'text-backspace' });
  if (key.ctrl && input === 'u') return act({ type: 'text-clear' });
  if (key.ctrl || key.meta) return undefined;
  const text = printable(input);
  return text ? act({ type: 'text-input', text }) : undefined;
}

/** A key the open dialog names as the way to another verb (DialogState.switchKeys); checked before dialogKey. */
export function dialogSwitchKey(dialog: DialogState, input: string, key: KeyLike): Intent | undefined {
  if (key.meta) return undefined;
  const verb = dialog.switchKeys?.[key.ctrl ? `^${input.toUpperCase()}` : input];
  return verb ? { kind: 'verb', verb, replacesDialog: true } : undefined;
}

/** "An action is still running. Quit anyway?" */
export function quitConfirmKey(input: string, key: KeyLike): Intent | undefined {
  if (modified(key)) return undefined;
  if (input === 'y' || input === 'Y') return act({ type: 'quit-confirmed' });
  if (key.escape || input === 'n' || input === 'N' || input === 'q') return act({ type: 'back' });
  return undefined;
}

/** The owner of keys in each mode. */
export function keyIntent(mode: Mode['kind'], input: string, key: KeyLike): Intent | undefined {
  switch (mode) {
    case 'list':
      return listKey(input, key);
    case 'inspect':
      return inspectKey(input, key);
    case 'help':
    case 'yaml':
    case 'pod':
      return scrollKey(input, key);
    case 'picker':
      return pickerKey(input, key);
    case 'filter':
    case 'command':
      return promptKey(input, key);
    case 'dialog':
      return dialogKey(input, key);
    case 'quit-confirm':
      return quitConfirmKey(input, key);
    case 'certs':
    case 'pcrs':
      return undefined; // certsKey / pcrsKey (app/certs.ts) owns these keys: app.tsx routes them there with the view state
  }
}

/** A printable character with no modifier (what a paste is made of). */
export function plainChar(input: string, key: KeyLike): boolean {
  return input.length > 0 && !key.ctrl && !key.meta && printable(input) === input;
}

/** Modes whose plain characters are text (a prompt, a form field, a typed CSR name), not commands. */
export function takesText(mode: Mode): boolean {
  if (mode.kind === 'filter' || mode.kind === 'command') return true;
  if (mode.kind === 'certs') return mode.view.draft !== undefined;
  if (mode.kind !== 'dialog') return false;
  const d = mode.dialog;
  if (Object.keys(d.switchKeys ?? {}).some((k) => !k.startsWith('^'))) return false;
  return d.fields.length > 0 || (d.guard === 'fail' && d.confirmName !== undefined);
}

/**
 * Splits one input event into its key presses: a burst of plain characters (typing faster than frames, or a paste)
 * into one key each (a control character in it into its Ctrl+letter), and an Esc pressed just before another key into Esc, then that key. Ink already cuts a chunk
 * at each escape sequence (so `↓↓↓` arrives as three events), except that it reads ESC ESC, and ESC before an
 * arrow or another sequence, as one key with meta set; `raw` is the event's text, which tells them apart.
 */
export function splitKeys(input: string, key: KeyLike, raw = ''): [string, KeyLike][] {
  if (raw.startsWith('\x1b\x1b')) {
    const esc: [string, KeyLike] = ['', { escape: true }];
    return raw === '\x1b\x1b' ? [esc, esc] : [esc, [input, { ...key, meta: false }]];
  }
  // Esc, then a punctuation key sent at once (Esc then `/` or `:` typed quickly): Ink reads ESC plus a letter or a
  // digit as one meta key (below), but ESC plus punctuation as that key alone, without meta: the Esc was lost, and
  // `/jane` typed to filter then ran as keys of the view Esc should have left. `[` and `O` begin escape sequences.
  const second = raw.length === 2 && raw[0] === '\x1b' ? raw[1]! : '';
  if (second > ' ' && second !== '\x7f' && second !== '[' && second !== 'O' && !key.meta && !key.escape) {
    return [
      ['', { escape: true }],
      [second, {}],
    ];
  }
  // Esc followed quickly by a key arrives as one meta key (ESC x): certdesk has no Alt bindings, so it is both.
  const named = key.tab || key.return || key.backspace || key.delete;
  if (key.meta && !key.escape && input !== '\x1b' && ([...input].length === 1 || (named && input.length <= 1))) {
    return [
      ['', { escape: true }],
      [input, { ...key, meta: false }],
    ];
  }
  const chars = [...input];
  if (chars.length <= 1 || input.startsWith('\x1b')) return [[input, key]];
  return chars.map((ch): [string, KeyLike] => {
    if (ch === '\r' || ch === '\n') return ['', { return: true }];
    if (ch === '\t') return ['', { tab: true }];
    if (ch === '\x7f' || ch === '\b') return ['', { backspace: true }];
    // Ctrl+letter in a burst (`/` then Ctrl-U typed before a frame): the letter with ctrl, as Ink gives it alone.
    const code = ch.charCodeAt(0);
    if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ctrl: true }];
    return [ch, ch !== ch.toLowerCase() ? { shift: true } : {}];
  });
}

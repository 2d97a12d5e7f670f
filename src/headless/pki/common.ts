// What the offline PKI commands share: PkiError → one-line CliError, reading files or stdin, passphrases, JSON
// output that cannot act on a terminal.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PkiError } from '../../services/pki/types.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';

/** Lower-cases the first letter and drops the final period, so it reads after `error: `. */
export function sentence(message: string): string {
  const line = terminalSafe(message.split('\n')[0] ?? message).replace(/\.\s*$/, '');
  return /^[A-Z][a-z]/.test(line) ? line[0]?.toLowerCase() + line.slice(1) : line;
}

/** Runs a command body; PkiErrors become one-line CliErrors (exit code 1). */
export async function asCli<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PkiError) throw new CliError(sentence(err.message));
    const fsErr = err as NodeJS.ErrnoException;
    if (typeof fsErr?.code === 'string' && typeof fsErr.path === 'string') {
      throw new CliError(
        `could not access ${terminalSafe(fsErr.path)} (${fsErr.code}); check that it exists and that you may write there`,
      );
    }
    throw err;
  }
}

const MAX_STDIN = 4 << 20;

/** Reads a file, or stdin for `-`. */
export async function readInput(path: string, what: string): Promise<Buffer> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size > MAX_STDIN) throw new CliError(`the ${what} on stdin is larger than 4 MiB; check what you piped in`);
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot be read (${code})`;
    throw new CliError(`the ${what} file ${terminalSafe(path)} ${why}; check the path`);
  }
}

/** The passphrase named by --passphrase-env (unset variable → error). */
export function passphraseFromEnv(envName: string | undefined): string | undefined {
  if (!envName) return undefined;
  const value = process.env[envName];
  if (value === undefined) throw new CliError(`the environment variable ${envName} (from --passphrase-env) is not set`);
  return value;
}

/** Asks for a passphrase on the terminal without echoing it; undefined when there is no terminal. */
export async function promptPassphrase(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput?: (s: string) => void };
  process.stderr.write(question);
  output._writeToOutput = () => {};
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** JSON whose strings cannot act on a terminal: control, bidi and invisible characters become \u escapes. */
export function safeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/(?!\n)[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/gu, (ch) =>
    Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  )}\n`;
}

export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes lines whose values come from files or the registry: each made terminal-safe, line feeds kept. */
export function outSafe(text: string): void {
  process.stdout.write(terminalSafe(text, { multiline: true }));
}

// What the offline PKI commands share: PkiError → one-line CliError, reading files or stdin, passphrases, JSON
// output that cannot act on a terminal.
import { BoundedReadError, PEM_FILE_LIMIT, readBounded } from '../../services/files/read-bounded.js';
import { createInterface } from 'node:readline';
import type { CaKeySecrets } from '../../services/config/ca-registry.js';
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

/** Reads a PEM/DER file, or stdin for `-`, up to 512 KiB (services/files/read-bounded). */
export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readBounded(path, { what, limit: PEM_FILE_LIMIT });
  } catch (err) {
    if (err instanceof BoundedReadError) throw new CliError(sentence(err.message));
    throw err;
  }
}

/** What the commands that sign take for a CA key's secrets and module (the flags' values, never a secret). */
export interface KeySecretFlags {
  passphraseEnv?: string;
  passphraseFile?: string;
  pinEnv?: string;
  pinFile?: string;
  pkcs11Module?: string;
}

/**
 * The flags as the registry's loaders take them: where to read the passphrase and the PIN, the module, and a masked
 * terminal prompt for a secret none of them gives (unless `prompt` is false: the controller asks nobody). Two
 * sources of one secret are refused.
 */
export function keySecrets(flags: KeySecretFlags, prompt = true): CaKeySecrets & { pkcs11Module?: string } {
  if (flags.passphraseEnv && flags.passphraseFile)
    throw new CliError('pass --passphrase-env or --passphrase-file, not both');
  if (flags.pinEnv && flags.pinFile) throw new CliError('pass --pin-env or --pin-file, not both');
  const source = (env?: string, file?: string) =>
    env || file ? { ...(env ? { env } : {}), ...(file ? { file } : {}) } : undefined;
  const passphraseFrom = source(flags.passphraseEnv, flags.passphraseFile);
  const pinFrom = source(flags.pinEnv, flags.pinFile);
  return {
    ...(passphraseFrom ? { passphraseFrom } : {}),
    ...(pinFrom ? { pinFrom } : {}),
    ...(flags.pkcs11Module ? { pkcs11Module: flags.pkcs11Module } : {}),
    ...(prompt ? { ask: promptPassphrase } : {}),
  };
}

/** Asks for a passphrase on the terminal without echoing it; undefined when there is no terminal. */
export async function promptPassphrase(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput?: (s: string) => void };
  process.stderr.write(terminalSafe(question));
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

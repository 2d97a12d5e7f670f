// Reading a file a person named (CSRs, certificates, keys, kubeconfig, policy, profiles, CA files, stdin `-`): stat'ed
// and read up to a limit, whatever it is — /dev/zero, a FIFO whose writer never closes, a directory — so a wrong path
// ends in one sentence naming the file, never in gigabytes of memory or a hang. FIFOs and devices are opened
// non-blocking and read until their end, the limit, or a deadline.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { terminalSafe } from '../text/sanitize.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** What a CSR, certificate, chain or key file may hold (the PEM decoder's own limit). */
export const PEM_FILE_LIMIT = 512 * KiB;

export type ReadErrorCode = 'not-found' | 'unreadable' | 'is-directory' | 'too-large' | 'timeout';

/** A file that could not be read; the message is one sentence naming the file. */
export class BoundedReadError extends Error {
  constructor(
    readonly code: ReadErrorCode,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'BoundedReadError';
  }
}

export interface ReadBoundedOptions {
  /** What the file is, for messages: `CSR`, `kubeconfig`, `policy`… */
  what: string;
  /** Most bytes accepted. */
  limit: number;
  /** How long a FIFO, device or stdin may take to reach its end. @default 30 000 ms */
  deadlineMs?: number;
}

const size = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : n % KiB === 0 ? `${n / KiB} KiB` : `${n} bytes`);
const named = (what: string, path: string) => (path === '-' ? `the ${what} on stdin` : `the ${what} file ${path}`);

function failure(code: ReadErrorCode, what: string, path: string, rest: string): BoundedReadError {
  const text = `${named(what, terminalSafe(path))} ${rest}`;
  return new BoundedReadError(code, `${text[0]?.toUpperCase()}${text.slice(1)}.`, path);
}

function openFailure(err: unknown, o: ReadBoundedOptions, path: string): BoundedReadError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  if (code === 'ENOENT') return failure('not-found', o.what, path, 'does not exist; check the path');
  if (code === 'EISDIR') return failure('is-directory', o.what, path, 'is a directory; pass a file');
  return failure('unreadable', o.what, path, `cannot be read (${code}); check the path and its permissions`);
}

const tooLarge = (o: ReadBoundedOptions, path: string) =>
  failure('too-large', o.what, path, `is larger than ${size(o.limit)}, the most certdesk reads; check the path`);
const tooSlow = (o: ReadBoundedOptions, path: string, ms: number) =>
  failure('timeout', o.what, path, `did not end within ${ms / 1000} s; pass a regular file`);

function checkStats(st: Stats, o: ReadBoundedOptions, path: string): void {
  if (st.isDirectory()) throw failure('is-directory', o.what, path, 'is a directory; pass a file');
  if (st.isFile() && st.size > o.limit) throw tooLarge(o, path);
}

const RETRY = new Set(['EAGAIN', 'EWOULDBLOCK']);
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Reads `path` (or stdin for `-`) up to `limit` bytes; throws BoundedReadError. */
export async function readBounded(path: string, o: ReadBoundedOptions): Promise<Buffer> {
  if (path === '-') return readStdin(o);
  let fh: FileHandle;
  try {
    fh = await open(path, FLAGS);
  } catch (err) {
    throw openFailure(err, o, path);
  }
  try {
    const st = await fh.stat();
    checkStats(st, o, path);
    const deadlineMs = o.deadlineMs ?? 30_000;
    const deadline = Date.now() + deadlineMs;
    const buf = Buffer.allocUnsafe(o.limit + 1);
    let got = 0;
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, got, buf.length - got, null));
      } catch (err) {
        if (!RETRY.has((err as NodeJS.ErrnoException).code ?? '')) throw openFailure(err, o, path);
        n = -1;
      }
      if (n > 0) {
        got += n;
        if (got > o.limit) throw tooLarge(o, path);
        continue;
      }
      // End of data: a regular file or a FIFO whose writer closed after writing. A FIFO with no writer yet also reads
      // 0: wait for one until the deadline.
      if (n === 0 && (st.isFile() || got > 0 || !st.isFIFO())) break;
      if (Date.now() >= deadline) throw tooSlow(o, path, deadlineMs);
      await new Promise((r) => setTimeout(r, 10));
    }
    return Buffer.from(buf.subarray(0, got));
  } finally {
    await fh.close();
  }
}

/** readBounded as UTF-8 text. */
export async function readBoundedText(path: string, o: ReadBoundedOptions): Promise<string> {
  return (await readBounded(path, o)).toString('utf8');
}

/** readBounded for synchronous callers (kubeconfig loading); waits on a FIFO by sleeping the thread. */
export function readBoundedSync(path: string, o: ReadBoundedOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    throw openFailure(err, o, path);
  }
  try {
    const st = fstatSync(fd);
    checkStats(st, o, path);
    const deadlineMs = o.deadlineMs ?? 30_000;
    const deadline = Date.now() + deadlineMs;
    const buf = Buffer.allocUnsafe(o.limit + 1);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    let got = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, got, buf.length - got, null);
      } catch (err) {
        if (!RETRY.has((err as NodeJS.ErrnoException).code ?? '')) throw openFailure(err, o, path);
        n = -1;
      }
      if (n > 0) {
        got += n;
        if (got > o.limit) throw tooLarge(o, path);
        continue;
      }
      if (n === 0 && (st.isFile() || got > 0 || !st.isFIFO())) break;
      if (Date.now() >= deadline) throw tooSlow(o, path, deadlineMs);
      Atomics.wait(sleeper, 0, 0, 10);
    }
    return Buffer.from(buf.subarray(0, got));
  } finally {
    closeSync(fd);
  }
}

/** Stdin up to the limit; a pipe that does not end within the deadline is an error (a terminal may take its time). */
function readStdin(o: ReadBoundedOptions): Promise<Buffer> {
  const stdin = process.stdin;
  const deadlineMs = o.deadlineMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      stdin.pause();
      if (err) {
        stdin.destroy();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer | string) => {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      got += b.length;
      if (got > o.limit) return done(tooLarge(o, '-'));
      chunks.push(b);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(openFailure(err, o, '-'));
    const timer = stdin.isTTY ? undefined : setTimeout(() => done(tooSlow(o, '-', deadlineMs)), deadlineMs);
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
    stdin.resume();
  });
}

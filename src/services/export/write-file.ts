// Writing files the person names (--out, --out-dir) without ever replacing one silently: the data goes to a new
// temporary file beside the target (its mode set before any byte is written), which is then hard-linked to the
// target name — an atomic create that fails if the name exists — or, with force, renamed over it.
import { link, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The target exists and force was not given; the message is one sentence for a person. */
export class FileExistsError extends Error {
  constructor(readonly path: string) {
    super(
      `${path} already exists; certdesk does not replace files it did not create: pass --force to replace it, or choose another path`,
    );
    this.name = 'FileExistsError';
  }
}

async function tempBeside(path: string, data: string | Buffer, mode: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** The path a write lands on: a symlink's target (so ~/.kube/config → dotfiles/kube keeps being a link). */
async function landing(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/** Creates `path` with `data` and `mode`, atomically; an existing file is replaced only with `force`. */
export async function writeFileSafely(path: string, data: string | Buffer, mode: number, force = false): Promise<void> {
  const target = await landing(path);
  const tmp = await tempBeside(target, data, mode);
  try {
    if (force) await rename(tmp, target);
    else {
      try {
        await link(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
        throw err;
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Replaces `path` atomically (temp file + rename) with `mode`: for a file whose old content was merged in. */
export async function replaceFileAtomically(path: string, data: string, mode: number): Promise<void> {
  const target = await landing(path);
  const tmp = await tempBeside(target, data, mode);
  try {
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}

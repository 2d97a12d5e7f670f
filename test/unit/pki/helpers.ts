// Shared helpers of the PKI tests: temp dirs that clean themselves up and an openssl runner.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certdesk-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function openssl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const p = execFileAsync('openssl', args, { maxBuffer: 4 << 20 });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  return p;
}

export async function put(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

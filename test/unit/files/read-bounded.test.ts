// Every file a person names is read up to a limit, whatever it is: /dev/zero, a FIFO whose writer never closes or
// never stops, an oversized file, a directory. Each ends in one sentence naming the file, quickly.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BoundedReadError, KiB, readBounded, readBoundedSync } from '../../../src/services/files/read-bounded.js';

const dir = mkdtempSync(join(tmpdir(), 'certdesk-read-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A FIFO with a writer: `idle` holds it open and writes nothing, `endless` writes zeros forever, or a text. */
function fifo(name: string, writer: 'idle' | 'endless' | 'none' | { text: string }): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  if (writer === 'none') return path;
  const script =
    writer === 'idle'
      ? `exec 3>"$1"; sleep 120`
      : writer === 'endless'
        ? `exec cat /dev/zero > "$1"`
        : `printf '%s' "$2" > "$1"`;
  const child = spawn('sh', ['-c', script, 'sh', path, typeof writer === 'object' ? writer.text : ''], {
    stdio: 'ignore',
  });
  children.push(child);
  return path;
}

async function failsWith(p: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (err: unknown) => {
      assert.ok(err instanceof BoundedReadError, String(err));
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    },
  );
}

const o = { what: 'CSR', limit: 512 * KiB, deadlineMs: 1500 };

describe('readBounded', () => {
  test('/dev/zero stops at the limit', async () => {
    const t0 = Date.now();
    await failsWith(readBounded('/dev/zero', o), 'too-large', /^The CSR file \/dev\/zero is larger than 512 KiB/);
    await failsWith(() => readBoundedSync('/dev/zero', o), 'too-large', /larger than 512 KiB/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a FIFO whose writer never closes ends at the deadline', async () => {
    await failsWith(readBounded(fifo('idle', 'idle'), o), 'timeout', /did not end within 1\.5 s/);
    await failsWith(() => readBoundedSync(fifo('idle2', 'idle'), o), 'timeout', /did not end within 1\.5 s/);
  });

  test('a FIFO with no writer at all ends at the deadline', async () => {
    await failsWith(readBounded(fifo('none', 'none'), o), 'timeout', /did not end/);
  });

  test('a FIFO whose writer never stops ends at the limit', async () => {
    await failsWith(readBounded(fifo('endless', 'endless'), o), 'too-large', /larger than 512 KiB/);
  });

  test('a FIFO that writes and closes is read whole', async () => {
    const text = 'x'.repeat(70_000);
    assert.equal((await readBounded(fifo('text', { text }), o)).toString(), text);
    assert.equal(readBoundedSync(fifo('text2', { text }), o).toString(), text);
  });

  test('an oversized file is refused from its size; a file at the limit is read', async () => {
    const big = join(dir, 'big.pem');
    writeFileSync(big, Buffer.alloc(512 * KiB + 1, 0x41));
    await failsWith(readBounded(big, o), 'too-large', /big\.pem is larger than 512 KiB/);
    const fits = join(dir, 'fits.pem');
    writeFileSync(fits, Buffer.alloc(512 * KiB, 0x41));
    assert.equal((await readBounded(fits, o)).length, 512 * KiB);
  });

  test('a directory, a missing file', async () => {
    await failsWith(readBounded(dir, o), 'is-directory', /is a directory/);
    await failsWith(readBounded(join(dir, 'nope'), o), 'not-found', /nope does not exist/);
  });
});

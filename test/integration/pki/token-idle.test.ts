// A token is not kept logged in by a long-running process (SoftHSM2): after the idle period (CERTDESK_PKCS11_IDLE_SECONDS,
// made short here) certdesk closes its sessions and finalises and unloads the module; a key opened before signs
// again afterwards, opening the token again and asking its PIN source again; the TUI's dialog asks for the PIN
// again. A process that signed with a token key exits on its own, with status 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signingCa } from '../../../src/app/signing-ca.js';
import { initCa } from '../../../src/services/config/ca-registry.js';
import {
  closePkcs11Modules,
  loadedPkcs11Modules,
  openTokenKey,
  PKCS11_IDLE_ENV,
} from '../../../src/services/pki/pkcs11.js';
import { waitFor } from '../../helpers/sandbox.js';
import { makeSoftHsm, SOFTHSM_MODULE, type SoftHsm, softhsmMissing } from '../../helpers/softhsm.js';

const PIN = '112358';
const SIGNER = 'example.com/idle';
const URI = 'pkcs11:token=idle-token;object=ca';
const root = resolve(import.meta.dirname, '../../..');

describe('token sessions close when idle', { skip: softhsmMissing() }, () => {
  let hsm: SoftHsm;
  let dir: string;
  const saved = { conf: process.env.SOFTHSM2_CONF, idle: process.env[PKCS11_IDLE_ENV] };

  before(async () => {
    hsm = makeSoftHsm();
    hsm.initToken('idle-token', PIN);
    process.env.SOFTHSM2_CONF = hsm.env.SOFTHSM2_CONF;
    dir = mkdtempSync(join(tmpdir(), 'certdesk-token-idle-'));
    await initCa({ cwd: dir, signerName: SIGNER, keyUri: URI, pkcs11Module: SOFTHSM_MODULE, pin: PIN });
    closePkcs11Modules();
  });
  after(() => {
    closePkcs11Modules();
    hsm?.remove();
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [
      ['SOFTHSM2_CONF', saved.conf],
      [PKCS11_IDLE_ENV, saved.idle],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test('a key opened before the idle close signs after it, asking its PIN source again', async () => {
    process.env[PKCS11_IDLE_ENV] = '0.3';
    let asked = 0;
    const pin = async () => {
      asked++;
      return PIN;
    };
    const key = await openTokenKey({ uri: URI, modulePath: SOFTHSM_MODULE, pin });
    const data = Buffer.from('before the idle close');
    assert.ok(verify('sha256', data, key.publicKey, await key.sign('sha256', data)));
    assert.equal(asked, 1);
    assert.equal(loadedPkcs11Modules(), 1);
    await waitFor(async () => loadedPkcs11Modules() === 0, 'the module closed after the idle period', 10_000);
    const again = Buffer.from('after the idle close');
    assert.ok(verify('sha256', again, key.publicKey, await key.sign('sha256', again)));
    assert.equal(asked, 2, 'logged out by the idle close: the PIN was asked again');
    // Busy signing keeps it open: many signatures in a row, each shorter than the idle period, all verify.
    process.env[PKCS11_IDLE_ENV] = '30';
    const sigs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => key.sign('sha256', createHash('sha256').update(String(i)).digest())),
    );
    assert.equal(sigs.length, 20);
    assert.equal(asked, 2);
    closePkcs11Modules();
  });

  test("the TUI's dialog asks for the PIN again after the idle close", async () => {
    process.env[PKCS11_IDLE_ENV] = '0.3';
    const first = await signingCa(SIGNER, dir, { preview: true });
    assert.equal(first.needs, 'PIN for token "idle-token"');
    const unlocked = await signingCa(SIGNER, dir, { secret: PIN });
    assert.equal(unlocked.needs, undefined);
    assert.equal((await signingCa(SIGNER, dir, { preview: true })).needs, undefined, 'still logged in');
    await waitFor(async () => loadedPkcs11Modules() === 0, 'the module closed after the idle period', 10_000);
    assert.equal((await signingCa(SIGNER, dir, { preview: true })).needs, 'PIN for token "idle-token"');
    closePkcs11Modules();
  });

  test('a process that signed with a token key exits by itself, status 0, nothing on stderr', () => {
    // The default idle period (5 min) must not hold the process: its timer does not keep Node running.
    const script = `
      import { openTokenKey } from ${JSON.stringify(join(root, 'src/services/pki/pkcs11.ts'))};
      const key = await openTokenKey({ uri: ${JSON.stringify(URI)}, modulePath: ${JSON.stringify(SOFTHSM_MODULE)}, pin: async () => ${JSON.stringify(PIN)} });
      await key.sign('sha256', Buffer.from('x'));
      process.stdout.write('signed');
    `;
    const env: NodeJS.ProcessEnv = { ...process.env, SOFTHSM2_CONF: hsm.env.SOFTHSM2_CONF };
    delete env[PKCS11_IDLE_ENV];
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.signal, null, 'it exited by itself, before the timeout');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'signed');
    assert.equal(r.stderr, '');
  });
});

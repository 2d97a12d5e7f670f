// CA keys that need a secret nothing registered gives, signed with from the built binary in tmux: a CA whose key is
// in a SoftHSM2 token (made in a temp dir, SOFTHSM2_CONF) and a CA whose key file is encrypted, both registered in
// the test's config dir with no PIN or passphrase source. `A` asks for the PIN (or passphrase) in the dialog's
// masked field: what is typed never shows on the screen, a wrong one says so and lets the person type it again,
// the right one signs. Each certificate is read back through the API and verified with openssl against its CA.
// With a short idle period (CERTDESK_PKCS11_IDLE_SECONDS) the TUI logs out of the token between signings and asks
// for the PIN again; q then quits with status 0 and nothing on stderr.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { caCertificatePem, initCa } from '../../../src/services/config/ca-registry.js';
import { closePkcs11Modules } from '../../../src/services/pki/pkcs11.js';
import { csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { makeSoftHsm, SOFTHSM_MODULE, type SoftHsm, softhsmMissing } from '../../helpers/softhsm.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const TOKEN_SIGNER = 'example.com/token';
const SEALED_SIGNER = 'example.com/sealed';
const PIN = '246813';
const WRONG_PIN = '975310';
const PASSPHRASE = 'correct-horse-staple';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };

describe('tui e2e: a CA key behind a PIN or a passphrase', { skip: softhsmMissing(), timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;
  let hsm: SoftHsm;
  let dir: string;
  let configDir: string;
  /** Every screen read while a secret was being typed or checked: none may hold it. */
  const screens: string[] = [];

  const look = () => {
    const s = term.screen();
    screens.push(s);
    return s;
  };

  /** Types into the dialog's masked field and checks, before ⏎, that only dots show. */
  async function typeSecret(label: RegExp, secret: string): Promise<void> {
    const field = new RegExp(`› ${label.source}: (•*)`);
    await term.waitFor((s) => field.test(s), `the masked field ${label.source}`);
    term.type(secret);
    const screen = await term.waitFor(
      (s) => field.exec(s)?.[1]?.length === secret.length,
      `${secret.length} dots in the masked field`,
    );
    screens.push(screen);
    term.keys('Enter');
  }

  async function certificateOf(name: string): Promise<string> {
    const r = await sandbox.cluster('east').requestAs(ADMIN, 'GET', `${CSRS}/${name}`);
    const csr = JSON.parse(r.body) as V1CertificateSigningRequest;
    return Buffer.from(csr.status?.certificate ?? '', 'base64').toString();
  }

  async function verifiedBy(signer: string, name: string): Promise<void> {
    const pem = await certificateOf(name);
    assert.match(pem, /BEGIN CERTIFICATE/, `${name} has a certificate`);
    const leaf = join(dir, `${name}.pem`);
    const ca = join(dir, `${name}-ca.pem`);
    writeFileSync(leaf, pem);
    writeFileSync(ca, await caCertificatePem(signer, { cwd: configDir }));
    assert.match(execFileSync('openssl', ['verify', '-CAfile', ca, leaf], { encoding: 'utf8' }), /: OK/);
  }

  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-token-'));
    configDir = join(dir, 'config');
    hsm = makeSoftHsm();
    hsm.initToken('tui-e2e', PIN);
    const saved = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = hsm.env.SOFTHSM2_CONF;
    try {
      // Registered with the module and no PIN source: the TUI has to ask.
      await initCa({
        cwd: configDir,
        signerName: TOKEN_SIGNER,
        keyUri: 'pkcs11:token=tui-e2e;object=ca',
        pkcs11Module: SOFTHSM_MODULE,
        pin: PIN,
      });
    } finally {
      closePkcs11Modules();
      if (saved === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = saved;
    }
    await initCa({ cwd: configDir, signerName: SEALED_SIGNER, passphrase: PASSPHRASE });
    assert.match(readFileSync(join(configDir, 'cas', 'example.com_sealed', 'ca-key.pem'), 'utf8'), /ENCRYPTED/);
    sandbox = await startTestSandbox(undefined, { clusters: ['east'] });
    for (const [name, signer] of [
      ['token-web', TOKEN_SIGNER],
      ['sealed-web', SEALED_SIGNER],
      ['token-api', TOKEN_SIGNER],
    ] as const) {
      const { pem } = makeCsrPem({ commonName: `${name}.example.com`, dnsNames: [`${name}.example.com`] });
      await sandbox.cluster('east').createAs(ADMIN, CSRS, csrObject(name, pem, signer));
    }
    term = new TmuxTerminal(140, 40);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east'], {
      dir,
      env: {
        SOFTHSM2_CONF: hsm.env.SOFTHSM2_CONF,
        CERTDESK_PKCS11_IDLE_SECONDS: '2',
        // The debugging key log writes every key down, except those typed into a secret field.
        CERTDESK_TUI_KEYLOG: join(dir, 'keys.log'),
      },
    });
    await term.waitFor((s) => /east ● live/.test(s), 'east live', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
    hsm?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('A asks for the token PIN, masked; a wrong PIN says so and keeps the dialog; the right one signs', async () => {
    await term.filter('token-web');
    term.keys('A');
    await term.waitForText('Approve and sign 1 CSR?');
    await typeSecret(/PIN for token "tui-e2e"/, WRONG_PIN);
    const refused = await term.waitForText(/Wrong PIN for token "tui-e2e".*try again/, 30_000);
    screens.push(refused);
    assert.match(refused, /Approve and sign 1 CSR\?/, 'the dialog is back, on the same CSR');
    assert.match(refused, /token-web · east · example\.com\/token/);
    assert.match(refused, /› PIN for token "tui-e2e": *(\s|$)/m, 'the wrong PIN is not kept');
    assert.equal(await certificateOf('token-web'), '', 'nothing signed with a wrong PIN');
    await typeSecret(/PIN for token "tui-e2e"/, PIN);
    screens.push(await term.waitForText('Approved and signed.', 30_000));
    look();
    await verifiedBy(TOKEN_SIGNER, 'token-web');
  });

  it('A asks for an encrypted key file passphrase the same way', async () => {
    await term.filter('sealed-web');
    term.keys('A');
    await term.waitForText('Approve and sign 1 CSR?');
    await typeSecret(/passphrase for \S+ca-key\.pem/, 'not-it');
    screens.push(await term.waitForText(/could not be decrypted; check the passphrase/, 30_000));
    assert.equal(await certificateOf('sealed-web'), '');
    await typeSecret(/passphrase for \S+ca-key\.pem/, PASSPHRASE);
    screens.push(await term.waitForText('Approved and signed.', 30_000));
    look();
    await verifiedBy(SEALED_SIGNER, 'sealed-web');
  });

  it('after the idle period the token is logged out: A asks for the PIN again, and signs', async () => {
    await term.filter('token-api');
    // Open the dialog until it asks (the token is let go 2 s after its last use); esc while it does not yet.
    const deadline = Date.now() + 30_000;
    for (;;) {
      term.keys('A');
      const screen = await term.waitFor(
        (s) => /Approve and sign 1 CSR\?[\s\S]*(confirm|go ahead)/.test(s),
        'the dialog',
      );
      if (screen.includes('PIN for token "tui-e2e"')) break;
      assert.ok(Date.now() < deadline, 'the dialog never asked for the PIN again');
      term.keys('Escape');
      await term.waitFor((s) => !s.includes('Approve and sign 1 CSR?'), 'the dialog closed');
      await new Promise((r) => setTimeout(r, 500));
    }
    await typeSecret(/PIN for token "tui-e2e"/, PIN);
    screens.push(await term.waitForText('Approved and signed.', 30_000));
    await verifiedBy(TOKEN_SIGNER, 'token-api');
  });

  it('q quits: status 0, nothing on stderr', async () => {
    await term.waitFor((s) => !s.includes('Signing') && !s.includes('Approving'), 'nothing running');
    term.keys('q');
    await term.waitFor(() => term.exitStatus() !== undefined, 'the TUI ended');
    assert.equal(term.exitStatus(), 0);
    // The terminal's own restore sequences (the cursor shown again) aside.
    assert.equal(readFileSync(join(dir, 'stderr.log'), 'utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), '');
  });

  it('no secret shows on any screen, in the audit log, the key log or on stderr', () => {
    const keys = readFileSync(join(dir, 'keys.log'), 'utf8');
    assert.match(keys, /"input":"A"/, 'the key log has the other keys');
    const written = [
      ...screens,
      keys,
      readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8'),
      readFileSync(join(dir, 'stderr.log'), 'utf8'),
    ].join('\n');
    assert.ok(screens.length >= 6);
    for (const secret of [PIN, WRONG_PIN, PASSPHRASE, 'not-it']) {
      assert.ok(!written.includes(secret), `${secret} was written somewhere`);
    }
  });
});

// The TUI's sign action (runEffect 'sign', what `s` runs) with a CA whose key is in a PKCS#11 token (SoftHSM2), over
// HTTPS against the sandbox: with the PIN from the file registered at `ca init`, the certificate is issued and
// openssl verifies it against the CA; with no PIN source and none typed (the token let go after the dialog opened)
// nothing is signed, the footer says so in one line and the status names the PIN, for the dialog to come back asking
// for it; with the PIN typed in the dialog (the effect's secret) a wrong one is refused in one line and the right one
// signs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { runEffect } from '../../../src/app/effects.js';
import { signingCa } from '../../../src/app/signing-ca.js';
import { approveWithAudit } from '../../../src/services/actions/index.js';
import { initCa } from '../../../src/services/config/ca-registry.js';
import { type ClusterContext, getCsr, loadContexts } from '../../../src/services/kube/index.js';
import { closePkcs11Modules } from '../../../src/services/pki/pkcs11.js';
import { csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { makeSoftHsm, SOFTHSM_MODULE, type SoftHsm, softhsmMissing } from '../../helpers/softhsm.js';

const SIGNER = 'example.com/token';
const BARE = 'example.com/token-no-pin';
const PIN = '135790';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };

describe('TUI sign with a token CA', { skip: softhsmMissing() }, () => {
  let sandbox: Sandbox;
  let ctx: ClusterContext;
  let hsm: SoftHsm;
  let dir: string;
  const saved = { conf: process.env.SOFTHSM2_CONF, state: process.env.CERTDESK_STATE_DIR };

  before(async () => {
    hsm = makeSoftHsm();
    hsm.initToken('tui-token', PIN);
    process.env.SOFTHSM2_CONF = hsm.env.SOFTHSM2_CONF;
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-token-'));
    process.env.CERTDESK_STATE_DIR = join(dir, 'state');
    const pinFile = join(dir, 'pin');
    writeFileSync(pinFile, PIN, { mode: 0o600 });
    const token = { pkcs11Module: SOFTHSM_MODULE, pin: PIN };
    await initCa({
      cwd: dir,
      signerName: SIGNER,
      keyUri: 'pkcs11:token=tui-token;object=ca',
      pinFrom: { file: pinFile },
      ...token,
    });
    await initCa({ cwd: dir, signerName: BARE, keyUri: 'pkcs11:token=tui-token;object=bare', ...token });
    // The TUI runs in a process that has not logged in to the token yet.
    closePkcs11Modules();
    sandbox = await startTestSandbox(undefined);
    [ctx] = loadContexts({ kubeconfig: sandbox.kubeconfigPath, contexts: ['east'] }) as [ClusterContext];
  });
  after(async () => {
    closePkcs11Modules();
    await sandbox?.stop();
    hsm?.remove();
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [
      ['SOFTHSM2_CONF', saved.conf],
      ['CERTDESK_STATE_DIR', saved.state],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  async function approved(name: string, signer: string): Promise<V1CertificateSigningRequest> {
    const { pem } = makeCsrPem({ commonName: `${name}.example.com`, dnsNames: [`${name}.example.com`] });
    await sandbox.cluster('east').createAs(ADMIN, CSRS, csrObject(name, pem, signer));
    const r = await approveWithAudit(ctx, name, { audit: async () => {} });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    return r.value.csr;
  }

  const sign = (name: string, csr: V1CertificateSigningRequest, secrets?: Record<string, string>) =>
    runEffect(
      {
        id: 1,
        kind: 'sign',
        approveFirst: false,
        targets: [{ key: `east/${name}`, context: 'east', name, csr }],
        ...(secrets ? { secrets } : {}),
      },
      {
        contexts: new Map([['east', ctx]]),
        store: { reconnect: () => {}, snapshot: () => ({ pods: new Map(), csrs: new Map([[name, csr]]) }) as never },
        registryDir: dir,
      },
    );

  test('the PIN from the registered file: signed, and openssl verifies the certificate', async () => {
    const status = await sign('web', await approved('web', SIGNER));
    assert.equal(status?.tone, 'ok', status?.text);
    const r = await getCsr(ctx, 'web');
    assert.ok(r.ok);
    const certPem = Buffer.from(r.value.status?.certificate ?? '', 'base64').toString();
    const leaf = join(dir, 'web.pem');
    writeFileSync(leaf, certPem);
    const caPem = join(dir, 'cas', 'example.com_token', 'ca.pem');
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caPem, leaf], { encoding: 'utf8' }), /: OK/);
    assert.doesNotMatch(readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8'), new RegExp(PIN));
  });

  test('no PIN source and none typed: nothing signed, one line, and the PIN named for the dialog to ask', async () => {
    // A process not logged in to the token (a login lasts as long as the module stays loaded): the token was let go
    // after the dialog opened, so it has no PIN field.
    closePkcs11Modules();
    const status = await sign('bare', await approved('bare', BARE));
    assert.equal(status?.tone, 'bad');
    assert.match(
      status?.text ?? '',
      /The PIN for token "tui-token" is needed now: press the key again \(s, A\) to type it\./,
    );
    assert.equal(status?.text.split('\n').length, 1);
    assert.deepEqual(status?.ask, [[BARE, 'PIN for token "tui-token"']], 'the dialog comes back asking for it');
    const r = await getCsr(ctx, 'bare');
    assert.ok(r.ok);
    assert.equal(r.value.status?.certificate, undefined);
  });

  test('the PIN typed in the dialog: asked for by name, a wrong one refused in one line, the right one signs', async () => {
    closePkcs11Modules();
    const probe = await signingCa(BARE, dir, { preview: true });
    assert.equal(probe.needs, 'PIN for token "tui-token"');
    await assert.rejects(probe.ca.key.sign('sha256', Buffer.from('x')), /Type the PIN for token "tui-token"/);
    const csr = await approved('typed', BARE);
    const wrong = await sign('typed', csr, { [BARE]: '000000' });
    assert.equal(wrong?.tone, 'bad');
    assert.equal(wrong?.ask, undefined, 'a wrong PIN is not a missing one');
    assert.match(wrong?.text ?? '', /^Not signed: Wrong PIN for token "tui-token".*; try again\.$/);
    assert.equal(wrong?.text.split('\n').length, 1);
    const r1 = await getCsr(ctx, 'typed');
    assert.ok(r1.ok);
    assert.equal(r1.value.status?.certificate, undefined);
    const right = await sign('typed', csr, { [BARE]: PIN });
    assert.equal(right?.tone, 'ok', right?.text);
    const r2 = await getCsr(ctx, 'typed');
    assert.ok(r2.ok);
    const leaf = join(dir, 'typed.pem');
    writeFileSync(leaf, Buffer.from(r2.value.status?.certificate ?? '', 'base64').toString());
    const caPem = join(dir, 'cas', 'example.com_token-no-pin', 'ca.pem');
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caPem, leaf], { encoding: 'utf8' }), /: OK/);
    assert.doesNotMatch(readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8'), new RegExp(PIN));
  });
});

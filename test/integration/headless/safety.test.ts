// docs/safety.md against a sandbox over HTTPS: the object under a name is deleted and re-created (O=system:masters)
// between the check and the write, and no face — approve, sign, sign --approve, the TUI's action path — acts on
// the replacement; a request with a failing finding is approved or signed only with every failing code named.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { runEffect } from '../../../src/app/effects.js';
import { CliError } from '../../../src/headless/cli-error.js';
import { runApproval } from '../../../src/headless/commands/approval.js';
import { runSign } from '../../../src/headless/commands/sign.js';
import { approveWithAudit, exportTlsSecret } from '../../../src/services/actions/index.js';
import type { AuditEntry } from '../../../src/services/config/audit.js';
import { getCsr, hasCondition } from '../../../src/services/kube/index.js';
import { fileCaSandbox } from '../../helpers/file-ca-sandbox.js';
import { csrObject, makeCsrPem } from '../../helpers/sandbox.js';

const SIGNER = 'example.com/serving';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };

const f = fileCaSandbox('safety');

function benign(name: string): unknown {
  return csrObject(name, makeCsrPem({ commonName: 'web.example.com', dnsNames: ['web.example.com'] }).pem, SIGNER);
}

function hostile(name: string): unknown {
  const { pem } = makeCsrPem({ commonName: 'root', organizations: ['system:masters'], dnsNames: ['web.example.com'] });
  return csrObject(name, pem, SIGNER);
}

async function create(body: unknown): Promise<V1CertificateSigningRequest> {
  return (await f.cluster.createAs(ADMIN, CSRS, body)) as unknown as V1CertificateSigningRequest;
}

async function approveAsAdmin(name: string, overrides?: string[]): Promise<V1CertificateSigningRequest> {
  const r = await approveWithAudit(f.ctx, name, { ...(overrides ? { overrides } : {}), audit: async () => {} });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value.csr;
}

/** Once, just before the first PUT to NAME/SUB: delete the CSR and create the hostile one under its name. */
function swapBeforeWrite(name: string, sub: 'approval' | 'status'): { replacement: Promise<string> } {
  let resolve: (uid: string) => void = () => {};
  const replacement = new Promise<string>((r) => {
    resolve = r;
  });
  f.cluster.api.beforeServe.push(async (req) => {
    if (req.method !== 'PUT' || req.name !== name || req.subresource !== sub) return false;
    await f.cluster.requestAs(ADMIN, 'DELETE', `${CSRS}/${name}`);
    const made = await create(hostile(name));
    resolve(made.metadata?.uid ?? '');
    return true;
  });
  return { replacement };
}

async function current(name: string): Promise<V1CertificateSigningRequest> {
  const r = await getCsr(f.ctx, name);
  assert.ok(r.ok);
  return r.value;
}

async function cliError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CliError, String(err));
    return err.message;
  }
  assert.fail('expected the command to fail');
}

const caFiles = () => ({ caCert: f.caCert, caKey: f.caKey, output: 'name' });

function auditLines(): AuditEntry[] {
  return f.audit();
}

test('approve: a request replaced between the check and the write is not approved', async () => {
  await create(benign('swap-approve'));
  const { replacement } = swapBeforeWrite('swap-approve', 'approval');
  const message = await cliError(runApproval('approve', ['swap-approve'], f.kube()));
  assert.match(message, /was replaced after it was checked/);
  const now = await current('swap-approve');
  assert.equal(now.metadata?.uid, await replacement);
  assert.ok(!hasCondition(now, 'Approved'), 'the hostile replacement must not be approved');
  // The audit says which UID the (refused) write went to: the checked one, never the replacement.
  const lines = auditLines().filter((e) => e.csrName === 'swap-approve');
  assert.ok(lines.some((e) => e.phase === 'intent'));
  assert.ok(lines.every((e) => e.csrUid !== now.metadata?.uid));
});

test('sign --approve: replaced before /approval, and replaced before /status: nothing approved or signed', async () => {
  await create(benign('swap-sa-1'));
  const one = swapBeforeWrite('swap-sa-1', 'approval');
  const m1 = await cliError(runSign(['swap-sa-1'], { ...f.kube(), ...caFiles(), approve: true }));
  assert.match(m1, /was replaced after it was checked/);
  const now1 = await current('swap-sa-1');
  assert.equal(now1.metadata?.uid, await one.replacement);
  assert.ok(!hasCondition(now1, 'Approved') && !now1.status?.certificate);

  await create(benign('swap-sa-2'));
  const two = swapBeforeWrite('swap-sa-2', 'status');
  const m2 = await cliError(runSign(['swap-sa-2'], { ...f.kube(), ...caFiles(), approve: true }));
  assert.match(m2, /was replaced after it was checked/);
  const now2 = await current('swap-sa-2');
  assert.equal(now2.metadata?.uid, await two.replacement);
  assert.ok(!hasCondition(now2, 'Approved') && !now2.status?.certificate);
});

test('sign: an approved request replaced before the upload gets no certificate', async () => {
  await create(benign('swap-sign'));
  await approveAsAdmin('swap-sign');
  const { replacement } = swapBeforeWrite('swap-sign', 'status');
  const message = await cliError(runSign(['swap-sign'], { ...f.kube(), ...caFiles() }));
  assert.match(message, /was replaced after it was checked/);
  const now = await current('swap-sign');
  assert.equal(now.metadata?.uid, await replacement);
  assert.ok(!now.status?.certificate);
  // The intent named the certificate about to be uploaded; its outcome says it was refused.
  const intent = auditLines().find((e) => e.csrName === 'swap-sign' && e.action === 'sign' && e.phase === 'intent');
  assert.ok(intent?.serial && intent.sha256Fingerprint && intent.resourceVersion);
  const outcome = auditLines().find((e) => e.id === intent.id && e.phase === 'outcome');
  assert.equal(outcome?.outcome, 'refused');
});

test('same UID, newer version: evaluated again, then written', async () => {
  const made = await create(benign('changed-only'));
  // A label change between the check (the object given) and the write.
  await f.cluster.requestAs(ADMIN, 'PUT', `${CSRS}/changed-only`, {
    ...made,
    metadata: { ...made.metadata, labels: { a: 'b' } },
  });
  const lines: { phase?: string; outcome?: string; resourceVersion?: string }[] = [];
  const r = await approveWithAudit(f.ctx, 'changed-only', { csr: made, audit: async (e) => void lines.push(e) });
  assert.ok(r.ok && r.value.changed, r.ok ? '' : r.error.message);
  assert.equal(r.value.csr.metadata?.uid, made.metadata?.uid);
  assert.deepEqual(
    lines.map((e) => `${e.phase}:${e.outcome ?? ''}`),
    ['intent:', 'outcome:error', 'intent:', 'outcome:ok'],
  );
});

test('TUI action path: a replaced request is not approved, and the footer says so', async () => {
  const checked = await create(benign('swap-tui'));
  const { replacement } = swapBeforeWrite('swap-tui', 'approval');
  const status = await runEffect(
    { id: 1, kind: 'approve', targets: [{ key: 'east/swap-tui', context: 'east', name: 'swap-tui', csr: checked }] },
    {
      contexts: new Map([['east', f.ctx]]),
      store: { reconnect: () => {}, snapshot: () => ({ pods: new Map() }) as never },
    },
  );
  assert.equal(status?.tone, 'bad');
  assert.match(status?.text ?? '', /was replaced after it was checked/);
  const now = await current('swap-tui');
  assert.equal(now.metadata?.uid, await replacement);
  assert.ok(!hasCondition(now, 'Approved'));
});

test('approve and sign on a ✗ request: refused with the codes; a partial --override refused; the exact codes pass', async () => {
  await create(hostile('masters'));
  const bare = await cliError(runApproval('approve', ['masters'], f.kube()));
  assert.match(bare, /was not approved: failing findings privileged-group/);
  const codes = /--override ([a-z,-]+)/.exec(bare)?.[1] ?? '';
  assert.ok(codes.split(',').includes('privileged-group'), bare);
  assert.ok(!hasCondition(await current('masters'), 'Approved'));

  // sign --approve is gated the same way.
  const viaSign = await cliError(runSign(['masters'], { ...f.kube(), ...caFiles(), approve: true }));
  assert.match(viaSign, /was not approved: failing findings privileged-group/);

  if (codes.includes(',')) {
    const partial = await cliError(runApproval('approve', ['masters'], { ...f.kube(), override: 'privileged-group' }));
    assert.match(partial, /was not approved/);
    assert.ok(!hasCondition(await current('masters'), 'Approved'));
  }
  await runApproval('approve', ['masters'], { ...f.kube(), override: codes });
  assert.ok(hasCondition(await current('masters'), 'Approved'));

  // Approved, but `sign` still checks the findings.
  const sign = await cliError(runSign(['masters'], { ...f.kube(), ...caFiles() }));
  assert.match(sign, /was not signed: failing findings privileged-group/);
  assert.ok(!(await current('masters')).status?.certificate);
  await runSign(['masters'], { ...f.kube(), ...caFiles(), override: codes });
  assert.ok((await current('masters')).status?.certificate);
  const accepted = auditLines().find((e) => e.csrName === 'masters' && e.action === 'sign' && e.phase === 'intent');
  assert.ok(accepted?.overrides?.includes('privileged-group'));
});

test('a request certdesk cannot read: no --override approves or signs it, not even naming decode', async () => {
  // A cluster stores requests its own parser reads (Go's); one certdesk cannot (here: not a CSR at all) is inserted
  // as a preload would be. Nothing else about it was checked, so naming `decode` must not accept it.
  const csr = csrObject('unreadable', makeCsrPem({ commonName: 'web.example.com' }).pem, SIGNER) as {
    spec: { request: string };
  };
  csr.spec.request = Buffer.from(
    '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
  ).toString('base64');
  f.cluster.api.insert('certificatesigningrequests', csr as never);
  const bare = await cliError(runApproval('approve', ['unreadable'], f.kube()));
  assert.match(bare, /was not approved: decode \(The request cannot be decoded: .*no --override accepts it\. Deny it/);
  const named = await cliError(runApproval('approve', ['unreadable'], { ...f.kube(), override: 'decode' }));
  assert.match(named, /no --override accepts it/);
  const viaSign = await cliError(
    runSign(['unreadable'], { ...f.kube(), ...caFiles(), approve: true, override: 'decode' }),
  );
  assert.match(viaSign, /was not approved: decode .*no --override accepts it/);
  assert.ok(!hasCondition(await current('unreadable'), 'Approved'));
  // Approved by someone else (kubectl): `sign` still refuses it.
  const approved = await current('unreadable');
  approved.status = {
    conditions: [
      { type: 'Approved', status: 'True', reason: 'KubectlApprove', message: '', lastUpdateTime: new Date() },
    ],
  };
  await f.cluster.requestAs(ADMIN, 'PUT', `${CSRS}/unreadable/approval`, approved);
  const sign = await cliError(runSign(['unreadable'], { ...f.kube(), ...caFiles(), override: 'decode' }));
  assert.match(sign, /cannot be decoded/);
  assert.ok(!(await current('unreadable')).status?.certificate);
});

test('deny is never gated: a ✗ request is denied', async () => {
  await create(hostile('masters-deny'));
  await runApproval('deny', ['masters-deny'], f.kube());
  assert.ok(hasCondition(await current('masters-deny'), 'Denied'));
});

test('the Secret export exports the certificate inspected: a replaced CSR is refused', async () => {
  const { pem, key } = makeCsrPem({ commonName: 'web.example.com', dnsNames: ['web.example.com'] });
  await create(csrObject('export-me', pem, SIGNER));
  await approveAsAdmin('export-me');
  await runSign(['export-me'], { ...f.kube(), ...caFiles() });
  const inspected = await current('export-me');
  assert.ok(inspected.status?.certificate);
  // Replaced (and issued again) under the same name after the person inspected it.
  await f.cluster.requestAs(ADMIN, 'DELETE', `${CSRS}/export-me`);
  await create(hostile('export-me'));
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const r = await exportTlsSecret(f.ctx, {
    name: 'web-tls',
    namespace: 'default',
    csrName: 'export-me',
    keyPem,
    inspected,
    audit: async () => {},
  });
  assert.ok(!r.ok && r.error.reason === 'Replaced', r.ok ? 'exported' : r.error.message);
});

test('TUI export to a file: an existing file is never replaced; a new one is written', async () => {
  const { initCa } = await import('../../../src/services/config/ca-registry.js');
  const registry = join(f.dir, 'registry');
  await initCa({ signerName: SIGNER, cwd: registry });
  const deps = {
    contexts: new Map([['east', f.ctx]]),
    store: { reconnect: () => {}, snapshot: () => ({ pods: new Map() }) as never },
    registryDir: registry,
  };
  const existing = join(f.dir, 'kept.yaml');
  writeFileSync(existing, 'precious\n');
  const effect = {
    id: 2,
    kind: 'export-configmap',
    context: 'east',
    signer: SIGNER,
    namespace: 'web',
    name: 'ca',
  } as const;
  const refused = await runEffect({ ...effect, outFile: existing }, deps);
  assert.equal(refused?.tone, 'bad');
  assert.match(refused?.text ?? '', /kept\.yaml already exists; certdesk does not replace it/);
  assert.equal(readFileSync(existing, 'utf8'), 'precious\n');

  const fresh = join(f.dir, 'fresh.yaml');
  const written = await runEffect({ ...effect, outFile: fresh }, deps);
  assert.equal(written?.tone, 'ok', written?.text);
  assert.match(readFileSync(fresh, 'utf8'), /kind: ConfigMap/);
});

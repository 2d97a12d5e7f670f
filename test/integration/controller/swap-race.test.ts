// Issue 18, item 1, against the controller: a requester deletes a CSR and re-creates it under the same name with
// O=system:masters while the controller decides on the first one. No replacement ever comes out approved or
// signed: every write is bound to the UID and resourceVersion it was decided on, and the replacement is judged
// from scratch (denied under the policy).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { AuditEntry } from '../../../src/services/config/audit.js';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { createCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { csrObject, makeCsrPem, type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

const SIGNER = 'example.com/serving';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
let sandbox: Sandbox;
let cluster: SandboxCluster;
let controller: Controller | undefined;
let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-swap-race-'));
  sandbox = await startTestSandbox(undefined);
  cluster = sandbox.cluster('east');
  const made = await createCa({ cn: 'swap race CA', keyAlgorithm: 'ECDSAWithCurve256' });
  controller = createController({
    context: {
      name: cluster.name,
      server: cluster.server,
      cluster: cluster.name,
      user: 'admin',
      kubeConfig: cluster.kubeConfigFor('admin', ['system:masters']),
    },
    signers: [SIGNER],
    policy: DEFAULT_POLICY,
    approve: true,
    sign: true,
    onWarn: 'approve',
    cas: new Map([[SIGNER, { ca: await loadCaFromPem(made.certPem, made.keyPem) }]]),
    leaderElection: false,
    auditFile: join(dir, 'audit.jsonl'),
    log: () => {},
  });
  await controller.start();
});

after(async () => {
  await controller?.stop();
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pem = (masters: boolean) =>
  makeCsrPem({
    commonName: masters ? 'root' : 'web.example.com',
    dnsNames: ['web.example.com'],
    ...(masters ? { organizations: ['system:masters'] } : {}),
  }).pem;
const benign = pem(false);
const masters = pem(true);

async function create(name: string, request: string): Promise<string> {
  const made = (await cluster.createAs(
    ADMIN,
    CSRS,
    csrObject(name, request, SIGNER),
  )) as unknown as V1CertificateSigningRequest;
  return made.metadata?.uid ?? '';
}

async function replace(name: string): Promise<string> {
  await cluster.requestAs(ADMIN, 'DELETE', `${CSRS}/${name}`);
  return create(name, masters);
}

async function read(name: string): Promise<V1CertificateSigningRequest | undefined> {
  const r = await cluster.requestAs(ADMIN, 'GET', `${CSRS}/${name}`);
  return r.code === 200 ? (JSON.parse(r.body) as V1CertificateSigningRequest) : undefined;
}

const has = (csr: V1CertificateSigningRequest | undefined, type: string) =>
  (csr?.status?.conditions ?? []).some((c) => c.type === type);

/** Waits until every name holds its hostile replacement, judged, and asserts none was approved (all denied). */
async function assertNoneApproved(hostileUids: Map<string, Promise<string>>): Promise<void> {
  const uids = new Map<string, string>();
  for (const [name, uid] of hostileUids) uids.set(name, await uid);
  await waitFor(
    async () => {
      for (const [name, uid] of uids) {
        const csr = await read(name);
        if (csr?.metadata?.uid !== uid || !(has(csr, 'Denied') || has(csr, 'Approved'))) return false;
      }
      return true;
    },
    'every replacement judged',
    60_000,
    50,
  );
  for (const [name, uid] of uids) {
    const csr = await read(name);
    assert.equal(csr?.metadata?.uid, uid);
    assert.ok(!has(csr, 'Approved'), `${name}: the O=system:masters replacement was approved`);
    assert.ok(!csr?.status?.certificate, `${name}: the O=system:masters replacement was signed`);
    assert.ok(has(csr, 'Denied'));
  }
  // The audit never records an approval or a signature of a replacement's UID as done.
  const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEntry);
  const hostile = new Set(uids.values());
  assert.ok(
    !lines.some(
      (e) => hostile.has(e.csrUid ?? '') && e.outcome === 'ok' && (e.action === 'approve' || e.action === 'sign'),
    ),
  );
}

test('replaced between the decision and /approval: the replacement is never approved', async () => {
  const hostileUids = new Map<string, Promise<string>>();
  for (let i = 0; i < 10; i++) {
    const name = `hooked-${i}`;
    let swapped: (uid: string) => void = () => {};
    hostileUids.set(name, new Promise((r) => (swapped = r)));
    cluster.api.beforeServe.push(async (req) => {
      if (req.method !== 'PUT' || req.name !== name || req.subresource !== 'approval') return false;
      swapped(await replace(name));
      return true;
    });
    await create(name, benign);
  }
  await assertNoneApproved(hostileUids);
});

test('a race loop: create, then delete and re-create with O=system:masters a few milliseconds later', async () => {
  // As the loop: the replacement lands anywhere between the controller's read and its writes.
  const hostileUids = new Map<string, Promise<string>>();
  for (let i = 0; i < 60; i++) {
    const name = `race-${i}`;
    await create(name, benign);
    const delayMs = (i * 7) % 60;
    hostileUids.set(
      name,
      new Promise((r) => setTimeout(r, delayMs)).then(() => replace(name)),
    );
    if (i % 6 === 5) await hostileUids.get(name);
  }
  await assertNoneApproved(hostileUids);
});

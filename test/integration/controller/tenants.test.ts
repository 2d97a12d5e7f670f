// One CA per tenant (seed 004, Istio with cert-manager issuers): the controller serves two signers, each with its
// own CA (--signer-ca); every workload certificate verifies against its tenant's CA and not against the other's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { createCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { DEFAULT_POLICY } from '../../../src/services/policy/index.js';
import { adminContext, type ControllerEnv, startControllerEnv, waitFor } from './env.js';

const FOO = 'clusterissuers.cert-manager.io/foo';
const BAR = 'clusterissuers.cert-manager.io/bar';
let env: ControllerEnv;
let dir: string;
let controller: Controller | undefined;

async function opensslVerify(caFile: string, certFile: string): Promise<boolean> {
  try {
    await promisify(execFile)('openssl', ['verify', '-CAfile', caFile, certFile]);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certdesk-controller-tenants-'));
  env = await startControllerEnv({
    scenarios: ['istio-signers'],
    scenarioOptions: { 'istio-signers': { deleteAfterMs: 120_000 } },
  });
});

after(async () => {
  await controller?.stop();
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('controller: one CA per signer', () => {
  it('signs each tenant’s workloads with that tenant’s CA only', async () => {
    const foo = await createCa({ cn: 'tenant foo CA' });
    const bar = await createCa({ cn: 'tenant bar CA' });
    controller = createController({
      context: adminContext(env),
      signers: [FOO, BAR],
      policy: DEFAULT_POLICY,
      approve: true,
      sign: true,
      cas: new Map([
        [FOO, { ca: await loadCaFromPem(foo.certPem, foo.keyPem) }],
        [BAR, { ca: await loadCaFromPem(bar.certPem, bar.keyPem) }],
      ]),
      leaderElection: false,
      log: () => {},
    });
    await controller.start();
    const issued = await waitFor('the four workload certificates', async () => {
      const items = (
        await env.certs.listCertificateSigningRequest({ labelSelector: 'certdesk.dev/scenario=istio-signers' })
      ).items;
      return items.length === 4 && items.every((c) => c.status?.certificate) ? items : undefined;
    });
    const caFiles: Record<string, string> = { [FOO]: join(dir, 'foo.pem'), [BAR]: join(dir, 'bar.pem') };
    writeFileSync(join(dir, 'foo.pem'), foo.certPem);
    writeFileSync(join(dir, 'bar.pem'), bar.certPem);
    for (const [i, csr] of issued.entries()) {
      const signer = csr.spec.signerName;
      const other = signer === FOO ? BAR : FOO;
      const certFile = join(dir, `cert-${i}.pem`);
      writeFileSync(certFile, Buffer.from(csr.status?.certificate ?? '', 'base64'));
      assert.equal(
        await opensslVerify(caFiles[signer] ?? '', certFile),
        true,
        `${csr.metadata?.name} verifies with ${signer}'s CA`,
      );
      assert.equal(
        await opensslVerify(caFiles[other] ?? '', certFile),
        false,
        `${csr.metadata?.name} must not verify with ${other}'s CA`,
      );
    }
  });
});

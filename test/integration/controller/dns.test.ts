// The controller with the policy's opt-in DNS check (dns-resolution) against a tiny DNS server on 127.0.0.1: it
// decides on the answer, never on `resolving…` — the request whose name resolves to its own IP SAN is approved, the
// one whose name resolves elsewhere is denied (dns.level fail), saying why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Controller, createController } from '../../../src/services/controller/controller.js';
import { policyFromObject } from '../../../src/services/policy/index.js';
import { makeCsr } from '../../../src/services/sandbox/scenarios/hostile-requests.js';
import { type DnsServer, startDnsServer } from '../../helpers/dns-server.js';
import { adminContext, conditionTypes, type ControllerEnv, startControllerEnv, waitFor } from './env.js';

const SIGNER = 'example.com/serving';
let env: ControllerEnv;
let dns: DnsServer;
let controller: Controller | undefined;
const logs: string[] = [];

before(async () => {
  dns = await startDnsServer({
    'good.example.test': { a: ['192.0.2.10'] },
    'evil.example.test': { a: ['198.51.100.9'] },
  });
  env = await startControllerEnv({});
});
after(async () => {
  await controller?.stop();
  await env?.stop();
  await dns?.close();
});

describe('controller: the opt-in DNS check', () => {
  it('approves a name resolving to its own address and denies one resolving elsewhere', async () => {
    for (const [name, host] of [
      ['dns-good', 'good.example.test'],
      ['dns-evil', 'evil.example.test'],
    ] as const)
      await env.certs.createCertificateSigningRequest({
        body: {
          metadata: { name },
          spec: {
            request: await makeCsr({ CN: [host] }, { dns: [host], ips: ['192.0.2.10'] }),
            signerName: SIGNER,
            usages: ['digital signature', 'server auth'],
          },
        },
      });
    controller = createController({
      context: adminContext(env),
      signers: [SIGNER],
      policy: policyFromObject({ dns: { enabled: true, level: 'fail', servers: [dns.address] } }),
      approve: true,
      sign: false,
      log: (line) => logs.push(line),
    });
    await controller.start();
    const state = async (name: string) => conditionTypes(await env.certs.readCertificateSigningRequest({ name }));
    await waitFor('dns-good approved', async () => (await state('dns-good')).includes('Approved')).catch((err) => {
      throw new Error(`${String(err)}\n${logs.join('\n')}`);
    });
    await waitFor('dns-evil denied', async () => (await state('dns-evil')).includes('Denied'));
    const evil = await env.certs.readCertificateSigningRequest({ name: 'dns-evil' });
    assert.match(
      evil.status?.conditions?.[0]?.message ?? '',
      /evil\.example\.test → 198\.51\.100\.9 resolves outside the request's IP addresses/,
    );
    assert.ok(dns.asked.includes('good.example.test/1'), 'the controller asked the configured server');
    assert.ok(!logs.some((l) => /Resolving/.test(l)), 'no decision on resolving…');
  });
});

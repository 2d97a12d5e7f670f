// Calico's certificate management (seed 000) and hostile requests with the built binary: pods held in Init are
// linked to their CSRs, `sign --approve` issues what the findings allow and refuses the rest, `health` and
// `calico snippet` report, and hostile text never reaches the terminal raw.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { trustInInstallation } from '../../helpers/sandbox.js';
import { type E2eEnv, ok, startE2e } from './helpers.js';

const SIGNER = 'example.com/calico';
let e: E2eEnv;

before(async () => {
  e = await startE2e({
    scenarios: ['calico-rollout', 'hostile'],
    builtinSigners: false,
    // Reads CSRs only: its view of pods in Init is "could not be read", never "none".
    users: [
      {
        name: 'csrreader',
        rules: [
          {
            apiGroups: ['certificates.k8s.io'],
            resources: ['certificatesigningrequests'],
            verbs: ['get', 'list', 'watch'],
          },
        ],
      },
    ],
  });
  ok(await e.run(['ca', 'init', '--signer', SIGNER, '--key-algorithm', 'RSAWithSize2048']));
});
after(async () => {
  await e?.stop();
});

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
  }
  throw new Error('condition not met before the deadline');
}

test('pods in Init → sign --approve → health Available; hostile requests refused', async () => {
  let pods = '';
  await until(async () => {
    pods = ok(await e.run(['get', 'pods-in-init'])).stdout;
    return /calico-node/.test(pods);
  });
  assert.match(pods, /calico-system\s+calico-node-\S+\s+Init:0\/1\s+\S+\s+calico-system:calico-node-\S+\s+Pending/);
  const forbidden = await e.run(['get', 'pods-in-init', '-A', '--context', 'east-csrreader']);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /^error: forbidden in context east-csrreader: .* cannot list resource "pods"/);
  assert.doesNotMatch(forbidden.stderr, /No pods in Init/);
  const blind = await e.run(['health', '--context', 'east-csrreader']);
  assert.match(blind.stdout, /Pods in Init: could not be read: .*forbidden/i);

  // Every requester must have submitted before signing: 3 nodes + typha (calico-rollout's default), and the six
  // hostile requests aimed at this signer. Listing earlier would leave late CSRs unsigned and the rollout stuck.
  let calicoOwn: string[] = [];
  let hostile: string[] = [];
  await until(async () => {
    const names = ok(await e.run(['get', 'csr', '--signer', SIGNER, '--pending', '-o', 'name']))
      .stdout.trim()
      .split('\n')
      .map((l) => l.replace(/^.*\//, ''));
    calicoOwn = names.filter((n) => n.startsWith('calico-system:'));
    hostile = names.filter((n) => n.startsWith('hostile-'));
    return calicoOwn.length >= 4 && hostile.length >= 6;
  });

  const first = calicoOwn.find((n) => n.includes('calico-node')) ?? '';
  const described = ok(await e.run(['describe', 'csr', first])).stdout;
  assert.match(described, /Waiting Pod:\s+calico-system\/calico-node-\S+ \(Init:0\/1\)/);
  assert.match(described, /Requesting User:\s+system:serviceaccount:calico-system:calico-node/);

  // The Installation trusts another CA than the one just made: nothing is approved or signed with it, since the
  // peers would refuse its certificates (ca-untrusted); the person puts the CA in the Installation, as seed 000 says.
  const untrusted = await e.run(['sign', '--approve', calicoOwn[0]!]);
  assert.equal(untrusted.code, 1);
  assert.match(
    untrusted.stderr,
    /ca-untrusted \(This CA \(CN=example\.com\/calico CA, SHA-256 .*the caCert of Installation default trusts CN=/,
  );
  assert.match(ok(await e.run(['get', 'csr', calicoOwn[0]!])).stdout, /Pending\n$/);
  // `health` says so before anyone signs: the signer's row names the CA held here as not trusted, and why.
  const warned = ok(await e.run(['health'])).stdout;
  assert.match(warned, /LOCAL-CA\n\s+example\.com\/calico\s+\d+\s+\d+\s+(\S+ \(\S+\)\s+)?ok\s+NOT TRUSTED\n/);
  assert.match(warned, /example\.com\/calico: This CA \(CN=example\.com\/calico CA, SHA-256 .* trusts CN=/);
  await trustInInstallation(
    e.sandbox.cluster('east'),
    readFileSync(join(e.env.CERTDESK_CONFIG_DIR!, 'cas', 'example.com_calico', 'ca.pem'), 'utf8'),
  );
  const trusted = JSON.parse(ok(await e.run(['health', '-o', 'json'])).stdout) as {
    signerBacklog: { signerName: string; localCa?: { trust: string } }[];
  }[];
  assert.deepEqual(trusted[0]?.signerBacklog.find((s) => s.signerName === SIGNER)?.localCa, { trust: 'trusted' });

  const signed = await e.run(['sign', '--approve', ...calicoOwn, ...hostile]);
  assert.equal(signed.code, 1);
  for (const n of calicoOwn)
    assert.match(signed.stdout, new RegExp(`${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} signed`));
  for (const n of hostile) assert.match(signed.stderr, new RegExp(`CSR "${n}" was not approved`));
  assert.ok(!signed.stderr.includes('\x1b') && !signed.stdout.includes('\x1b'));

  await until(async () => /calico\s+True\s+False\s+False/.test(ok(await e.run(['health'])).stdout));
  const health = JSON.parse(ok(await e.run(['health', '-o', 'json'])).stdout) as { podsInInit: unknown[] }[];
  assert.equal(health[0]?.podsInInit.filter((p) => JSON.stringify(p).includes('calico-node')).length, 0);

  const table = ok(await e.run(['get', 'csr'])).stdout;
  assert.ok(!table.includes('\x1b'), 'table output is terminal-safe');
  const describe = ok(await e.run(['describe', 'csr', 'hostile-escape-sequences'])).stdout;
  assert.ok(!describe.includes('\x1b') && !describe.includes('\x07'));
  assert.match(describe, /fail\s+invisible-characters/);
  // The same findings as the gate: Calico's pods say whose signer it is, whichever namespace asked.
  assert.match(describe, /fail\s+requestor-subject:\s+"\S+" asks Calico's signer example\.com\/calico/);
  const json = JSON.parse(ok(await e.run(['get', 'csr', 'hostile-escape-sequences', '-o', 'json'])).stdout);
  assert.equal(json.kind, 'CertificateSigningRequest');

  const snippet = parse(ok(await e.run(['calico', 'snippet', '--signer', SIGNER])).stdout);
  assert.equal(snippet.spec.certificateManagement.signerName, SIGNER);
  assert.equal(snippet.spec.certificateManagement.keyAlgorithm, 'RSAWithSize2048');
  assert.match(snippet.spec.certificateManagement.caCert, /BEGIN CERTIFICATE/);
});

// The renewal radar against the sandbox over HTTPS: the `certificates` scenario's objects are found with their
// problems, an issued CSR is verified against its signer's CA from the local registry, a user RBAC forbids Secrets
// gets the rest with Secrets named once, and an unreachable context fails alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { putCa } from '../../../src/services/config/ca-registry.js';
import { CERT_SOURCES, problemsAt, scanCertificates } from '../../../src/services/certs/index.js';
import { loadContexts } from '../../../src/services/kube/index.js';
import { makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';
import { clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

const DAY = 86_400_000;
const all = new Set(CERT_SOURCES);

describe('certs: the radar over HTTPS', () => {
  let sb: Sandbox;
  let dir: string;
  before(async () => {
    sb = await startTestSandbox(undefined, { clusters: ['east'], scenarios: ['certificates'] });
    dir = mkdtempSync(join(tmpdir(), 'radar-it-'));
  });
  after(async () => {
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const contexts = (...names: string[]) => loadContexts({ kubeconfig: sb.kubeconfigPath, contexts: names });

  it('finds each source of the scenario with its problems', async () => {
    const { records, skipped, failures } = await scanCertificates(contexts('east'), {
      sources: all,
      registry: { cwd: dir },
    });
    assert.deepEqual(skipped, []);
    assert.deepEqual(failures, []);
    const now = Date.now();
    const problem = (kind: string, name: string, field = 'tls.crt') =>
      records.find((r) => r.location.name === name && r.location.field === field)
        ? problemsAt(records.find((r) => r.location.name === name && r.location.field === field)!, now, 30 * DAY).map(
            (p) => p.kind,
          )
        : `missing ${kind} ${name}`;
    assert.deepEqual(problem('ok', 'web-tls'), []);
    assert.deepEqual(problem('expiring', 'api-tls'), ['expiring']);
    assert.deepEqual(problem('expired', 'legacy-tls'), ['expired']);
    assert.deepEqual(problem('future', 'future-tls'), ['not-yet-valid']);
    assert.deepEqual(problem('foreign', 'foreign-tls'), ['chain-unverified']);
    assert.deepEqual(problem('ca first', 'outlives-ca-tls'), ['ca-expires-first']);
    assert.deepEqual(problem('key', 'mismatch-tls'), ['key-mismatch']);
    assert.deepEqual(problem('garbage', 'garbage-tls'), ['unparseable']);
    assert.deepEqual(
      problem('webhook', 'certs-demo-policy', 'webhooks[policy.certs-demo.example.com].clientConfig.caBundle'),
      ['expiring'],
    );
    assert.deepEqual(problem('apiservice', 'v1beta1.metrics.certs-demo.example.com', 'spec.caBundle'), ['expired']);
    assert.deepEqual(
      problem('crd', 'widgets.certs-demo.example.com', 'spec.conversion.webhook.clientConfig.caBundle'),
      [],
    );
    const root = records.filter((r) => r.location.name === 'kube-root-ca.crt');
    assert.equal(root.length, 1, 'kube-root-ca.crt is one record');
    assert.equal(root[0]?.copies, 3);
    assert.ok(records.some((r) => r.location.kind === 'Kubeconfig' && r.cert?.commonName === 'admin'));
    // Soonest expiry first, unparseable before everything.
    const times = records.map((r) => r.cert?.notAfter.getTime() ?? Number.NEGATIVE_INFINITY);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  it('verifies an issued CSR against the local CA of its signer', async () => {
    const now = Date.now();
    const ca = await makeCert({ cn: 'local radar CA', ...window(now, -1, 400) });
    const other = await makeCert({ cn: 'local radar CA', ...window(now, -1, 400) });
    const certPath = join(dir, 'ca.crt');
    writeFileSync(certPath, ca.certPem);
    putCa(
      {
        signerName: 'example.com/radar',
        certPath,
        keyPath: join(dir, 'ca.key'),
        source: 'import',
        addedAt: new Date().toISOString(),
      },
      { cwd: dir },
    );
    const admin = clients(sb.cluster('east').kubeConfigFor('admin', ['system:masters']));
    for (const [name, issuer] of [
      ['radar-good', ca],
      ['radar-foreign', other],
    ] as const) {
      const { pem } = makeCsrPem({ commonName: name });
      await admin.certs.createCertificateSigningRequest({ body: csrObject(name, pem, 'example.com/radar') });
      const leaf = await makeCert({ cn: name, issuer, ...window(now, -1, 100) });
      const csr = await admin.certs.readCertificateSigningRequest({ name });
      csr.status = {
        conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }],
      };
      await admin.certs.replaceCertificateSigningRequestApproval({ name, body: csr });
      const approved = await admin.certs.readCertificateSigningRequest({ name });
      approved.status = { ...approved.status, certificate: Buffer.from(leaf.certPem).toString('base64') };
      await admin.certs.replaceCertificateSigningRequestStatus({ name, body: approved });
    }
    const { records } = await scanCertificates(contexts('east'), {
      sources: new Set(['csr', 'local'] as const),
      registry: { cwd: dir },
    });
    const kinds = (name: string) =>
      problemsAt(records.find((r) => r.location.name === name)!, now, DAY).map((p) => p.kind);
    assert.deepEqual(kinds('radar-good'), []);
    assert.deepEqual(kinds('radar-foreign'), ['chain-unverified']);
    assert.match(
      problemsAt(records.find((r) => r.location.name === 'radar-foreign')!, now, DAY)[0]!.message,
      /the local CA for example\.com\/radar/,
    );
    assert.ok(records.some((r) => r.location.kind === 'CaRegistry' && r.location.name === 'example.com/radar'));
  });

  it('RBAC that forbids Secrets: named once, everything else listed', async () => {
    const { records, skipped, failures } = await scanCertificates(contexts('east-viewer'), {
      sources: new Set(['secret', 'configmap'] as const),
      registry: { cwd: dir },
    });
    assert.deepEqual(failures, []);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.resource, 'secrets');
    assert.equal(skipped[0]?.forbidden, true);
    assert.match(skipped[0]?.message ?? '', /cannot list resource "secrets"/);
    assert.ok(records.some((r) => r.location.name === 'certs-demo-ca'));
    assert.ok(!records.some((r) => r.location.kind === 'Secret'));
  });

  it('a namespace limits namespaced sources; an unreachable context fails alone', async () => {
    const [east] = contexts('east');
    const dead = { ...east!, name: 'dead', server: 'https://127.0.0.1:1' };
    const { records, failures } = await scanCertificates([east!, dead], {
      sources: new Set(['secret', 'configmap'] as const),
      namespace: 'default',
      registry: { cwd: dir },
    });
    assert.deepEqual(
      failures.map((f) => [f.context, f.error.kind]),
      [['dead', 'unreachable']],
    );
    assert.ok(records.length > 0);
    assert.ok(records.every((r) => r.location.namespace === 'default'));
  });
});

// startSandbox() itself: several clusters, ports, the kubeconfig (contexts, users, 0600), identities, the scale
// preload, option errors, and the `certdesk sandbox` command serving until SIGINT.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CertificatesV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startSandbox } from '../../../src/services/sandbox/index.js';
import { apiError, startTestSandbox, waitFor } from '../../helpers/sandbox.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('startSandbox', () => {
  it('writes a kubeconfig with a context per cluster, admin and viewer, mode 0600', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'certdesk-sbx-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'kubeconfig');
    const sb = await startTestSandbox(t, { clusters: ['east', 'west'], kubeconfigOut: out });
    assert.equal(sb.kubeconfigPath, out);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const doc = parse(readFileSync(out, 'utf8')) as { 'current-context': string; contexts: { name: string }[] };
    assert.equal(doc['current-context'], 'east');
    assert.deepEqual(doc.contexts.map((c) => c.name).sort(), ['east', 'east-viewer', 'west', 'west-viewer']);
    const kc = new KubeConfig();
    kc.loadFromFile(out);
    for (const [context, user, cluster] of [
      ['east', 'admin', 'east'],
      ['west-viewer', 'viewer', 'west'],
    ] as const) {
      kc.setCurrentContext(context);
      const certs = kc.makeApiClient(CertificatesV1Api);
      await certs.listCertificateSigningRequest();
      assert.equal(kc.getCurrentCluster()?.server, sb.cluster(cluster).server);
      const review = await kc.makeApiClient(CoreV1Api).listNamespace();
      assert.ok(
        review.items.some((n) => n.metadata?.name === 'kube-system'),
        user,
      );
    }
    kc.setCurrentContext('east-viewer');
    const denied = await apiError(kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'x' } } }));
    assert.equal(denied.code, 403);
    // kubeconfigPathFor writes a file for any identity
    const janePath = sb.cluster('west').kubeconfigPathFor('jane', ['devs']);
    assert.equal(statSync(janePath).mode & 0o777, 0o600);
    const jane = new KubeConfig();
    jane.loadFromFile(janePath);
    assert.equal(jane.getCurrentUser()?.name, 'west-jane');
    // clusters have separate CAs: east's admin certificate is not accepted by west
    const crossed = new KubeConfig();
    const eastAdmin = sb.cluster('east').clientCert('admin', ['system:masters']);
    crossed.loadFromOptions({
      clusters: [
        {
          name: 'w',
          server: sb.cluster('west').server,
          caData: Buffer.from(sb.cluster('west').caCertPem).toString('base64'),
        },
      ],
      users: [
        {
          name: 'a',
          certData: Buffer.from(eastAdmin.certPem).toString('base64'),
          keyData: Buffer.from(eastAdmin.keyPem).toString('base64'),
        },
      ],
      contexts: [{ name: 'w', cluster: 'w', user: 'a' }],
      currentContext: 'w',
    });
    const unauth = await apiError(crossed.makeApiClient(CoreV1Api).listNamespace());
    assert.equal(unauth.code, 401);
  });

  it('listens on port+i when a port is given, and reports a busy port in one sentence', async (t) => {
    const port = await freePort();
    const sb = await startTestSandbox(t, { clusters: ['a', 'b'], port });
    assert.deepEqual(
      sb.clusters.map((c) => c.port),
      [port, port + 1],
    );
    await assert.rejects(
      startSandbox({ port, builtinSigners: false }),
      /Port \d+ is already in use; choose another --port or omit it\./,
    );
  });

  it('refuses unknown scenarios and bad cluster names with what to do', async () => {
    await assert.rejects(startSandbox({ scenarios: ['nope'] }), /Unknown scenario "nope"; choose one of: .*scale/);
    await assert.rejects(startSandbox({ clusters: ['East!'] }), /Cluster name "East!" is not valid/);
  });

  it('preloads the scale scenario straight into the store', async (t) => {
    const sb = await startTestSandbox(t, {
      scenarios: ['scale'],
      scenarioOptions: { scale: { csrs: 300, pods: 120 } },
    });
    const kc = sb.cluster('east').kubeConfigFor('admin', ['system:masters']);
    const csrs = await kc.makeApiClient(CertificatesV1Api).listCertificateSigningRequest();
    assert.equal(csrs.items.length, 300);
    const pods = await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' });
    assert.equal(pods.items.length, 90);
    const approved = csrs.items.filter((c) => c.status?.conditions?.some((x) => x.type === 'Approved'));
    assert.ok(approved.length > 0);
  });
});

describe('certdesk sandbox', () => {
  it('prints where it is, serves, and stops cleanly on SIGINT', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'certdesk-sbx-cmd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'kc');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'sandbox',
        '--clusters',
        'east,west',
        '--kubeconfig-out',
        out,
        '--no-builtin-signers',
      ],
      {
        cwd: join(import.meta.dirname, '..', '..', '..'),
      },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.after(() => child.kill('SIGKILL'));
    await waitFor(() => stdout.includes('Press Ctrl-C to stop.'), 'the sandbox banner', 30_000);
    assert.match(stdout, /east\s+https:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, new RegExp(`kubeconfig: ${out}`));
    const kc = new KubeConfig();
    kc.loadFromFile(out);
    kc.setCurrentContext('west');
    await kc.makeApiClient(CoreV1Api).listNamespace();
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.ok(existsSync(out), 'an explicit --kubeconfig-out is kept');
  });
});

// The PodCertificateRequests view in a real terminal (tmux) with the built binary, against a sandbox running the
// `pod-certificates` scenario: `p` opens it, Enter inspects, `s` issues with the local CA registered in the test's
// config dir, `x` denies with a reason, `f` marks Failed; each outcome is then read back through the API (the
// conditions, the chain and its times), not only from the screen.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { caCertificatePem, initCa } from '../../../src/services/config/ca-registry.js';
import type { WirePcr } from '../../../src/services/kube/pod-certificates.js';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import { type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const SIGNER = 'example.com/pod-identity';
const ADMIN = { name: 'admin', groups: ['system:masters'] };
const PCRS = '/apis/certificates.k8s.io/v1/namespaces/workloads/podcertificaterequests';

describe('tui e2e: PodCertificateRequests', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let east: SandboxCluster;
  let term: TmuxTerminal;
  let dir: string;
  let caPem: string;

  /** The PCRs of a pod, through the API. */
  async function pcrsOf(pod: string): Promise<WirePcr[]> {
    const r = await east.requestAs(ADMIN, 'GET', `${PCRS}?fieldSelector=spec.podName%3D${pod}`);
    return (JSON.parse(r.body) as { items: WirePcr[] }).items;
  }
  const condition = (pcr: WirePcr | undefined, type: string) =>
    pcr?.status?.conditions?.find((c) => c.type === type && c.status === 'True');

  /** Moves the PCR view's cursor (▶) onto the row of `pod`'s PCR: as many j or k as the screen says. */
  async function select(pod: string): Promise<void> {
    const rows = (s: string) => s.split('\n').filter((l) => /^│[▶ ] east /.test(l));
    const onPod = (l: string | undefined) => new RegExp(`workloads/${pod}-\\S+ .* ${pod} ←`).test(l ?? '');
    const selected = (s: string) => onPod(rows(s).find((l) => l.startsWith('│▶')));
    // Rows move while the list re-sorts after a write: count again until the cursor lands.
    for (let attempt = 0; attempt < 5; attempt++) {
      const screen = await term.waitFor((s) => rows(s).some((l) => onPod(l)), `the PCR of ${pod} listed`);
      const delta = rows(screen).findIndex((l) => onPod(l)) - rows(screen).findIndex((l) => l.startsWith('│▶'));
      term.keysAtOnce(...Array.from({ length: Math.abs(delta) }, () => (delta > 0 ? 'j' : 'k')));
      if (await term.waitFor(selected, `the PCR of ${pod} selected`, 3000).catch(() => undefined)) return;
    }
    await term.waitFor(selected, `the PCR of ${pod} selected`);
  }

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-pcr-'));
    const configDir = join(dir, 'config');
    await initCa({ signerName: SIGNER, cwd: configDir });
    caPem = await caCertificatePem(SIGNER, { cwd: configDir });
    sandbox = await startTestSandbox(undefined, {
      clusters: ['east'],
      scenarios: ['pod-certificates'],
      // No re-request during the test: a Denied or Failed PCR stays the pod's newest.
      scenarioOptions: { 'pod-certificates': { pods: 5, backoffMs: 600_000 } },
    });
    east = sandbox.cluster('east');
    for (const pod of ['web-0', 'api-1', 'web-2', 'api-3', 'web-4']) {
      await waitFor(async () => (await pcrsOf(pod)).length === 1, `the PCR of ${pod}`, 30_000);
    }
    term = new TmuxTerminal(140, 40);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east'], { dir });
    await term.waitFor((s) => /east ● live/.test(s), 'east live', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('p lists the PCRs, Pending, each with the pod waiting on it; Enter inspects one', async () => {
    term.type('p');
    const screen = await term.waitFor(
      (s) => /PodCertificateRequests .*pending first/.test(s) && (s.match(/← ContainerCreating/g) ?? []).length === 5,
      'five PCRs, their pods in ContainerCreating',
      30_000,
    );
    assert.match(screen, /east +workloads\/web-0-\S+ +example\S*pod-identity +web-0 ← ContainerCreating .*Pending/);
    await select('web-0');
    term.keys('Enter');
    const inspect = (await term.waitForText(/PCRs › workloads\/web-0-\S+ · east · Pending/)).replace(/\s+/g, ' ');
    assert.match(inspect, /signer example\.com\/pod-identity/);
    assert.match(inspect, /✓ proof of possession/);
    assert.match(inspect, /the pod is ContainerCreating on \S+ as \S+/);
  });

  it('s (from inspect) issues web-0 with the local CA: the chain is on the PCR, the pod runs', async () => {
    term.keys('s');
    await term.waitForText(/Issue web-0-\S+\?/);
    await term.waitForText('CN=example.com/pod-identity CA');
    const dialog = await term.waitFor((s) => /⏎ confirm|y go ahead/.test(s), 'the confirmation prompt');
    if (dialog.includes('y go ahead')) term.type('y');
    else term.keys('Enter');
    await term.waitForText(/Issued PodCertificateRequest workloads\/web-0-\S+\./, 30_000);
    const [pcr] = await pcrsOf('web-0');
    assert.ok(condition(pcr, 'Issued'), JSON.stringify(pcr?.status));
    const leaf = new X509Certificate(pcr!.status!.certificateChain!);
    assert.ok(leaf.verify(new X509Certificate(caPem).publicKey), 'the leaf is signed by the registered CA');
    assert.equal(new Date(leaf.validTo).getTime(), Date.parse(pcr!.status!.notAfter!));
    assert.ok(Date.parse(pcr!.status!.beginRefreshAt!) < Date.parse(pcr!.status!.notAfter!));
    await waitFor(
      async () => {
        const r = await east.requestAs(ADMIN, 'GET', '/api/v1/namespaces/workloads/pods/web-0');
        return (JSON.parse(r.body) as { status?: { phase?: string } }).status?.phase === 'Running';
      },
      'web-0 Running',
      30_000,
    );
    term.keys('Escape');
    await term.waitForText(/workloads\/web-0-\S+ .*web-0 \(Running\) .*Issued/, 30_000);
  });

  it('x denies api-1 with the reason and message typed', async () => {
    await select('api-1');
    term.keys('x');
    await term.waitForText(/Deny api-1-\S+\?/);
    term.type('NotOurPod');
    term.keys('Tab');
    term.type('not deployed by us');
    term.keys('Enter');
    await term.waitForText(/Denied PodCertificateRequest workloads\/api-1-\S+\./, 30_000);
    const denied = condition((await pcrsOf('api-1'))[0], 'Denied');
    assert.equal(denied?.reason, 'NotOurPod');
    assert.equal(denied?.message, 'not deployed by us');
    await term.waitForText(/workloads\/api-1-\S+ .*api-1 \(ContainerCreating\) .*Denied/);
  });

  it('f marks web-2 Failed (empty reason: CertdeskFailed)', async () => {
    await select('web-2');
    term.keys('f');
    await term.waitForText(/Mark web-2-\S+ Failed\?/);
    term.keys('Enter');
    await term.waitForText(/Marked Failed PodCertificateRequest workloads\/web-2-\S+\./, 30_000);
    const failed = condition((await pcrsOf('web-2'))[0], 'Failed');
    assert.equal(failed?.reason, 'CertdeskFailed');
    await term.waitForText(/workloads\/web-2-\S+ .*Failed/);
  });

  it('Space marks api-3 and web-4; x denies both, each its own object', async () => {
    await select('api-3');
    term.keys('g');
    await term.waitFor((s) => /^│▶ east workloads\/(api-3|web-4)-/m.test(s), 'the first Pending row selected');
    term.keysAtOnce('Space', 'Space');
    await term.waitForText('2 selected');
    term.keys('x');
    await term.waitForText('Deny 2 PCRs?');
    term.type('NotOurPods');
    term.keys('Enter');
    await term.waitForText('Denied 2 of 2.', 30_000);
    for (const pod of ['api-3', 'web-4']) {
      const [pcr] = await pcrsOf(pod);
      assert.equal(condition(pcr, 'Denied')?.reason, 'NotOurPods', pod);
    }
  });

  it('E publishes the CA registered for the signer as its ClusterTrustBundle', async () => {
    term.keys('E');
    await term.waitForText('Publish the CA of example.com/pod-identity as its ClusterTrustBundle in east?');
    await term.waitForText('CA CN=example.com/pod-identity CA');
    term.keys('Enter');
    await term.waitForText('ClusterTrustBundle example.com:pod-identity:live created in east: 1 CA(s).', 30_000);
    const r = await east.requestAs(
      ADMIN,
      'GET',
      '/apis/certificates.k8s.io/v1/clustertrustbundles/example.com:pod-identity:live',
    );
    const bundle = JSON.parse(r.body) as { spec?: { signerName?: string; trustBundle?: string } };
    assert.equal(bundle.spec?.signerName, SIGNER);
    assert.equal(bundle.spec?.trustBundle?.trim(), caPem.trim());
  });

  it('wrote each verb to the audit log, intent before outcome', () => {
    const entries = readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; outcome?: string; kind?: string; phase?: string; id?: string });
    for (const [action, times] of [
      ['sign', 1],
      ['deny', 3],
      ['mark-failed', 1],
    ] as const) {
      const mine = entries.filter((e) => e.kind === 'PodCertificateRequest' && e.action === action);
      const ids = [...new Set(mine.map((e) => e.id))];
      assert.equal(ids.length, times, `${action}: ${JSON.stringify(mine)}`);
      for (const id of ids) {
        const lines = mine.filter((e) => e.id === id);
        assert.deepEqual(
          lines.map((e) => [e.phase, e.outcome]),
          [
            ['intent', undefined],
            ['outcome', 'ok'],
          ],
          `${action}: ${JSON.stringify(lines)}`,
        );
      }
    }
    assert.ok(entries.some((e) => e.action === 'export-trust-bundle' && e.outcome === 'ok'));
  });
});

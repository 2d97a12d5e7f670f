// The Certificates view in a real terminal (tmux) with the built binary, against a sandbox running the
// `pod-certificates` scenario: a PodCertificateRequest issued by the test (its chain: leaf, then the CA) and the
// signer's ClusterTrustBundle are rows of their own; the PCR's chain verifies against the trust bundle; `c` jumps
// from the certificate to the PCR that renews it, `p` names the pod it was issued for.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issuedStatus, pcrCondition, podIdentityCa } from '../../helpers/pcr.js';
import { type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const ADMIN = { name: 'admin', groups: ['system:masters'] };
const SIGNER = 'example.com/pod-identity';
const PCRS = '/apis/certificates.k8s.io/v1/namespaces/workloads/podcertificaterequests';
const CTB = '/apis/certificates.k8s.io/v1/clustertrustbundles';
const BUNDLE = 'example.com:pod-identity:e2e';

interface Pcr {
  metadata: { name: string };
  spec: { podName: string; stubPKCS10Request: string };
}

describe('tui e2e: Certificates of PodCertificateRequests and ClusterTrustBundles', () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;
  let dir: string;
  let pcrName: string;

  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-certs-pcr-'));
    sandbox = await startTestSandbox(undefined, {
      clusters: ['east'],
      scenarios: ['pod-certificates'],
      scenarioOptions: { 'pod-certificates': { pods: 2 } },
    });
    const east = sandbox.cluster('east');
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await east.requestAs(ADMIN, method, path, body);
      assert.ok(r.code < 300, `${method} ${path}: ${r.code} ${r.body}`);
      return JSON.parse(r.body) as unknown;
    };
    // The kubelet stand-in asks for web-0's certificate; the test signs it, as a signer would.
    const pcr = await waitFor(async () => {
      const list = (await call('GET', PCRS)) as { items: Pcr[] };
      return list.items.find((p) => p.spec.podName === 'web-0');
    }, 'web-0 has a PodCertificateRequest');
    pcrName = pcr.metadata.name;
    const ca = await podIdentityCa('pod-identity e2e CA');
    await call('POST', CTB, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'ClusterTrustBundle',
      metadata: { name: BUNDLE },
      spec: { signerName: SIGNER, trustBundle: ca.certPem },
    });
    const status = await issuedStatus(ca, pcr.spec.stubPKCS10Request, { signerName: SIGNER, seconds: 86_400 });
    await call('PUT', `${PCRS}/${pcrName}/status`, {
      ...pcr,
      status: { ...status, conditions: [pcrCondition('Issued')] },
    });

    term = new TmuxTerminal(160, 40);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east'], { dir });
    await term.waitFor((s) => /east ● live/.test(s), 'east live', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the PCR’s certificate and the trust bundle; inspect shows the chain verified against the bundle', async () => {
    term.type('C');
    const screen = await term.waitFor(
      // Chains are verified after decoding (the rows on screen first): until then a row says `checking`.
      (s) =>
        s.includes(`ClusterTrustBundle ${BUNDLE}`) &&
        s.split('\n').some((l) => l.includes(`PodCertificateRequest workloads/${pcrName}`) && !/checking/.test(l)),
      'the PCR, its chain checked, and the trust bundle in the list',
      30_000,
    );
    const pcrRow = screen.split('\n').find((l) => l.includes(`workloads/${pcrName}`)) ?? '';
    assert.match(pcrRow, /status\.certificateChain/);
    assert.match(pcrRow, /CN=|web-0|system:/);
    assert.doesNotMatch(pcrRow, /chain-unverified|checking/);
    const bundleRow = screen.split('\n').find((l) => l.includes(`ClusterTrustBundle ${BUNDLE}`)) ?? '';
    assert.match(bundleRow, /spec\.trustBundle .*pod-identity e2e CA/);

    term.type(`/${pcrName}`);
    term.keys('Enter');
    await term.waitFor((s) => s.includes(`filter ${pcrName}`) && !s.includes(BUNDLE), 'the filtered list');
    term.keys('Enter');
    const inspect = await term.waitForText(new RegExp(`↑ CN=pod-identity e2e CA .*ClusterTrustBundle ${BUNDLE}`));
    assert.match(inspect, new RegExp(`PodCertificateRequest workloads/${pcrName} for pod web-0`));
    assert.match(inspect, /Problems +✗ expires .*\(within 30d\)\n(?! +✗)/);
    assert.match(inspect, /c PCR/);
  });

  it('c jumps from the certificate to its PodCertificateRequest; p names the pod it was issued for', async () => {
    term.type('p');
    await term.waitForText(/Issued for pod workloads\/web-0 \(\w+\): its kubelet requests the next one/);
    term.type('c');
    const pcr = await term.waitFor(
      (s) => /PCRs › /.test(s) && s.includes(`workloads/${pcrName}`) && /Issued/.test(s),
      'the PCR inspected',
    );
    assert.match(pcr, /signer example\.com\/pod-identity/);
    assert.match(pcr, /pod workloads\/web-0/);
    assert.match(pcr, /↑ +CN=pod-identity e2e CA/);
    term.keys('Escape');
    await term.waitForText(/PodCertificateRequests .*pending first/);
    term.keys('Escape');
    await term.waitFor((s) => /CSRs · /.test(s), 'the main screen');
  });
});

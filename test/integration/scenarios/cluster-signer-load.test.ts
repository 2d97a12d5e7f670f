// The cluster's own signers under a backlog: thousands of approved kubernetes.io/* requests at start (the scale
// scenario) are worked through by a bounded pool, as kube-controller-manager's 5 workers per signer do. Unbounded, the
// signer opened a connection per request and the sandbox's own server reset them (ECONNRESET), which could kill
// `certdesk sandbox --scenario scale` at start.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CertificatesV1Api, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { BUILTIN_SIGNERS } from '../../../src/services/sandbox/cluster-signer.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { waitFor } from './helpers.js';

const approved = (c: V1CertificateSigningRequest) =>
  !!c.status?.conditions?.some((x) => x.type === 'Approved' && x.status === 'True');
const done = (c: V1CertificateSigningRequest) =>
  !!c.status?.certificate || !!c.status?.conditions?.some((x) => x.type === 'Failed' && x.status === 'True');

describe('cluster signer with a backlog of approved requests', () => {
  let sandbox: Sandbox;
  const lines: string[] = [];

  before(async () => {
    sandbox = await startSandbox({
      clusters: ['east'],
      scale: { csrs: 4000, pods: 0 },
      log: (line) => lines.push(line),
    });
  });
  after(async () => {
    await sandbox?.stop();
  });

  test('signs every approved built-in request with a bounded number of connections', async () => {
    const certs = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
    const backlog = (await certs.listCertificateSigningRequest()).items.filter(
      (c) => BUILTIN_SIGNERS.includes(c.spec.signerName) && approved(c),
    );
    assert.ok(backlog.length >= 1000, `the scale scenario approves many built-in requests (${backlog.length})`);
    await waitFor(
      'every approved built-in request issued or failed',
      async () => {
        const items = (await certs.listCertificateSigningRequest()).items;
        return items.filter((c) => BUILTIN_SIGNERS.includes(c.spec.signerName) && approved(c)).every(done);
      },
      120_000,
      2000,
    );
    // 3 signers × 5 workers, the signer's list and watch, and this test's client. Unbounded, 4,000 requests (1,200 to
    // sign) peaked at 32 connections with 163 resets; 10,000 at 61 with 995.
    const peak = sandbox.cluster('east').peakConnections;
    assert.ok(peak <= 3 * 5 + 4, `peak connections ${peak}`);
    assert.deepEqual(
      lines.filter((l) => /retrying|ECONNRESET/.test(l)),
      [],
    );
  });
});

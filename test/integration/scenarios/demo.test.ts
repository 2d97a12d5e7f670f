// startDemo: two clusters with the scenario split of DEMO_LAYOUT, demo CAs on disk (keys 0600) and registered in a
// demo-only CA registry, and everything gone after stop().
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { CertificatesV1Api, CoreV1Api } from '@kubernetes/client-node';
import { listCas, loadCaForSigner } from '../../../src/services/config/ca-registry.js';
import { issueCertificate } from '../../../src/services/pki/index.js';
import { DEMO_SIGNERS, describeDemo, startDemo } from '../../../src/services/sandbox/demo.js';
import { approve, openssl, waitFor } from './helpers.js';

test('startDemo serves east and west with their scenarios and signable demo CAs', async () => {
  const before = process.env.CERTDESK_CONFIG_DIR;
  const demo = await startDemo();
  try {
    assert.deepEqual(
      demo.sandbox.clusters.map((c) => c.name),
      ['east', 'west'],
    );
    assert.equal(process.env.CERTDESK_CONFIG_DIR, demo.configDir);
    assert.deepEqual(
      listCas({ cwd: demo.configDir })
        .map((e) => e.signerName)
        .sort(),
      [...DEMO_SIGNERS].sort(),
    );
    for (const ca of demo.signerCas) {
      assert.equal(statSync(ca.keyPath).mode & 0o777, 0o600, `${ca.keyPath} is 0600`);
      assert.match(
        openssl(['x509', '-in', '@c.pem', '-noout', '-ext', 'basicConstraints'], {
          'c.pem': readFileSync(ca.certPath, 'utf8'),
        }),
        /CA:TRUE/,
      );
    }

    const client = (name: string) => demo.sandbox.cluster(name).kubeConfigFor('admin', ['system:masters']);
    const eastCsrs = (await client('east').makeApiClient(CertificatesV1Api).listCertificateSigningRequest()).items;
    const westCsrs = (await client('west').makeApiClient(CertificatesV1Api).listCertificateSigningRequest()).items;
    const names = (list: typeof eastCsrs) => list.map((c) => c.metadata?.name ?? '');
    assert.equal(names(eastCsrs).filter((n) => n.startsWith('calico-system:calico-node-')).length, 3);
    assert.ok(names(eastCsrs).some((n) => n.startsWith('csr-workload-')));
    assert.ok(names(eastCsrs).some((n) => n.startsWith('hostile-')));
    assert.ok(!names(eastCsrs).includes('jane'));
    assert.equal(names(westCsrs).filter((n) => n.startsWith('calico-system:calico-node-')).length, 2);
    assert.ok(names(westCsrs).includes('jane'));
    const pods = (await client('west').makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'calico-system' }))
      .items;
    assert.equal(pods.length, 3);
    // pod-certificates on west: each pod's kubelet has a PodCertificateRequest out for the demo signer.
    const pcrs = await demo.sandbox
      .cluster('west')
      .requestAs(
        { name: 'admin', groups: ['system:masters'] },
        'GET',
        '/apis/certificates.k8s.io/v1/podcertificaterequests',
      );
    const pcrItems = (JSON.parse(pcrs.body) as { items: { spec: { signerName: string } }[] }).items;
    assert.equal(pcrItems.length, 3);
    assert.ok(pcrItems.every((p) => p.spec.signerName === 'example.com/pod-identity'));

    // The registered CA signs a calico request on west, and its pod goes on.
    const westCerts = client('west').makeApiClient(CertificatesV1Api);
    const target = westCsrs.find((c) => c.metadata?.name?.startsWith('calico-system:calico-node-'))!;
    const ca = await loadCaForSigner('example.com/calico', { cwd: demo.configDir });
    await approve(westCerts, target.metadata!.name!);
    const csr = await westCerts.readCertificateSigningRequest({ name: target.metadata!.name! });
    const issued = await issueCertificate(Buffer.from(csr.spec.request, 'base64').toString('utf8'), ca, {
      usages: csr.spec.usages ?? [],
      signerName: csr.spec.signerName,
    });
    csr.status = { ...csr.status, certificate: Buffer.from(issued.pem).toString('base64') };
    await westCerts.replaceCertificateSigningRequestStatus({ name: csr.metadata!.name!, body: csr });
    const podName = target.metadata!.name!.split(':')[1]!;
    await waitFor('the pod to run', async () => {
      const pod = await client('west')
        .makeApiClient(CoreV1Api)
        .readNamespacedPod({ name: podName, namespace: 'calico-system' });
      return pod.status?.phase === 'Running';
    });

    const text = describeDemo(demo);
    assert.match(text, /east .*calico-rollout, istio-signers, hostile/);
    assert.match(text, new RegExp(demo.sandbox.kubeconfigPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    await demo.stop();
  }
  assert.equal(existsSync(demo.caDir), false);
  assert.equal(process.env.CERTDESK_CONFIG_DIR, before);
});

// The `onboarding` scenario ("Manage TLS Certificates in a Cluster", normal user): a new admin, jane, makes a key
// and submits, with her own identity, a kubernetes.io/kube-apiserver-client CSR named `jane` for CN=jane with
// expirationSeconds 600. Once someone approves it, the cluster's own signer issues it.
import { writeFile } from 'node:fs/promises';
import { makeKeyAndCsr } from './crypto.js';
import type { Scenario } from './index.js';
import { clientsFor, statusCode } from './kube.js';
import { applyManifests } from './manifests.js';

export const ONBOARDING_USER = 'jane';

export const onboarding: Scenario = {
  name: 'onboarding',
  description: 'jane submits a 10-minute kubernetes.io/kube-apiserver-client CSR for CN=jane, to be approved.',
  async start(ctx) {
    const admin = clientsFor(ctx.cluster.admin);
    await applyManifests(admin, 'onboarding');
    const jane = clientsFor(ctx.cluster.as({ user: ONBOARDING_USER }));
    const { keyPem, csrPem } = await makeKeyAndCsr({ commonName: ONBOARDING_USER, keyAlgorithm: 'RSAWithSize2048' });
    const keyOut = typeof ctx.options.keyOut === 'string' ? ctx.options.keyOut : undefined;
    if (keyOut) await writeFile(keyOut, keyPem, { mode: 0o600 });
    try {
      await jane.certs.createCertificateSigningRequest({
        body: {
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { name: ONBOARDING_USER, labels: { 'certdesk.dev/scenario': 'onboarding' } },
          spec: {
            request: Buffer.from(csrPem).toString('base64'),
            signerName: 'kubernetes.io/kube-apiserver-client',
            expirationSeconds: 600,
            usages: ['client auth'],
          },
        },
      });
      ctx.log(`jane requested a client certificate (CSR jane)${keyOut ? `; her key is in ${keyOut}` : ''}`);
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      ctx.log('CSR jane already exists; left as it is');
    }
  },
};

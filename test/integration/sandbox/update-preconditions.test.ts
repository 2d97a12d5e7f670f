// A PUT to /approval or /status carries the object's UID and resourceVersion; the sandbox refuses a stale one as
// kube-apiserver does (409 with the real Status text), the UID precondition first (storage checks it before the
// update function compares resourceVersions).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiError, clients, csrObject, makeCsrPem, startTestSandbox } from '../../helpers/sandbox.js';

test('stale resourceVersion and another UID on /approval and /status get the real 409s', async (t) => {
  const sb = await startTestSandbox(t);
  const cluster = sb.cluster('east');
  const { certs } = clients(cluster.kubeConfigFor('admin', ['system:masters']));
  const { pem } = makeCsrPem({ commonName: 'web', dnsNames: ['web.example.com'] });
  const first = await certs.createCertificateSigningRequest({ body: csrObject('swap-me', pem) });
  // Deleted and re-created under the same name: same name, new UID.
  await certs.deleteCertificateSigningRequest({ name: 'swap-me' });
  const second = await certs.createCertificateSigningRequest({ body: csrObject('swap-me', pem) });
  assert.notEqual(first.metadata?.uid, second.metadata?.uid);

  const approved = (obj: typeof first) => ({
    ...obj,
    status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'm' }] },
  });
  for (const sub of ['approval', 'status'] as const) {
    const put = (body: typeof first) =>
      sub === 'approval'
        ? certs.replaceCertificateSigningRequestApproval({ name: 'swap-me', body })
        : certs.replaceCertificateSigningRequestStatus({ name: 'swap-me', body });
    // The first object's UID: refused, whatever its resourceVersion.
    const uidErr = await apiError(put(approved(first)));
    assert.equal(uidErr.code, 409);
    assert.equal(uidErr.body.reason, 'Conflict');
    assert.equal(
      uidErr.body.message,
      `Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "swap-me": StorageError: invalid object, Code: 4, Key: /registry/certificatesigningrequests/swap-me, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${first.metadata?.uid}, UID in object meta: ${second.metadata?.uid}`,
    );
    // The right UID with a stale resourceVersion: the optimistic lock.
    const stale = {
      ...approved(second),
      metadata: { ...second.metadata, resourceVersion: String(Number(second.metadata?.resourceVersion) - 1) },
    };
    const rvErr = await apiError(put(stale));
    assert.equal(rvErr.code, 409);
    assert.equal(
      rvErr.body.message,
      'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "swap-me": the object has been modified; please apply your changes to the latest version and try again',
    );
  }
  // The current UID and resourceVersion: written.
  const ok = await certs.replaceCertificateSigningRequestApproval({ name: 'swap-me', body: approved(second) });
  assert.equal(ok.status?.conditions?.[0]?.type, 'Approved');
});

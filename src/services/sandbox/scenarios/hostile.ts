// The `hostile` scenario: submits the requests a careful approver must catch (hostile-requests.ts), each with the
// identity of its requester, so spec.username/groups are what the API server records for that identity.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { terminalSafe } from '../../text/sanitize.js';
import { buildHostileRequests } from './hostile-requests.js';
import type { Scenario } from './index.js';
import { clientsFor, describeError, statusCode } from './kube.js';
import { applyManifests } from './manifests.js';

export const hostile: Scenario = {
  name: 'hostile',
  description:
    'Requests to refuse: forged requestor, another node, O=system:masters, RSA-1024, escape sequences, bidi, 500 SANs, ten years.',
  async start(ctx) {
    const admin = clientsFor(ctx.cluster.admin);
    await applyManifests(admin, 'hostile');
    const signerName = typeof ctx.options.signerName === 'string' ? ctx.options.signerName : undefined;
    const requests = await buildHostileRequests(signerName);
    // Submitted together; one the server refuses is reported and skipped, so the rest still reach the approver.
    const refused: string[] = [];
    await Promise.all(
      requests.map(async (r) => {
        const client = clientsFor(ctx.cluster.as(r.requester));
        try {
          await client.certs.createCertificateSigningRequest({ body: r.body as V1CertificateSigningRequest });
        } catch (err) {
          if (statusCode(err) === 409) return;
          refused.push(r.name);
          ctx.log(terminalSafe(`the cluster refused ${r.name} from ${r.requester.user}: ${describeError(err)}`));
        }
      }),
    );
    ctx.log(`${requests.length - refused.length} of ${requests.length} requests submitted`);
  },
};

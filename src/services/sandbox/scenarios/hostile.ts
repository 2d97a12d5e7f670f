// The `hostile` scenario: submits the requests a careful approver must catch (hostile-requests.ts), each with the
// identity of its requester, so spec.username/groups are what the API server records for that identity. First the
// cluster they are judged in (HOSTILE_WORLD): Nodes with their addresses, and the pod web-0 with its IP.
import type { V1CertificateSigningRequest, V1Pod } from '@kubernetes/client-node';
import { terminalSafe } from '../../text/sanitize.js';
import { buildHostileRequests, HOSTILE_WORLD, type HostileRequest } from './hostile-requests.js';
import type { Scenario, ScenarioContext } from './index.js';
import {
  type Clients,
  clientsFor,
  createIfAbsent,
  delay,
  describeError,
  nodeAddress,
  nodeIdentity,
  registerNode,
  statusCode,
} from './kube.js';
import { applyManifests } from './manifests.js';
import { SCENARIO_LABEL } from './types.js';

const LABELS = { [SCENARIO_LABEL]: 'hostile' };

/** The Nodes (registered by their kubelets) and the pod of HOSTILE_WORLD, Running with its IP as its kubelet says. */
async function buildWorld(admin: Clients, ctx: ScenarioContext): Promise<Map<string, V1Pod>> {
  await Promise.all(HOSTILE_WORLD.nodes.map((name) => registerNode(ctx.cluster, name, 'hostile')));
  const pods = new Map<string, V1Pod>();
  const namespace = HOSTILE_WORLD.namespace;
  for (const p of HOSTILE_WORLD.pods) {
    await createIfAbsent(() =>
      admin.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: p.name, namespace, labels: LABELS },
          spec: {
            serviceAccountName: p.serviceAccount,
            nodeName: p.nodeName,
            containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }],
          },
        },
      }),
    );
    const kubelet = clientsFor(ctx.cluster.as(nodeIdentity(p.nodeName)));
    const pod = await kubelet.core.readNamespacedPod({ name: p.name, namespace });
    const hostIP = nodeAddress(p.nodeName);
    pod.status = {
      ...pod.status,
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      startTime: new Date(),
    };
    pods.set(p.name, await kubelet.core.replaceNamespacedPodStatus({ name: p.name, namespace, body: pod }));
  }
  return pods;
}

async function submit(ctx: ScenarioContext, r: HostileRequest, pods: Map<string, V1Pod>): Promise<string | undefined> {
  const pod = r.fromPod ? pods.get(r.fromPod) : undefined;
  const identity = pod
    ? {
        ...r.requester,
        extra: {
          'authentication.kubernetes.io/pod-name': [pod.metadata?.name ?? ''],
          'authentication.kubernetes.io/pod-uid': [pod.metadata?.uid ?? ''],
        },
      }
    : r.requester;
  const client = clientsFor(ctx.cluster.as(identity));
  try {
    const made = await client.certs.createCertificateSigningRequest({ body: r.body as V1CertificateSigningRequest });
    return made.metadata?.creationTimestamp ? String(new Date(made.metadata.creationTimestamp).getTime()) : undefined;
  } catch (err) {
    if (statusCode(err) === 409) return undefined;
    ctx.log(terminalSafe(`the cluster refused ${r.name} from ${r.requester.user}: ${describeError(err)}`));
    throw err;
  }
}

export const hostile: Scenario = {
  name: 'hostile',
  description:
    'Requests to refuse: forged requestor, another node, O=system:masters, RSA-1024, escape sequences, bidi, 500 SANs, ten years, a Node address or pod IP not theirs, the API server name, a SPIFFE ID, a superseded request, a copied key, a request storm.',
  async start(ctx) {
    const admin = clientsFor(ctx.cluster.admin);
    await applyManifests(admin, 'hostile');
    const pods = await buildWorld(admin, ctx);
    const signerName = typeof ctx.options.signerName === 'string' ? ctx.options.signerName : undefined;
    const requests = await buildHostileRequests(signerName);
    // Those a later request supersedes go first, a clock second ahead (creationTimestamp has one-second steps).
    let refused = 0;
    const send = async (r: HostileRequest) => submit(ctx, r, pods).catch(() => void refused++);
    const first = await Promise.all(requests.filter((r) => r.first).map(send));
    const latest = Math.max(0, ...first.map((t) => Number(t ?? 0)));
    if (latest) await delay(Math.max(0, latest + 1100 - Date.now()), ctx.signal);
    // Submitted together; one the server refuses is reported and skipped, so the rest still reach the approver.
    await Promise.all(requests.filter((r) => !r.first).map(send));
    ctx.log(`${requests.length - refused} of ${requests.length} requests submitted`);
  },
};

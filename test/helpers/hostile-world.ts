// The cluster the hostile requests are judged in (HOSTILE_WORLD), as the facts the findings read: its Nodes, its
// pod, and an index of the requests as the scenario submits them (those marked `first` a few seconds earlier).
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { type ClusterFacts, indexRequests, type NodeLike, type PodLike } from '../../src/services/policy/index.js';
import { HOSTILE_WORLD, type HostileRequest } from '../../src/services/sandbox/scenarios/hostile-requests.js';
import { nodeAddresses } from '../../src/services/sandbox/scenarios/kube.js';

export const WEB_UID = '5f0c6a3e-0000-4000-8000-00000000c0de';
const BASE = Date.parse('2026-12-07T04:00:00Z');

export const hostileNodes: NodeLike[] = HOSTILE_WORLD.nodes.map((name) => ({
  metadata: { name },
  status: { addresses: nodeAddresses(name) },
}));

export const hostilePods: PodLike[] = HOSTILE_WORLD.pods.map((p) => ({
  metadata: { name: p.name, namespace: HOSTILE_WORLD.namespace, uid: WEB_UID },
  spec: { serviceAccountName: p.serviceAccount, nodeName: p.nodeName },
  status: { podIP: p.ip, podIPs: [{ ip: p.ip }] },
}));

/** A hostile request as the API server stores it: requester, spec.extra of its pod, creation time, a UID. */
export function hostileCsr(h: HostileRequest, context = 'hostile'): V1CertificateSigningRequest {
  const pod = h.fromPod ? hostilePods.find((p) => p.metadata?.name === h.fromPod) : undefined;
  return {
    metadata: {
      name: h.name,
      uid: `${context}-${h.name}`,
      resourceVersion: '1',
      creationTimestamp: new Date(BASE + (h.first ? 0 : 3000)),
    },
    spec: {
      ...h.body.spec,
      username: h.requester.user,
      groups: h.requester.groups,
      ...(pod
        ? {
            extra: {
              'authentication.kubernetes.io/pod-name': [pod.metadata?.name ?? ''],
              'authentication.kubernetes.io/pod-uid': [pod.metadata?.uid ?? ''],
            },
          }
        : {}),
    },
    status: {},
  };
}

/** The facts of the hostile world with these CSRs in it. */
export function hostileFacts(csrs: V1CertificateSigningRequest[], context = 'hostile'): ClusterFacts {
  return { context, nodes: hostileNodes, requests: indexRequests([{ context, requests: csrs }]) };
}

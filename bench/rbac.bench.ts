// RBAC and PATCH in the sandbox: what one authorization decision costs with the bootstrap roles and with 1,000
// extra bindings, and what a strategic merge patch of a large pod costs — next to a CSR GET over HTTPS measured in
// the same run (the cost of a request as a client sees it).
import { performance } from 'node:perf_hooks';
import { CertificatesV1Api } from '@kubernetes/client-node';
import type { RequestAttributes } from '../src/services/sandbox/authz.js';
import { startSandbox } from '../src/services/sandbox/index.js';
import { applyPatch, strategicMergeKeysFor } from '../src/services/sandbox/patch.js';
import type { KObject } from '../src/services/sandbox/store.js';
import { csrBody } from '../test/integration/sandbox/rbac-patch-helpers.js';

const EXTRA_BINDINGS = 1000;

function perCall(fn: () => unknown, calls: number): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return ((performance.now() - t0) / calls) * 1000; // µs
}

async function perAsyncCall(fn: () => Promise<unknown>, calls: number): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  return ((performance.now() - t0) / calls) * 1000;
}

const us = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(1)} µs`);
const ratio = (a: number, b: number): string => `${((a / b) * 100).toFixed(1)} %`;

export async function run(): Promise<string> {
  const sandbox = await startSandbox({ builtinSigners: false });
  try {
    const cluster = sandbox.cluster('east');
    const authz = cluster.api.authz;
    const admin = cluster.kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
    const csr = await admin.createCertificateSigningRequest({ body: await csrBody('bench-1', 'example.com/serving') });
    const name = csr.metadata?.name ?? '';

    const attrs = (user: string, groups: string[]): RequestAttributes => ({
      user: { name: user, groups: [...groups, 'system:authenticated'] },
      verb: 'get',
      resourceRequest: true,
      apiGroup: 'certificates.k8s.io',
      resource: 'certificatesigningrequests',
      name,
      path: '',
    });
    // A denied request walks every binding: the worst case. The viewer is allowed by the second binding it meets.
    const deniedBase = perCall(() => authz.authorize(attrs('nobody', [])), 2000);
    const allowedBase = perCall(() => authz.authorize(attrs('viewer', [])), 2000);

    for (let i = 0; i < EXTRA_BINDINGS; i++) {
      cluster.api.insert('clusterroles', {
        metadata: { name: `bench-role-${i}` },
        rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [`cm-${i}`], verbs: ['get'] }],
      } as unknown as KObject);
      cluster.api.insert('clusterrolebindings', {
        metadata: { name: `bench-binding-${i}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `bench-role-${i}` },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `user-${i}` }],
      } as unknown as KObject);
    }
    const deniedMany = perCall(() => authz.authorize(attrs('nobody', [])), 200);
    const allowedLast = perCall(() => authz.authorize(attrs(`user-${EXTRA_BINDINGS - 1}`, [])), 200);

    // Reference: a CSR GET over HTTPS by admin (TLS, routing, authorization, JSON), sequentially.
    const httpsGet = await perAsyncCall(() => admin.readCertificateSigningRequest({ name }), 100);

    // Strategic merge patch of a pod with 50 containers (one image changed, by name), against a JSON round trip
    // of the same pod (what any write costs at least).
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'big', namespace: 'default', labels: { app: 'big' } },
      spec: {
        containers: Array.from({ length: 50 }, (_, i) => ({
          name: `c${i}`,
          image: `img:${i}`,
          env: Array.from({ length: 10 }, (_, j) => ({ name: `E${j}`, value: String(j) })),
        })),
      },
    };
    const patch = { spec: { containers: [{ name: 'c25', image: 'img:new' }] } };
    const keys = strategicMergeKeysFor('pods');
    const strategic = perCall(() => applyPatch('strategic', pod, patch, keys), 500);
    const roundTrip = perCall(() => JSON.parse(JSON.stringify(pod)), 500);

    return `## RBAC and PATCH (sandbox)

| measure | time per call | reference | ratio |
|---|---|---|---|
| RBAC decision, bootstrap roles, denied (walks every binding) | ${us(deniedBase)} | CSR GET over HTTPS: ${us(httpsGet)} | ${ratio(deniedBase, httpsGet)} |
| RBAC decision, bootstrap roles, allowed (viewer) | ${us(allowedBase)} | CSR GET over HTTPS: ${us(httpsGet)} | ${ratio(allowedBase, httpsGet)} |
| RBAC decision, +${EXTRA_BINDINGS} ClusterRoleBindings, denied | ${us(deniedMany)} | CSR GET over HTTPS: ${us(httpsGet)} | ${ratio(deniedMany, httpsGet)} |
| RBAC decision, +${EXTRA_BINDINGS} ClusterRoleBindings, allowed by the last | ${us(allowedLast)} | CSR GET over HTTPS: ${us(httpsGet)} | ${ratio(allowedLast, httpsGet)} |
| strategic merge patch, pod with 50 containers × 10 env | ${us(strategic)} | JSON round trip of the pod: ${us(roundTrip)} | ${ratio(strategic, roundTrip)} |

The authorizer reads the stored RBAC objects on every decision (so a new or deleted binding applies at once); its
cost grows with the number of bindings. With the few bindings of a sandbox it is a small part of a request.

Command: \`npm run bench rbac\` (or \`node --import tsx bench/run.ts rbac\`).`;
  } finally {
    await sandbox.stop();
  }
}

// The calico-rollout scenario at size: N nodes (N+1 pods) from start to every CSR out, then an approver-signer
// (approve through /approval, issue with the demo CA, write /status) until every pod runs and TigeraStatus calico is
// Available. Reference, same run: the same number of CSRs created, approved and signed by one admin client on a bare
// sandbox, i.e. the API round trips and crypto without the scenario's pods, provisioners, kubelets and operator.
import {
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import {
  createCa,
  generateKeyAndCsr,
  issueCertificate,
  type LoadedCa,
  loadCaFromPem,
} from '../src/services/pki/index.js';
import { startSandbox } from '../src/services/sandbox/index.js';

const NODES = Number(process.env.CALICO_BENCH_NODES ?? 50);
const SIGNER = 'example.com/calico';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function approveAndSign(certs: CertificatesV1Api, ca: LoadedCa, csr: V1CertificateSigningRequest): Promise<void> {
  const name = csr.metadata!.name!;
  csr.status = {
    conditions: [{ type: 'Approved', status: 'True', reason: 'Bench', message: 'approved by the bench' }],
  };
  const approved = await certs.replaceCertificateSigningRequestApproval({ name, body: csr });
  const issued = await issueCertificate(Buffer.from(csr.spec.request, 'base64').toString('utf8'), ca, {
    usages: csr.spec.usages ?? [],
    signerName: csr.spec.signerName,
  });
  approved.status = { ...approved.status, certificate: Buffer.from(issued.pem).toString('base64') };
  await certs.replaceCertificateSigningRequestStatus({ name, body: approved });
}

async function rollout(ca: LoadedCa, caCertPem: string): Promise<{ startMs: number; signMs: number }> {
  const t0 = performance.now();
  const sandbox = await startSandbox({
    clusters: ['east'],
    scenarios: ['calico-rollout'],
    scenarioOptions: { 'calico-rollout': { nodes: NODES, caCertPem, podInitializingMs: 0 } },
  });
  const startMs = performance.now() - t0;
  try {
    const kc = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']);
    const certs = kc.makeApiClient(CertificatesV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const t1 = performance.now();
    const csrs = (await certs.listCertificateSigningRequest()).items;
    await Promise.all(csrs.map((csr) => approveAndSign(certs, ca, csr)));
    await until('every pod Running', async () => {
      const pods = (await core.listNamespacedPod({ namespace: 'calico-system' })).items;
      return pods.length === NODES + 1 && pods.every((p) => p.status?.phase === 'Running');
    });
    await until('TigeraStatus Available', async () => {
      const t = (await custom.getClusterCustomObject({
        group: 'operator.tigera.io',
        version: 'v1',
        plural: 'tigerastatuses',
        name: 'calico',
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return !!t.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
    });
    return { startMs, signMs: performance.now() - t1 };
  } finally {
    await sandbox.stop();
  }
}

async function bare(ca: LoadedCa): Promise<number> {
  const sandbox = await startSandbox({ clusters: ['east'] });
  try {
    const certs = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']).makeApiClient(CertificatesV1Api);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: NODES + 1 }, async (_, i) => {
        const { csrPem } = await generateKeyAndCsr({ cn: `typha-client-${i}`, hosts: ['typha-client'] });
        const csr = await certs.createCertificateSigningRequest({
          body: {
            metadata: { name: `bare-${i}` },
            spec: {
              request: Buffer.from(csrPem).toString('base64'),
              signerName: SIGNER,
              usages: ['server auth', 'client auth', 'digital signature', 'key agreement'],
            },
          },
        });
        await approveAndSign(certs, ca, csr);
      }),
    );
    return performance.now() - t0;
  } finally {
    await sandbox.stop();
  }
}

export async function run(): Promise<string> {
  const demo = await createCa({ cn: 'bench calico CA' });
  const ca = await loadCaFromPem(demo.certPem, demo.keyPem);
  const r = await rollout(ca, demo.certPem);
  const reference = await bare(ca);
  const total = r.startMs + r.signMs;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return [
    `## calico-rollout scenario, ${NODES} nodes (${NODES + 1} pods)`,
    '',
    '| phase | time |',
    '|---|---|',
    `| start: Installation, ${NODES + 1} pods in Init:0/1, every CSR out | ${s(r.startMs)} |`,
    `| approve + sign all, until every pod Running and TigeraStatus Available | ${s(r.signMs)} |`,
    `| total | ${s(total)} |`,
    `| reference: ${NODES + 1} CSRs created, approved and signed by one client on a bare sandbox | ${s(reference)} |`,
    `| **ratio total / reference** | **${(total / reference).toFixed(1)}×** |`,
    '',
    'The ratio is the cost of what the scenario simulates on top of the bare CSR round trips: pods and their status',
    'reports, one watch per provisioner, the operator. Command: `npm run bench calico-rollout`',
    '(`CALICO_BENCH_NODES` changes N).',
  ].join('\n');
}

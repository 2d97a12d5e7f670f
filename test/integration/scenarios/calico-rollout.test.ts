// The calico-rollout scenario end to end: pods wait in Init:0/1 for their CSRs; signing with the demo CA brings them
// to Running and TigeraStatus to Available; a denial makes the pod crash-loop and ask again with a new CSR.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CertificateSigningRequest,
  type V1Pod,
} from '@kubernetes/client-node';
import { createCa, issueCertificate, type LoadedCa, loadCaFromPem } from '../../../src/services/pki/index.js';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { CALICO_USAGES } from '../../../src/services/sandbox/scenarios/calico-rollout.js';
import { listWatch } from '../../../src/services/sandbox/scenarios/kube.js';
import { approve, condition, deny, openssl, waitFor } from './helpers.js';

const SIGNER = 'example.com/calico';
const NS = 'calico-system';

/** kubectl's STATUS column for the cases this scenario produces (kube-api.md §7.2). */
function podStatusText(pod: V1Pod): string {
  const init = pod.status?.initContainerStatuses ?? [];
  for (const [i, s] of init.entries()) {
    if (s.state?.terminated && s.state.terminated.exitCode === 0) continue;
    if (s.state?.terminated) return `Init:${s.state.terminated.reason}`;
    if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing')
      return `Init:${s.state.waiting.reason}`;
    return `Init:${i}/${pod.spec?.initContainers?.length ?? 0}`;
  }
  const app = pod.status?.containerStatuses?.[0];
  if (app?.state?.waiting?.reason) return app.state.waiting.reason;
  if (app?.state?.running && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
    return 'Running';
  }
  return pod.status?.phase ?? 'Unknown';
}

interface TigeraStatus {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

describe('calico-rollout scenario', () => {
  let sandbox: Sandbox;
  let ca: LoadedCa;
  let certs: CertificatesV1Api;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const history = new Map<string, string[]>();
  let stopWatch: AbortController | undefined;

  before(async () => {
    const demoCa = await createCa({ cn: 'certdesk demo example.com/calico' });
    ca = await loadCaFromPem(demoCa.certPem, demoCa.keyPem);
    sandbox = await startSandbox({
      clusters: ['east'],
      scenarios: ['calico-rollout'],
      log: process.env.CERTDESK_TEST_LOG ? (line) => console.error(line) : undefined,
      scenarioOptions: {
        // PodInitializing lasts long enough for the history watch to see it even while it reconnects after the
        // outage in the last test (its backoff starts at 200 ms and doubles).
        'calico-rollout': { nodes: 2, caCertPem: demoCa.certPem, backoffMs: 300, podInitializingMs: 3000 },
      },
    });
    const kc = sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']);
    certs = kc.makeApiClient(CertificatesV1Api);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    // Every STATUS each pod goes through, from a list+watch that resumes across the outage below.
    stopWatch = new AbortController();
    await listWatch<V1Pod>({
      kc,
      path: `/api/v1/namespaces/${NS}/pods`,
      list: () => core.listNamespacedPod({ namespace: NS }),
      signal: stopWatch.signal,
      onEvent: (_type, pod) => {
        const seen = history.get(pod.metadata!.name!) ?? [];
        const text = podStatusText(pod);
        if (seen.at(-1) !== text) seen.push(text);
        history.set(pod.metadata!.name!, seen);
      },
    });
  });
  after(async () => {
    stopWatch?.abort();
    await sandbox?.stop();
  });

  const calicoCsrs = async (): Promise<V1CertificateSigningRequest[]> =>
    (await certs.listCertificateSigningRequest()).items.filter((c) => c.metadata?.name?.startsWith(`${NS}:`));
  const tigeraStatus = async (): Promise<TigeraStatus> =>
    (await custom.getClusterCustomObject({
      group: 'operator.tigera.io',
      version: 'v1',
      plural: 'tigerastatuses',
      name: 'calico',
    })) as TigeraStatus;
  const tigeraCondition = (t: TigeraStatus, type: string) => t.status?.conditions?.find((c) => c.type === type);

  const sign = async (name: string): Promise<void> => {
    const csr = await certs.readCertificateSigningRequest({ name });
    const issued = await issueCertificate(Buffer.from(csr.spec.request, 'base64').toString('utf8'), ca, {
      usages: csr.spec.usages ?? [],
      signerName: csr.spec.signerName,
      expirationSeconds: csr.spec.expirationSeconds,
    });
    csr.status = { ...csr.status, certificate: Buffer.from(issued.pem).toString('base64') };
    await certs.replaceCertificateSigningRequestStatus({ name, body: csr });
  };

  test('installs Calico with certificate management and holds every pod in Init:0/1 with a CSR out', async () => {
    const installation = (await custom.getClusterCustomObject({
      group: 'operator.tigera.io',
      version: 'v1',
      plural: 'installations',
      name: 'default',
    })) as { spec: { certificateManagement: Record<string, string> } };
    assert.equal(installation.spec.certificateManagement.signerName, SIGNER);
    assert.equal(installation.spec.certificateManagement.keyAlgorithm, 'ECDSAWithCurve256');
    assert.match(installation.spec.certificateManagement.caCert ?? '', /BEGIN CERTIFICATE/);

    const pods = (await core.listNamespacedPod({ namespace: NS })).items;
    assert.equal(pods.length, 3);
    assert.deepEqual(pods.map((p) => p.spec?.nodeName).sort(), ['node-1', 'node-1', 'node-2']);
    for (const p of pods) {
      assert.match(p.metadata!.name!, /^calico-(node-[a-z0-9]{5}|typha-[a-z0-9]{10}-[a-z0-9]{5})$/);
      assert.equal(podStatusText(p), 'Init:0/1');
      assert.match(p.spec!.initContainers![0]!.name, /^(node|typha)-certs-key-cert-provisioner$/);
    }

    const csrs = await waitFor('three calico CSRs', async () => {
      const list = await calicoCsrs();
      return list.length === 3 ? list : undefined;
    });
    for (const csr of csrs) {
      const [ns, podName, suffix] = csr.metadata!.name!.split(':');
      assert.equal(ns, NS);
      const pod = pods.find((p) => p.metadata?.name === podName);
      assert.ok(pod, `a pod for ${csr.metadata?.name}`);
      assert.equal(suffix, pod.metadata!.uid!.replace(/-/g, '').slice(0, 6));
      const sa = pod.spec!.serviceAccountName!;
      assert.equal(csr.spec.username, `system:serviceaccount:${NS}:${sa}`);
      assert.ok(csr.spec.groups?.includes(`system:serviceaccounts:${NS}`));
      // spec.extra comes from the authenticated user: the provisioner impersonates its own service account with
      // the pod's name and uid, as a bound token would carry them.
      assert.deepEqual(csr.spec.extra?.['authentication.kubernetes.io/pod-name'], [podName]);
      assert.deepEqual(csr.spec.extra?.['authentication.kubernetes.io/pod-uid'], [pod.metadata!.uid]);
      assert.equal(csr.spec.signerName, SIGNER);
      assert.deepEqual([...(csr.spec.usages ?? [])].sort(), [...CALICO_USAGES].sort());
      const text = openssl(['req', '-in', '@r.pem', '-noout', '-text'], {
        'r.pem': Buffer.from(csr.spec.request, 'base64').toString('utf8'),
      });
      assert.match(text, /prime256v1|P-256/);
    }

    // kubectl, through the server's Table output, shows what the kubelet stand-in reported.
    const kubectl = await promisify(execFile)(
      'kubectl',
      ['--kubeconfig', sandbox.kubeconfigPath, 'get', 'pods', '-n', NS, '--no-headers'],
      { encoding: 'utf8' },
    ).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (kubectl) {
      const rows = kubectl.stdout.trim().split('\n');
      assert.equal(rows.length, 3);
      for (const row of rows) assert.match(row, /\s0\/1\s+Init:0\/1\s+0\s/);
    }

    const status = await waitFor('TigeraStatus Progressing', async () => {
      const t = await tigeraStatus();
      return tigeraCondition(t, 'Progressing')?.status === 'True' ? t : undefined;
    });
    assert.equal(tigeraCondition(status, 'Available')?.status, 'False');
  });

  test('a denied CSR crash-loops its init container, degrades TigeraStatus, and a new CSR appears', async () => {
    const first = (await calicoCsrs()).find((c) => c.metadata!.name!.includes(':calico-node-'))!;
    const podName = first.metadata!.name!.split(':')[1]!;
    await deny(certs, first.metadata!.name!);

    const degraded = await waitFor('TigeraStatus Degraded', async () => {
      const t = await tigeraStatus();
      return tigeraCondition(t, 'Degraded')?.status === 'True' ? t : undefined;
    });
    assert.equal(tigeraCondition(degraded, 'Degraded')?.reason, 'PodFailure');
    assert.match(tigeraCondition(degraded, 'Degraded')?.message ?? '', new RegExp(podName));

    const again = await waitFor('a new CSR for the pod', async () => {
      const list = await calicoCsrs();
      return list.find(
        (c) =>
          c.metadata?.name === first.metadata?.name &&
          c.metadata?.uid !== first.metadata?.uid &&
          !condition(c, 'Denied'),
      );
    });
    assert.equal(again.spec.username, first.spec.username);
    assert.equal(condition(again, 'Approved'), undefined);
    const pod = await core.readNamespacedPod({ name: podName, namespace: NS });
    assert.ok((pod.status?.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1);
    await waitFor('the pod history to show the crash loop', () => {
      const seen = history.get(podName) ?? [];
      return seen.includes('Init:Error') && seen.includes('Init:CrashLoopBackOff') && seen.at(-1) === 'Init:0/1';
    });
  });

  test('a Failed condition (a signer refusing) makes the provisioner retry too', async () => {
    const typha = (await calicoCsrs()).find((c) => c.metadata!.name!.includes(':calico-typha-'))!;
    const podName = typha.metadata!.name!.split(':')[1]!;
    await approve(certs, typha.metadata!.name!);
    const csr = await certs.readCertificateSigningRequest({ name: typha.metadata!.name! });
    csr.status!.conditions!.push({
      type: 'Failed',
      status: 'True',
      reason: 'SignerValidationFailure',
      message: 'the signing policy refuses key agreement',
      lastUpdateTime: new Date(),
    });
    await certs.replaceCertificateSigningRequestStatus({ name: typha.metadata!.name!, body: csr });
    const again = await waitFor('a new CSR for typha', async () =>
      (await calicoCsrs()).find(
        (c) => c.metadata?.name === typha.metadata?.name && c.metadata?.uid !== typha.metadata?.uid,
      ),
    );
    assert.equal(condition(again, 'Failed'), undefined);
    const pod = await core.readNamespacedPod({ name: podName, namespace: NS });
    const last = pod.status?.initContainerStatuses?.[0]?.lastState?.terminated;
    assert.match(
      last?.message ?? '',
      /marked failed \(SignerValidationFailure\): the signing policy refuses key agreement/,
    );
  });

  test('approving and signing every CSR brings the pods to Running and TigeraStatus to Available', async () => {
    // The API server goes away for a moment (its watches drop); the provisioners and the operator carry on.
    const cluster = sandbox.cluster('east');
    await cluster.pause();
    cluster.expireWatchHistory();
    await cluster.resume();
    const pending = (await calicoCsrs()).filter((c) => !condition(c, 'Denied') && !condition(c, 'Approved'));
    assert.equal(pending.length, 3);
    for (const csr of pending) {
      await approve(certs, csr.metadata!.name!);
      await sign(csr.metadata!.name!);
    }
    await waitFor(
      'every pod Running',
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: NS })).items;
        return pods.every((p) => p.status?.phase === 'Running' && podStatusText(p) === 'Running');
      },
      10_000,
    );
    const t = await waitFor('TigeraStatus Available', async () => {
      const s = await tigeraStatus();
      return tigeraCondition(s, 'Available')?.status === 'True' ? s : undefined;
    });
    assert.equal(tigeraCondition(t, 'Progressing')?.status, 'False');
    assert.equal(tigeraCondition(t, 'Degraded')?.status, 'False');
    for (const [name, seen] of history) {
      assert.deepEqual(seen.slice(-3), ['Init:0/1', 'PodInitializing', 'Running'], `${name}: ${seen.join(' → ')}`);
    }
  });
});

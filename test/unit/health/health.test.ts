// Health from fixture objects: kubectl's pod STATUS, CSR CONDITION, pods in Init linked to their CSRs, signer
// backlog, pending queue, TigeraStatus, and kubectl's age format.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1CertificateSigningRequest, V1Pod } from '@kubernetes/client-node';
import {
  computeHealth,
  csrCondition,
  humanDuration,
  podAge,
  podStatusText,
  signerBacklog,
} from '../../../src/services/health/index.js';
import type { ContextSnapshot, TigeraStatus } from '../../../src/services/kube/index.js';
import { SnapshotKind, snapshotBase } from '../../../src/services/kube/snapshot-map.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000);

function pod(
  partial: { name: string; namespace?: string; uid?: string; sa?: string; created?: number } & Partial<V1Pod>,
): V1Pod {
  const { name, namespace = 'calico-system', uid, sa, created = 60, ...rest } = partial;
  return {
    metadata: { name, namespace, ...(uid ? { uid } : {}), creationTimestamp: ago(created) },
    spec: {
      containers: [{ name: 'main' }],
      initContainers: [{ name: 'key-cert-provisioner' }],
      ...(sa ? { serviceAccountName: sa } : {}),
    },
    ...rest,
  };
}

const initWaiting = (reason = 'PodInitializing'): V1Pod['status'] => ({
  phase: 'Pending',
  initContainerStatuses: [
    {
      name: 'key-cert-provisioner',
      ready: false,
      restartCount: 0,
      image: 'x',
      imageID: '',
      state: { waiting: { reason } },
    },
  ],
  containerStatuses: [
    {
      name: 'main',
      ready: false,
      restartCount: 0,
      image: 'x',
      imageID: '',
      state: { waiting: { reason: 'PodInitializing' } },
    },
  ],
});

function csr(
  name: string,
  opts: {
    conditions?: string[];
    certificate?: boolean;
    signer?: string;
    username?: string;
    extra?: Record<string, string[]>;
    created?: number;
    approvedAgo?: number;
  } = {},
): V1CertificateSigningRequest {
  return {
    metadata: { name, creationTimestamp: ago(opts.created ?? 30) },
    spec: {
      request: '',
      signerName: opts.signer ?? 'example.com/calico',
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.extra ? { extra: opts.extra } : {}),
    },
    status: {
      conditions: (opts.conditions ?? []).map((type) => ({
        type,
        status: 'True',
        ...(type === 'Approved' && opts.approvedAgo !== undefined ? { lastTransitionTime: ago(opts.approvedAgo) } : {}),
      })),
      ...(opts.certificate ? { certificate: 'Y2VydA==' } : {}),
    },
  };
}

function snapshot(
  csrs: V1CertificateSigningRequest[],
  pods: V1Pod[],
  tigera: Map<string, TigeraStatus> | 'not-installed' = 'not-installed',
): ContextSnapshot {
  return {
    context: 'east',
    version: 1,
    csrs: new Map(csrs.map((c) => [c.metadata?.name ?? '', c])),
    pods: new Map(pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p])),
    namespaces: new Map(),
    nodes: new Map(),
    tigeraStatuses: tigera,
    connection: { phase: 'live', since: NOW },
    synced: true,
    errors: {},
    counters: { lists: 1, watches: 1, expired: 0 },
  };
}

describe('podStatusText (kubectl STATUS)', () => {
  it('shows Init:i/n while an init container runs or waits to start', () => {
    assert.equal(podStatusText(pod({ name: 'a', status: initWaiting() })), 'Init:0/1');
    const running = pod({ name: 'b', status: initWaiting() });
    running.spec!.initContainers = [{ name: 'one' }, { name: 'two' }, { name: 'three' }];
    running.status!.initContainerStatuses = [
      {
        name: 'one',
        ready: true,
        restartCount: 0,
        image: '',
        imageID: '',
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
      { name: 'two', ready: false, restartCount: 0, image: '', imageID: '', state: { running: {} } },
      {
        name: 'three',
        ready: false,
        restartCount: 0,
        image: '',
        imageID: '',
        state: { waiting: { reason: 'PodInitializing' } },
      },
    ];
    assert.equal(podStatusText(running), 'Init:1/3');
  });

  it('shows Init:<reason> for crash loops, pull errors and failed init containers', () => {
    assert.equal(podStatusText(pod({ name: 'a', status: initWaiting('CrashLoopBackOff') })), 'Init:CrashLoopBackOff');
    assert.equal(podStatusText(pod({ name: 'a', status: initWaiting('ImagePullBackOff') })), 'Init:ImagePullBackOff');
    const failed = pod({ name: 'f', status: initWaiting() });
    failed.status!.initContainerStatuses![0]!.state = { terminated: { exitCode: 2 } };
    assert.equal(podStatusText(failed), 'Init:ExitCode:2');
    failed.status!.initContainerStatuses![0]!.state = { terminated: { exitCode: 137, signal: 9 } };
    assert.equal(podStatusText(failed), 'Init:Signal:9');
    failed.status!.initContainerStatuses![0]!.state = { terminated: { exitCode: 1, reason: 'Error' } };
    assert.equal(podStatusText(failed), 'Init:Error');
  });

  it('shows PodInitializing, Running, NotReady, Terminating and SchedulingGated like kubectl', () => {
    const done = pod({ name: 'd', status: initWaiting() });
    done.status!.initContainerStatuses![0]!.state = { terminated: { exitCode: 0, reason: 'Completed' } };
    assert.equal(podStatusText(done), 'PodInitializing');
    done.status!.phase = 'Running';
    done.status!.containerStatuses![0] = {
      name: 'main',
      ready: true,
      restartCount: 0,
      image: '',
      imageID: '',
      state: { running: {} },
    };
    assert.equal(podStatusText(done), 'Running');
    const deleting = pod({ name: 't', status: { ...done.status } });
    deleting.metadata!.deletionTimestamp = ago(1);
    assert.equal(podStatusText(deleting), 'Terminating');
    const gated = pod({
      name: 'g',
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    });
    gated.spec!.initContainers = [];
    assert.equal(podStatusText(gated), 'SchedulingGated');
    const sidecar = pod({ name: 's', status: initWaiting() });
    sidecar.spec!.initContainers = [{ name: 'key-cert-provisioner', restartPolicy: 'Always' }];
    sidecar.status!.initContainerStatuses![0]!.started = true;
    sidecar.status!.initContainerStatuses![0]!.state = { running: {} };
    assert.equal(podStatusText(sidecar), 'PodInitializing');
  });
});

describe('csrCondition (kubectl CONDITION)', () => {
  it('orders Denied/Approved/Pending, then Failed, then Issued', () => {
    assert.equal(csrCondition(csr('a')), 'Pending');
    assert.equal(csrCondition(csr('a', { conditions: ['Approved'] })), 'Approved');
    assert.equal(csrCondition(csr('a', { conditions: ['Approved'], certificate: true })), 'Approved,Issued');
    assert.equal(csrCondition(csr('a', { conditions: ['Approved', 'Failed'] })), 'Approved,Failed');
    assert.equal(csrCondition(csr('a', { conditions: ['Denied'] })), 'Denied');
    assert.equal(csrCondition(csr('a', { certificate: true })), 'Pending,Issued');
  });
});

describe('computeHealth', () => {
  it('links pods in Init to their CSR by pod uid, pod name extra, Calico name and service account', () => {
    const sa = 'system:serviceaccount:calico-system:calico-node';
    const snap = snapshot(
      [
        csr('anything-1', { username: sa, extra: { 'authentication.kubernetes.io/pod-uid': ['uid-1'] } }),
        csr('anything-2', { username: sa, extra: { 'authentication.kubernetes.io/pod-name': ['node-b'] } }),
        csr('calico-system:node-c:abc123', { conditions: ['Approved'] }),
        csr('calico-system:node-c:old999', { created: 600 }),
        csr('node-certs:node-d', { username: sa }),
        csr('tls-for-node-e-xyz', { username: sa }),
        csr('other-ns:node-f:aaaaaa'),
      ],
      [
        pod({ name: 'node-a', uid: 'uid-1', status: initWaiting() }),
        pod({ name: 'node-b', status: initWaiting() }),
        pod({ name: 'node-c', status: initWaiting() }),
        pod({ name: 'node-d', status: initWaiting() }),
        pod({ name: 'node-e', sa: 'calico-node', status: initWaiting() }),
        pod({ name: 'node-f', status: initWaiting('CrashLoopBackOff'), created: 120 }),
        pod({
          name: 'ready',
          status: {
            phase: 'Running',
            containerStatuses: [
              { name: 'main', ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} } },
            ],
            conditions: [
              { type: 'Initialized', status: 'True' },
              { type: 'Ready', status: 'True' },
            ],
          },
        }),
      ],
    );
    const h = computeHealth(snap, NOW);
    const byName = new Map(h.podsInInit.map((p) => [p.name, p]));
    assert.equal(byName.size, 6, 'the running pod is not listed');
    assert.equal(byName.get('node-a')?.csrName, 'anything-1');
    assert.equal(byName.get('node-a')?.linkedBy, 'pod-uid');
    assert.equal(byName.get('node-b')?.csrName, 'anything-2');
    assert.equal(byName.get('node-b')?.linkedBy, 'pod-name');
    assert.equal(byName.get('node-c')?.csrName, 'calico-system:node-c:abc123', 'newest of the recreated CSRs');
    assert.equal(byName.get('node-c')?.csrState, 'Approved');
    assert.equal(byName.get('node-d')?.csrName, 'node-certs:node-d');
    assert.equal(byName.get('node-e')?.linkedBy, 'service-account');
    assert.equal(byName.get('node-f')?.csrName, undefined, 'a CSR named for another namespace is not linked');
    assert.equal(byName.get('node-f')?.status, 'Init:CrashLoopBackOff');
    assert.equal(h.podsInInit[0]?.name, 'node-f', 'oldest first');
    assert.equal(podAge(byName.get('node-f') ?? {}, NOW), 120_000);
  });

  it('counts pending CSRs and the signer backlog, flagging a stalled signer', () => {
    const csrs = [
      csr('p1', { created: 30 }),
      csr('p2', { created: 900 }),
      csr('a1', { conditions: ['Approved'], approvedAgo: 600, signer: 'example.com/slow' }),
      csr('a2', { conditions: ['Approved'], approvedAgo: 5, signer: 'example.com/slow' }),
      csr('a3', { conditions: ['Approved'], approvedAgo: 10, signer: 'example.com/fast' }),
      csr('done', { conditions: ['Approved'], certificate: true, signer: 'example.com/fast' }),
      csr('no', { conditions: ['Approved', 'Failed'], signer: 'example.com/fast' }),
      csr('den', { conditions: ['Denied'] }),
    ];
    const h = computeHealth(snapshot(csrs, []), NOW);
    assert.equal(h.pendingCount, 2);
    assert.equal(h.oldestPendingAge, 900_000);
    assert.equal(h.oldestPendingCsr, 'p2');
    assert.equal(h.tigera, 'not-installed');
    const slow = h.signerBacklog.find((s) => s.signerName === 'example.com/slow');
    assert.deepEqual(
      { n: slow?.approvedUnissued, age: slow?.oldestAge, csr: slow?.oldestCsr, stalled: slow?.stalled },
      { n: 2, age: 600_000, csr: 'a1', stalled: true },
    );
    const fast = h.signerBacklog.find((s) => s.signerName === 'example.com/fast');
    assert.equal(fast?.approvedUnissued, 1);
    assert.equal(fast?.stalled, false);
    assert.equal(h.signerBacklog[0]?.signerName, 'example.com/slow', 'worst first');
    assert.equal(signerBacklog(new Map(csrs.map((c) => [c.metadata!.name!, c])), NOW, 1_000_000)[0]?.stalled, false);
  });

  it('reads TigeraStatus conditions, with since and terminal-safe text', () => {
    const tigera = new Map<string, TigeraStatus>([
      [
        'calico',
        {
          metadata: { name: 'calico' },
          status: {
            conditions: [
              {
                type: 'Available',
                status: 'False',
                reason: 'ResourceNotReady',
                message: 'Waiting\u001b[2J for certs',
                lastTransitionTime: '2026-01-01T11:00:00Z',
              },
              {
                type: 'Progressing',
                status: 'True',
                reason: 'ResourceNotReady',
                message: '',
                lastTransitionTime: '2026-01-01T11:30:00Z',
              },
              { type: 'Degraded', status: 'False', reason: '', message: '' },
            ],
          },
        },
      ],
      [
        'apiserver',
        { metadata: { name: 'apiserver' }, status: { conditions: [{ type: 'Available', status: 'True' }] } },
      ],
    ]);
    const h = computeHealth(snapshot([], [], tigera), NOW);
    assert.ok(Array.isArray(h.tigera));
    const [apiserver, calico] = h.tigera as Exclude<typeof h.tigera, 'not-installed'>;
    assert.equal(apiserver?.healthy, true);
    assert.equal(calico?.healthy, false);
    assert.equal(calico?.available?.reason, 'ResourceNotReady');
    assert.equal(calico?.available?.message, 'Waiting\\x1b[2J for certs');
    assert.equal(calico?.since, Date.parse('2026-01-01T11:30:00Z'));
  });
});

describe('humanDuration (kubectl AGE)', () => {
  it('formats like apimachinery duration.HumanDuration', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [45_000, '45s'],
      [119_000, '119s'],
      [200_000, '3m20s'],
      [300_000, '5m'],
      [12 * 60_000, '12m'],
      [(5 * 60 + 4) * 60_000, '5h4m'],
      [10 * 3_600_000, '10h'],
      [3 * 86_400_000, '3d'],
      [(3 * 24 + 5) * 3_600_000, '3d5h'],
      [30 * 86_400_000, '30d'],
      [(2 * 365 + 10) * 86_400_000, '2y10d'],
      [9 * 365 * 86_400_000, '9y'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
  });
});

describe('computeHealth over a live store', () => {
  it('keeps a pod row while its pod and CSR stay the same objects, and the rows array while all do', () => {
    const pods = new SnapshotKind<V1Pod>();
    const csrs = new SnapshotKind<V1CertificateSigningRequest>();
    for (const name of ['a', 'b', 'c']) pods.set(`calico-system/${name}`, pod({ name, status: initWaiting() }));
    csrs.set('calico-system:a:1', csr('calico-system:a:1'));
    csrs.set('calico-system:b:1', csr('calico-system:b:1'));
    const pass = (now = NOW) =>
      computeHealth({ ...snapshot([], []), pods: pods.snapshot(), csrs: csrs.snapshot() }, now);
    const first = pass();
    assert.deepEqual(
      first.podsInInit.map((p) => [p.name, p.csrName, p.csrState]),
      [
        ['a', 'calico-system:a:1', 'Pending'],
        ['b', 'calico-system:b:1', 'Pending'],
        ['c', undefined, undefined],
      ],
    );
    // Time passes and an unrelated CSR arrives: the same rows, the same array; ages are computed at display.
    csrs.set('other', csr('other'));
    const second = pass(NOW + 60_000);
    assert.equal(second.podsInInit, first.podsInInit);
    assert.equal(podAge(second.podsInInit[0] ?? {}, NOW + 60_000), podAge(first.podsInInit[0] ?? {}, NOW) + 60_000);
    // a's CSR is approved: a new row for a, the others kept.
    csrs.set('calico-system:a:1', csr('calico-system:a:1', { conditions: ['Approved'] }));
    const third = pass();
    assert.notEqual(third.podsInInit, second.podsInInit);
    const [a3, b3, c3] = third.podsInInit;
    assert.equal(a3?.csrState, 'Approved');
    assert.notEqual(a3, second.podsInInit[0]);
    assert.equal(b3, second.podsInInit[1]);
    assert.equal(c3, second.podsInInit[2]);
    // b starts running: it leaves the list.
    pods.set('calico-system/b', pod({ name: 'b', status: { phase: 'Running' } }));
    assert.deepEqual(
      pass().podsInInit.map((p) => p.name),
      ['a', 'c'],
    );
  });

  it('links pods the same when its CSR index is updated from changed CSRs as when built afresh', () => {
    // mulberry32, seeded: a failure replays.
    let a = 3;
    const random = (n: number) => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const makePod = (i: number, inInit: boolean) =>
      pod({
        name: `p${i}`,
        uid: `uid-${i}`,
        sa: i % 2 ? 'calico-node' : 'typha',
        created: 100 + i,
        status: inInit ? initWaiting() : { phase: 'Running' },
      });
    const podKind = new SnapshotKind<V1Pod>();
    for (let i = 0; i < 40; i++) podKind.set(`calico-system/p${i}`, makePod(i, true));
    const sa = (i: number) => `system:serviceaccount:calico-system:${i % 2 ? 'calico-node' : 'typha'}`;
    // Every way a CSR links to its pod, chosen at random per CSR.
    const makeCsr = (i: number, variant: number): [string, V1CertificateSigningRequest] => {
      const p = random(40);
      const opts = { created: random(5), username: sa(p), conditions: random(3) ? [] : ['Approved'] };
      switch (variant % 5) {
        case 0:
          return [`c${i}`, csr(`c${i}`, { ...opts, extra: { 'authentication.kubernetes.io/pod-uid': [`uid-${p}`] } })];
        case 1:
          return [`c${i}`, csr(`c${i}`, { ...opts, extra: { 'authentication.kubernetes.io/pod-name': [`p${p}`] } })];
        case 2:
          return [`calico-system:p${p}:${i}`, csr(`calico-system:p${p}:${i}`, opts)];
        case 3:
          return [`x:p${p}`, csr(`x:p${p}`, opts)];
        default:
          return [`sa-p${p}-${i}`, csr(`sa-p${p}-${i}`, opts)];
      }
    };
    const kind = new SnapshotKind<V1CertificateSigningRequest>();
    const names: string[] = [];
    let incremental = 0;
    let previous: ReturnType<typeof computeHealth> | undefined;
    let reused = 0;
    for (let round = 0; round < 200; round++) {
      const ops = round === 0 ? 300 : round % 60 === 0 ? 200 : random(10);
      for (let i = 0; i < ops; i++) {
        if (names.length > 0 && random(3) === 0) {
          kind.delete(names.splice(random(names.length), 1)[0]!);
        } else {
          const [name, c] = makeCsr(round * 1000 + i, random(5));
          kind.set(name, c);
          names.push(name);
        }
      }
      // Now and then a pod leaves Init, comes back (a new object with the same content), or stays as it was.
      for (let i = random(3); i > 0; i--) {
        const p = random(40);
        podKind.set(`calico-system/p${p}`, makePod(p, random(4) > 0));
      }
      const csrs = kind.snapshot();
      const pods = podKind.snapshot();
      if (round > 0 && snapshotBase(csrs) !== csrs) incremental++;
      const live = { ...snapshot([], []), csrs, pods };
      // Copies of every object: nothing cached for them, so this is computed from scratch.
      const fresh = {
        ...snapshot([], []),
        csrs: new Map([...csrs].map(([k, v]) => [k, structuredClone(v)])),
        pods: new Map([...pods].map(([k, v]) => [k, structuredClone(v)])),
      };
      const h = computeHealth(live, NOW);
      assert.deepEqual(h, computeHealth(fresh, NOW), `round ${round}`);
      if (previous && h.podsInInit === previous.podsInInit) reused++;
      previous = h;
    }
    assert.ok(incremental > 150, `${incremental} of 200 rounds compared against an updated index`);
    assert.ok(reused > 10 && reused < 190, `${reused} of 200 rounds reused the previous rows`);
  });
});

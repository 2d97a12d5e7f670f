// Printer rules of the server-side Tables: HumanDuration, the CSR CONDITION column, the pod STATUS column.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../../src/services/sandbox/store.js';
import { csrCondition, podStatusColumns } from '../../../src/services/sandbox/table.js';
import { humanDuration } from '../../../src/services/text/duration.js';

describe('humanDuration', () => {
  it('follows apimachinery duration.HumanDuration', () => {
    const s = 1000;
    const cases: [number, string][] = [
      [-5 * s, '<invalid>'],
      [-1 * s, '0s'],
      [0, '0s'],
      [119 * s, '119s'],
      [120 * s, '2m'],
      [150 * s, '2m30s'],
      [600 * s, '10m'],
      [179 * 60 * s, '179m'],
      [3 * 3600 * s, '3h'],
      [3 * 3600 * s + 20 * 60 * s, '3h20m'],
      [24 * 3600 * s, '24h'],
      [50 * 3600 * s, '2d2h'],
      [10 * 24 * 3600 * s, '10d'],
      [3 * 365 * 24 * 3600 * s, '3y'],
      [3 * 365 * 24 * 3600 * s + 10 * 24 * 3600 * s, '3y10d'],
      [10 * 365 * 24 * 3600 * s, '10y'],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
  });
});

function csr(status: Record<string, unknown>): KObject {
  return { metadata: { name: 'x' }, status };
}

describe('csrCondition', () => {
  it('looks at condition types only, then Failed and Issued', () => {
    assert.equal(csrCondition(csr({})), 'Pending');
    assert.equal(csrCondition(csr({ conditions: [{ type: 'Approved', status: 'False' }] })), 'Approved');
    assert.equal(csrCondition(csr({ conditions: [{ type: 'Approved' }], certificate: 'QQ==' })), 'Approved,Issued');
    assert.equal(csrCondition(csr({ conditions: [{ type: 'Approved' }, { type: 'Failed' }] })), 'Approved,Failed');
    assert.equal(csrCondition(csr({ conditions: [{ type: 'Approved' }, { type: 'Denied' }] })), 'Denied');
    assert.equal(csrCondition(csr({ certificate: 'QQ==' })), 'Pending,Issued');
  });
});

function pod(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KObject {
  return { metadata: { name: 'p', ...meta }, spec, status };
}

const twoInits = { initContainers: [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'app' }] };

describe('podStatusColumns', () => {
  it('Init:i/N for a running or not-started init container', () => {
    const st = podStatusColumns(
      pod(twoInits, {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'b', state: { running: {} } },
        ],
      }),
    );
    assert.equal(st.status, 'Init:1/2');
    assert.equal(st.ready, '0/1');
  });

  it('Init:<reason> for waiting reasons other than PodInitializing and for failures', () => {
    const crash = pod(twoInits, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'a', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    });
    assert.equal(podStatusColumns(crash).status, 'Init:CrashLoopBackOff');
    assert.equal(podStatusColumns(crash).restarts, '2');
    const err = pod(twoInits, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'a', state: { terminated: { exitCode: 1, reason: 'Error' } } }],
    });
    assert.equal(podStatusColumns(err).status, 'Init:Error');
    const sig = pod(twoInits, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }],
    });
    assert.equal(podStatusColumns(sig).status, 'Init:Signal:9');
    const code = pod(twoInits, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'a', state: { terminated: { exitCode: 3 } } }],
    });
    assert.equal(podStatusColumns(code).status, 'Init:ExitCode:3');
  });

  it('PodInitializing once all init containers completed; Running when ready', () => {
    const done = [
      { name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ];
    const initDone = pod(twoInits, {
      phase: 'Pending',
      initContainerStatuses: done,
      containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }],
    });
    assert.equal(podStatusColumns(initDone).status, 'PodInitializing');
    const running = pod(twoInits, {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: done,
      containerStatuses: [{ name: 'app', ready: true, state: { running: {} } }],
    });
    assert.deepEqual(podStatusColumns(running), { ready: '1/1', status: 'Running', restarts: '0' });
  });

  it('Terminating when deleting a non-terminal pod; restarts with the last restart age', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const p = pod(
      { containers: [{ name: 'app' }] },
      {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 4,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:05:00Z' } },
          },
        ],
      },
      { deletionTimestamp: '2026-01-01T00:09:00Z' },
    );
    const st = podStatusColumns(p, now);
    assert.equal(st.status, 'Terminating');
    assert.equal(st.restarts, '4 (5m ago)');
  });

  it('counts restartable init containers (sidecars) in READY', () => {
    const spec = { initContainers: [{ name: 'side', restartPolicy: 'Always' }], containers: [{ name: 'app' }] };
    const st = podStatusColumns(
      pod(spec, {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'side', started: true, ready: true, state: { running: {} } }],
        containerStatuses: [{ name: 'app', ready: true, state: { running: {} } }],
      }),
    );
    assert.deepEqual([st.ready, st.status], ['2/2', 'Running']);
  });
});

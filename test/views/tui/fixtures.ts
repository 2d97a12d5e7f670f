// View-model fixtures for the view tests: a two-context screen as the selectors would build it.
import type { CsrRowVm, InitPodRowVm, ScreenVm } from '../../../src/views/models.js';

export function csrRow(i: number, overrides: Partial<CsrRowVm> = {}): CsrRowVm {
  return {
    key: `east\n${i}`,
    context: i % 2 ? 'west' : 'east',
    name: `calico-system:calico-node-${i}:9a3a10`,
    age: `${i + 1}s`,
    signer: 'example.com/calico',
    requestor: 'system:serviceaccount:calico-system:calico-node',
    condition: 'Pending',
    badge: 'ok',
    marked: false,
    ...overrides,
  };
}

export function initRow(i: number): InitPodRowVm {
  return {
    key: `east\ncalico-system/calico-node-${i}`,
    context: 'east',
    pod: `calico-system/calico-node-${i}`,
    status: 'Init:0/1',
    age: '41s',
    csr: 'calico-system:calico-node-1:9a3a10',
    csrCondition: 'Pending',
    tone: 'warn',
  };
}

export function screen(overrides: Partial<ScreenVm> = {}): ScreenVm {
  const rows = Array.from({ length: 6 }, (_, i) => csrRow(i));
  return {
    columns: 140,
    rows: 40,
    header: {
      contexts: [
        { name: 'east', state: 'live', tone: 'ok' },
        { name: 'west', state: 'retrying 3s (connection refused)', tone: 'warn' },
      ],
      pending: 7,
      stalled: 1,
      init: 5,
      healthTone: 'warn',
    },
    pane: 'csrs',
    csrs: { rows, offset: 0, total: 214, selectedKey: rows[0]?.key },
    csrScope: 'all contexts · pending first',
    ctxWidth: 4,
    initPods: { rows: [initRow(1), initRow(2)], offset: 0, total: 2 },
    health: [
      {
        label: 'east',
        lines: [
          { text: 'calico  Available False  Progressing True  2m', tone: 'warn' },
          { text: 'signer example.com/serving: 1 approved, unissued 20m ⚠', tone: 'bad' },
        ],
      },
      { label: 'west', lines: [{ text: 'TigeraStatus not installed', tone: 'muted' }] },
    ],
    healthOffset: 0,
    tabLabels: { csrs: 'CSRs 7', init: 'Init 2', health: 'Health ⚠' },
    footer: {
      keys: [
        { key: '↑↓', label: 'move' },
        { key: 'a', label: 'approve' },
      ],
    },
    ...overrides,
  };
}

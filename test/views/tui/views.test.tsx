import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsrTable } from '../../../src/views/csr-table.js';
import { DialogView } from '../../../src/views/dialog-view.js';
import { Footer } from '../../../src/views/footer.js';
import { Header } from '../../../src/views/header.js';
import { HealthPane } from '../../../src/views/health-pane.js';
import { HelpView } from '../../../src/views/help-view.js';
import { InitPodsPane } from '../../../src/views/init-pods-pane.js';
import { InspectView } from '../../../src/views/inspect-view.js';
import { MainScreen } from '../../../src/views/main-screen.js';
import { Notice } from '../../../src/views/notice.js';
import { Tabs } from '../../../src/views/tabs.js';
import { ColorContext } from '../../../src/views/theme.js';
import { YamlView } from '../../../src/views/yaml-view.js';
import { csrRow, initRow, screen } from './fixtures.js';
import { frameOf, lines } from './render.js';

describe('views', () => {
  it('Header: contexts with their state, and the counts', async () => {
    const frame = await frameOf(<Header header={screen().header} width={100} />);
    assert.match(frame, /ctx: east ● live west ◐ retrying 3s/);
    assert.match(frame, /pending 7 stalled 1 init 5 health ⚠ \? help/);
    assert.equal(lines(frame).length, 1);
  });

  it('CsrTable: only the window, the selection, marks and badges', async () => {
    const rows = [
      csrRow(0),
      csrRow(1, { marked: true, badge: 'fail' }),
      csrRow(2, { badge: 'waiting', condition: 'Approved' }),
    ];
    const frame = await frameOf(
      <CsrTable
        list={{ rows, offset: 10, total: 214, selectedKey: rows[0]!.key }}
        scope="· all contexts"
        width={100}
        height={7}
        focused
        ctxWidth={4}
      />,
    );
    const l = lines(frame);
    assert.equal(l.length, 7);
    assert.match(l[1]!, /CSRs · all contexts +11–13 of 214/);
    assert.match(l[2]!, /CTX +NAME +AGE +SIGNER/);
    assert.match(l[3]!, /^│▶ east +calico-system:calico-node-0.* Pending +✓/);
    assert.match(l[4]!, /^│ ●west .* ✗/);
    assert.match(l[5]!, /Approved +◷/);
  });

  it('CsrTable: drops the requestor, then the signer, on narrow terminals', async () => {
    const rows = [csrRow(0)];
    const list = { rows, offset: 0, total: 1 };
    const wide = await frameOf(<CsrTable list={list} scope="" width={100} height={6} focused ctxWidth={4} />);
    const narrow = await frameOf(<CsrTable list={list} scope="" width={80} height={6} focused ctxWidth={4} />);
    const tiny = await frameOf(<CsrTable list={list} scope="" width={60} height={6} focused ctxWidth={4} />);
    assert.match(wide, /REQUESTOR/);
    assert.doesNotMatch(narrow, /REQUESTOR/);
    assert.match(narrow, /SIGNER/);
    assert.doesNotMatch(tiny, /SIGNER/);
    for (const f of [wide, narrow, tiny]) assert.match(f, /calico-system:calico-node-0/);
  });

  it('InitPodsPane: pod, Init status, age, the CSR it waits on', async () => {
    const frame = await frameOf(
      <InitPodsPane
        list={{ rows: [initRow(1), initRow(2)], offset: 0, total: 2, selectedKey: initRow(1).key }}
        width={90}
        height={5}
        focused
        ctxWidth={4}
      />,
    );
    assert.match(frame, /Pods in Init +1–2 of 2/);
    assert.match(frame, /▶ east calico-system\/calico-node-1 +Init:0\/1 +41s ← csr .*-1:9a3a10 Pending/);
  });

  it('InitPodsPane: "none waiting" only once the pods are listed', async () => {
    const pane = (listing: boolean) =>
      frameOf(
        <InitPodsPane
          list={{ rows: [], offset: 0, total: 0, ...(listing ? { listing } : {}) }}
          width={60}
          height={4}
          focused={false}
          ctxWidth={4}
        />,
      );
    const listing = await pane(true);
    assert.match(listing, /listing pods…/);
    assert.doesNotMatch(listing, /none waiting/);
    assert.match(await pane(false), /none waiting/);
  });

  it('HealthPane: a label per context, lines scroll', async () => {
    const sections = screen().health;
    const frame = await frameOf(<HealthPane sections={sections} width={70} height={6} focused={false} offset={0} />);
    assert.match(frame, /east calico {2}Available False/);
    assert.match(frame, / {5}signer example\.com\/serving/);
    assert.match(frame, /west TigeraStatus not installed/);
    const scrolled = await frameOf(<HealthPane sections={sections} width={70} height={6} focused={false} offset={2} />);
    assert.doesNotMatch(scrolled, /Available False/);
  });

  it('Footer: status line, then the keys; a prompt replaces the status', async () => {
    const keys = [
      { key: 'a', label: 'approve' },
      { key: 's', label: 'sign (not allowed: sign on signers)', disabled: true },
    ];
    const frame = await frameOf(<Footer status={{ text: 'Approved.', tone: 'ok' }} keys={keys} width={100} />);
    assert.deepEqual(lines(frame), [' Approved.', ' a approve  s sign (not allowed: sign on signers)']);
    const typing = await frameOf(<Footer input={{ prompt: '/', text: 'calico' }} keys={keys} width={100} />);
    assert.match(lines(typing)[0]!, /^\/calico/);
  });

  it('Notice and Tabs', async () => {
    assert.match(await frameOf(<Notice notice={{ text: 'New CSR x in east' }} width={60} />), /New CSR x in east/);
    const tabs = await frameOf(
      <Tabs active="init" labels={{ csrs: 'CSRs 7', init: 'Init 5', health: 'Health ⚠' }} width={60} />,
    );
    assert.match(tabs, /CSRs 7 {2}\| {2}Init 5 {2}\| {2}Health ⚠/);
  });

  it('InspectView: sections with labels, actions at the bottom', async () => {
    const frame = await frameOf(
      <InspectView
        inspect={{
          title: 'calico-node-x',
          facts: '· east · Pending · 41s',
          sections: [
            { label: 'Request', lines: [{ text: 'CN=calico-node' }, { text: 'proof of possession ✓', tone: 'ok' }] },
            { label: 'Findings', lines: [{ text: '✗ weak key', tone: 'bad' }] },
          ],
          actions: [{ text: 'a approve' }, { text: 's sign (not allowed: sign)', tone: 'muted' }],
        }}
        width={100}
        height={8}
        offset={0}
      />,
    );
    const l = lines(frame);
    assert.match(l[0]!, /CSRs › calico-node-x · east · Pending · 41s +esc back/);
    assert.match(l[1]!, /^ Request +CN=calico-node$/);
    assert.match(l[2]!, /^ +proof of possession ✓$/);
    assert.match(l[3]!, /^ Findings +✗ weak key$/);
    assert.match(frame, /a approve {2}s sign \(not allowed: sign\)/);
  });

  it('DialogView: details, fields with the active one marked, preview, error, prompt', async () => {
    const frame = await frameOf(
      <DialogView
        dialog={{
          title: 'Deny 1 CSR?',
          tone: 'info',
          details: [{ label: 'CSR', lines: [{ text: 'x · east' }] }],
          fields: [
            { label: 'reason', value: 'NotOurs', active: false },
            { label: 'message', value: 'nope', active: true },
          ],
          preview: ['kind: Secret'],
          error: 'Give a reason.',
          prompt: '⏎ confirm   esc cancel',
        }}
        width={80}
        height={14}
      />,
    );
    assert.match(frame, /Deny 1 CSR\?/);
    assert.match(frame, / {3}reason: NotOurs/);
    assert.match(frame, / › message: nope/);
    assert.match(frame, /kind: Secret/);
    assert.match(frame, /Give a reason\./);
    assert.match(frame, /⏎ confirm {3}esc cancel/);
  });

  it('HelpView and YamlView scroll', async () => {
    const help = await frameOf(
      <HelpView
        groups={[{ title: 'Move', keys: [{ key: 'j k', label: 'move' }] }]}
        places={[{ label: 'audit log', lines: [{ text: '/tmp/audit.jsonl' }] }]}
        width={80}
        height={10}
        offset={0}
      />,
    );
    assert.match(help, /Move/);
    assert.match(help, /j k +move/);
    assert.match(help, /audit log +\/tmp\/audit\.jsonl/);
    const yaml = await frameOf(
      <YamlView title="x · east" lines={['a: 1', 'b: 2', 'c: 3']} width={80} height={3} offset={1} />,
    );
    assert.match(yaml, /x · east .*\(2\/3\)/);
    assert.match(yaml, /b: 2\nc: 3/);
    assert.doesNotMatch(yaml, /a: 1/);
  });

  it('MainScreen fills exactly the terminal at 100×30, with both bottom panes', async () => {
    const frame = await frameOf(<MainScreen screen={screen({ columns: 100, rows: 30 })} />);
    const l = lines(frame);
    assert.equal(l.length, 30);
    assert.ok(l.every((line) => [...line].length <= 100));
    assert.match(frame, /Pods in Init/);
    assert.match(frame, /Health/);
  });

  it('MainScreen turns panes into tabs at 80×24', async () => {
    const frame = await frameOf(<MainScreen screen={screen({ columns: 80, rows: 24, pane: 'health' })} />);
    const l = lines(frame);
    assert.equal(l.length, 24);
    assert.match(frame, /CSRs 7 {2}\| {2}Init 2 {2}\| {2}Health ⚠/);
    assert.match(frame, /TigeraStatus not installed/);
    assert.doesNotMatch(frame, /CTX +NAME/);
  });

  it('MainScreen shows an overlay instead of the panes', async () => {
    const frame = await frameOf(
      <MainScreen
        screen={screen({
          columns: 100,
          rows: 30,
          overlay: { kind: 'yaml', title: 'csr-x', lines: ['kind: CertificateSigningRequest'], offset: 0 },
        })}
      />,
    );
    assert.match(frame, /kind: CertificateSigningRequest/);
    assert.doesNotMatch(frame, /Pods in Init/);
  });

  it('renders without colour codes when colour is off', async () => {
    const frame = await frameOf(
      <ColorContext.Provider value={false}>
        <Header header={screen().header} width={100} />
      </ColorContext.Provider>,
    );
    assert.doesNotMatch(frame, /\x1b\[3\dm/);
  });
});

describe('views at 80 columns', () => {
  it('Header: compact counts leave room for the contexts', async () => {
    const frame = await frameOf(<Header header={screen().header} width={80} />);
    assert.match(frame, /pend 7 stall 1 init 5 ⚠ \?/);
    assert.match(frame, /west ◐/);
  });
});

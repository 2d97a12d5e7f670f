// End to end: the built binary (`npm run build` → bin/certdesk.js) in tmux against a two-cluster sandbox with the
// calico-rollout and hostile scenarios. Keys go in through tmux, the screen is read back with capture-pane.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { caCertificatePem, initCa } from '../../../src/services/config/ca-registry.js';
import { clients, csrObject, makeCsrPem, type Sandbox, startTestSandbox, waitFor } from '../../helpers/sandbox.js';
import { selectedRow, TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const SIGNER = 'example.com/calico';
/** Our own request's signer: only Calico's provisioners request from the Calico signer (a ✗ finding otherwise). */
const WEB_SIGNER = 'example.com/web';

function _shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe('TUI end to end (built binary in tmux)', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let term: TmuxTerminal;
  let east: ReturnType<typeof clients>;
  let west: ReturnType<typeof clients>;
  let caPem: string;
  let webCaPem: string;
  const keyFile = () => join(dir, 'web.key');

  const csrsIn = async (c: ReturnType<typeof clients>) =>
    (await c.certs.listCertificateSigningRequest()).items as V1CertificateSigningRequest[];
  const calicoCsrs = async (c: ReturnType<typeof clients>, kind: string) =>
    (await csrsIn(c)).filter((x) => (x.metadata?.name ?? '').startsWith(`calico-system:calico-${kind}`));

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-e2e-'));
    const configDir = join(dir, 'config');
    await initCa({ signerName: SIGNER, cwd: configDir });
    caPem = await caCertificatePem(SIGNER, { cwd: configDir });
    await initCa({ signerName: WEB_SIGNER, cwd: configDir });
    webCaPem = await caCertificatePem(WEB_SIGNER, { cwd: configDir });
    sandbox = await startTestSandbox(undefined, {
      clusters: ['east', 'west'],
      scenarios: ['calico-rollout', 'hostile'],
      scenarioOptions: { 'calico-rollout': { nodes: 2, caCertPem: caPem, backoffMs: 600_000 } },
    });
    east = clients(sandbox.cluster('east').kubeConfigFor('admin', ['system:masters']));
    west = clients(sandbox.cluster('west').kubeConfigFor('admin', ['system:masters']));
    // A request of our own, whose key we hold, for the Secret export.
    const { pem, key } = makeCsrPem({ commonName: 'web.default.svc', dnsNames: ['web.default.svc'] });
    writeFileSync(keyFile(), key.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    await east.certs.createCertificateSigningRequest({
      body: csrObject('tui-e2e-web', pem, WEB_SIGNER, ['digital signature', 'key encipherment', 'server auth']),
    });
    await waitFor(async () => (await calicoCsrs(east, 'node-')).length >= 2, 'the calico CSRs in east', 20_000);
    await waitFor(async () => (await calicoCsrs(west, 'node-')).length >= 2, 'the calico CSRs in west', 20_000);

    term = new TmuxTerminal(140, 40);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east', '--context', 'west'], {
      dir,
      ...(process.env.CERTDESK_TUI_KEYLOG ? { env: { CERTDESK_TUI_KEYLOG: process.env.CERTDESK_TUI_KEYLOG } } : {}),
    });
    await term.waitFor((s) => /east ● live/.test(s) && /west ● live/.test(s), 'both contexts live', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a hostile CSR as visible escapes: the title and the screen stay intact', async () => {
    const titleBefore = term.title();
    await term.filter('hostile-escape-sequences');
    // Both clusters hold one; which is older (listed first) depends on timing: select east's.
    const onEast = (s: string) => selectedRow(s)?.slice(3).startsWith('east ') === true;
    if (!onEast(await term.waitFor((s) => selectedRow(s) !== undefined, 'a selected row'))) term.keys('j');
    await term.waitFor(onEast, "east's hostile-escape-sequences selected");
    term.keys('Enter');
    // The title is drawn from the snapshot at once; the subject and the findings once the request is decoded.
    const screen = await term.waitFor(
      (s) => s.includes('hostile-escape-sequences · east') && /✗ Control, bidi or invisible characters/.test(s),
      'the inspect view with its findings',
    );
    assert.equal(term.title(), titleBefore, 'the pane title did not change');
    assert.ok(!term.title().includes('pwned'));
    assert.match(screen, /\\x1b\]0\\;pwned\\x07/, 'the OSC title sequence shows as text');
    assert.match(screen, /^ certdesk {2}ctx: east/m, 'the header is still on the first line');
    assert.ok(!/^APPROVE ME/m.test(screen), 'no injected text at the start of a line');
    assert.match(screen, /✗ Control, bidi or invisible characters/);
    // Approving it would ask for its name; esc leaves it alone.
    term.keys('a');
    await term.waitForText('type hostile-escape-sequences to confirm');
    term.keys('Escape');
    await term.waitForText('a approve  x deny');
    term.keys('Escape');
    await term.waitForText('CTX  NAME');
    assert.equal(term.title(), titleBefore);
  });

  it('Ctrl-A does nothing: a modifier never triggers a verb (issue 18.9)', async () => {
    await term.filter('hostile-rsa-1024');
    term.keys('C-a');
    term.keys('C-x');
    // Had Ctrl-A opened "Approve 1 CSR?", this `/` would have gone to that dialog, not to a filter prompt.
    term.keys('/');
    await term.waitForText(/^\s*\/hostile-rsa-1024\s*$/m);
    term.keys('Escape');
    // The table's heading shows while the prompt is open too: wait for the prompt to go.
    const screen = await term.waitFor(
      (s) => s.includes('CTX  NAME') && !/^\s*\/hostile-rsa-1024\s*$/m.test(s),
      'the prompt closed',
    );
    assert.doesNotMatch(screen, /Approve 1 CSR|Deny 1 CSR/);
    const csr = await east.certs.readCertificateSigningRequest({ name: 'hostile-rsa-1024' });
    assert.equal((csr.status?.conditions ?? []).length, 0);
  });

  it('reads several keys sent at once as several key presses (jjjjjj, then kk)', async () => {
    // ctx and name of a table row (the age column changes while we look).
    const rowId = (line: string | undefined) => line?.slice(3).trim().split(/\s+/).slice(0, 2).join(' ');
    const tableRows = (screen: string) => screen.split('\n').filter((l) => /^│[▶ ][● ](east|west) +\S/.test(l));
    // No filter: an empty one clears it (Ctrl-U empties the one `/` starts from).
    // Each key once the screen shows the one before it took effect, as a person types (a busy machine can
    // otherwise deliver `/` and Ctrl-U in one read).
    term.keys('/');
    await term.waitForText(/^\s*\/\S*\s*$/m);
    term.keys('C-u');
    await term.waitForText(/^\s*\/\s*$/m);
    term.keys('Enter');
    term.keys('g');
    const screen = await term.waitFor(
      (s) => tableRows(s).length >= 5 && selectedRow(s) === tableRows(s)[0],
      'five CSR rows, the first selected',
    );
    const rows = tableRows(screen);
    term.keysAtOnce('j', 'j', 'j', 'j', 'j', 'j');
    term.keysAtOnce('k', 'k');
    await term.waitFor(
      (s) => rowId(selectedRow(s)) === rowId(rows[4]),
      `the cursor on the fifth row (${rowId(rows[4])})`,
    );
    term.keys('g');
  });

  it('approves and signs a Calico CSR from the keyboard; its pod runs', async () => {
    const [first] = await calicoCsrs(east, 'node-');
    const name = first!.metadata!.name!;
    const pod = name.split(':')[1]!;
    await term.filter(name);
    term.keys('A');
    await term.waitForText('Approve and sign 1 CSR?');
    await term.waitForText('CA        CN=example.com/calico CA');
    await term.confirm(name);
    await term.waitForText('Approved and signed.');
    await waitFor(
      async () =>
        (await east.core.readNamespacedPod({ name: pod, namespace: 'calico-system' })).status?.phase === 'Running',
      `pod ${pod} Running`,
      30_000,
    );
    await term.filter('calico-system/');
    // The Init pane may cut a long name from the front: its tail, followed by the Init status, is what shows.
    await term.waitFor((s) => !new RegExp(`${pod.slice(-5)} +Init:`).test(s), `pod ${pod} gone from Pods in Init`);
  });

  /** Marks the first `count` rows with Space, all the Spaces in one send (one stdin chunk). */
  async function markRows(count: number): Promise<void> {
    term.keys('g');
    // Every row to mark must be drawn first (a filter can match before the last watch event is on screen): Space on
    // the last row drawn would mark it again, i.e. unmark it.
    const rows = (s: string) => s.split('\n').filter((l) => /^│[▶ ][● ](east|west) +\S/.test(l)).length;
    await term.waitFor((s) => /^│▶/m.test(s) && rows(s) >= count, `${count} rows, one selected`);
    term.keysAtOnce(...Array.from({ length: count }, () => 'Space'));
    await term.waitForText(`${count} selected`);
  }

  /** Runs a `:` command and waits for its answer in the status line. */
  async function command(line: string, answer: string): Promise<void> {
    term.keys(':');
    term.type(line);
    term.keys('Enter');
    await term.waitForText(answer);
  }

  it('bulk-approves, bulk-signs, and TigeraStatus turns Available', async () => {
    await command('ctx east', 'Context east.');
    await term.filter('calico-system:calico-');
    const pending = (await calicoCsrs(east, '')).filter((c) => !(c.status?.conditions ?? []).length);
    assert.ok(pending.length >= 2, 'at least two calico CSRs left in east');
    // Pending rows come first: mark them all, one key at a time.
    await markRows(pending.length);
    term.keys('a');
    await term.waitForText(`Approve ${pending.length} CSRs?`);
    await term.waitForText(`${pending.length} CSRs: ${pending.length} ✓`);
    term.keys('Enter');
    await term.waitForText(`Approved ${pending.length} of ${pending.length}.`);
    await term.filter('approved');
    await markRows(pending.length);
    term.keys('s');
    await term.waitForText(`Sign ${pending.length} CSRs?`);
    term.keys('Enter');
    await term.waitForText(`Signed ${pending.length} of ${pending.length}.`, 30_000);
    await command('ctx all', 'All contexts.');
    await term.waitForText(/east +calico {2}Available True/, 30_000);
  });

  it('denies with a reason; the pod fails', async () => {
    const [target] = await calicoCsrs(west, 'node-');
    const name = target!.metadata!.name!;
    const pod = name.split(':')[1]!;
    await term.filter(name);
    term.keys('x');
    await term.waitForText('Deny 1 CSR?');
    term.type('NotOurNode');
    term.keys('Tab');
    term.type('unexpected node');
    term.keys('Enter');
    await term.waitForText('Denied.');
    const csr = await west.certs.readCertificateSigningRequest({ name });
    const denied = csr.status?.conditions?.find((c) => c.type === 'Denied');
    assert.equal(denied?.reason, 'NotOurNode');
    assert.equal(denied?.message, 'unexpected node');
    await term.filter(pod);
    // A long status narrows the name column; a cut keeps the pod's name (its tail).
    await term.waitForText(new RegExp(`west +\\S*${pod.slice(-5)} +Init:(Error|CrashLoopBackOff)`), 30_000);
  });

  it('deletes instead of denying: Ctrl-D in the deny dialog, then Enter; the request is gone, never Denied', async () => {
    const { pem } = makeCsrPem({ commonName: 'ask-again.example.com', dnsNames: ['ask-again.example.com'] });
    await west.certs.createCertificateSigningRequest({ body: csrObject('tui-e2e-ask-again', pem, WEB_SIGNER) });
    await term.filter('tui-e2e-ask-again');
    term.keys('x');
    await term.waitForText('^D delete instead');
    term.type('D'); // a plain D is text for the reason field, not the switch
    await term.waitFor((s) => /CertdeskDeny\): D\b/.test(s), 'D typed into the reason');
    term.keys('C-d');
    await term.waitForText('Delete 1 CSR instead of denying?');
    await term.waitForText('asks again with a new one.');
    term.keys('Enter');
    await term.waitForText('Deleted.');
    await waitFor(
      async () => !(await csrsIn(west)).some((c) => c.metadata?.name === 'tui-e2e-ask-again'),
      'the request deleted',
      10_000,
    );
    const audit = readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; csrName?: string; phase?: string; outcome?: string });
    assert.deepEqual(
      audit.filter((e) => e.csrName === 'tui-e2e-ask-again').map((e) => [e.action, e.phase, e.outcome]),
      [
        ['delete', 'intent', undefined],
        ['delete', 'outcome', 'ok'],
      ],
    );
  });

  it('switches context with :ctx', async () => {
    await term.filter('hostile-rsa-1024');
    term.keys(':');
    term.type('ctx west');
    term.keys('Enter');
    let screen = await term.waitForText('ctx west · pending first');
    assert.match(screen, /│[▶ ][● ]west +hostile-rsa-1024/);
    assert.doesNotMatch(screen, /│[▶ ][● ]east +hostile-rsa-1024/);
    term.keys(':');
    term.type('ctx all');
    term.keys('Enter');
    screen = await term.waitForText('all contexts · pending first');
    assert.match(screen, /│[▶ ][● ]east +hostile-rsa-1024/);
  });

  it('exports a TLS Secret and the CA ConfigMap into the cluster', async () => {
    await term.filter('tui-e2e-web');
    term.keys('A');
    await term.waitForText('Approve and sign 1 CSR?');
    await term.confirm('tui-e2e-web');
    await term.waitForText('Approved and signed.');
    await term.waitFor((s) => /tui-e2e-web .*Approved,Issued/.test(s), 'the CSR issued on screen');
    term.keys('e');
    await term.waitForText("requester's private key file");
    term.keys('Tab', 'Tab');
    // A wrong path: the error shows and the dialog keeps everything typed (issue 24); Ctrl-U clears the field.
    term.type(join(dir, 'no-such.key'));
    term.keys('Enter');
    await term.waitForText(/no-such\.key does not exist; check the path/);
    await term.waitForText(/› requester's private key file: .*no-such\.key/);
    term.keys('C-u');
    term.type(keyFile());
    await term.waitForText('kind: Secret');
    term.keys('Enter');
    await term.waitForText('Secret default/tui-e2e-web-tls created.');
    const secret = await east.core.readNamespacedSecret({ name: 'tui-e2e-web-tls', namespace: 'default' });
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.match(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString(), /BEGIN CERTIFICATE/);
    term.keys('E');
    await term.waitForText('Export the CA of example.com/web as a ConfigMap in east');
    term.keys('Enter');
    await term.waitForText('ConfigMap default/web-ca created.');
    const cm = await east.core.readNamespacedConfigMap({ name: 'web-ca', namespace: 'default' });
    assert.equal(cm.data?.['ca.crt']?.trim(), webCaPem.trim());
  });

  it('shows a notice when a new CSR arrives', async () => {
    const { pem } = makeCsrPem({ commonName: 'late.default.svc' });
    await west.certs.createCertificateSigningRequest({ body: csrObject('tui-e2e-late', pem, SIGNER) });
    await term.waitForText('New CSR tui-e2e-late in west');
  });

  it('wrote every action to the audit log', () => {
    const lines = readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const entries = lines.map((l) => JSON.parse(l) as { action: string; outcome: string; context: string });
    const done = new Set(entries.filter((e) => e.outcome === 'ok').map((e) => `${e.context}:${e.action}`));
    for (const want of ['east:approve', 'east:sign', 'west:deny', 'east:export-secret', 'east:export-configmap']) {
      assert.ok(done.has(want), `audit has ${want}`);
    }
  });

  it('on a pod: l shows the waiting init container log, d describes it, y its YAML; :pods and :csr', async () => {
    await term.filter('calico-system');
    await command('pods', 'Pods in Init.');
    await term.waitForText('l init logs');
    term.keys('l');
    await term.waitForText(/Pods in Init › calico-system\/calico-\S+ · (east|west) › logs \S*key-cert-provisioner/);
    await term.waitForText('level=info msg="created CSR calico-system:');
    term.keys('Escape');
    term.keys('d');
    await term.waitForText('Init Containers:');
    term.keys('Escape');
    term.keys('y');
    await term.waitForText('kind: Pod');
    term.keys('Escape');
    await command('csr', 'CSRs.');
    await term.waitForText('space select');
  });

  it('quits with q and leaves the alternate screen', async () => {
    term.keys('q');
    await waitFor(() => term.dead(), 'the TUI to exit', 10_000);
  });
});

// The Certificates view in a real terminal (tmux) with the built binary, against a sandbox running the
// `certificates` scenario: `C` opens it, soonest expiry first, the filter, inspect with the chain and what to do,
// a jump to the signer's CSRs, and Health's count.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';
import { TmuxTerminal } from './tmux.js';

const root = resolve(import.meta.dirname, '../../..');
const _quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('tui e2e: Certificates', () => {
  let sandbox: Sandbox;
  let term: TmuxTerminal;
  let dir: string;

  before(async () => {
    // Builds only when the sources changed since dist/ was built (scripts/build.mjs), so a lone run is never stale.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'certdesk-tui-certs-'));
    sandbox = await startTestSandbox(undefined, { clusters: ['east'], scenarios: ['certificates'] });
    term = new TmuxTerminal(160, 40);
    term.startCertdesk(['--kubeconfig', sandbox.kubeconfigPath, '--context', 'east'], { dir });
    await term.waitFor((s) => /east ● live/.test(s), 'east live', 60_000);
  });

  after(async () => {
    term?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Health counts what expires within 30 days', async () => {
    await term.waitForText(/certificates: \d+ expire within 30d/, 30_000);
  });

  it('C lists the certificates soonest first; / filters; Enter inspects; esc comes back', async () => {
    term.type('C');
    const screen = await term.waitFor(
      // Decoding is sliced, so rows arrive over several frames: the list is whole once its note stops saying that
      // a context is still being read.
      (s) => /Certificates .*soonest expiry first/.test(s) && /legacy-tls/.test(s) && !/reading certificates/.test(s),
      'the whole list',
      30_000,
    );
    const rows = screen.split('\n').filter((l) => /Secret certs-demo\//.test(l));
    assert.ok(rows.length >= 8, screen);
    assert.ok(rows.findIndex((r) => r.includes('garbage-tls')) < rows.findIndex((r) => r.includes('legacy-tls')));
    assert.ok(rows.findIndex((r) => r.includes('legacy-tls')) < rows.findIndex((r) => r.includes('api-tls')));
    assert.match(rows.find((r) => r.includes('mismatch-tls')) ?? screen, /key-mismatch/);

    term.type('/foreign');
    term.keys('Enter');
    await term.waitFor((s) => /filter foreign/.test(s) && !/legacy-tls/.test(s), 'the filtered list');
    term.keys('Enter');
    const inspect = await term.waitForText(/does not verify against ca\.crt of Secret certs-demo\/foreign-tls/);
    assert.match(inspect, /subject CN=foreign/);
    assert.match(inspect, /What to do/);
    term.keys('Escape');
    await term.waitFor((s) => /filter foreign/.test(s) && /foreign-tls/.test(s), 'back in the list');
    term.keys('Escape');
    await term.waitFor((s) => /CSRs · /.test(s) && !/soonest expiry first/.test(s), 'the main screen');
  });
});

// A SoftHSM2 token in a temp directory (its own SOFTHSM2_CONF), for the PKCS#11 tests. Tests skip, saying why, only
// when softhsm2 is not installed (CI installs it: .ci/run).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE =
  [
    '/usr/lib/softhsm/libsofthsm2.so',
    '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
    '/usr/local/lib/softhsm/libsofthsm2.so',
  ].find((p) => existsSync(p)) ?? '';

/** Why the token tests cannot run here, or undefined. */
export function softhsmMissing(): string | undefined {
  if (!SOFTHSM_MODULE) return 'SoftHSM2 is not installed (apt-get install softhsm2)';
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'softhsm2-util is not on PATH (apt-get install softhsm2)';
  }
  return undefined;
}

export interface SoftHsm {
  dir: string;
  /** SOFTHSM2_CONF and CERTDESK_PKCS11_MODULE for a child process. */
  env: { SOFTHSM2_CONF: string; CERTDESK_PKCS11_MODULE: string };
  tokenDir: string;
  /** Initialises a token with this label, user PIN and SO PIN. */
  initToken(label: string, pin: string, soPin?: string): void;
  remove(): void;
}

export function makeSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf, CERTDESK_PKCS11_MODULE: SOFTHSM_MODULE };
  return {
    dir,
    env,
    tokenDir,
    initToken(label, pin, soPin = '87654321') {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

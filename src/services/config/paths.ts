// Where certdesk keeps its files (XDG): config (CA registry, CA keys it created, profiles) and state (audit log).
// CERTDESK_CONFIG_DIR and CERTDESK_STATE_DIR override them, which is what tests use.
import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** $CERTDESK_CONFIG_DIR, else $XDG_CONFIG_HOME/certdesk, else ~/.config/certdesk. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CERTDESK_CONFIG_DIR) return env.CERTDESK_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'certdesk');
  return join(homedir(), '.config', 'certdesk');
}

/** $CERTDESK_STATE_DIR, else $XDG_STATE_HOME/certdesk, else ~/.local/state/certdesk. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CERTDESK_STATE_DIR) return env.CERTDESK_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'certdesk');
  return join(homedir(), '.local', 'state', 'certdesk');
}

/** User signing profiles (`<name>.json`), searched before the built-in ones. */
export function profilesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'profiles');
}

/**
 * Creates `dir` (and missing parents) readable by the user only: each directory made here is 0700 whatever the
 * umask (mkdir's mode is masked by it; under umask 000 a default mkdir is 0777). Existing directories are left as
 * they are.
 */
export function makePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, 0o700);
    if (d === first || dirname(d) === d) break;
  }
}

// Where certdesk keeps its files (XDG): config (CA registry, CA keys it created, profiles) and state (audit log).
// CERTDESK_CONFIG_DIR and CERTDESK_STATE_DIR override them, which is what tests use.
import { homedir } from 'node:os';
import { join } from 'node:path';

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

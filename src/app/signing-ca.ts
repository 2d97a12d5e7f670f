// The CA a TUI verb signs with (`s`, `A`, the PCR view's `s`): the registry's CA for the signer and its profile.
// A key whose secret (a token's PIN, an encrypted key file's passphrase) has no registered source (env, file) is
// unlocked with what the person typed in the dialog's masked field: read once, for this load only, never stored.
import { profilesDir } from '../services/config/paths.js';
import type { CaKey } from '../services/pki/ca-key.js';
import { DEFAULT_PROFILE, type LoadedCa, loadProfile, type SigningProfile } from '../services/pki/index.js';
import { PkiError } from '../services/pki/types.js';
import { caRegistry } from './lazy.js';

export interface SigningCa {
  ca: LoadedCa;
  profile: SigningProfile;
  /**
   * The secret the key needs and nothing gives, in the words the headless prompt asks with (`PIN for token "ca"`,
   * `passphrase for /p/ca-key.pem`); then `ca` has the certificate (checked as for signing) and a key that cannot
   * sign, for the dialog's preview.
   */
  needs?: string;
}

/**
 * A key asked for a secret its dialog had no field for (the token was let go while idle after the dialog opened):
 * nothing was signed, and the dialog comes back with the field (EffectStatus.ask).
 */
export class SecretNeeded extends PkiError {
  constructor(readonly needs: string) {
    super('bad-key', `The ${needs} is needed now: press the key again (s, A) to type it.`);
  }
}

/**
 * Loads the CA registered for `signer`. `secret`: the typed PIN or passphrase, handed to the key once, only if it
 * asks; a wrong one throws (one sentence). For a dialog's `preview`, a key that asks and has no `secret` comes back
 * with `needs` instead of throwing.
 */
export async function signingCa(
  signer: string,
  registryDir: string | undefined,
  { secret, preview = false }: { secret?: string | undefined; preview?: boolean } = {},
): Promise<SigningCa> {
  const opts = registryDir ? { cwd: registryDir } : {};
  const { caCertificatePem, getCa, loadCaForSigner } = await caRegistry();
  const entry = getCa(signer, opts);
  const profile = entry.profile ? await loadProfile(entry.profile, [profilesDir()]) : DEFAULT_PROFILE;
  let needs: string | undefined;
  let once = secret;
  const ask = async (prompt: string) => {
    // The prompt's words read inside a sentence: `passphrase for …`, `PIN for token "…"`.
    needs = prompt.replace(/:\s*$/, '').replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
    const given = once;
    once = undefined;
    return given;
  };
  try {
    return { ca: await loadCaForSigner(signer, { ...opts, ask }), profile };
  } catch (err) {
    if (needs === undefined || secret !== undefined) throw err;
    // The dialog did not ask (the token was let go while idle since it opened): it comes back asking.
    if (!preview) throw new SecretNeeded(needs);
    const certPem = await caCertificatePem(signer, opts);
    const { caCertificateKey, loadCaWithKey } = await import('../services/pki/ca.js');
    const asked = needs;
    const locked: CaKey = {
      publicKey: await caCertificateKey(certPem),
      location: entry.keyUri ? { kind: 'pkcs11', uri: entry.keyUri } : { kind: 'encrypted-file' },
      sign: () => Promise.reject(new PkiError('bad-key', `Type the ${asked} in the dialog first.`)),
    };
    return { ca: await loadCaWithKey(certPem, locked), profile, needs };
  }
}

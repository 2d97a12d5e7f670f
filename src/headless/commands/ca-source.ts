// Which CA signs: files given on the command line, the registry entry for --signer, or the registry entry for
// each CSR's own signerName. Also the signing profile. Problems become one-line CliErrors.
import { getCa, loadCaForSigner, loadCaFromFiles } from '../../services/config/ca-registry.js';
import { profilesDir } from '../../services/config/paths.js';
import { type LoadedCa, loadProfile, PkiError, type SigningProfile } from '../../services/pki/index.js';
import { type KeySecretFlags, keySecrets } from '../pki/common.js';
import { CliError } from '../cli-error.js';
import { oneSentence } from './common.js';

export interface CaCliOptions extends KeySecretFlags {
  signer?: string;
  caCert?: string;
  caKey?: string;
  allowInsecureKeyFile?: boolean;
  profile?: string;
}

export function pkiToCli(err: unknown): never {
  if (err instanceof PkiError) throw new CliError(oneSentence(err.message));
  throw err;
}

export interface CaChoice {
  ca: LoadedCa;
  /** Set when the CA came from the registry: the signer it signs for. */
  signerName?: string;
  /** The registry entry's default profile name. */
  profileName?: string;
}

/** Returns a loader: (csrSignerName) → the CA to use, cached per signer. */
export function caLoader(opts: CaCliOptions): (csrSigner: string) => Promise<CaChoice> {
  if ((opts.caCert && !opts.caKey) || (!opts.caCert && opts.caKey)) {
    throw new CliError('--ca-cert and --ca-key go together; pass both, or use --signer for a registered CA');
  }
  if (opts.caCert && opts.signer) {
    throw new CliError('pass either --signer (a registered CA) or --ca-cert/--ca-key, not both');
  }
  const cache = new Map<string, Promise<CaChoice>>();
  const secrets = { ...keySecrets(opts), ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}) };
  const load = async (signer: string): Promise<CaChoice> => {
    try {
      if (opts.caCert && opts.caKey) {
        return { ca: await loadCaFromFiles({ ...secrets, certPath: opts.caCert, key: opts.caKey }) };
      }
      const entry = getCa(signer);
      const ca = await loadCaForSigner(signer, secrets);
      return { ca, signerName: signer, ...(entry.profile ? { profileName: entry.profile } : {}) };
    } catch (err) {
      return pkiToCli(err);
    }
  };
  return (csrSigner: string) => {
    const key = opts.caCert ? '<files>' : (opts.signer ?? csrSigner);
    let p = cache.get(key);
    if (!p) {
      p = load(key);
      cache.set(key, p);
    }
    return p;
  };
}

export async function profileFor(name: string | undefined): Promise<SigningProfile | undefined> {
  if (!name) return undefined;
  try {
    return await loadProfile(name, [profilesDir()]);
  } catch (err) {
    return pkiToCli(err);
  }
}

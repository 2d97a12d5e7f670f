// Which CA signs: files given on the command line, the registry entry for --signer, or the registry entry for
// each CSR's own signerName. Also the signing profile. Problems become one-line CliErrors.
import { checkKeyFilePermissions, getCa, loadCaForSigner } from '../../services/config/ca-registry.js';
import { profilesDir } from '../../services/config/paths.js';
import { type LoadedCa, loadCaFromPem, loadProfile, PkiError, type SigningProfile } from '../../services/pki/index.js';
import { CliError } from '../cli-error.js';
import { oneSentence, readLocalFile } from './common.js';

export interface CaCliOptions {
  signer?: string;
  caCert?: string;
  caKey?: string;
  passphraseEnv?: string;
  allowInsecureKeyFile?: boolean;
  profile?: string;
}

export function pkiToCli(err: unknown): never {
  if (err instanceof PkiError) throw new CliError(oneSentence(err.message));
  throw err;
}

function passphraseFrom(opts: CaCliOptions): string | undefined {
  if (!opts.passphraseEnv) return undefined;
  const value = process.env[opts.passphraseEnv];
  if (value === undefined) {
    throw new CliError(`the environment variable ${opts.passphraseEnv} (from --passphrase-env) is not set`);
  }
  return value;
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
  const passphrase = passphraseFrom(opts);
  const load = async (signer: string): Promise<CaChoice> => {
    try {
      if (opts.caCert && opts.caKey) {
        await checkKeyFilePermissions(opts.caKey, opts.allowInsecureKeyFile);
        const [certPem, keyPem] = await Promise.all([
          readLocalFile(opts.caCert, 'CA certificate'),
          readLocalFile(opts.caKey, 'CA key'),
        ]);
        return { ca: await loadCaFromPem(certPem, keyPem, passphrase !== undefined ? { passphrase } : {}) };
      }
      const entry = getCa(signer);
      const ca = await loadCaForSigner(signer, {
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}),
      });
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

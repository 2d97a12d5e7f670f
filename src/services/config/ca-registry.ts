// The CAs held on this workstation, keyed by signerName (several at once: one per tenant in the Istio setup).
// Stored with conf as paths and metadata only; CA private keys stay in their own 0600 files, never in the registry.
import { constants } from 'node:fs';
import { access, chmod, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import Conf from 'conf';
import {
  caCertificateKey,
  caCertificatesOf,
  createCa,
  createCaWithKey,
  loadCaFromPem,
  loadCaWithKey,
} from '../pki/ca.js';
import { decodeCertificate } from '../pki/decode.js';
import { caKeyWeakness, encryptKeyPem, keySpecFromAlgorithm, readPrivateKey } from '../pki/keys.js';
import { type CaCertificates, type KeyAlgorithmName, type LoadedCa, PkiError } from '../pki/types.js';
import { BoundedReadError, PEM_FILE_LIMIT, readBoundedText } from '../files/read-bounded.js';
import { configDir, makePrivateDir } from './paths.js';

export interface CaRegistryEntry {
  signerName: string;
  certPath: string;
  /** The key file (plain or encrypted PEM); absent for a key in a token. */
  keyPath?: string;
  /** The key in a PKCS#11 token (RFC 7512 URI, never with a PIN); absent for a key file. */
  keyUri?: string;
  /** The PKCS#11 module for keyUri ($CERTDESK_PKCS11_MODULE when absent). */
  pkcs11Module?: string;
  chainPath?: string;
  /** Name of the environment variable that holds the key's passphrase (never the passphrase itself). */
  passphraseEnv?: string;
  /** A file holding the passphrase (a mounted Secret). */
  passphraseFile?: string;
  /** Name of the environment variable that holds the token's PIN (never the PIN itself). */
  pinEnv?: string;
  /** A file holding the token's PIN. */
  pinFile?: string;
  /** Signing profile used when none is given. @default 'default' */
  profile?: string;
  source: 'init' | 'import';
  addedAt: string;
}

interface RegistryDocument {
  version: 1;
  cas: Record<string, CaRegistryEntry>;
}

export interface RegistryOptions {
  /** Directory of the registry (tests: a temp dir). @default configDir() */
  cwd?: string;
}

const SCHEMA_VERSION = 1;

function openStore(opts: RegistryOptions): Conf<RegistryDocument> {
  makePrivateDir(opts.cwd ?? configDir());
  return new Conf<RegistryDocument>({
    projectName: 'certdesk',
    cwd: opts.cwd ?? configDir(),
    configName: 'ca-registry',
    accessPropertiesByDotNotation: false,
    configFileMode: 0o600,
    defaults: { version: SCHEMA_VERSION, cas: {} },
  });
}

function readDoc(opts: RegistryOptions): { store: Conf<RegistryDocument>; cas: Record<string, CaRegistryEntry> } {
  let store: Conf<RegistryDocument>;
  try {
    store = openStore(opts);
  } catch (err) {
    const dir = opts.cwd ?? configDir();
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      throw new PkiError(
        'not-found',
        `The config directory ${dir} cannot be used (${code}); set CERTDESK_CONFIG_DIR to a writable directory.`,
      );
    }
    throw new PkiError(
      'not-found',
      `The CA registry in ${dir} could not be read; fix or remove ca-registry.json there.`,
    );
  }
  const version = store.get('version');
  if (version !== SCHEMA_VERSION) {
    throw new PkiError(
      'unsupported',
      `The CA registry has schema version ${String(version)}; this certdesk reads version ${SCHEMA_VERSION}.`,
    );
  }
  return { store, cas: { ...store.get('cas') } };
}

export function registryDir(opts: RegistryOptions = {}): string {
  return opts.cwd ?? configDir();
}

export function listCas(opts: RegistryOptions = {}): CaRegistryEntry[] {
  return Object.values(readDoc(opts).cas).sort((a, b) => a.signerName.localeCompare(b.signerName));
}

export function getCa(signerName: string, opts: RegistryOptions = {}): CaRegistryEntry {
  const entry = readDoc(opts).cas[signerName];
  if (!entry) {
    const known = listCas(opts).map((e) => e.signerName);
    throw new PkiError(
      'not-found',
      `No CA is registered for signer "${signerName}"${known.length ? ` (registered: ${known.join(', ')})` : ''}; add one with \`certdesk ca init\` or \`certdesk ca import\`.`,
    );
  }
  return entry;
}

export function hasCa(signerName: string, opts: RegistryOptions = {}): boolean {
  return signerName in readDoc(opts).cas;
}

export function putCa(entry: CaRegistryEntry, opts: RegistryOptions = {}): void {
  const { store, cas } = readDoc(opts);
  cas[entry.signerName] = entry;
  store.set('cas', cas);
}

export function removeCa(signerName: string, opts: RegistryOptions = {}): boolean {
  const { store, cas } = readDoc(opts);
  if (!(signerName in cas)) return false;
  delete cas[signerName];
  store.set('cas', cas);
  return true;
}

/** A directory name for a signer (`clusterissuers.cert-manager.io/foo` → `clusterissuers.cert-manager.io_foo`). */
export function signerDirName(signerName: string): string {
  return signerName.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function validateSignerName(signerName: string): void {
  // The API's rule: <domain>/<path>, the domain a DNS subdomain.
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(signerName)) {
    throw new PkiError(
      'unsupported',
      `"${signerName}" is not a signer name; write it as <domain>/<name>, e.g. example.com/my-signer.`,
    );
  }
}

/** Refuses a key file readable by group or others (POSIX only). */
export async function checkKeyFilePermissions(keyPath: string, allowInsecure = false): Promise<void> {
  if (process.platform === 'win32' || allowInsecure) return;
  let mode: number;
  try {
    mode = (await stat(keyPath)).mode;
  } catch {
    throw new PkiError('not-found', `The CA key file ${keyPath} does not exist; re-import the CA.`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new PkiError(
      'insecure-key-file',
      `The CA key file ${keyPath} is readable by group or others (mode ${octal}); run \`chmod 600 ${keyPath}\` or pass --allow-insecure-key-file.`,
    );
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readBoundedText(path, { what, limit: PEM_FILE_LIMIT });
  } catch (err) {
    if (err instanceof BoundedReadError)
      throw new PkiError(err.code === 'too-large' ? 'too-large' : 'not-found', err.message);
    throw err;
  }
}

/** Where a secret comes from: an environment variable's name or a file's path (never the secret itself). */
export interface SecretSource {
  env?: string;
  file?: string;
}

/**
 * The secret named by an environment variable or held in a file (one trailing line break dropped), or undefined
 * when neither is given. An unset variable or an unreadable file is an error, not a fallback.
 */
export async function readSecret(source: SecretSource, what: string): Promise<string | undefined> {
  if (source.env) {
    const value = process.env[source.env];
    if (value === undefined)
      throw new PkiError(
        'bad-key',
        `The environment variable ${source.env} (the CA key's ${what}) is not set; set it.`,
      );
    return value;
  }
  if (source.file) {
    let text: string;
    try {
      text = await readBoundedText(source.file, { what, limit: 4096 });
    } catch (err) {
      throw new PkiError(
        'bad-key',
        `The ${what} file ${source.file} cannot be read (${err instanceof Error ? err.message.split('\n')[0] : err}).`,
      );
    }
    return text.replace(/\r?\n$/, '');
  }
  return undefined;
}

/** Asks a person for a secret (a masked terminal prompt, the TUI's PIN field); undefined when nobody can answer. */
export type AskSecret = (prompt: string) => Promise<string | undefined>;

export interface CaKeySecrets {
  /** The passphrase of an encrypted key file, or where to read it. */
  passphrase?: string;
  passphraseFrom?: SecretSource;
  /** The token's PIN, or where to read it. */
  pin?: string;
  pinFrom?: SecretSource;
  /** Asked when none of the above gives the secret a key needs, and only then. */
  ask?: AskSecret;
}

/** The PIN: given, else from its variable or file, else asked for (with the token's label). */
const pinFrom =
  (secrets: CaKeySecrets) =>
  async (token: string): Promise<string | undefined> =>
    secrets.pin ??
    (await readSecret(secrets.pinFrom ?? {}, 'PIN')) ??
    (await secrets.ask?.(`PIN for token "${token}": `));

export interface LoadCaFilesOptions extends CaKeySecrets {
  certPath: string;
  /** A key file's path, or a pkcs11: URI. */
  key: string;
  chainPath?: string;
  pkcs11Module?: string;
  allowInsecureKeyFile?: boolean;
  now?: Date;
}

export const isKeyUri = (key: string): boolean => /^pkcs11:/i.test(key);

/**
 * Loads a CA from its certificate and its key (a file, plain or encrypted, or a token key named by a pkcs11: URI),
 * with every check of loadCaFromPem plus the key file's permissions. Secrets are read or asked for only when the
 * key needs them.
 */
export async function loadCaFromFiles(opts: LoadCaFilesOptions): Promise<LoadedCa> {
  const [certPem, chainPem] = await Promise.all([
    readText(opts.certPath, 'CA certificate'),
    opts.chainPath ? readText(opts.chainPath, 'CA chain') : Promise.resolve(undefined),
  ]);
  const loadOpts = { ...(chainPem !== undefined ? { chainPem } : {}), ...(opts.now ? { now: opts.now } : {}) };
  if (isKeyUri(opts.key)) {
    const { openTokenKey } = await import('../pki/pkcs11.js');
    const key = await openTokenKey(
      {
        uri: opts.key,
        ...(opts.pkcs11Module ? { modulePath: opts.pkcs11Module } : {}),
        pin: pinFrom(opts),
      },
      await caCertificateKey(certPem),
    );
    return loadCaWithKey(certPem, key, loadOpts);
  }
  await checkKeyFilePermissions(opts.key, opts.allowInsecureKeyFile);
  const keyPem = await readText(opts.key, 'CA key');
  let passphrase = opts.passphrase;
  if (passphrase === undefined && /ENCRYPTED/.test(keyPem)) {
    passphrase =
      (await readSecret(opts.passphraseFrom ?? {}, 'passphrase')) ?? (await opts.ask?.(`Passphrase for ${opts.key}: `));
    if (passphrase === undefined) {
      throw new PkiError(
        'bad-key',
        `The CA key ${opts.key} is encrypted; give its passphrase with --passphrase-env VAR or --passphrase-file FILE, or run on a terminal to be asked.`,
      );
    }
  }
  return loadCaFromPem(certPem, keyPem, {
    ...loadOpts,
    keyPath: opts.key,
    ...(passphrase !== undefined ? { passphrase } : {}),
  });
}

export interface LoadForSignerOptions extends RegistryOptions, CaKeySecrets {
  allowInsecureKeyFile?: boolean;
  /** Overrides the entry's module. */
  pkcs11Module?: string;
  now?: Date;
}

/** The entry's key: its file's path or its token URI. */
export const keyOf = (entry: CaRegistryEntry): string => entry.keyUri ?? entry.keyPath ?? '';

/** Loads the registered CA for a signer (loadCaFromFiles with the entry's files, secret sources and module). */
export async function loadCaForSigner(signerName: string, opts: LoadForSignerOptions = {}): Promise<LoadedCa> {
  const entry = getCa(signerName, opts);
  const module = opts.pkcs11Module ?? entry.pkcs11Module;
  return loadCaFromFiles({
    ...opts,
    certPath: entry.certPath,
    key: keyOf(entry),
    ...(entry.chainPath ? { chainPath: entry.chainPath } : {}),
    ...(module ? { pkcs11Module: module } : {}),
    passphraseFrom: opts.passphraseFrom ?? {
      ...(entry.passphraseEnv ? { env: entry.passphraseEnv } : {}),
      ...(entry.passphraseFile ? { file: entry.passphraseFile } : {}),
    },
    pinFrom: opts.pinFrom ?? {
      ...(entry.pinEnv ? { env: entry.pinEnv } : {}),
      ...(entry.pinFile ? { file: entry.pinFile } : {}),
    },
  });
}

export interface InitCaOptions extends RegistryOptions {
  signerName: string;
  cn?: string;
  keyAlgorithm?: KeyAlgorithmName;
  days?: number;
  /** Encrypt the key file (PKCS#8: scrypt and AES-256-CBC) with this passphrase. */
  passphrase?: string;
  /** Where later signing reads the passphrase (stored: the variable's name, the file's path). */
  passphraseEnv?: string;
  passphraseFile?: string;
  /** Make the key in this token (RFC 7512 URI) instead of a file. */
  keyUri?: string;
  /** Use the key the URI names, already in the token (e.g. made by `ykman piv keys generate`). */
  useExistingKey?: boolean;
  pkcs11Module?: string;
  /** The token's PIN now, and where later signing reads it (stored: names, never the PIN). */
  pin?: CaKeySecrets['pin'];
  pinFrom?: SecretSource;
  ask?: AskSecret;
  profile?: string;
  /** Replace an existing entry. */
  force?: boolean;
}

const stored = (
  from: SecretSource | undefined,
  env: 'passphraseEnv' | 'pinEnv',
  file: 'passphraseFile' | 'pinFile',
) => ({
  ...(from?.env ? { [env]: from.env } : {}),
  ...(from?.file ? { [file]: resolve(from.file) } : {}),
});

/** Writes a private key so that no other user can read it at any moment: a new 0600 file, then a rename over `path`. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates a self-signed CA in <config>/cas/<signer>/ and registers it: the key in a 0600 file (encrypted when a
 * passphrase is given), or made inside a PKCS#11 token (non-extractable) or taken from it, never leaving it.
 */
export async function initCa(opts: InitCaOptions): Promise<CaRegistryEntry> {
  validateSignerName(opts.signerName);
  if (!opts.force && hasCa(opts.signerName, opts)) {
    throw new PkiError('unsupported', `A CA is already registered for ${opts.signerName}; pass --force to replace it.`);
  }
  const caOptions = {
    cn: opts.cn ?? `${opts.signerName} CA`,
    ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
    ...(opts.days !== undefined ? { days: opts.days } : {}),
  };
  const dir = join(registryDir(opts), 'cas', signerDirName(opts.signerName));
  const certPath = join(dir, 'ca.pem');
  let keyFields: Partial<CaRegistryEntry>;
  let certPem: string;
  if (opts.keyUri) {
    const pkcs11 = await import('../pki/pkcs11.js');
    const token = {
      uri: opts.keyUri,
      ...(opts.pkcs11Module ? { modulePath: opts.pkcs11Module } : {}),
      pin: pinFrom(opts),
    };
    const made = opts.useExistingKey
      ? { key: await pkcs11.openTokenKey(token), uri: opts.keyUri }
      : await pkcs11.generateTokenKey(token, keySpecFromAlgorithm(opts.keyAlgorithm ?? 'ECDSAWithCurve256'));
    certPem = await createCaWithKey(caOptions, made.key);
    keyFields = {
      keyUri: made.key.location.kind === 'pkcs11' ? made.key.location.uri : made.uri,
      ...(opts.pkcs11Module ? { pkcs11Module: opts.pkcs11Module } : {}),
      ...stored(opts.pinFrom, 'pinEnv', 'pinFile'),
    };
  } else {
    const ca = await createCa(caOptions);
    certPem = ca.certPem;
    const keyPath = join(dir, 'ca-key.pem');
    makePrivateDir(dir);
    await writePrivate(
      keyPath,
      opts.passphrase ? encryptKeyPem(readPrivateKey(ca.keyPem), opts.passphrase) : ca.keyPem,
    );
    keyFields = {
      keyPath,
      ...(opts.passphrase
        ? stored(
            {
              ...(opts.passphraseEnv ? { env: opts.passphraseEnv } : {}),
              ...(opts.passphraseFile ? { file: opts.passphraseFile } : {}),
            },
            'passphraseEnv',
            'passphraseFile',
          )
        : {}),
    };
  }
  makePrivateDir(dir);
  await writeFile(certPath, certPem, { mode: 0o644 });
  const entry: CaRegistryEntry = {
    signerName: opts.signerName,
    certPath,
    ...keyFields,
    ...(opts.profile ? { profile: opts.profile } : {}),
    source: 'init',
    addedAt: new Date().toISOString(),
  };
  putCa(entry, opts);
  return entry;
}

export interface ImportCaOptions extends RegistryOptions, CaKeySecrets {
  signerName: string;
  certPath: string;
  /** A key file's path, or a pkcs11: URI (a key in a token). */
  keyPath: string;
  chainPath?: string;
  pkcs11Module?: string;
  profile?: string;
  allowInsecureKeyFile?: boolean;
  /** Accept a weak CA key (RSA under 2048 bits, P-224). */
  allowWeak?: boolean;
  force?: boolean;
}

/** Checks the CA (as loadCaForSigner would) and registers its files (absolute paths) or its token URI. */
export async function importCa(opts: ImportCaOptions): Promise<CaRegistryEntry> {
  validateSignerName(opts.signerName);
  if (!opts.force && hasCa(opts.signerName, opts)) {
    throw new PkiError('unsupported', `A CA is already registered for ${opts.signerName}; pass --force to replace it.`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  const certPath = abs(opts.certPath);
  const token = isKeyUri(opts.keyPath);
  const chainPath = opts.chainPath ? abs(opts.chainPath) : undefined;
  const ca = await loadCaFromFiles({
    ...opts,
    certPath,
    key: token ? opts.keyPath : abs(opts.keyPath),
    ...(chainPath ? { chainPath } : {}),
  });
  const weak = caKeyWeakness(ca.key.publicKey);
  if (weak && !opts.allowWeak) {
    throw new PkiError(
      'unsupported',
      `The CA key is weak (${weak}); use RSA 2048+ or ECDSA P-256+, or pass --allow-weak to import it anyway.`,
    );
  }
  const entry: CaRegistryEntry = {
    signerName: opts.signerName,
    certPath,
    ...(ca.key.location.kind === 'pkcs11'
      ? {
          keyUri: ca.key.location.uri,
          ...(opts.pkcs11Module ? { pkcs11Module: opts.pkcs11Module } : {}),
          ...stored(opts.pinFrom, 'pinEnv', 'pinFile'),
        }
      : { keyPath: abs(opts.keyPath), ...stored(opts.passphraseFrom, 'passphraseEnv', 'passphraseFile') }),
    ...(chainPath ? { chainPath } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    source: 'import',
    addedAt: new Date().toISOString(),
  };
  putCa(entry, opts);
  return entry;
}

/** The registered CA's certificate (for display and for CA bundles), without touching the key. */
export async function caCertificatePem(signerName: string, opts: RegistryOptions = {}): Promise<string> {
  const entry = getCa(signerName, opts);
  const pem = await readText(entry.certPath, 'CA certificate');
  await decodeCertificate(pem);
  return pem;
}

/** The registered CA's certificate and chain, without touching the key (what `certdesk health` compares). */
export async function registeredCaCertificates(
  signerName: string,
  opts: RegistryOptions = {},
): Promise<CaCertificates> {
  const entry = getCa(signerName, opts);
  const [certPem, chainPem] = await Promise.all([
    readText(entry.certPath, 'CA certificate'),
    entry.chainPath ? readText(entry.chainPath, 'CA chain') : Promise.resolve(undefined),
  ]);
  return caCertificatesOf(certPem, chainPem);
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

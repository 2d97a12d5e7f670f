// The CAs held on this workstation, keyed by signerName (several at once: one per tenant in the Istio setup).
// Stored with conf as paths and metadata only; CA private keys stay in their own 0600 files, never in the registry.
import { constants } from 'node:fs';
import { access, chmod, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import Conf from 'conf';
import { createCa, loadCaFromPem } from '../pki/ca.js';
import { decodeCertificate } from '../pki/decode.js';
import { caKeyWeakness, readPrivateKey } from '../pki/keys.js';
import { type KeyAlgorithmName, type LoadedCa, PkiError } from '../pki/types.js';
import { BoundedReadError, PEM_FILE_LIMIT, readBoundedText } from '../files/read-bounded.js';
import { configDir, makePrivateDir } from './paths.js';

export interface CaRegistryEntry {
  signerName: string;
  certPath: string;
  keyPath: string;
  chainPath?: string;
  /** Name of the environment variable that holds the key's passphrase (never the passphrase itself). */
  passphraseEnv?: string;
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

export interface LoadForSignerOptions extends RegistryOptions {
  /** Overrides the entry's passphraseEnv. */
  passphrase?: string;
  allowInsecureKeyFile?: boolean;
  now?: Date;
}

/** Loads the registered CA for a signer, with every check of loadCaFromPem plus the key file's permissions. */
export async function loadCaForSigner(signerName: string, opts: LoadForSignerOptions = {}): Promise<LoadedCa> {
  const entry = getCa(signerName, opts);
  await checkKeyFilePermissions(entry.keyPath, opts.allowInsecureKeyFile);
  const [certPem, keyPem, chainPem] = await Promise.all([
    readText(entry.certPath, 'CA certificate'),
    readText(entry.keyPath, 'CA key'),
    entry.chainPath ? readText(entry.chainPath, 'CA chain') : Promise.resolve(undefined),
  ]);
  let passphrase = opts.passphrase;
  if (passphrase === undefined && entry.passphraseEnv) {
    passphrase = process.env[entry.passphraseEnv];
    if (passphrase === undefined && /ENCRYPTED/.test(keyPem)) {
      throw new PkiError(
        'bad-key',
        `The CA key for ${signerName} is encrypted; set the environment variable ${entry.passphraseEnv} to its passphrase.`,
      );
    }
  }
  return loadCaFromPem(certPem, keyPem, {
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(chainPem !== undefined ? { chainPem } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

export interface InitCaOptions extends RegistryOptions {
  signerName: string;
  cn?: string;
  keyAlgorithm?: KeyAlgorithmName;
  days?: number;
  /** Encrypt the key file (PKCS#8, AES-256-CBC) with this passphrase. */
  passphrase?: string;
  passphraseEnv?: string;
  profile?: string;
  /** Replace an existing entry. */
  force?: boolean;
}

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

/** Creates a self-signed CA in <config>/cas/<signer>/ (key 0600) and registers it. */
export async function initCa(opts: InitCaOptions): Promise<CaRegistryEntry> {
  validateSignerName(opts.signerName);
  if (!opts.force && hasCa(opts.signerName, opts)) {
    throw new PkiError('unsupported', `A CA is already registered for ${opts.signerName}; pass --force to replace it.`);
  }
  const { certPem, keyPem } = await createCa({
    cn: opts.cn ?? `${opts.signerName} CA`,
    ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
    ...(opts.days !== undefined ? { days: opts.days } : {}),
  });
  const dir = join(registryDir(opts), 'cas', signerDirName(opts.signerName));
  makePrivateDir(dir);
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca-key.pem');
  let keyText = keyPem;
  if (opts.passphrase) {
    keyText = readPrivateKey(keyPem).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: opts.passphrase,
    }) as string;
  }
  await writePrivate(keyPath, keyText);
  await writeFile(certPath, certPem, { mode: 0o644 });
  const entry: CaRegistryEntry = {
    signerName: opts.signerName,
    certPath,
    keyPath,
    ...(opts.passphraseEnv ? { passphraseEnv: opts.passphraseEnv } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    source: 'init',
    addedAt: new Date().toISOString(),
  };
  putCa(entry, opts);
  return entry;
}

export interface ImportCaOptions extends RegistryOptions {
  signerName: string;
  certPath: string;
  keyPath: string;
  chainPath?: string;
  passphrase?: string;
  passphraseEnv?: string;
  profile?: string;
  allowInsecureKeyFile?: boolean;
  /** Accept a weak CA key (RSA under 2048 bits, P-224). */
  allowWeak?: boolean;
  force?: boolean;
}

/** Checks the CA (as loadCaForSigner would) and registers its files where they are (absolute paths). */
export async function importCa(opts: ImportCaOptions): Promise<CaRegistryEntry> {
  validateSignerName(opts.signerName);
  if (!opts.force && hasCa(opts.signerName, opts)) {
    throw new PkiError('unsupported', `A CA is already registered for ${opts.signerName}; pass --force to replace it.`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  const certPath = abs(opts.certPath);
  const keyPath = abs(opts.keyPath);
  const chainPath = opts.chainPath ? abs(opts.chainPath) : undefined;
  await checkKeyFilePermissions(keyPath, opts.allowInsecureKeyFile);
  const [certPem, keyPem, chainPem] = await Promise.all([
    readText(certPath, 'CA certificate'),
    readText(keyPath, 'CA key'),
    chainPath ? readText(chainPath, 'CA chain') : Promise.resolve(undefined),
  ]);
  const passphrase = opts.passphrase ?? (opts.passphraseEnv ? process.env[opts.passphraseEnv] : undefined);
  const ca = await loadCaFromPem(certPem, keyPem, {
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(chainPem !== undefined ? { chainPem } : {}),
  });
  const weak = caKeyWeakness(ca.privateKey);
  if (weak && !opts.allowWeak) {
    throw new PkiError(
      'unsupported',
      `The CA key is weak (${weak}); use RSA 2048+ or ECDSA P-256+, or pass --allow-weak to import it anyway.`,
    );
  }
  const entry: CaRegistryEntry = {
    signerName: opts.signerName,
    certPath,
    keyPath,
    ...(chainPath ? { chainPath } : {}),
    ...(opts.passphraseEnv ? { passphraseEnv: opts.passphraseEnv } : {}),
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

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

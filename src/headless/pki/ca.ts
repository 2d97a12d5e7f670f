// `certdesk ca init|import|list|show|remove`: the CAs held on this workstation, keyed by signerName.
import {
  type CaKeySecrets,
  type CaRegistryEntry,
  getCa,
  importCa,
  initCa,
  listCas,
  readSecret,
  removeCa,
} from '../../services/config/ca-registry.js';
import { decodeCertificate, decodeCertificates } from '../../services/pki/decode.js';
import { KEY_ALGORITHMS, type KeyAlgorithmName } from '../../services/pki/types.js';
import { CliError } from '../cli-error.js';
import { renderTable } from '../output/table.js';
import {
  asCli,
  type KeySecretFlags,
  keySecrets,
  out,
  outSafe,
  promptPassphrase,
  readInput,
  safeJson,
} from './common.js';
import { describeCertificate } from './format.js';

export interface CaInitOptions extends KeySecretFlags {
  signer: string;
  keyAlgorithm?: string;
  cn?: string;
  days?: string;
  /** Encrypt the key file; the passphrase from --passphrase-env/--passphrase-file, else asked twice. */
  encrypt?: boolean;
  keyUri?: string;
  useExistingKey?: boolean;
  profile?: string;
  force?: boolean;
}

function parseDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 36500)
    throw new CliError(`--days must be a whole number from 1 to 36500, not "${text}"`);
  return n;
}

/** The new key file's passphrase: from --passphrase-env/--passphrase-file, else typed twice on the terminal. */
async function newPassphrase(secrets: CaKeySecrets): Promise<string> {
  const given = await readSecret(secrets.passphraseFrom ?? {}, 'passphrase');
  if (given !== undefined) {
    if (given === '') throw new CliError('the passphrase is empty; give a non-empty one');
    return given;
  }
  const first = await promptPassphrase('Passphrase for the new CA key: ');
  if (first === undefined)
    throw new CliError(
      '--encrypt needs a passphrase: pass --passphrase-env VAR or --passphrase-file FILE, or run on a terminal',
    );
  if (first === '') throw new CliError('the passphrase is empty; give a non-empty one');
  if ((await promptPassphrase('Again: ')) !== first)
    throw new CliError('the two passphrases differ; run the command again');
  return first;
}

export async function runCaInit(opts: CaInitOptions): Promise<void> {
  await asCli(async () => {
    if (opts.keyAlgorithm && !KEY_ALGORITHMS.includes(opts.keyAlgorithm as KeyAlgorithmName)) {
      throw new CliError(`unknown --key-algorithm "${opts.keyAlgorithm}"; use one of ${KEY_ALGORITHMS.join(', ')}`);
    }
    const days = parseDays(opts.days);
    const secrets = keySecrets(opts);
    if (opts.keyUri && (opts.encrypt || secrets.passphraseFrom))
      throw new CliError('a key in a token is not a file: --encrypt and --passphrase-* do not go with --key-uri');
    if (!opts.keyUri && (opts.useExistingKey || secrets.pinFrom || opts.pkcs11Module))
      throw new CliError('--use-existing-key, --pin-* and --pkcs11-module need --key-uri pkcs11:…');
    // --passphrase-env alone encrypts, as before --encrypt existed.
    const encrypt = !opts.keyUri && (opts.encrypt || secrets.passphraseFrom !== undefined);
    const passphrase = encrypt ? await newPassphrase(secrets) : undefined;
    const entry = await initCa({
      signerName: opts.signer,
      ...(opts.cn ? { cn: opts.cn } : {}),
      ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm as KeyAlgorithmName } : {}),
      ...(days !== undefined ? { days } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(opts.passphraseEnv ? { passphraseEnv: opts.passphraseEnv } : {}),
      ...(opts.passphraseFile ? { passphraseFile: opts.passphraseFile } : {}),
      ...(opts.keyUri ? { keyUri: opts.keyUri } : {}),
      ...(opts.useExistingKey ? { useExistingKey: true } : {}),
      ...(secrets.pkcs11Module ? { pkcs11Module: secrets.pkcs11Module } : {}),
      ...(secrets.pinFrom ? { pinFrom: secrets.pinFrom } : {}),
      ...(secrets.ask ? { ask: secrets.ask } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    const cert = await decodeCertificate(await readInput(entry.certPath, 'CA certificate'));
    outSafe(`Created a CA for ${entry.signerName}\n`);
    out(describeCertificate(cert));
    outSafe(`Certificate: ${entry.certPath}\nKey:         ${await keyWhere(entry)}\n`);
  });
}

export interface CaImportOptions extends KeySecretFlags {
  signer: string;
  cert: string;
  key?: string;
  keyUri?: string;
  chain?: string;
  allowInsecureKeyFile?: boolean;
  allowWeak?: boolean;
  profile?: string;
  force?: boolean;
}

export async function runCaImport(opts: CaImportOptions): Promise<void> {
  await asCli(async () => {
    if (!opts.key === !opts.keyUri) throw new CliError('pass --key FILE or --key-uri pkcs11:…, one of them');
    const entry = await importCa({
      signerName: opts.signer,
      certPath: opts.cert,
      keyPath: (opts.keyUri ?? opts.key)!,
      ...keySecrets(opts),
      ...(opts.chain ? { chainPath: opts.chain } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}),
      ...(opts.allowWeak ? { allowWeak: true } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    outSafe(`Imported the CA for ${entry.signerName} (${entry.certPath}; key: ${await keyWhere(entry)})\n`);
  });
}

/** Where the entry's key lives, as a person reads it: `file P`, `encrypted file P`, or the token URI. */
async function keyWhere(entry: CaRegistryEntry): Promise<string> {
  if (entry.keyUri) return `token ${entry.keyUri}`;
  const path = entry.keyPath ?? '';
  let head = '';
  try {
    head = (await readInput(path, 'CA key')).subarray(0, 64).toString('latin1');
  } catch {
    return `file ${path} (missing)`;
  }
  return `${/ENCRYPTED/.test(head) ? 'encrypted file' : 'file'} ${path}`;
}

interface CaSummary {
  entry: CaRegistryEntry;
  subject: string;
  key: string;
  /** Where the key lives: `file P`, `encrypted file P`, `token pkcs11:…`. */
  keyIn: string;
  notAfter: string;
  problem?: string;
}

async function summarise(entry: CaRegistryEntry): Promise<CaSummary> {
  const keyIn = await keyWhere(entry);
  try {
    const cert = await decodeCertificate(await readInput(entry.certPath, 'CA certificate'));
    return {
      entry,
      subject: cert.subject.text,
      key: cert.publicKey.description,
      keyIn,
      notAfter: cert.notAfter.toISOString(),
    };
  } catch (err) {
    return {
      entry,
      subject: '',
      key: '',
      keyIn,
      notAfter: '',
      problem: err instanceof Error ? err.message : String(err),
    };
  }
}

export async function runCaList(opts: { output?: string }): Promise<void> {
  await asCli(async () => {
    const summaries = await Promise.all(listCas().map(summarise));
    if (opts.output === 'json') {
      out(
        safeJson({
          items: summaries.map((s) => ({
            ...s.entry,
            subject: s.subject,
            key: s.key,
            keyIn: s.keyIn,
            notAfter: s.notAfter,
            ...(s.problem ? { problem: s.problem } : {}),
          })),
        }),
      );
      return;
    }
    if (summaries.length === 0) {
      out('No CAs registered; add one with `certdesk ca init --signer NAME` or `certdesk ca import`.\n');
      return;
    }
    out(
      renderTable(
        ['SIGNER', 'SUBJECT', 'KEY', 'KEY IN', 'NOT AFTER', 'SOURCE'],
        summaries.map((s) => [
          s.entry.signerName,
          s.problem ? `<unreadable: ${s.problem}>` : s.subject,
          s.key,
          s.keyIn,
          s.notAfter,
          s.entry.source,
        ]),
      ),
    );
  });
}

export async function runCaShow(signer: string, opts: { output?: string }): Promise<void> {
  await asCli(async () => {
    const entry = getCa(signer);
    const certText = await readInput(entry.certPath, 'CA certificate');
    if (opts.output === 'pem') {
      out((await decodeCertificate(certText)).pem);
      return;
    }
    const cert = await decodeCertificate(certText);
    const chain = entry.chainPath ? await decodeCertificates(await readInput(entry.chainPath, 'CA chain')) : [];
    if (opts.output === 'json') {
      out(safeJson({ ...entry, keyIn: await keyWhere(entry), certificate: cert, chain }));
      return;
    }
    outSafe(
      `Signer:      ${entry.signerName}\nSource:      ${entry.source} (${entry.addedAt})\nCertificate: ${entry.certPath}\nKey:         ${await keyWhere(entry)}\n`,
    );
    if (entry.chainPath)
      outSafe(`Chain:       ${entry.chainPath} (${chain.length} certificate${chain.length === 1 ? '' : 's'})\n`);
    if (entry.pkcs11Module) outSafe(`Module:      ${entry.pkcs11Module}\n`);
    if (entry.passphraseEnv) outSafe(`Passphrase:  from $${entry.passphraseEnv}\n`);
    if (entry.passphraseFile) outSafe(`Passphrase:  from ${entry.passphraseFile}\n`);
    if (entry.pinEnv) outSafe(`PIN:         from $${entry.pinEnv}\n`);
    if (entry.pinFile) outSafe(`PIN:         from ${entry.pinFile}\n`);
    if (entry.profile) outSafe(`Profile:     ${entry.profile}\n`);
    out('\n');
    out(describeCertificate(cert));
  });
}

export async function runCaRemove(signer: string): Promise<void> {
  await asCli(async () => {
    const entry = getCa(signer);
    removeCa(signer);
    outSafe(
      `Removed ${entry.signerName} from the registry; its files stay where they are (${entry.certPath}, ${entry.keyUri ? `key in the token: ${entry.keyUri}` : entry.keyPath}).\n`,
    );
  });
}

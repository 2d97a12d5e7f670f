// `certdesk ca init|import|list|show|remove`: the CAs held on this workstation, keyed by signerName.
import { type CaRegistryEntry, getCa, importCa, initCa, listCas, removeCa } from '../../services/config/ca-registry.js';
import { decodeCertificate, decodeCertificates } from '../../services/pki/decode.js';
import { KEY_ALGORITHMS, type KeyAlgorithmName, PkiError } from '../../services/pki/types.js';
import { CliError } from '../cli-error.js';
import { renderTable } from '../output/table.js';
import { asCli, out, outSafe, passphraseFromEnv, promptPassphrase, readInput, safeJson } from './common.js';
import { describeCertificate } from './format.js';

export interface CaInitOptions {
  signer: string;
  keyAlgorithm?: string;
  cn?: string;
  days?: string;
  passphraseEnv?: string;
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

export async function runCaInit(opts: CaInitOptions): Promise<void> {
  await asCli(async () => {
    if (opts.keyAlgorithm && !KEY_ALGORITHMS.includes(opts.keyAlgorithm as KeyAlgorithmName)) {
      throw new CliError(`unknown --key-algorithm "${opts.keyAlgorithm}"; use one of ${KEY_ALGORITHMS.join(', ')}`);
    }
    const days = parseDays(opts.days);
    const passphrase = passphraseFromEnv(opts.passphraseEnv);
    const entry = await initCa({
      signerName: opts.signer,
      ...(opts.cn ? { cn: opts.cn } : {}),
      ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm as KeyAlgorithmName } : {}),
      ...(days !== undefined ? { days } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(opts.passphraseEnv ? { passphraseEnv: opts.passphraseEnv } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    const cert = await decodeCertificate(await readInput(entry.certPath, 'CA certificate'));
    outSafe(`Created a CA for ${entry.signerName}\n`);
    out(describeCertificate(cert));
    outSafe(`Certificate: ${entry.certPath}\nKey (0600):  ${entry.keyPath}${passphrase ? ' (encrypted)' : ''}\n`);
  });
}

export interface CaImportOptions {
  signer: string;
  cert: string;
  key: string;
  chain?: string;
  passphraseEnv?: string;
  allowInsecureKeyFile?: boolean;
  allowWeak?: boolean;
  profile?: string;
  force?: boolean;
}

export async function runCaImport(opts: CaImportOptions): Promise<void> {
  await asCli(async () => {
    let passphrase = passphraseFromEnv(opts.passphraseEnv);
    const attempt = () =>
      importCa({
        signerName: opts.signer,
        certPath: opts.cert,
        keyPath: opts.key,
        ...(opts.chain ? { chainPath: opts.chain } : {}),
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(opts.passphraseEnv ? { passphraseEnv: opts.passphraseEnv } : {}),
        ...(opts.profile ? { profile: opts.profile } : {}),
        ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}),
        ...(opts.allowWeak ? { allowWeak: true } : {}),
        ...(opts.force ? { force: true } : {}),
      });
    let entry: CaRegistryEntry;
    try {
      entry = await attempt();
    } catch (err) {
      // An encrypted key without --passphrase-env: ask on the terminal (checked now; later signing needs it again).
      if (
        !(
          err instanceof PkiError &&
          err.code === 'bad-key' &&
          passphrase === undefined &&
          /encrypted/.test(err.message)
        )
      ) {
        throw err;
      }
      passphrase = await promptPassphrase(`Passphrase for ${opts.key}: `);
      if (passphrase === undefined) throw err;
      entry = await attempt();
    }
    outSafe(`Imported the CA for ${entry.signerName} (${entry.certPath})\n`);
  });
}

interface CaSummary {
  entry: CaRegistryEntry;
  subject: string;
  key: string;
  notAfter: string;
  problem?: string;
}

async function summarise(entry: CaRegistryEntry): Promise<CaSummary> {
  try {
    const cert = await decodeCertificate(await readInput(entry.certPath, 'CA certificate'));
    return {
      entry,
      subject: cert.subject.text,
      key: cert.publicKey.description,
      notAfter: cert.notAfter.toISOString(),
    };
  } catch (err) {
    return { entry, subject: '', key: '', notAfter: '', problem: err instanceof Error ? err.message : String(err) };
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
        ['SIGNER', 'SUBJECT', 'KEY', 'NOT AFTER', 'SOURCE'],
        summaries.map((s) => [
          s.entry.signerName,
          s.problem ? `<unreadable: ${s.problem}>` : s.subject,
          s.key,
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
      out(safeJson({ ...entry, certificate: cert, chain }));
      return;
    }
    outSafe(
      `Signer:      ${entry.signerName}\nSource:      ${entry.source} (${entry.addedAt})\nCertificate: ${entry.certPath}\nKey:         ${entry.keyPath}\n`,
    );
    if (entry.chainPath)
      outSafe(`Chain:       ${entry.chainPath} (${chain.length} certificate${chain.length === 1 ? '' : 's'})\n`);
    if (entry.passphraseEnv) outSafe(`Passphrase:  from $${entry.passphraseEnv}\n`);
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
      `Removed ${entry.signerName} from the registry; its files stay where they are (${entry.certPath}, ${entry.keyPath}).\n`,
    );
  });
}

// `certdesk issue --csr FILE --signer NAME`: the offline twin of `cfssl sign`, with kube-controller-manager's
// rules, printing the certificate PEM.
import { existsSync } from 'node:fs';
import { FileExistsError, writeFileSafely } from '../../services/export/write-file.js';
import { getCa, loadCaForSigner } from '../../services/config/ca-registry.js';
import { profilesDir } from '../../services/config/paths.js';
import { decodeCsr } from '../../services/pki/decode.js';
import { issueCertificate } from '../../services/pki/issue.js';
import { loadProfile, parseDuration } from '../../services/pki/profiles.js';
import { KNOWN_USAGES } from '../../services/pki/usages.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { asCli, type KeySecretFlags, keySecrets, out, readInput } from './common.js';

export interface IssueOptions extends KeySecretFlags {
  csr: string;
  signer: string;
  usages?: string[];
  duration?: string;
  profile?: string;
  allowInsecureKeyFile?: boolean;
  out?: string;
  /** Replace --out if it exists. */
  force?: boolean;
}

const DEFAULT_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];

export async function runIssue(opts: IssueOptions): Promise<void> {
  await asCli(async () => {
    const usages = opts.usages?.map((u) => u.trim()).filter(Boolean);
    for (const u of usages ?? []) {
      if (!KNOWN_USAGES.includes(u))
        throw new CliError(`unknown usage "${u}"; use the CSR API's names, e.g. "server auth,client auth"`);
    }
    const expirationSeconds = opts.duration !== undefined ? parseDuration(opts.duration) : undefined;
    // Before signing anything: an existing --out is replaced only with --force.
    if (opts.out && !opts.force && existsSync(opts.out)) {
      throw new CliError(terminalSafe(new FileExistsError(opts.out).message));
    }
    const entry = getCa(opts.signer);
    const profile = await loadProfile(opts.profile ?? entry.profile ?? 'default', [profilesDir()]);
    const csr = await decodeCsr(await readInput(opts.csr, 'CSR'));
    const ca = await loadCaForSigner(opts.signer, {
      ...keySecrets(opts),
      ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}),
    });
    const { pem, certificate } = await issueCertificate(csr, ca, {
      usages: usages?.length ? usages : profile.allowedUsages.length ? profile.allowedUsages : DEFAULT_USAGES,
      signerName: opts.signer,
      ...(expirationSeconds !== undefined ? { expirationSeconds } : {}),
      profile,
    });
    if (opts.out) {
      try {
        await writeFileSafely(opts.out, pem, 0o644, opts.force);
      } catch (err) {
        if (err instanceof FileExistsError) throw new CliError(terminalSafe(err.message));
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new CliError(
          `could not write ${terminalSafe(opts.out)} (${code}); check that its directory exists and is writable`,
        );
      }
      process.stderr.write(
        `Wrote ${terminalSafe(opts.out)} (serial ${certificate.serialNumber}, valid until ${certificate.notAfter.toISOString()})\n`,
      );
    } else {
      out(pem);
    }
  });
}

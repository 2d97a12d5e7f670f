// `certdesk issue --csr FILE --signer NAME`: the offline twin of `cfssl sign`, with kube-controller-manager's
// rules, printing the certificate PEM. Like every signing path it is gated by the request's findings (a failing one
// only with --override naming it) and audited before the certificate leaves the process (docs/safety.md).
import { existsSync } from 'node:fs';
import { FileExistsError, writeFileSafely } from '../../services/export/write-file.js';
import { getCa, loadCaForSigner } from '../../services/config/ca-registry.js';
import { profilesDir } from '../../services/config/paths.js';
import { codesAt } from '../../services/actions/gate.js';
import { type AuditInput, appendAudit } from '../../services/config/audit.js';
import { decodeCsr, digestsOf } from '../../services/pki/decode.js';
import { checkSignerRules } from '../../services/pki/signer-rules.js';
import { evaluateCsr, loadPolicy } from '../../services/policy/index.js';
import { issueCertificate } from '../../services/pki/issue.js';
import { loadProfile, parseDuration } from '../../services/pki/profiles.js';
import { KNOWN_USAGES } from '../../services/pki/usages.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { printFindings } from '../commands/safety.js';
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
  /** Failing finding codes accepted, comma-separated: every failing code must be named. */
  override?: string;
  /** A policy file for the findings (default: the built-in policy). */
  policy?: string;
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
    const request = {
      usages: usages?.length ? usages : profile.allowedUsages.length ? profile.allowedUsages : DEFAULT_USAGES,
      signerName: opts.signer,
      ...(expirationSeconds !== undefined ? { expirationSeconds } : {}),
    };
    const gate = await offlineGate(csr, request, opts);
    const { pem, certificate } = await issueCertificate(csr, ca, { ...request, profile });
    // Recorded before the certificate is written or printed: a log that cannot be written stops it here.
    await audit({
      ...gate.audit,
      outcome: 'ok',
      serial: certificate.serialNumber,
      sha256Fingerprint: certificate.sha256Fingerprint,
      detail: `issued from ${opts.csr === '-' ? 'stdin' : opts.csr} to ${opts.out ?? 'stdout'}`,
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

/**
 * The findings of a request signed offline: every finding of the request itself (its subject, names, key, usages,
 * lifetime, the signer's rules), none of the cluster's. `requestor-subject` is left out: offline, the person who
 * runs `issue` is the requester. A failing finding stops the signature unless --override names every failing code;
 * the refusal is audited, the warnings are printed.
 */
async function offlineGate(
  decoded: Awaited<ReturnType<typeof decodeCsr>>,
  request: { usages: string[]; signerName: string; expirationSeconds?: number },
  opts: IssueOptions,
): Promise<{ audit: AuditInput }> {
  const policy = await loadPolicy(opts.policy);
  const findings = evaluateCsr({
    csr: { metadata: { name: '' }, spec: { ...request } },
    decoded,
    policy,
    checkSignerRules,
  }).filter((f) => f.code !== 'requestor-subject');
  const failing = codesAt(findings, 'fail');
  const warnings = codesAt(findings, 'warn');
  const accepted = (opts.override ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const key = digestsOf(decoded)?.key;
  const base: AuditInput = {
    context: '',
    action: 'issue',
    signer: request.signerName,
    ...(key ? { keySha256: key } : {}),
    ...(failing.length ? { overrides: failing } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
  const missing = failing.filter((c) => !accepted.includes(c));
  if (missing.length > 0) {
    const said = findings
      .filter((f) => f.level === 'fail' && missing.includes(f.code))
      .map((f) => `${f.code} (${terminalSafe(f.message, { maxLength: 300 }).replace(/\.$/, '')})`)
      .join('; ');
    const message = `the CSR was not issued: failing findings ${said}; to accept them, name every failing finding: --override ${failing.join(',')}`;
    const { overrides: _none, ...refused } = base;
    await audit({ ...refused, outcome: 'refused', detail: message });
    throw new CliError(message);
  }
  printFindings(opts.csr === '-' ? 'stdin' : opts.csr, findings);
  return { audit: base };
}

async function audit(entry: AuditInput): Promise<void> {
  try {
    await appendAudit(entry);
  } catch (err) {
    throw new CliError(
      `nothing was issued: the audit log could not be written (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

// `certdesk sign NAME…`: sign Approved CSRs with a local CA (registry or files), upload through /status, mark
// Failed what the signer's rules refuse; `--approve` approves first when the findings allow it.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { approveAndSignCsr, type SignOutcome, signCsr } from '../../services/actions/index.js';
import { getCsr } from '../../services/kube/writes.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { csrWire } from '../output/csr.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { type CaCliOptions, caLoader, profileFor } from './ca-source.js';
import {
  contextFrom,
  csrNames,
  type KubeCliOptions,
  oneSentence,
  type OutputCliOptions,
  out,
  unwrap,
  warn,
} from './common.js';
import { gateFacts, parseOverrides, policyFor, printFindings, reconcileOnStart } from './safety.js';

export interface SignCliOptions extends KubeCliOptions, OutputCliOptions, CaCliOptions {
  approve?: boolean;
  policy?: string;
  /** Failing finding codes accepted. */
  override?: string;
}

export async function runSign(args: string[], opts: SignCliOptions): Promise<void> {
  const names = csrNames(args);
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  const ctx = contextFrom(opts);
  const loadCa = caLoader(opts);
  const explicitProfile = await profileFor(opts.profile);
  const policy = await policyFor(opts.policy);
  const overrides = parseOverrides(opts.override);
  await reconcileOnStart(ctx);
  const facts = await gateFacts(ctx, policy);
  const signed: V1CertificateSigningRequest[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const csr = unwrapOrCollect(await getCsr(ctx, name), errors, names.length);
    if (!csr) continue;
    let outcome: SignOutcome | undefined;
    try {
      const choice = await loadCa(csr.spec?.signerName ?? '');
      const profile = explicitProfile ?? (await profileFor(choice.profileName));
      const common = {
        csr,
        policy,
        ...facts,
        ...(overrides ? { overrides } : {}),
        ca: choice.ca,
        ...(choice.signerName ? { signerName: choice.signerName } : {}),
        ...(profile ? { profile } : {}),
      };
      const result = opts.approve ? await approveAndSignCsr(ctx, name, common) : await signCsr(ctx, name, common);
      outcome = unwrapOrCollect(result, errors, names.length);
    } catch (err) {
      if (!(err instanceof CliError) || names.length === 1) throw err;
      errors.push(err.message);
      warn(`error: ${err.message}`);
    }
    if (!outcome) continue;
    printFindings(name, outcome.findings);
    if (outcome.kind === 'marked-failed') {
      const line = `CSR "${terminalSafe(name)}" was marked Failed (SignerValidationFailure): ${terminalSafe(outcome.message)}`;
      errors.push(line);
      if (names.length > 1) warn(`error: ${line}`);
      continue;
    }
    signed.push(outcome.csr);
    if (format === 'table') {
      out(
        `certificatesigningrequest.certificates.k8s.io/${terminalSafe(name)} signed (serial ${outcome.serial}, valid until ${outcome.notAfter.toISOString()})\n`,
      );
    } else if (format === 'name') out(`certificatesigningrequest.certificates.k8s.io/${terminalSafe(name)}\n`);
  }
  if (format === 'json' || format === 'yaml') {
    const data =
      signed.length === 1 && names.length === 1
        ? csrWire(signed[0] as V1CertificateSigningRequest)
        : {
            apiVersion: 'v1',
            kind: 'List',
            items: signed.map(csrWire),
            metadata: { resourceVersion: '' },
          };
    out(format === 'json' ? toJson(data) : toYaml(data));
  }
  if (errors.length === 1 && names.length === 1) throw new CliError(errors[0] ?? '');
  if (errors.length > 0) throw new CliError(`${errors.length} of ${names.length} CSRs were not signed (see above)`);
}

function unwrapOrCollect<T>(
  result: { ok: true; value: T } | { ok: false; error: { message: string } },
  errors: string[],
  count: number,
): T | undefined {
  if (result.ok) return result.value;
  if (count === 1) return unwrap(result as Parameters<typeof unwrap<T>>[0]);
  const line = oneSentence(result.error.message);
  errors.push(line);
  warn(`error: ${line}`);
  return undefined;
}

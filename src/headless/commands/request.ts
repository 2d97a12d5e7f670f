// `certdesk request`: the requester's whole side of "Manage TLS Certificates in a Cluster" in one command.
import { requestCertificate } from '../../services/actions/index.js';
import type { KeyAlgorithmName } from '../../services/pki/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { csrWire } from '../output/csr.js';
import { parseDurationSeconds } from '../output/duration.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import {
  contextFrom,
  isClientDryRun,
  type KubeCliOptions,
  type OutputCliOptions,
  out,
  readLocalFile,
  unwrap,
} from './common.js';
import { reconcileOnStart } from './safety.js';

export interface RequestCliOptions extends KubeCliOptions, OutputCliOptions {
  cn?: string;
  host?: string[];
  org?: string[];
  keyAlgorithm?: KeyAlgorithmName;
  csr?: string;
  signer: string;
  usages?: string[];
  expiration?: string;
  name?: string;
  wait?: boolean;
  timeout?: string;
  outDir: string;
  force?: boolean;
  filePrefix?: string;
  dryRun?: string;
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const s = parseDurationSeconds(text);
  if (s === undefined)
    throw new CliError(`${flag} "${terminalSafe(text)}" is not a duration; use e.g. 10m, 24h or 8760h`);
  return Math.round(s);
}

export async function runRequest(opts: RequestCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  if (opts.csr && (opts.cn || opts.host?.length || opts.org?.length)) {
    throw new CliError('--csr submits an existing request; drop --cn/--host/--org (they are in the CSR file)');
  }
  const expirationSeconds = seconds(opts.expiration, '--expiration');
  if (expirationSeconds !== undefined && expirationSeconds < 600) {
    throw new CliError('--expiration must be at least 10m (the API refuses shorter requests)');
  }
  const timeoutSeconds = seconds(opts.timeout, '--timeout') ?? 300;
  const ctx = contextFrom(opts);
  const csrPem = opts.csr ? await readLocalFile(opts.csr, 'CSR file') : undefined;
  const table = format === 'table';
  if (!isClientDryRun(opts.dryRun)) await reconcileOnStart(ctx);
  const result = unwrap(
    await requestCertificate(ctx, {
      ...(opts.cn ? { cn: opts.cn } : {}),
      ...(opts.host?.length ? { hosts: opts.host } : {}),
      ...(opts.org?.length ? { organizations: opts.org } : {}),
      ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
      ...(csrPem ? { csrPem } : {}),
      signerName: opts.signer,
      ...(opts.usages?.length ? { usages: opts.usages } : {}),
      ...(expirationSeconds !== undefined ? { expirationSeconds } : {}),
      ...(opts.name ? { name: opts.name } : {}),
      outDir: opts.outDir,
      ...(opts.force ? { force: true } : {}),
      ...(opts.filePrefix ? { filePrefix: opts.filePrefix } : {}),
      wait: !!opts.wait,
      dryRun: isClientDryRun(opts.dryRun),
      timeoutMs: timeoutSeconds * 1000,
      onCreated: (csr) => {
        const name = terminalSafe(csr.metadata?.name ?? '');
        if (table) out(`certificatesigningrequest.certificates.k8s.io/${name} created\n`);
        else if (format === 'name') out(`certificatesigningrequest.certificates.k8s.io/${name}\n`);
        if (table && opts.wait) process.stderr.write(`waiting for ${name} to be approved and issued…\n`);
      },
    }),
  );
  if (isClientDryRun(opts.dryRun)) {
    const data = csrWire(result.csr);
    if (format === 'json') out(toJson(data));
    else if (format === 'yaml' || format === 'table') out(toYaml(data));
    else out(`certificatesigningrequest.certificates.k8s.io/${terminalSafe(result.name)}\n`);
    return;
  }
  if (table) {
    if (result.keyFile) out(`key: ${terminalSafe(result.keyFile)} (0600)\n`);
    if (result.csrFile) out(`request: ${terminalSafe(result.csrFile)}\n`);
    if (result.certificateFile) out(`certificate: ${terminalSafe(result.certificateFile)}\n`);
    else if (!opts.wait) {
      out(
        `next: an approver runs \`certdesk approve ${terminalSafe(result.name)}\`; then re-run with --wait, or \`certdesk export files --csr ${terminalSafe(result.name)} --out-dir …\`\n`,
      );
    }
  } else if (format === 'json' || format === 'yaml') {
    const data = csrWire(result.csr);
    out(format === 'json' ? toJson(data) : toYaml(data));
  }
}

// `certdesk export secret|ca-configmap|files`: the document's last steps (`kubectl create secret tls`,
// `kubectl create configmap --from-file ca.crt=…`, saving server.crt), with --dry-run=client -o yaml.
import { caCertificatePem } from '../../services/config/ca-registry.js';
import { exportCaConfigMap, exportFiles, exportTlsSecret } from '../../services/actions/index.js';
import { getCsr } from '../../services/kube/writes.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { withTypeMeta } from '../../services/kube/wire.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { pkiToCli } from './ca-source.js';
import { reconcileOnStart } from './safety.js';
import {
  contextFrom,
  isClientDryRun,
  type KubeCliOptions,
  namespaceFor,
  type OutputCliOptions,
  out,
  readLocalFile,
  unwrap,
} from './common.js';

interface DryRunOptions {
  dryRun?: string;
  overwrite?: boolean;
  namespace?: string;
}

function printResult(kind: 'Secret' | 'ConfigMap', object: object, action: string, format: string, name: string): void {
  const resource = kind === 'Secret' ? 'secret' : 'configmap';
  if (format === 'json' || format === 'yaml') {
    const data = withTypeMeta(object, 'v1', kind);
    out(format === 'json' ? toJson(data) : toYaml(data));
  } else if (format === 'name') out(`${resource}/${terminalSafe(name)}\n`);
  else out(`${resource}/${terminalSafe(name)} ${action === 'dry-run' ? 'created (dry run)' : action}\n`);
}

export interface ExportSecretCliOptions extends KubeCliOptions, OutputCliOptions, DryRunOptions {
  csr: string;
  key: string;
}

export async function runExportSecret(name: string, opts: ExportSecretCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  const ctx = contextFrom(opts);
  const keyPem = await readLocalFile(opts.key, 'key file');
  if (!isClientDryRun(opts.dryRun)) await reconcileOnStart(ctx);
  const result = unwrap(
    await exportTlsSecret(ctx, {
      name,
      namespace: namespaceFor(ctx, opts.namespace),
      csrName: opts.csr,
      keyPem,
      overwrite: !!opts.overwrite,
      dryRun: isClientDryRun(opts.dryRun),
    }),
  );
  printResult('Secret', result.object, result.action, format, name);
}

export interface ExportCaConfigMapCliOptions extends KubeCliOptions, OutputCliOptions, DryRunOptions {
  signer?: string;
  caCert?: string;
  key?: string;
}

export async function runExportCaConfigMap(name: string, opts: ExportCaConfigMapCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  if (!opts.signer && !opts.caCert) throw new CliError('pass --signer (a CA in the registry) or --ca-cert FILE');
  if (opts.signer && opts.caCert) throw new CliError('pass either --signer or --ca-cert, not both');
  const ctx = contextFrom(opts);
  let caPem: string;
  try {
    caPem = opts.caCert
      ? await readLocalFile(opts.caCert, 'CA certificate')
      : await caCertificatePem(opts.signer ?? '');
  } catch (err) {
    return pkiToCli(err);
  }
  if (!isClientDryRun(opts.dryRun)) await reconcileOnStart(ctx);
  const result = unwrap(
    await exportCaConfigMap(ctx, {
      name,
      namespace: namespaceFor(ctx, opts.namespace),
      caPem,
      ...(opts.signer ? { signer: opts.signer } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      overwrite: !!opts.overwrite,
      dryRun: isClientDryRun(opts.dryRun),
    }),
  );
  printResult('ConfigMap', result.object, result.action, format, name);
}

export interface ExportFilesCliOptions extends KubeCliOptions {
  csr: string;
  outDir: string;
  force?: boolean;
  signer?: string;
  caCert?: string;
}

export async function runExportFiles(opts: ExportFilesCliOptions): Promise<void> {
  const ctx = contextFrom(opts);
  let caPem: string | undefined;
  if (opts.caCert) caPem = await readLocalFile(opts.caCert, 'CA certificate');
  else {
    let signer = opts.signer;
    if (!signer) {
      const csr = unwrap(await getCsr(ctx, opts.csr));
      signer = csr.spec?.signerName ?? '';
    }
    try {
      caPem = await caCertificatePem(signer);
    } catch (err) {
      if (opts.signer) return pkiToCli(err);
      // No CA registered for the CSR's signer (e.g. a cluster signer): write server.crt alone.
      process.stderr.write(`note: no CA registered for ${terminalSafe(signer)}; ca.crt not written (pass --ca-cert)\n`);
    }
  }
  const result = unwrap(
    await exportFiles(ctx, {
      csrName: opts.csr,
      outDir: opts.outDir,
      ...(caPem ? { caPem } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(opts.signer ? { signer: opts.signer } : {}),
    }),
  );
  for (const f of result.files) out(`${terminalSafe(f)}\n`);
}

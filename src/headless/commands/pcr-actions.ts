// `certdesk sign pcr`, `deny pcr`, `fail pcr` (issue 20): issue a PodCertificateRequest's certificate with a local
// CA, deny it, or mark it Failed, through /status at the version the cluster serves (v1, else v1beta1), with the
// CSR actions' safety (findings gate with --override, writes bound to the object checked, audit intent and outcome).
import { CONDITION_REASON, decidePcr, signPcr } from '../../services/actions/pcr.js';
import { exportTrustBundle } from '../../services/actions/trust-bundle.js';
import { caCertificatePem } from '../../services/config/ca-registry.js';
import type { ClusterContext } from '../../services/kube/api-types.js';
import { podCertificateApis, readPcr, type WirePcr } from '../../services/kube/pod-certificates.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { parseDurationSeconds } from '../output/duration.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { type CaCliOptions, caLoader, pkiToCli } from './ca-source.js';
import {
  contextFrom,
  type KubeCliOptions,
  namespaceFor,
  oneSentence,
  type OutputCliOptions,
  out,
  readLocalFile,
  unwrap,
  warn,
} from './common.js';
import { parseOverrides, policyFor, printFindings, reconcileOnStart } from './safety.js';

export interface PcrActionCliOptions extends KubeCliOptions, OutputCliOptions {
  namespace?: string;
}

export interface SignPcrCliOptions extends PcrActionCliOptions, CaCliOptions {
  duration?: string;
  override?: string;
  policy?: string;
}

export interface DecidePcrCliOptions extends PcrActionCliOptions {
  reason?: string;
  message?: string;
}

const resource = (name: string) => `podcertificaterequest.certificates.k8s.io/${terminalSafe(name)}`;

/** The served PodCertificateRequest version, or a one-line error. */
export async function pcrVersion(ctx: ClusterContext): Promise<string> {
  const version = unwrap(await podCertificateApis(ctx)).podCertificateRequests;
  if (!version) {
    throw new CliError(
      `context ${terminalSafe(ctx.name)} does not serve PodCertificateRequests (certificates.k8s.io v1 or v1beta1); enable the API on the cluster`,
    );
  }
  return version;
}

/** Runs `act` for each name; one name's error is the command's error, several are counted (kubectl's way). */
async function each(
  names: string[],
  verb: string,
  act: (name: string) => Promise<{ ok: true; value: WirePcr } | { ok: false; error: { message: string } }>,
  format: string,
): Promise<void> {
  const done: WirePcr[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const r = await act(name);
    if (r.ok) {
      done.push(r.value);
      continue;
    }
    const line = oneSentence(r.error.message);
    errors.push(line);
    if (names.length > 1) warn(`error: ${line}`);
  }
  if (format === 'json' || format === 'yaml') {
    const data =
      done.length === 1 && names.length === 1
        ? done[0]
        : { apiVersion: 'v1', kind: 'List', items: done, metadata: { resourceVersion: '' } };
    out(format === 'json' ? toJson(data) : toYaml(data));
  }
  if (errors.length === 1 && names.length === 1) throw new CliError(errors[0] ?? '');
  if (errors.length > 0)
    throw new CliError(`${errors.length} of ${names.length} PodCertificateRequests were not ${verb} (see above)`);
}

export async function runSignPcr(names: string[], opts: SignPcrCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  let durationSeconds: number | undefined;
  if (opts.duration !== undefined) {
    durationSeconds = parseDurationSeconds(opts.duration);
    if (durationSeconds === undefined || durationSeconds < 3600) {
      throw new CliError(
        `--duration "${opts.duration}" is not a duration of at least 1h (kube-apiserver refuses shorter pod certificates); use e.g. 12h`,
      );
    }
  }
  const ctx = contextFrom(opts);
  const loadCa = caLoader(opts);
  const policy = await policyFor(opts.policy);
  const overrides = parseOverrides(opts.override);
  const version = await pcrVersion(ctx);
  const namespace = namespaceFor(ctx, opts.namespace);
  await reconcileOnStart(ctx);
  await each(
    names,
    'issued',
    async (name) => {
      const read = await readPcr(ctx, version, namespace, name);
      if (!read.ok) {
        return read.error.kind === 'not-found'
          ? {
              ok: false,
              error: { message: `podcertificaterequests.certificates.k8s.io "${terminalSafe(name)}" not found` },
            }
          : read;
      }
      let choice: Awaited<ReturnType<typeof loadCa>>;
      try {
        choice = await loadCa(read.value.spec?.signerName ?? '');
      } catch (err) {
        if (err instanceof CliError) return { ok: false, error: { message: err.message } };
        throw err;
      }
      const r = await signPcr(ctx, version, namespace, name, {
        pcr: read.value,
        ca: choice.ca,
        policy,
        ...(choice.signerName ? { signerName: choice.signerName } : {}),
        ...(overrides ? { overrides } : {}),
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      });
      if (!r.ok) return r;
      printFindings(`${namespace}/${name}`, r.value.findings, 'PodCertificateRequest');
      if (format === 'table') {
        out(
          `${resource(name)} issued (serial ${r.value.serial}, valid until ${r.value.notAfter.toISOString()}, refresh from ${r.value.beginRefreshAt.toISOString()})\n`,
        );
      } else if (format === 'name') out(`${resource(name)}\n`);
      return { ok: true, value: r.value.pcr };
    },
    format,
  );
}

export async function runDecidePcr(
  type: 'Denied' | 'Failed',
  names: string[],
  opts: DecidePcrCliOptions,
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  const reason = opts.reason ?? '';
  if (!CONDITION_REASON.test(reason) || reason.length > 1024) {
    throw new CliError(
      `--reason "${terminalSafe(reason)}" is not a condition reason; use one CamelCase word such as ${type === 'Denied' ? 'UnknownWorkload' : 'UnsupportedKeyType'}`,
    );
  }
  const ctx = contextFrom(opts);
  const version = await pcrVersion(ctx);
  const namespace = namespaceFor(ctx, opts.namespace);
  const verb = type === 'Denied' ? 'denied' : 'marked Failed';
  await reconcileOnStart(ctx);
  await each(
    names,
    verb,
    async (name) => {
      const r = await decidePcr(type, ctx, version, namespace, name, {
        reason,
        ...(opts.message !== undefined ? { message: opts.message } : {}),
      });
      if (!r.ok) return r;
      if (format === 'table') out(`${resource(name)} ${r.value.changed ? verb : `already ${type}`}\n`);
      else if (format === 'name') out(`${resource(name)}\n`);
      return { ok: true, value: r.value.pcr };
    },
    format,
  );
}

export interface ExportTrustBundleCliOptions extends KubeCliOptions, OutputCliOptions {
  signer: string;
  name?: string;
  caCert?: string;
  removeOld?: boolean;
}

/** `certdesk export trust-bundle --signer S [--name live] [--remove-old]`: the registry's CA as a ClusterTrustBundle. */
export async function runExportTrustBundle(opts: ExportTrustBundleCliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml', 'name']);
  if (opts.name !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(opts.name)) {
    throw new CliError(
      `--name "${terminalSafe(opts.name)}" is not a name suffix; use lowercase letters, digits, - and . (e.g. live)`,
    );
  }
  const caPem = opts.caCert
    ? await readLocalFile(opts.caCert, 'CA certificate')
    : await caCertificatePem(opts.signer).catch(pkiToCli);
  const ctx = contextFrom(opts);
  const version = unwrap(await podCertificateApis(ctx)).clusterTrustBundles;
  if (!version) {
    throw new CliError(
      `context ${terminalSafe(ctx.name)} does not serve ClusterTrustBundles (certificates.k8s.io v1 or v1beta1); enable the API on the cluster`,
    );
  }
  await reconcileOnStart(ctx);
  const r = unwrap(
    await exportTrustBundle(ctx, {
      version,
      signerName: opts.signer,
      caPem,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.removeOld ? { removeOld: true } : {}),
    }),
  );
  const name = r.ctb.metadata?.name ?? '';
  if (format === 'json' || format === 'yaml') out(format === 'json' ? toJson(r.ctb) : toYaml(r.ctb));
  else if (format === 'name') out(`clustertrustbundle.certificates.k8s.io/${terminalSafe(name)}\n`);
  else {
    out(`clustertrustbundle.certificates.k8s.io/${terminalSafe(name)} ${r.action} (${r.kept.length} CA(s))\n`);
    for (const s of r.removed) warn(`removed CA ${s}`);
    if (r.kept.length > 1) {
      warn(
        `the bundle holds ${r.kept.length} CAs; once no certificate of the old one lives, run again with --remove-old`,
      );
    }
  }
}

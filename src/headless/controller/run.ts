// `certdesk controller`: turns the command line into a running controller (services/controller), serves
// /metrics and /healthz, and shuts down gracefully on SIGTERM/SIGINT (finish in-flight writes, release the lease).
import { auditLogPath } from '../../services/config/audit.js';
import {
  hasCa,
  type LoadForSignerOptions,
  loadCaForSigner,
  loadCaFromFiles,
} from '../../services/config/ca-registry.js';
import { createController, defaultIdentity, type SignerCa } from '../../services/controller/controller.js';
import type { WarnAction } from '../../services/controller/decide.js';
import { ControllerMetrics, startMetricsServer } from '../../services/controller/metrics.js';
import { type ClusterContext, KubeConfigError, loadContexts, loadInClusterContext } from '../../services/kube/index.js';
import { loadProfile, PkiError, type SigningProfile } from '../../services/pki/index.js';
import { loadPolicy, PolicyError } from '../../services/policy/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';
import { keySecrets } from '../pki/common.js';

export interface ControllerCliOptions {
  signer: string[];
  policy?: string;
  caCert?: string;
  caKey?: string;
  signerCa?: string[];
  caPassphraseEnv?: string;
  caPassphraseFile?: string;
  caPinEnv?: string;
  caPinFile?: string;
  pkcs11Module?: string;
  allowInsecureKeyFile?: boolean;
  profile?: string;
  approve: boolean;
  sign: boolean;
  pcr: boolean;
  onWarn: string;
  leaseNamespace?: string;
  leaseName: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  identity?: string;
  leaderElect: boolean;
  metricsPort: string;
  metricsAddress: string;
  concurrency: string;
  podNamespace?: string[];
  logFormat: string;
  auditLog?: string;
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
  inCluster?: boolean;
}

function seconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${flag} must be a positive number of seconds, not "${text}"`, 2);
  return n * 1000;
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`, 2);
  return n;
}

function sentence(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return terminalSafe(text.split('\n')[0] ?? text).replace(/\.\s*$/, '');
}

/** Parses `--signer-ca example.com/calico=/ca/tls.crt,/ca/tls.key`. */
export function parseSignerCa(spec: string): { signer: string; cert: string; key: string } {
  const eq = spec.indexOf('=');
  const signer = eq > 0 ? spec.slice(0, eq) : '';
  const [cert = '', key = '', ...rest] = eq > 0 ? spec.slice(eq + 1).split(',') : [];
  if (!signer || !cert || !key || rest.length)
    throw new CliError(`--signer-ca takes SIGNER=CERT_FILE,KEY_FILE, not "${terminalSafe(spec)}"`, 2);
  return { signer, cert, key };
}

/** Where the controller reads the CA key's secrets: variables and files only (it asks nobody). */
function caSecrets(opts: ControllerCliOptions): LoadForSignerOptions {
  const secrets = keySecrets(
    {
      ...(opts.caPassphraseEnv ? { passphraseEnv: opts.caPassphraseEnv } : {}),
      ...(opts.caPassphraseFile ? { passphraseFile: opts.caPassphraseFile } : {}),
      ...(opts.caPinEnv ? { pinEnv: opts.caPinEnv } : {}),
      ...(opts.caPinFile ? { pinFile: opts.caPinFile } : {}),
      ...(opts.pkcs11Module ? { pkcs11Module: opts.pkcs11Module } : {}),
    },
    false,
  );
  return { ...secrets, ...(opts.allowInsecureKeyFile ? { allowInsecureKeyFile: true } : {}) };
}

async function readCaFiles(cert: string, key: string, opts: ControllerCliOptions): Promise<SignerCa['ca']> {
  try {
    return await loadCaFromFiles({ ...caSecrets(opts), certPath: cert, key });
  } catch (err) {
    throw new CliError(`the CA in ${terminalSafe(cert)} cannot sign: ${sentence(err)}`);
  }
}

/** Loads one CA per signer: --signer-ca, then --ca-cert/--ca-key, then the CA registry. */
async function loadCas(opts: ControllerCliOptions, profile?: SigningProfile): Promise<Map<string, SignerCa>> {
  const cas = new Map<string, SignerCa>();
  const explicit = new Map<string, { cert: string; key: string }>();
  for (const spec of opts.signerCa ?? []) {
    const { signer, cert, key } = parseSignerCa(spec);
    if (!opts.signer.includes(signer))
      throw new CliError(`--signer-ca names ${terminalSafe(signer)}, which is not one of the --signer names`, 2);
    explicit.set(signer, { cert, key });
  }
  if ((opts.caCert && !opts.caKey) || (!opts.caCert && opts.caKey))
    throw new CliError('pass --ca-cert and --ca-key together', 2);
  for (const signer of opts.signer) {
    const files =
      explicit.get(signer) ?? (opts.caCert && opts.caKey ? { cert: opts.caCert, key: opts.caKey } : undefined);
    let ca: SignerCa['ca'];
    if (files) {
      ca = await readCaFiles(files.cert, files.key, opts);
    } else if (hasCa(signer)) {
      try {
        ca = await loadCaForSigner(signer, caSecrets(opts));
      } catch (err) {
        throw new CliError(`the registered CA for ${terminalSafe(signer)} cannot sign: ${sentence(err)}`);
      }
    } else {
      throw new CliError(
        `no CA for signer ${terminalSafe(signer)}: pass --ca-cert/--ca-key, --signer-ca ${terminalSafe(signer)}=CERT,KEY, or register one with certdesk ca import`,
        2,
      );
    }
    cas.set(signer, { ca, ...(profile ? { profile } : {}) });
  }
  return cas;
}

function pickContext(opts: ControllerCliOptions): ClusterContext {
  const inCluster = opts.inCluster || (!opts.kubeconfig && !opts.context && !!process.env.KUBERNETES_SERVICE_HOST);
  try {
    if (inCluster) return loadInClusterContext();
    const [ctx] = loadContexts({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { contexts: [opts.context] } : {}),
    });
    if (!ctx) throw new CliError('no context to use; pass --context NAME');
    return ctx;
  } catch (err) {
    if (err instanceof KubeConfigError) throw new CliError(sentence(err));
    throw err;
  }
}

export async function runController(raw: Record<string, unknown>): Promise<void> {
  const opts = raw as unknown as ControllerCliOptions;
  const signers = [...new Set(opts.signer)];
  if (!signers.length) throw new CliError('pass at least one --signer', 2);
  for (const s of signers) {
    if (!/^[^/\s]+\.[^/\s]+\/\S+$/.test(s))
      throw new CliError(
        `"${terminalSafe(s)}" is not a signer name; write it as <domain>/<name>, e.g. example.com/calico`,
        2,
      );
  }
  opts.signer = signers;
  if (!['leave', 'approve', 'deny'].includes(opts.onWarn))
    throw new CliError(`--on-warn must be leave, approve or deny, not "${terminalSafe(opts.onWarn)}"`, 2);
  if (opts.logFormat !== 'text' && opts.logFormat !== 'json')
    throw new CliError(`--log-format must be text or json, not "${terminalSafe(opts.logFormat)}"`, 2);
  if (!opts.approve && !opts.sign && !opts.pcr)
    process.stderr.write(
      'warning: neither --approve, --sign nor --pcr given: the controller only watches and reports.\n',
    );
  const timings = {
    leaseDurationMs: seconds(opts.leaseDuration, '--lease-duration'),
    renewDeadlineMs: seconds(opts.renewDeadline, '--renew-deadline'),
    retryPeriodMs: seconds(opts.retryPeriod, '--retry-period'),
  };
  if (timings.leaseDurationMs <= timings.renewDeadlineMs)
    throw new CliError('--lease-duration must be longer than --renew-deadline', 2);
  if (timings.renewDeadlineMs <= timings.retryPeriodMs * 1.2)
    throw new CliError('--renew-deadline must be longer than --retry-period (by more than 20%)', 2);
  const port = wholeNumber(opts.metricsPort, '--metrics-port', 0, 65535);
  const concurrency = wholeNumber(opts.concurrency, '--concurrency', 1, 256);

  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    policy = await loadPolicy(opts.policy);
  } catch (err) {
    if (err instanceof PolicyError) throw new CliError(sentence(err), 2);
    throw err;
  }
  let profile: SigningProfile | undefined;
  if (opts.profile) {
    try {
      profile = await loadProfile(opts.profile);
    } catch (err) {
      if (err instanceof PkiError) throw new CliError(sentence(err), 2);
      throw err;
    }
  }
  const cas = (opts.sign || opts.pcr) && !opts.dryRun ? await loadCas(opts, profile) : new Map<string, SignerCa>();
  const context = pickContext(opts);
  const leaseNamespace = opts.leaseNamespace || process.env.POD_NAMESPACE || context.namespace || 'default';
  const metrics = new ControllerMetrics();
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const controller = createController({
    context,
    signers,
    policy,
    approve: opts.approve,
    sign: opts.sign,
    pcr: opts.pcr,
    onWarn: opts.onWarn as WarnAction,
    cas,
    dryRun: opts.dryRun,
    leaderElection: opts.leaderElect
      ? { namespace: leaseNamespace, name: opts.leaseName, identity: opts.identity || defaultIdentity(), ...timings }
      : false,
    metrics,
    log,
    concurrency,
    logFormat: opts.logFormat as 'text' | 'json',
    ...(opts.podNamespace?.length ? { podNamespaces: opts.podNamespace } : {}),
    // Audited by default, to the state directory (deploy/ mounts a volume there); --audit-log changes where.
    auditFile: opts.auditLog || auditLogPath(),
  });

  let server: Awaited<ReturnType<typeof startMetricsServer>>;
  try {
    server = await startMetricsServer(
      metrics,
      port,
      () => controller.health(),
      opts.metricsAddress,
      () => controller.ready(),
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EADDRINUSE'
        ? `port ${port} is in use; pass another --metrics-port`
        : `cannot serve metrics on ${opts.metricsAddress}:${port} (${code ?? sentence(err)})`,
    );
  }
  const event = (name: string, fields: Record<string, string | number>) =>
    log(
      opts.logFormat === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), event: name, ...fields })
        : `${new Date().toISOString()} ${name} ${Object.entries(fields)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
    );
  event('metrics', { address: opts.metricsAddress, port: server.port });

  let stopping = false;
  const done = new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      if (stopping) {
        // Ctrl-C twice: stop waiting for the in-flight write (the lease then expires instead). A repeated SIGTERM
        // is ignored (Kubernetes follows its SIGTERM with SIGKILL after the grace period anyway).
        if (signal !== 'SIGINT') return;
        process.stderr.write('interrupted again: exiting without waiting.\n');
        process.exit(130);
      }
      stopping = true;
      event('signal', { name: signal });
      void (async () => {
        await controller.stop(); // finishes in-flight writes, releases the lease
        await server.close();
        resolve();
      })();
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
  await controller.start();
  await done;
}

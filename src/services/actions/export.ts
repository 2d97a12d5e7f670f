// Exports of an issued certificate or a CA, each audited: the TLS Secret and CA ConfigMap of the "Manage TLS
// Certificates in a Cluster" document, server.crt/ca.crt files, and a kubeconfig for a new client user.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1CertificateSigningRequest, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { AuditAction } from '../config/audit.js';
import {
  buildCaConfigMap,
  buildClientKubeconfig,
  buildTlsSecret,
  ExportError,
  FileExistsError,
  KubeconfigConflictError,
  mergeKubeconfig,
  replaceFileAtomically,
  writeFileSafely,
} from '../export/index.js';
import {
  applyConfigMap,
  applySecret,
  type ClusterContext,
  csrReplaced,
  getCsr,
  type KubeError,
  type KubeResult,
} from '../kube/index.js';
import { type DecodedCertificate, decodeCertificate } from '../pki/index.js';
import { parsePemBlocks } from '../pki/pem.js';
import { type ActionContextOptions, auditedWrites, auditSink, errorEntry } from './audit-helpers.js';

/** What an export writes, read back by the reconciliation (docs/safety.md). */
const SECRET_FIELDS = ['type', 'data'];
const CONFIGMAP_FIELDS = ['data', 'binaryData'];

function refusal(message: string, reason: string, context: string): KubeError {
  return { kind: 'refused', message, reason, context };
}

/** The issued certificate of a CSR (PEM text), or a refusal saying it is not issued yet. */
export async function issuedCertificate(
  ctx: ClusterContext,
  csrName: string,
  inspected?: V1CertificateSigningRequest,
): Promise<KubeResult<{ csr: V1CertificateSigningRequest; pem: string; certificate: DecodedCertificate }>> {
  const read = await getCsr(ctx, csrName);
  if (!read.ok) return read;
  const csr = read.value;
  // Bound to what the person inspected: the same object (UID) carrying the same certificate (docs/safety.md).
  const uid = inspected?.metadata?.uid;
  if (uid && (csr.metadata?.uid !== uid || csr.status?.certificate !== inspected?.status?.certificate)) {
    return {
      ok: false,
      error:
        csr.metadata?.uid !== uid
          ? csrReplaced(ctx, csrName, uid, csr.metadata?.uid)
          : refusal(
              `The certificate of CSR "${csrName}" is not the one inspected; nothing was exported: inspect it again.`,
              'Replaced',
              ctx.name,
            ),
    };
  }
  const b64 = csr.status?.certificate;
  if (!b64) {
    return {
      ok: false,
      error: refusal(
        `CSR "${csrName}" has no certificate yet; it must be approved and signed first.`,
        'NotIssued',
        ctx.name,
      ),
    };
  }
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  try {
    return { ok: true, value: { csr, pem, certificate: await decodeCertificate(pem) } };
  } catch (err) {
    return {
      ok: false,
      error: refusal(
        `The certificate in CSR "${csrName}" cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        'BadCertificate',
        ctx.name,
      ),
    };
  }
}

/** Whether one of the certificates of `caPem` issued (and signed) the first certificate of `pem`. */
function issuedBy(pem: string, caPem: string): boolean {
  try {
    const [leaf] = parsePemBlocks(pem).filter((b) => b.label === 'CERTIFICATE');
    if (!leaf) return false;
    const cert = new X509Certificate(leaf.der);
    return parsePemBlocks(caPem)
      .filter((b) => b.label === 'CERTIFICATE')
      .some((b) => {
        const ca = new X509Certificate(b.der);
        return cert.checkIssued(ca) && cert.verify(ca.publicKey);
      });
  } catch {
    return false;
  }
}

interface AuditIds {
  context: string;
  csrName?: string;
  csrUid?: string;
  signer?: string;
  serial?: string;
  sha256Fingerprint?: string;
}

function idsOf(ctx: ClusterContext, csr?: V1CertificateSigningRequest, cert?: DecodedCertificate): AuditIds {
  return {
    context: ctx.name,
    ...(csr?.metadata?.name ? { csrName: csr.metadata.name } : {}),
    ...(csr?.metadata?.uid ? { csrUid: csr.metadata.uid } : {}),
    ...(csr?.spec?.signerName ? { signer: csr.spec.signerName } : {}),
    ...(cert ? { serial: cert.serialNumber, sha256Fingerprint: cert.sha256Fingerprint } : {}),
  };
}

export interface ExportSecretOptions extends ActionContextOptions {
  /** Secret name. */
  name: string;
  namespace: string;
  csrName: string;
  /** The requester's private key, PEM (unencrypted). */
  keyPem: string;
  /** The CSR as inspected: export only its certificate (refused if the CSR was replaced). */
  inspected?: V1CertificateSigningRequest;
  overwrite?: boolean;
  /** Build only; nothing is sent and nothing audited. */
  dryRun?: boolean;
}

export interface ExportResult<T> {
  object: T;
  action: 'created' | 'updated' | 'dry-run';
}

/** A kubernetes.io/tls Secret from the CSR's certificate and the requester's key (which must match it). */
export async function exportTlsSecret(
  ctx: ClusterContext,
  options: ExportSecretOptions,
): Promise<KubeResult<ExportResult<V1Secret>>> {
  const sink = auditSink(options);
  const action: AuditAction = 'export-secret';
  const issued = await issuedCertificate(ctx, options.csrName, options.inspected);
  if (!issued.ok) {
    if (!options.dryRun) await sink(errorEntry({ context: ctx.name, action, csrName: options.csrName }, issued.error));
    return issued;
  }
  const ids = idsOf(ctx, issued.value.csr, issued.value.certificate);
  let secret: V1Secret;
  try {
    secret = buildTlsSecret({
      name: options.name,
      namespace: options.namespace,
      certificatePem: issued.value.pem,
      keyPem: options.keyPem,
    });
  } catch (err) {
    const error = refusal(err instanceof Error ? err.message : String(err), 'KeyMismatch', ctx.name);
    if (!options.dryRun) await sink(errorEntry({ ...ids, action }, error));
    return { ok: false, error };
  }
  if (options.dryRun) return { ok: true, value: { object: secret, action: 'dry-run' } };
  const writes = auditedWrites(sink, { ...ids, action }, secret, SECRET_FIELDS);
  const applied = await applySecret(ctx, options.namespace, secret, {
    overwrite: options.overwrite ?? false,
    onWrite: writes.onWrite,
  });
  if (!applied.ok) {
    if (!writes.sent) await sink(errorEntry({ ...ids, action }, applied.error));
    return applied;
  }
  return { ok: true, value: { object: applied.value.object, action: applied.value.action } };
}

export interface ExportCaConfigMapOptions extends ActionContextOptions {
  name: string;
  namespace: string;
  /** The CA certificate PEM (from the registry, never its key). */
  caPem: string;
  /** For the audit line. */
  signer?: string;
  /** @default 'ca.crt' */
  key?: string;
  overwrite?: boolean;
  dryRun?: boolean;
}

/** A ConfigMap holding a CA certificate (the clients' trust root). */
export async function exportCaConfigMap(
  ctx: ClusterContext,
  options: ExportCaConfigMapOptions,
): Promise<KubeResult<ExportResult<V1ConfigMap>>> {
  const sink = auditSink(options);
  const action: AuditAction = 'export-configmap';
  let cert: DecodedCertificate | undefined;
  const ids = (): AuditIds => ({
    context: ctx.name,
    ...(options.signer ? { signer: options.signer } : {}),
    ...(cert ? { serial: cert.serialNumber, sha256Fingerprint: cert.sha256Fingerprint } : {}),
  });
  let configMap: V1ConfigMap;
  try {
    cert = await decodeCertificate(options.caPem);
    configMap = buildCaConfigMap({
      name: options.name,
      namespace: options.namespace,
      caPem: options.caPem,
      ...(options.key ? { key: options.key } : {}),
    });
  } catch (err) {
    const error = refusal(err instanceof Error ? err.message : String(err), 'BadCa', ctx.name);
    if (!options.dryRun) await sink(errorEntry({ ...ids(), action }, error));
    return { ok: false, error };
  }
  if (options.dryRun) return { ok: true, value: { object: configMap, action: 'dry-run' } };
  const writes = auditedWrites(sink, { ...ids(), action }, configMap, CONFIGMAP_FIELDS);
  const applied = await applyConfigMap(ctx, options.namespace, configMap, {
    overwrite: options.overwrite ?? false,
    onWrite: writes.onWrite,
  });
  if (!applied.ok) {
    if (!writes.sent) await sink(errorEntry({ ...ids(), action }, applied.error));
    return applied;
  }
  return { ok: true, value: { object: applied.value.object, action: applied.value.action } };
}

export interface ExportFilesOptions extends ActionContextOptions {
  csrName: string;
  outDir: string;
  /** CA certificate PEM for ca.crt; omitted → only server.crt. */
  caPem?: string;
  signer?: string;
  /** Replace server.crt / ca.crt when they exist (otherwise refused). */
  force?: boolean;
}

/** Writes server.crt (the issued certificate) and ca.crt; returns the paths written. */
export async function exportFiles(
  ctx: ClusterContext,
  options: ExportFilesOptions,
): Promise<KubeResult<{ files: string[] }>> {
  const sink = auditSink(options);
  const action: AuditAction = 'export-files';
  const issued = await issuedCertificate(ctx, options.csrName);
  if (!issued.ok) {
    await sink(errorEntry({ context: ctx.name, action, csrName: options.csrName }, issued.error));
    return issued;
  }
  const ids = idsOf(ctx, issued.value.csr, issued.value.certificate);
  // ca.crt is written for verifying server.crt: one that did not issue it is refused before anything is written.
  if (options.caPem && !issuedBy(issued.value.pem, options.caPem)) {
    const error = refusal(
      `The CA given for ca.crt did not issue CSR "${options.csrName}"'s certificate (its issuer is ${issued.value.certificate.issuer.text}), so ca.crt would not verify server.crt; pass the CA of its signer ${issued.value.csr.spec?.signerName ?? ''} (--signer or --ca-cert). Nothing was written.`,
      'WrongCa',
      ctx.name,
    );
    await sink(errorEntry({ ...ids, action }, error));
    return { ok: false, error };
  }
  const files = [join(options.outDir, 'server.crt')];
  try {
    await writeFileSafely(files[0] ?? '', issued.value.pem, 0o644, options.force);
    if (options.caPem) {
      files.push(join(options.outDir, 'ca.crt'));
      await writeFileSafely(files[1] ?? '', options.caPem, 0o644, options.force);
    }
  } catch (err) {
    const error: KubeError = {
      kind: 'unknown',
      message:
        err instanceof FileExistsError
          ? err.message
          : `Could not write to ${options.outDir}: ${err instanceof Error ? err.message : String(err)}`,
      context: ctx.name,
    };
    await sink(errorEntry({ ...ids, action }, error));
    return { ok: false, error };
  }
  await sink({ ...ids, action, outcome: 'ok', detail: `wrote ${files.join(', ')}` });
  return { ok: true, value: { files } };
}

export interface KubeconfigOptions extends ActionContextOptions {
  csrName: string;
  /** The new user's private key, PEM. */
  keyPem: string;
  /** User entry name. @default the certificate's CN */
  user?: string;
  /** Merge into this kubeconfig file (created 0600 if missing), as kubectl's config set-* do; else only returned. */
  out?: string;
  /** Replace entries of the same names that differ (otherwise refused). */
  force?: boolean;
}

/**
 * A kubeconfig for the user whose kube-apiserver-client certificate the CSR carries, with the cluster of `ctx`
 * (server and CA); the key must match the certificate.
 */
export async function buildKubeconfigForCsr(
  ctx: ClusterContext,
  options: KubeconfigOptions,
): Promise<KubeResult<{ yaml: string; user: string; file?: string }>> {
  const sink = auditSink(options);
  const action: AuditAction = 'kubeconfig';
  const issued = await issuedCertificate(ctx, options.csrName);
  if (!issued.ok) {
    await sink(errorEntry({ context: ctx.name, action, csrName: options.csrName }, issued.error));
    return issued;
  }
  const ids = idsOf(ctx, issued.value.csr, issued.value.certificate);
  // A kubeconfig user logs in with a client certificate: a server-only one would only ever get "Unauthorized".
  const eku = issued.value.certificate.extKeyUsage;
  if (eku.length > 0 && !eku.includes('clientAuth')) {
    const error = refusal(
      `CSR "${options.csrName}"'s certificate is not for client authentication (it allows ${eku.join(', ')}), so the API server would not log anyone in with it; a kubeconfig needs a certificate from kubernetes.io/kube-apiserver-client (or with client auth).`,
      'NotClientCert',
      ctx.name,
    );
    await sink(errorEntry({ ...ids, action }, error));
    return { ok: false, error };
  }
  const user = options.user ?? issued.value.certificate.subject.commonName ?? options.csrName;
  const cluster = ctx.kubeConfig.getCurrentCluster();
  let yaml: string;
  try {
    // buildTlsSecret checks that the key belongs to the certificate; the Secret itself is not used.
    buildTlsSecret({ name: 'check', namespace: 'check', certificatePem: issued.value.pem, keyPem: options.keyPem });
    yaml = buildClientKubeconfig({
      clusterName: ctx.cluster,
      server: cluster?.server ?? ctx.server,
      ...(cluster?.caData ? { certificateAuthorityData: cluster.caData } : {}),
      ...(cluster?.caFile ? { certificateAuthority: cluster.caFile } : {}),
      ...(cluster?.skipTLSVerify ? { insecureSkipTlsVerify: true } : {}),
      ...(cluster?.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
      user,
      certificatePem: issued.value.pem,
      keyPem: options.keyPem,
    });
  } catch (err) {
    const error = refusal(
      err instanceof ExportError || err instanceof Error ? err.message : String(err),
      'KeyMismatch',
      ctx.name,
    );
    await sink(errorEntry({ ...ids, action }, error));
    return { ok: false, error };
  }
  if (options.out) {
    try {
      const existing = await readFile(options.out, 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return '';
        throw e;
      });
      await replaceFileAtomically(options.out, mergeKubeconfig(existing, yaml, options.out, options.force), 0o600);
    } catch (err) {
      const error: KubeError = {
        kind: 'unknown',
        message:
          err instanceof KubeconfigConflictError
            ? err.message
            : `Could not write ${options.out}: ${err instanceof Error ? err.message : String(err)}`,
        context: ctx.name,
      };
      await sink(errorEntry({ ...ids, action }, error));
      return { ok: false, error };
    }
  }
  await sink({
    ...ids,
    action,
    outcome: 'ok',
    detail: `kubeconfig for user ${user}${options.out ? ` merged into ${options.out}` : ' printed'}`,
  });
  return { ok: true, value: { yaml, user, ...(options.out ? { file: options.out } : {}) } };
}

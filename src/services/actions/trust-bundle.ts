// `export trust-bundle` (issue 20): publish a signer's CA as the ClusterTrustBundle `<signer with : for />:<name>`,
// which pods read through clusterTrustBundle projected volumes. Rotation keeps the bundle's other CAs beside the new
// one until `removeOld`, so pods trust both while certificates of the old CA still live. The write is bound to the
// bundle read (uid + resourceVersion), and audited as exports are (auditedWrites: an intent naming the object and the
// SHA-256 of the spec before the write, the outcome after; docs/safety.md).
import type { AuditAction } from '../config/audit.js';
import {
  type ClusterContext,
  type KubeError,
  type KubeResult,
  readCtb,
  trustBundleName,
  type WireCtb,
  writeTrustBundle,
} from '../kube/index.js';
import { type DecodedCertificate, decodeCertificates } from '../pki/index.js';
import { type ActionContextOptions, auditedWrites, auditSink, errorEntry } from './audit-helpers.js';

export interface ExportTrustBundleOptions extends ActionContextOptions {
  /** The served ClusterTrustBundle version (v1, v1beta1). */
  version: string;
  signerName: string;
  /** The suffix after the signer: `<signer with :>:<name>`. @default live */
  name?: string;
  /** The CA certificate (PEM) to publish. */
  caPem: string;
  /** Drop every other CA from the bundle (after a rotation, once no certificate of the old CA lives). */
  removeOld?: boolean;
}

export interface ExportTrustBundleResult {
  ctb: WireCtb;
  action: 'created' | 'updated' | 'unchanged';
  /** Subjects of the CAs the bundle holds now, and of those removed. */
  kept: string[];
  removed: string[];
}

function refusal(message: string, reason: string, context: string): KubeError {
  return { kind: 'refused', message, reason, context };
}

/** A bundle's certificates as kube-apiserver wants them: CERTIFICATE blocks only, no headers, one per CA. */
const bundleOf = (certs: readonly DecodedCertificate[]) => certs.map((c) => c.pem.trimEnd()).join('\n') + '\n';

export async function exportTrustBundle(
  ctx: ClusterContext,
  options: ExportTrustBundleOptions,
): Promise<KubeResult<ExportTrustBundleResult>> {
  const sink = auditSink(options);
  const action: AuditAction = 'export-trust-bundle';
  const name = trustBundleName(options.signerName, options.name ?? 'live');
  const base = { context: ctx.name, action, signer: options.signerName };
  const refuse = async (error: KubeError) => {
    await sink(errorEntry(base, error));
    return { ok: false as const, error };
  };
  let ca: DecodedCertificate;
  try {
    const certs = await decodeCertificates(options.caPem);
    if (certs.length !== 1 || !certs[0]?.basicConstraints?.ca) throw new Error('it is not one CA certificate');
    ca = certs[0];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return refuse(refusal(`The CA for ${options.signerName} cannot be published: ${why}.`, 'BadCa', ctx.name));
  }
  const read = await readCtb(ctx, options.version, name);
  if (!read.ok && read.error.kind !== 'not-found') return refuse(read.error);
  const existing = read.ok ? read.value : undefined;
  if (existing?.spec?.signerName && existing.spec.signerName !== options.signerName) {
    return refuse(
      refusal(
        `ClusterTrustBundle "${name}" belongs to signer ${existing.spec.signerName}, not ${options.signerName}.`,
        'WrongSigner',
        ctx.name,
      ),
    );
  }
  let current: DecodedCertificate[] = [];
  if (existing) {
    try {
      current = await decodeCertificates(existing.spec?.trustBundle ?? '');
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return refuse(
        refusal(`ClusterTrustBundle "${name}" cannot be read (${why}); fix or delete it.`, 'BadBundle', ctx.name),
      );
    }
  }
  const others = current.filter((c) => c.sha256Fingerprint !== ca.sha256Fingerprint);
  const kept = options.removeOld ? [ca] : [...others, ca];
  const removed = options.removeOld ? others : [];
  const wanted = bundleOf(kept);
  const spec = { signerName: options.signerName, trustBundle: wanted };
  const ids = { ...base, serial: ca.serialNumber, sha256Fingerprint: ca.sha256Fingerprint };
  const summary = { kept: kept.map((c) => c.subject.text), removed: removed.map((c) => c.subject.text) };
  if (existing && existing.spec?.trustBundle === wanted && existing.spec?.signerName === options.signerName) {
    await sink({ ...ids, outcome: 'ok', detail: `clustertrustbundle ${name} unchanged` });
    return { ok: true, value: { ctb: existing, action: 'unchanged', ...summary } };
  }
  // Audited as exports are: an intent naming the object and the SHA-256 of the spec before the write, the outcome
  // after it; reconciliation reads the bundle back.
  const object = { kind: 'ClusterTrustBundle', metadata: { name }, spec };
  const writes = auditedWrites(sink, ids, object, ['spec']);
  const written = await writeTrustBundle(
    ctx,
    options.version,
    { name, ...spec },
    existing
      ? { uid: existing.metadata?.uid ?? '', resourceVersion: existing.metadata?.resourceVersion ?? '' }
      : undefined,
    writes.onWrite,
  );
  if (!written.ok) {
    const error =
      written.error.kind === 'forbidden'
        ? {
            ...written.error,
            message: `${written.error.message.replace(/\.?$/, '')}; publishing a bundle for ${options.signerName} needs the attest verb on signers.certificates.k8s.io "${options.signerName}" and create/update on clustertrustbundles.`,
          }
        : written.error;
    if (!writes.sent) await sink(errorEntry(ids, error));
    return { ok: false, error };
  }
  return { ok: true, value: { ctb: written.value.ctb, action: written.value.action, ...summary } };
}

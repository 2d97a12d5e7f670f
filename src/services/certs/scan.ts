// One pass of the renewal radar over a context: the CAs signers publish first (Installation, ClusterTrustBundles,
// annotated CA ConfigMaps, the local CA registry), then every source that holds certificates, page by page so no
// Secret's data outlives its page. A source the user may not read (403) is named once and skipped; an API the
// server does not serve (404) is skipped silently; a context that cannot be reached fails alone.
import type { CaRegistryEntry, RegistryOptions } from '../config/ca-registry.js';
import type { ClusterContext } from '../kube/api-types.js';
import { getIfPresent, listEach, type RawObject, servedVersion } from '../kube/list.js';
import type { KubeError, KubeResult } from '../kube/types.js';
import { PEM_FILE_LIMIT, readBounded } from '../files/read-bounded.js';
import { inspectPem, type PemInput } from './inspect.js';
import {
  addAnchors,
  apiServiceInputs,
  configMapAnchor,
  configMapInputs,
  crdInputs,
  csrInputs,
  installationAnchor,
  pcrInputs,
  secretInputs,
  trustBundleAnchor,
  trustBundleInputs,
  webhookInputs,
} from './objects.js';
import type { Anchors, CertRecord, CertSource } from './types.js';

export interface ScanOptions {
  sources: ReadonlySet<CertSource>;
  /** Namespaced sources only in this namespace (or the one this gives for a context); undefined: every namespace. */
  namespace?: string | ((ctx: ClusterContext) => string | undefined);
  /** @default 500 */
  pageSize?: number;
  /** The local CA registry's directory (tests). */
  registry?: RegistryOptions;
  signal?: AbortSignal;
}

/** A source that was not read, and why (one per context and resource). */
export interface SkippedSource {
  context: string | undefined;
  /** e.g. `secrets`, `validatingwebhookconfigurations.admissionregistration.k8s.io`. */
  resource: string;
  forbidden: boolean;
  message: string;
}

export interface ScanResult {
  records: CertRecord[];
  skipped: SkippedSource[];
  /** Set when the context could not be read at all (unreachable, TLS, credentials). */
  failed?: KubeError;
}

/** Calico's Installation, whose spec.certificateManagement names its signer and CA. */
export const CALICO_PATH = '/apis/operator.tigera.io/v1/installations/default';

/** Errors that say the whole context is out of reach, not just one source. */
function contextWide(error: KubeError): boolean {
  return ['unreachable', 'tls', 'unauthorized', 'timeout'].includes(error.kind);
}

function nsPath(base: string, resource: string, namespace: string | undefined): string {
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}` : `${base}/${resource}`;
}

/**
 * Collapses kube-root-ca.crt, which kube-controller-manager copies into every namespace, to one record per CA and
 * context (the first one, with the number of copies). The records given are not changed.
 */
export function dedupeRootCa(records: readonly CertRecord[]): CertRecord[] {
  const copies = new Map<string, number>();
  const keyOf = (r: CertRecord) =>
    r.location.kind === 'ConfigMap' && r.location.name === 'kube-root-ca.crt' && r.cert
      ? `${r.context}|${r.cert.fingerprint}`
      : undefined;
  for (const r of records) {
    const key = keyOf(r);
    if (key) copies.set(key, (copies.get(key) ?? 0) + 1);
  }
  const seen = new Set<string>();
  const out: CertRecord[] = [];
  for (const r of records) {
    const key = keyOf(r);
    if (!key) out.push(r);
    else if (!seen.has(key)) {
      seen.add(key);
      const n = copies.get(key) ?? 1;
      out.push(n > 1 ? { ...r, copies: n } : r);
    }
  }
  return out;
}

/** Reads a local PEM file up to the limit every named file has (services/files). */
async function readPemFile(path: string): Promise<string> {
  return (await readBounded(path, { what: 'certificate', limit: PEM_FILE_LIMIT })).toString('utf8');
}

/** The local CA registry's certificates (one record each) and the anchors they are for their signers. */
export async function scanRegistry(
  options: Pick<ScanOptions, 'registry'>,
): Promise<{ records: CertRecord[]; anchors: Map<string, Anchors>; skipped: SkippedSource[] }> {
  const anchors = new Map<string, Anchors>();
  const records: CertRecord[] = [];
  const skipped: SkippedSource[] = [];
  let entries: CaRegistryEntry[];
  try {
    // Loaded here, not with this module: conf and its JSON-schema validator (ajv) cost the TUI's start ~0.2 s of
    // CPU, and the renewal radar reads the registry only after the first frame (src/app/lazy.ts).
    const { listCas } = await import('../config/ca-registry.js');
    entries = listCas(options.registry);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      records,
      anchors,
      skipped: [{ context: undefined, resource: 'the local CA registry', forbidden: false, message }],
    };
  }
  for (const e of entries) {
    let pem: string;
    const input: Omit<PemInput, 'content'> = {
      context: undefined,
      location: { source: 'local', kind: 'CaRegistry', name: e.signerName, field: e.certPath },
      bundle: false,
      renewal: { signerName: e.signerName },
    };
    try {
      pem = await readPemFile(e.certPath);
    } catch (err) {
      records.push(...inspectPem({ ...input, content: '' }).map((r) => withReadError(r, err)));
      continue;
    }
    records.push(...inspectPem({ ...input, content: pem }));
    addAnchors(anchors, e.signerName, { pems: [pem], where: `the local CA for ${e.signerName}` });
  }
  return { records, anchors, skipped };
}

function withReadError(r: CertRecord, err: unknown): CertRecord {
  const why = err instanceof Error ? err.message.replace(/\.$/, '') : String(err);
  return { ...r, problems: [{ kind: 'unparseable', message: why }] };
}

/** The client certificate each context's kubeconfig user authenticates with (one record per user). */
export async function scanKubeconfigUsers(contexts: readonly ClusterContext[]): Promise<CertRecord[]> {
  const records: CertRecord[] = [];
  const users = new Set<string>();
  for (const ctx of contexts) {
    const user = ctx.kubeConfig.getCurrentUser();
    if (!user || users.has(user.name) || (!user.certData && !user.certFile)) continue;
    users.add(user.name);
    const field = user.certData ? `users[${user.name}].client-certificate-data` : (user.certFile ?? '');
    const input: Omit<PemInput, 'content'> = {
      context: ctx.name,
      location: { source: 'local', kind: 'Kubeconfig', name: ctx.name, field },
      bundle: false,
    };
    if (user.certData) {
      records.push(...inspectPem({ ...input, content: Buffer.from(user.certData, 'base64') }));
      continue;
    }
    try {
      records.push(...inspectPem({ ...input, content: await readPemFile(user.certFile ?? '') }));
    } catch (err) {
      records.push(...inspectPem({ ...input, content: '' }).map((r) => withReadError(r, err)));
    }
  }
  return records;
}

/** Scans one context. `localAnchors` are the registry's CAs (from scanRegistry), shared by every context. */
export async function scanContext(
  ctx: ClusterContext,
  options: ScanOptions,
  localAnchors: ReadonlyMap<string, Anchors> = new Map(),
): Promise<ScanResult> {
  const { sources } = options;
  const records: CertRecord[] = [];
  const skipped: SkippedSource[] = [];
  let failed: KubeError | undefined;
  const anchors = new Map<string, Anchors>();
  let calicoSigner: string | undefined;
  const namespace = typeof options.namespace === 'function' ? options.namespace(ctx) : options.namespace;
  const list = { pageSize: options.pageSize ?? 500, ...(options.signal ? { signal: options.signal } : {}) };

  /** Records a failed read: forbidden → named once; not served → silent; out of reach → the context failed. */
  const note = (resource: string, result: KubeResult<unknown>): boolean => {
    if (result.ok) return true;
    const e = result.error;
    if (e.kind === 'not-found') return false;
    if (contextWide(e)) failed ??= e;
    else if (!skipped.some((s) => s.resource === resource)) {
      skipped.push({ context: ctx.name, resource, forbidden: e.kind === 'forbidden', message: e.message });
    }
    return false;
  };
  const each = async (resource: string, path: string, onItem: (raw: RawObject) => void) => {
    if (failed) return;
    note(resource, await listEach(ctx, path, (items) => items.forEach(onItem), list));
  };
  const inspectAll = (inputs: PemInput[]) => {
    for (const i of inputs) records.push(...inspectPem(i));
  };

  // 1. What signers publish: Calico's Installation, ClusterTrustBundles, annotated CA ConfigMaps, the local CAs.
  for (const [signer, a] of localAnchors) addAnchors(anchors, signer, a);
  if (sources.has('secret') || sources.has('csr')) {
    const inst = await getIfPresent(ctx, CALICO_PATH);
    if (note('installations.operator.tigera.io', inst) && inst.ok && inst.value) {
      const found = installationAnchor(inst.value);
      if (found) {
        calicoSigner = found.signerName;
        addAnchors(anchors, found.signerName, found.anchors);
      }
    }
  }
  const needTrust = sources.has('trust-bundle') || sources.has('csr') || sources.has('pcr');
  const ctbVersion =
    needTrust && !failed ? await servedVersion(ctx, 'certificates.k8s.io', 'clustertrustbundles') : undefined;
  if (ctbVersion && note('clustertrustbundles.certificates.k8s.io', ctbVersion) && ctbVersion.ok && ctbVersion.value) {
    await each(
      'clustertrustbundles.certificates.k8s.io',
      `/apis/certificates.k8s.io/${ctbVersion.value}/clustertrustbundles`,
      (raw) => {
        const found = trustBundleAnchor(raw);
        if (found) addAnchors(anchors, found.signerName, found.anchors);
        if (sources.has('trust-bundle')) inspectAll(trustBundleInputs(ctx.name, raw));
      },
    );
  }
  if (sources.has('configmap')) {
    const cmRecords: CertRecord[] = [];
    await each('configmaps', nsPath('/api/v1', 'configmaps', namespace), (raw) => {
      const found = configMapAnchor(raw);
      if (found) addAnchors(anchors, found.signerName, found.anchors);
      for (const i of configMapInputs(ctx.name, raw)) cmRecords.push(...inspectPem(i));
    });
    records.push(...dedupeRootCa(cmRecords));
  }

  // 2. Everything else, verified against those anchors.
  const work: Promise<void>[] = [];
  if (sources.has('secret')) {
    work.push(
      each('secrets', nsPath('/api/v1', 'secrets', namespace), (raw) =>
        inspectAll(secretInputs(ctx.name, raw, anchors, calicoSigner)),
      ),
    );
  }
  if (sources.has('csr')) {
    work.push(
      each(
        'certificatesigningrequests.certificates.k8s.io',
        '/apis/certificates.k8s.io/v1/certificatesigningrequests',
        (raw) => inspectAll(csrInputs(ctx.name, raw, anchors)),
      ),
    );
  }
  if (sources.has('pcr')) {
    work.push(
      (async () => {
        const v = await servedVersion(ctx, 'certificates.k8s.io', 'podcertificaterequests');
        if (!note('podcertificaterequests.certificates.k8s.io', v) || !v.ok || !v.value) return;
        await each(
          'podcertificaterequests.certificates.k8s.io',
          nsPath(`/apis/certificates.k8s.io/${v.value}`, 'podcertificaterequests', namespace),
          (raw) => inspectAll(pcrInputs(ctx.name, raw, anchors)),
        );
      })(),
    );
  }
  if (sources.has('webhook')) {
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const resource = `${kind.toLowerCase()}s`;
      work.push(
        each(`${resource}.admissionregistration.k8s.io`, `/apis/admissionregistration.k8s.io/v1/${resource}`, (raw) =>
          inspectAll(webhookInputs(ctx.name, kind, raw)),
        ),
      );
    }
    work.push(
      each(
        'customresourcedefinitions.apiextensions.k8s.io',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        (raw) => inspectAll(crdInputs(ctx.name, raw)),
      ),
    );
    work.push(
      each('apiservices.apiregistration.k8s.io', '/apis/apiregistration.k8s.io/v1/apiservices', (raw) =>
        inspectAll(apiServiceInputs(ctx.name, raw)),
      ),
    );
  }
  await Promise.all(work);
  return failed ? { records, skipped, failed } : { records, skipped };
}

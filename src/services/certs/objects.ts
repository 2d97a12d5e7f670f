// Where certificates hide in Kubernetes objects: which fields of which kinds hold PEM, whether a field is a CA
// bundle or a leaf with its chain, which private key sits beside it, which CA it must verify against, and what
// renews it. Pure functions over the objects' JSON; the Secret's data is read here and not kept.
import type { PemInput } from './inspect.js';
import type { Anchors, CertSource, RenewalHint } from './types.js';

type Json = Record<string, unknown>;

/** Calico's operator marks the TLS Secrets it provisions with these (tigera/operator certificatemanagement). */
export const CALICO_SIGNER_LABEL = 'certificates.operator.tigera.io/signer';
export const CALICO_ISSUER_ANNOTATION = 'certificates.operator.tigera.io/issuer';
/** A ConfigMap annotated with this publishes the CA of that signerName (certdesk's convention). */
export const SIGNER_ANNOTATION = 'certdesk.dev/signer-name';

/** The CA each signer publishes in this context, by signerName. */
export type SignerAnchors = ReadonlyMap<string, Anchors>;

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function meta(raw: Json): { name: string; namespace?: string; labels: Json; annotations: Json } {
  const m = rec(raw.metadata);
  const ns = str(m.namespace);
  return {
    name: String(m.name ?? ''),
    ...(ns ? { namespace: ns } : {}),
    labels: rec(m.labels),
    annotations: rec(m.annotations),
  };
}

function b64(v: unknown): Buffer | undefined {
  const s = str(v);
  return s ? Buffer.from(s, 'base64') : undefined;
}

/** ca.crt, tls.crt, cert.pem, *.crt, *.pem: the keys that usually hold certificates. */
export function isCertKey(key: string): boolean {
  return key.endsWith('.crt') || key.endsWith('.pem');
}

/** `ca.crt`, `ca-bundle.pem`, `trust.pem`: CA bundles, every certificate an entry of its own. */
function isBundleKey(key: string): boolean {
  return /^(ca|trust|root)|bundle|(^|[-_.])ca([-_.]|$)/i.test(key);
}

/** The key stored beside a certificate: tls.crt → tls.key, cert.pem → key.pem, x.crt → x.key. */
function keyFieldFor(certKey: string, keys: readonly string[]): string | undefined {
  const stem = certKey.replace(/\.(crt|pem)$/, '');
  const candidates =
    certKey === 'cert.pem' ? ['key.pem'] : [`${stem}.key`, `${stem}-key.pem`, `${stem}.key.pem`, `${stem}-key`];
  return candidates.find((c) => keys.includes(c));
}

function looksLikeKeyOnly(text: string): boolean {
  return !text.includes('CERTIFICATE-----') && text.includes('PRIVATE KEY-----');
}

export function isCalicoSecret(raw: Json): boolean {
  const m = meta(raw);
  return str(m.labels[CALICO_SIGNER_LABEL]) !== undefined || str(m.annotations[CALICO_ISSUER_ANNOTATION]) !== undefined;
}

/** kubernetes.io/tls and Opaque Secrets: tls.crt (its key checked against tls.key) and every *.crt / *.pem. */
export function secretInputs(context: string, raw: Json, signers: SignerAnchors, calicoSigner?: string): PemInput[] {
  const type = str(raw.type) ?? 'Opaque';
  if (type !== 'kubernetes.io/tls' && type !== 'Opaque') return [];
  const data = rec(raw.data);
  const keys = Object.keys(data);
  if (!keys.some(isCertKey)) return [];
  const m = meta(raw);
  const calico = isCalicoSecret(raw);
  const text = (k: string) => b64(data[k])?.toString('utf8') ?? '';
  const ownCa = keys.includes('ca.crt') ? text('ca.crt') : '';
  const where = `Secret ${m.namespace ?? ''}/${m.name}`;
  const calicoAnchors = calico && calicoSigner ? signers.get(calicoSigner) : undefined;
  const renewal: RenewalHint = calico ? { calico: true, ...(calicoSigner ? { signerName: calicoSigner } : {}) } : {};
  const out: PemInput[] = [];
  for (const key of keys.filter(isCertKey).sort()) {
    const content = text(key);
    if (content.trim() === '') continue;
    if (key.endsWith('.pem') && looksLikeKeyOnly(content)) continue;
    const bundle = isBundleKey(key);
    const keyField = bundle ? undefined : keyFieldFor(key, keys);
    const anchors: Anchors | undefined = bundle
      ? undefined
      : ownCa && key !== 'ca.crt'
        ? { pems: [ownCa], where: `ca.crt of ${where}` }
        : calicoAnchors;
    out.push({
      context,
      location: {
        source: 'secret',
        kind: 'Secret',
        ...(m.namespace ? { namespace: m.namespace } : {}),
        name: m.name,
        field: key,
      },
      content,
      bundle,
      ...(keyField ? { key: { field: keyField, content: text(keyField) } } : {}),
      ...(anchors ? { anchors } : {}),
      renewal,
    });
  }
  return out;
}

/** ConfigMaps' ca.crt, *.crt and *.pem, in data or binaryData: CA bundles (kube-root-ca.crt included). */
export function configMapInputs(context: string, raw: Json): PemInput[] {
  const m = meta(raw);
  const out: PemInput[] = [];
  const push = (key: string, content: string) => {
    if (content.trim() === '' || (key.endsWith('.pem') && looksLikeKeyOnly(content))) return;
    out.push({
      context,
      location: {
        source: 'configmap',
        kind: 'ConfigMap',
        ...(m.namespace ? { namespace: m.namespace } : {}),
        name: m.name,
        field: key,
      },
      content,
      bundle: true,
      ...(str(m.annotations[SIGNER_ANNOTATION])
        ? { renewal: { signerName: String(m.annotations[SIGNER_ANNOTATION]) } }
        : {}),
    });
  };
  const data = rec(raw.data);
  for (const key of Object.keys(data).filter(isCertKey).sort()) push(key, String(data[key] ?? ''));
  const binary = rec(raw.binaryData);
  for (const key of Object.keys(binary).filter(isCertKey).sort()) push(key, b64(binary[key])?.toString('utf8') ?? '');
  return out;
}

/** The CA a ConfigMap publishes for a signer (annotated with certdesk.dev/signer-name), if it does. */
export function configMapAnchor(raw: Json): { signerName: string; anchors: Anchors } | undefined {
  const m = meta(raw);
  const signerName = str(m.annotations[SIGNER_ANNOTATION]);
  const pem = str(rec(raw.data)['ca.crt']);
  if (!signerName || !pem) return undefined;
  return { signerName, anchors: { pems: [pem], where: `ConfigMap ${m.namespace ?? ''}/${m.name}` } };
}

function bundleInput(
  context: string,
  source: CertSource,
  kind: string,
  name: string,
  field: string,
  content: Buffer | string | undefined,
  renewal?: RenewalHint,
): PemInput[] {
  if (!content || content.length === 0) return [];
  return [{ context, location: { source, kind, name, field }, content, bundle: true, ...(renewal ? { renewal } : {}) }];
}

/** caBundle of each webhook of a Validating/MutatingWebhookConfiguration. */
export function webhookInputs(context: string, kind: string, raw: Json): PemInput[] {
  const m = meta(raw);
  const hooks = Array.isArray(raw.webhooks) ? (raw.webhooks as unknown[]) : [];
  return hooks.flatMap((h) => {
    const hook = rec(h);
    return bundleInput(
      context,
      'webhook',
      kind,
      m.name,
      `webhooks[${String(hook.name ?? '')}].clientConfig.caBundle`,
      b64(rec(hook.clientConfig).caBundle),
    );
  });
}

/** spec.conversion.webhook.clientConfig.caBundle of a CustomResourceDefinition. */
export function crdInputs(context: string, raw: Json): PemInput[] {
  const caBundle = rec(rec(rec(rec(raw.spec).conversion).webhook).clientConfig).caBundle;
  return bundleInput(
    context,
    'webhook',
    'CustomResourceDefinition',
    meta(raw).name,
    'spec.conversion.webhook.clientConfig.caBundle',
    b64(caBundle),
  );
}

/** spec.caBundle of an APIService. */
export function apiServiceInputs(context: string, raw: Json): PemInput[] {
  return bundleInput(context, 'webhook', 'APIService', meta(raw).name, 'spec.caBundle', b64(rec(raw.spec).caBundle));
}

/** spec.trustBundle of a ClusterTrustBundle (PEM text). */
export function trustBundleInputs(context: string, raw: Json): PemInput[] {
  const spec = rec(raw.spec);
  const signerName = str(spec.signerName);
  return bundleInput(
    context,
    'trust-bundle',
    'ClusterTrustBundle',
    meta(raw).name,
    'spec.trustBundle',
    str(spec.trustBundle),
    signerName ? { signerName } : undefined,
  );
}

/** A ClusterTrustBundle as the CA its signer publishes. */
export function trustBundleAnchor(raw: Json): { signerName: string; anchors: Anchors } | undefined {
  const spec = rec(raw.spec);
  const signerName = str(spec.signerName);
  const pem = str(spec.trustBundle);
  if (!signerName || !pem) return undefined;
  return { signerName, anchors: { pems: [pem], where: `ClusterTrustBundle ${meta(raw).name}` } };
}

/** status.certificateChain of a PodCertificateRequest (leaf first), verified against its signer's CA. */
export function pcrInputs(context: string, raw: Json, signers: SignerAnchors): PemInput[] {
  const m = meta(raw);
  const spec = rec(raw.spec);
  const chain = str(rec(raw.status).certificateChain);
  if (!chain) return [];
  const signerName = str(spec.signerName);
  const anchors = signerName ? signers.get(signerName) : undefined;
  const podName = str(spec.podName);
  return [
    {
      context,
      location: {
        source: 'pcr',
        kind: 'PodCertificateRequest',
        ...(m.namespace ? { namespace: m.namespace } : {}),
        name: m.name,
        field: 'status.certificateChain',
      },
      content: chain,
      bundle: false,
      ...(anchors ? { anchors } : {}),
      renewal: {
        ...(signerName ? { signerName } : {}),
        pcr: { namespace: m.namespace ?? '', name: m.name, ...(podName ? { podName } : {}) },
      },
    },
  ];
}

/** status.certificate of an issued CSR, verified against its signer's CA. */
export function csrInputs(context: string, raw: Json, signers: SignerAnchors): PemInput[] {
  const m = meta(raw);
  const cert = b64(rec(raw.status).certificate);
  if (!cert || cert.length === 0) return [];
  const signerName = str(rec(raw.spec).signerName);
  const anchors = signerName ? signers.get(signerName) : undefined;
  return [
    {
      context,
      location: { source: 'csr', kind: 'CertificateSigningRequest', name: m.name, field: 'status.certificate' },
      content: cert,
      bundle: false,
      ...(anchors ? { anchors } : {}),
      renewal: { csrName: m.name, ...(signerName ? { signerName } : {}) },
    },
  ];
}

/** Installation.spec.certificateManagement: the signerName Calico uses and the CA it trusts. */
export function installationAnchor(raw: Json): { signerName: string; anchors: Anchors } | undefined {
  const cm = rec(rec(raw.spec).certificateManagement);
  const signerName = str(cm.signerName);
  const caCert = str(cm.caCert);
  if (!signerName || !caCert) return undefined;
  return { signerName, anchors: { pems: [caCert], where: `the caCert of Installation ${meta(raw).name}` } };
}

/** Adds `anchors` for `signerName`, keeping what other places publish for the same signer. */
export function addAnchors(map: Map<string, Anchors>, signerName: string, anchors: Anchors): void {
  const have = map.get(signerName);
  map.set(
    signerName,
    have ? { pems: [...have.pems, ...anchors.pems], where: `${have.where} or ${anchors.where}` } : anchors,
  );
}

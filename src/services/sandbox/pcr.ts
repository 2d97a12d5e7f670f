// PodCertificateRequests and ClusterTrustBundles (certificates.k8s.io v1 and v1beta1, kube-apiserver 1.37): the
// registry strategies and validation (pkg/apis/certificates/validation, pkg/registry/certificates/*), the
// ClusterTrustBundleAttest admission, NodeRestriction's PodCertificateRequest checks, and the conversion between the
// stored object and each served version (v1 has no pkixPublicKey / proofOfPossession).
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject, X509Certificate } from 'node:crypto';
import { type Authorizer, isAuthorizedForSigner, type UserInfo } from './authz.js';
import { BytesError, decodeBytes, dns1123SubdomainErrors, validateSignerName } from './csr.js';
import { DerError, parseCsr, verifyCsr } from './der.js';
import { ApiError, type FieldError, field, forbidden, invalid } from './errors.js';
import { type Admission, admissionForbidden, admissionInternalError, type ObjectSource } from './node-authz.js';
import { type PemBlock, pemDecodeAll } from './pem.js';
import type { KObject } from './store.js';
import { asRecord, type Json, type Strategy } from './strategy.js';

const GROUP = 'certificates.k8s.io';
export const PCR_RESOURCE = 'podcertificaterequests';
export const CTB_RESOURCE = 'clustertrustbundles';
const TERMINAL = ['Issued', 'Denied', 'Failed'];
const MIN_MAX_EXPIRATION = 3600;
const KUBE_MAX_EXPIRATION = 86_400;
const MAX_MAX_EXPIRATION = 91 * 86_400;
const MAX_KEY_SIZE = 10 * 1024;
const MAX_CHAIN_SIZE = 100 * 1024;
const MAX_TRUST_BUNDLE_SIZE = 1024 * 1024;

/** `Invalid value: <detail>`: a field error whose value is not shown (field.OmitValueType). */
function omitted(path: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, body: `Invalid value: ${detail}` };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

const spec = (o: KObject): Json => asRecord(o.spec) ?? {};
const status = (o: KObject): Json => asRecord(o.status) ?? {};

function bytesOf(v: unknown): Buffer {
  try {
    return decodeBytes(v, '') ?? Buffer.alloc(0);
  } catch {
    return Buffer.alloc(0);
  }
}

/** IsKubernetesSignerName: the domain is kubernetes.io or a subdomain of it. */
function isKubernetesSigner(signer: string): boolean {
  const host = signer.split('/')[0] ?? '';
  return host === 'kubernetes.io' || host.endsWith('.kubernetes.io');
}

// ------------------------------------------------------------------------------------------------ keys

const CURVES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp224r1: 'P-224',
};

/** The key-type rule of validateStubPKCS10Request / validateDeprecatedPKIXPublicKey, or undefined when supported. */
function keyTypeError(
  path: string,
  key: KeyObject,
  curveDetail: string,
  unknown: FieldError = omitted(path, UNKNOWN_KEY),
): FieldError | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return undefined;
  if (type === 'ec') {
    const curve = CURVES[String(key.asymmetricKeyDetails?.namedCurve)] ?? String(key.asymmetricKeyDetails?.namedCurve);
    return ['P-256', 'P-384', 'P-521'].includes(curve) ? undefined : field.invalid(path, `curve ${curve}`, curveDetail);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits === 3072 || bits === 4096
      ? undefined
      : field.invalid(path, `${bits}-bit modulus`, 'RSA keys must have modulus size 3072 or 4096');
  }
  return unknown;
}

const UNKNOWN_KEY = 'unknown public key type; supported types are Ed25519, ECDSA, and RSA';

function validateStub(der: Buffer): FieldError[] {
  const path = 'spec.stubPKCS10Request';
  if (der.length > MAX_KEY_SIZE) return [field.tooLong(path, MAX_KEY_SIZE)];
  let csr: ReturnType<typeof parseCsr>;
  try {
    csr = parseCsr(der);
  } catch {
    return [omitted(path, 'must be a valid PKCS#10 CSR')];
  }
  const keyErr = keyTypeError(path, csr.publicKey, 'elliptic public keys must use curve P256, P384, or P521');
  if (keyErr) return [keyErr];
  try {
    verifyCsr(csr);
  } catch (err) {
    if (err instanceof DerError) return [omitted(path, 'invalid signature')];
    throw err;
  }
  return [];
}

function validatePkix(s: Json): FieldError[] {
  const pkixPath = 'spec.pkixPublicKey';
  const popPath = 'spec.proofOfPossession';
  const pkix = bytesOf(s.pkixPublicKey);
  const pop = bytesOf(s.proofOfPossession);
  if (pkix.length > MAX_KEY_SIZE) return [field.tooLong(pkixPath, MAX_KEY_SIZE)];
  if (pop.length > MAX_KEY_SIZE) return [field.tooLong(popPath, MAX_KEY_SIZE)];
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pkix, format: 'der', type: 'spki' });
  } catch {
    return [field.invalid(pkixPath, pkix, 'must be a valid PKIX-serialized public key')];
  }
  const keyErr = keyTypeError(
    pkixPath,
    key,
    'elliptic public keys must use curve P256 or P384',
    field.invalid(pkixPath, pkix, UNKNOWN_KEY),
  );
  if (keyErr) return [keyErr];
  const podUID = Buffer.from(str(s.podUID));
  let ok = false;
  try {
    const type = key.asymmetricKeyType;
    if (type === 'ed25519') ok = cryptoVerify(null, podUID, key, pop);
    else if (type === 'ec') ok = cryptoVerify('sha256', podUID, key, pop);
    else
      ok = cryptoVerify(
        'sha256',
        podUID,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        pop,
      );
  } catch {
    ok = false;
  }
  return ok ? [] : [omitted(popPath, 'could not verify proof-of-possession signature')];
}

/** The key a PodCertificateRequest asks a certificate for (stub PKCS#10 or pkixPublicKey), undefined when unreadable. */
export function requestedKey(s: Json): KeyObject | undefined {
  try {
    const stub = bytesOf(s.stubPKCS10Request);
    if (stub.length) return parseCsr(stub).publicKey;
    return createPublicKey({ key: bytesOf(s.pkixPublicKey), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------ create

function nameErrors(path: string, value: string): FieldError[] {
  return dns1123SubdomainErrors(value).map((e) => field.invalid(path, value, e));
}

function uidErrors(path: string, value: string): FieldError[] {
  if (!value) return [field.invalid(path, value, 'must not be empty')];
  if (value.length > 128) return [field.tooLong(path, 128)];
  return [];
}

/** ValidateUserAnnotations: every key domain-prefixed (IsDomainPrefixedKey), case ignored. */
function userAnnotationErrors(annotations: Json): FieldError[] {
  const path = 'spec.unverifiedUserAnnotations';
  const errs: FieldError[] = [];
  for (const key of Object.keys(annotations)) {
    const k = key.toLowerCase();
    const slash = k.indexOf('/');
    if (slash < 0 || !k.slice(0, slash))
      errs.push(field.invalid(path, k, 'must be a domain-prefixed key (such as "acme.io/foo")'));
    else
      for (const e of dns1123SubdomainErrors(k.slice(0, slash))) errs.push(field.invalid(path, k, `prefix part ${e}`));
  }
  return errs;
}

/** ValidatePodCertificateRequestCreate, after ObjectMeta (the name is a DNS-1123 subdomain, checked by the core). */
function validatePcrCreate(obj: KObject): FieldError[] {
  const s = spec(obj);
  const errs: FieldError[] = [...validateSignerName('spec.signerName', str(s.signerName))];
  const annotations = asRecord(s.unverifiedUserAnnotations);
  if (annotations) errs.push(...userAnnotationErrors(annotations));
  errs.push(...nameErrors('spec.podName', str(s.podName)));
  errs.push(...uidErrors('spec.podUID', str(s.podUID)));
  errs.push(...nameErrors('spec.serviceAccountName', str(s.serviceAccountName)));
  errs.push(...uidErrors('spec.serviceAccountUID', str(s.serviceAccountUID)));
  errs.push(...nameErrors('spec.nodeName', str(s.nodeName)));
  errs.push(...uidErrors('spec.nodeUID', str(s.nodeUID)));
  const max = s.maxExpirationSeconds;
  if (typeof max !== 'number') {
    errs.push(field.required('spec.maxExpirationSeconds', 'must be set'));
    return errs;
  }
  const upper = isKubernetesSigner(str(s.signerName)) ? KUBE_MAX_EXPIRATION : MAX_MAX_EXPIRATION;
  if (max < MIN_MAX_EXPIRATION || max > upper)
    errs.push(
      field.invalid('spec.maxExpirationSeconds', max, `must be in the range [${MIN_MAX_EXPIRATION}, ${upper}]`),
    );
  const stub = bytesOf(s.stubPKCS10Request);
  const pkix = bytesOf(s.pkixPublicKey);
  const pop = bytesOf(s.proofOfPossession);
  if (stub.length && !pkix.length && !pop.length) errs.push(...validateStub(stub));
  else if (!stub.length && pkix.length && pop.length) errs.push(...validatePkix(s));
  else
    errs.push(omitted('spec', 'exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set'));
  return errs;
}

// ------------------------------------------------------------------------------------------------ status

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
  lastTransitionTime?: unknown;
  observedGeneration?: unknown;
}

function conditionsOf(o: KObject): Condition[] {
  const c = status(o).conditions;
  return Array.isArray(c) ? (c as Condition[]) : [];
}

const hasTrue = (o: KObject, type: string) => conditionsOf(o).some((c) => c.type === type && c.status === 'True');
const isTerminal = (o: KObject) => TERMINAL.some((t) => hasTrue(o, t));

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const REASON_MSG =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')";

/** metav1validation.ValidateConditions. */
function conditionErrors(conds: Condition[]): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<unknown>();
  conds.forEach((c, i) => {
    const p = `status.conditions[${i}]`;
    if (seen.has(c.type)) errs.push(field.duplicate(p, c.type));
    seen.add(c.type);
    if (!c.type) errs.push(field.required(`${p}.type`, 'is required'));
    if (!c.status) errs.push(field.required(`${p}.status`));
    else if (!['True', 'False', 'Unknown'].includes(String(c.status)))
      errs.push(field.notSupported(`${p}.status`, c.status, ['False', 'True', 'Unknown']));
    if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0)
      errs.push(
        field.invalid(`${p}.observedGeneration`, c.observedGeneration, 'must be greater than or equal to zero'),
      );
    if (!c.lastTransitionTime) errs.push(field.required(`${p}.lastTransitionTime`));
    const reason = str(c.reason);
    if (!reason) errs.push(field.required(`${p}.reason`));
    else {
      if (!REASON.test(reason)) errs.push(field.invalid(`${p}.reason`, reason, REASON_MSG));
      if (reason.length > 1024) errs.push(field.tooLong(`${p}.reason`, 1024));
    }
    if (str(c.message).length > 32 * 1024) errs.push(field.tooLong(`${p}.message`, 32 * 1024));
  });
  return errs;
}

/** metav1.Time as stored: RFC 3339 with seconds; undefined when absent or unreadable. */
function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Go's time.Time in JSON (RFC 3339, UTC 'Z'), as field errors render it. */
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** What the status holds besides conditions, compared as apiequality.Semantic would. */
function statusEqual(a: Json, b: Json): boolean {
  const norm = (s: Json) =>
    JSON.stringify({
      conditions: Array.isArray(s.conditions) && s.conditions.length ? s.conditions : undefined,
      certificateChain: str(s.certificateChain) || undefined,
      notBefore: timeOf(s.notBefore),
      beginRefreshAt: timeOf(s.beginRefreshAt),
      notAfter: timeOf(s.notAfter),
    });
  return norm(a) === norm(b);
}

/** The issued branch of ValidatePodCertificateRequestStatusUpdate. */
function validateIssued(obj: KObject, old: KObject, now: number): FieldError[] {
  const chainPath = 'status.certificateChain';
  const st = status(obj);
  const chain = str(st.certificateChain);
  if (chain.length > MAX_CHAIN_SIZE) return [field.tooLong(chainPath, MAX_CHAIN_SIZE)];
  const blocks = pemDecodeAll(chain);
  const leafBlock = blocks[0];
  if (!leafBlock)
    return [field.invalid(chainPath, chain, 'issued certificate chain must contain at least one certificate')];
  if (leafBlock.type !== 'CERTIFICATE')
    return [
      field.invalid(chainPath, chain, 'issued certificate chain must consist entirely of CERTIFICATE PEM blocks'),
    ];
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafBlock.bytes);
  } catch {
    return [field.invalid(chainPath, chain, 'leaf certificate does not parse as valid X.509')];
  }
  const errs: FieldError[] = [];
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  for (const d of dnsNames) {
    if (d === '') errs.push(field.invalid(chainPath, d, 'leaf certificate should not contain empty DNSName'));
    if (d.includes('..')) errs.push(field.invalid(chainPath, d, "leaf certificate's DNSName should not contain '..'"));
    if (d.startsWith('.') || d.endsWith('.'))
      errs.push(field.invalid(chainPath, d, "leaf certificate's DNSName should not start or end with '.'"));
  }
  const want = requestedKey(spec(old));
  if (!want) {
    return bytesOf(spec(old).stubPKCS10Request).length
      ? [omitted('spec.stubPKCS10Request', 'must be a valid PKCS#10 CSR')]
      : [omitted('spec.pkixPublicKey', 'must be a valid PKIX-serialized public key')];
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!der(want).equals(der(leaf.publicKey)))
    return [...errs, field.invalid(chainPath, chain, 'leaf certificate was not issued to the requested public key')];
  const notBefore = timeOf(st.notBefore);
  const notAfter = timeOf(st.notAfter);
  const refresh = timeOf(st.beginRefreshAt);
  if (notBefore === undefined)
    errs.push(field.required('status.notBefore', 'must be present and consistent with the issued certificate'));
  if (notAfter === undefined)
    errs.push(field.required('status.notAfter', 'must be present and consistent with the issued certificate'));
  if (refresh === undefined)
    errs.push(
      field.required('status.beginRefreshAt', 'must be present and in the range [notbefore+10min, notafter-10min]'),
    );
  if (errs.length || notBefore === undefined || notAfter === undefined || refresh === undefined) return errs;
  const leafFrom = Date.parse(leaf.validFrom);
  const leafTo = Date.parse(leaf.validTo);
  if (notBefore !== leafFrom)
    return [
      field.invalid(
        'status.notBefore',
        goTime(notBefore),
        'must be set to the NotBefore time encoded in the leaf certificate',
      ),
    ];
  if (Math.abs(notBefore - now) > 5 * 60_000)
    return [
      field.invalid(
        'status.notBefore',
        goTime(notBefore),
        "must be set to within 5 minutes of kube-apiserver's current time",
      ),
    ];
  if (notAfter !== leafTo)
    return [
      field.invalid(
        'status.notAfter',
        goTime(notAfter),
        'must be set to the NotAfter time encoded in the leaf certificate',
      ),
    ];
  // time.Duration renders as its JSON: nanoseconds.
  const lifetime = leafTo - leafFrom;
  if (lifetime < 3_600_000)
    return [field.invalid(chainPath, lifetime * 1e6, 'leaf certificate lifetime must be >= 1 hour')];
  const max = Number(spec(obj).maxExpirationSeconds);
  if (lifetime > max * 1000)
    return [
      field.invalid(
        chainPath,
        lifetime * 1e6,
        `leaf certificate lifetime must be <= spec.maxExpirationSeconds (${max})`,
      ),
    ];
  if (refresh < notBefore + 10 * 60_000)
    return [
      field.invalid('status.beginRefreshAt', goTime(refresh), 'must be at least 10 minutes after status.notBefore'),
    ];
  if (refresh > notAfter - 10 * 60_000)
    return [
      field.invalid('status.beginRefreshAt', goTime(refresh), 'must be at least 10 minutes before status.notAfter'),
    ];
  for (const b of blocks.slice(1)) {
    if (b.type !== 'CERTIFICATE')
      return [
        field.invalid(chainPath, chain, 'issued certificate chain must consist entirely of CERTFICATE PEM blocks'),
      ];
    try {
      new X509Certificate(b.bytes);
    } catch {
      return [field.invalid(chainPath, chain, 'intermediate certificate does not parse as valid X.509')];
    }
  }
  return [];
}

/** ValidatePodCertificateRequestStatusUpdate (metadata and spec were reset by the status strategy). */
function validatePcrStatus(obj: KObject, old: KObject, now = Date.now()): FieldError[] {
  const errs: FieldError[] = [];
  let known = 0;
  // The real paths are built with NewPath("status", "conditions", "[i]", …): a dot before the index.
  conditionsOf(obj).forEach((c, i) => {
    if (TERMINAL.includes(String(c.type))) {
      if (++known > 1)
        errs.push(
          field.invalid(
            `status.conditions.[${i}].type`,
            c.type,
            'There may be at most one condition with type "Issued", "Denied", or "Failed"',
          ),
        );
      if (c.status !== 'True')
        errs.push(field.notSupported(`status.conditions.[${i}].status`, c.status ?? '', ['True']));
    } else errs.push(field.notSupported(`status.conditions.[${i}].type`, c.type ?? '', TERMINAL));
  });
  errs.push(...conditionErrors(conditionsOf(obj)));
  if (errs.length) return errs;
  if (isTerminal(old)) {
    return statusEqual(status(obj), status(old))
      ? []
      : [omitted('status', 'immutable after PodCertificateRequest is issued, denied, or failed')];
  }
  if (hasTrue(obj, 'Denied') || hasTrue(obj, 'Failed')) {
    return statusEqual(status(obj), { conditions: status(obj).conditions })
      ? []
      : [
          omitted(
            'status',
            'non-condition status fields must be empty when denying or failing the PodCertificateRequest',
          ),
        ];
  }
  if (hasTrue(obj, 'Issued')) return validateIssued(obj, old, now);
  return statusEqual(status(obj), status(old))
    ? []
    : [omitted('status', 'status is immutable unless transitioning to "Issued", "Denied", or "Failed"')];
}

// ------------------------------------------------------------------------------------------------ wire forms

const PCR_SPEC_STRINGS = [
  'signerName',
  'podName',
  'podUID',
  'serviceAccountName',
  'serviceAccountUID',
  'nodeName',
  'nodeUID',
];

/** The object as a served version encodes it: required strings present, nil []byte as null, empty status `{}`. */
export function pcrAtVersion(obj: KObject, version: string): KObject {
  const s = spec(obj);
  const out: Json = {};
  for (const k of PCR_SPEC_STRINGS) out[k] = str(s[k]);
  if (typeof s.maxExpirationSeconds === 'number') out.maxExpirationSeconds = s.maxExpirationSeconds;
  if (version !== 'v1') {
    out.pkixPublicKey = s.pkixPublicKey ?? null;
    out.proofOfPossession = s.proofOfPossession ?? null;
  }
  out.stubPKCS10Request = s.stubPKCS10Request ?? null;
  const annotations = asRecord(s.unverifiedUserAnnotations);
  if (annotations && Object.keys(annotations).length) out.unverifiedUserAnnotations = annotations;
  const st = status(obj);
  const outStatus: Json = {};
  if (Array.isArray(st.conditions) && st.conditions.length) outStatus.conditions = st.conditions;
  for (const k of ['certificateChain', 'notBefore', 'beginRefreshAt', 'notAfter'])
    if (st[k] !== undefined && st[k] !== null && st[k] !== '') outStatus[k] = st[k];
  return { ...obj, apiVersion: `${GROUP}/${version}`, spec: out, status: outStatus };
}

export function ctbAtVersion(obj: KObject, version: string): KObject {
  const s = spec(obj);
  return {
    ...obj,
    apiVersion: `${GROUP}/${version}`,
    spec: { ...(str(s.signerName) ? { signerName: s.signerName } : {}), trustBundle: str(s.trustBundle) },
  };
}

/** A []byte field that is not base64 fails the typed decode (400), as for CSRs. */
function checkPcrBytes(obj: KObject): void {
  const s = spec(obj);
  for (const k of ['stubPKCS10Request', 'pkixPublicKey', 'proofOfPossession']) decodeBytes(s[k], `spec.${k}`);
}

/** The strategy of podcertificaterequests at one served version (the v1 decoder drops the v1beta1-only fields). */
export function pcrStrategy(version: string): Strategy {
  const decode = (obj: KObject): void => {
    try {
      checkPcrBytes(obj);
    } catch (err) {
      if (err instanceof BytesError)
        throw new ApiError(
          400,
          'BadRequest',
          `PodCertificateRequest in version "${version}" cannot be handled as a PodCertificateRequest: ${err.message}`,
        );
      throw err;
    }
    const s = { ...spec(obj) };
    if (version === 'v1') {
      delete s.pkixPublicKey;
      delete s.proofOfPossession;
    }
    if (s.maxExpirationSeconds === undefined || s.maxExpirationSeconds === null) s.maxExpirationSeconds = 86_400;
    obj.spec = s;
  };
  return {
    prepareCreate(obj) {
      decode(obj);
      obj.status = {};
    },
    validateCreate: validatePcrCreate,
    prepareUpdate(obj, old, subresource) {
      decode(obj);
      if (version === 'v1') {
        // What this version cannot carry stays as stored (the conversion round trip keeps the internal fields).
        const o = spec(old);
        const s = spec(obj);
        if (o.pkixPublicKey !== undefined) s.pkixPublicKey = o.pkixPublicKey;
        if (o.proofOfPossession !== undefined) s.proofOfPossession = o.proofOfPossession;
      }
      if (subresource === 'status') {
        obj.spec = old.spec;
        obj.metadata = { ...old.metadata };
      } else obj.status = old.status;
    },
    validateUpdate(obj, old, subresource) {
      if (subresource === 'status') return validatePcrStatus(obj, old);
      const a = pcrAtVersion(obj, 'v1beta1').spec;
      const b = pcrAtVersion(old, 'v1beta1').spec;
      return JSON.stringify(a) === JSON.stringify(b)
        ? []
        : [field.invalid('spec', internalSpec(spec(obj)), 'field is immutable')];
    },
    admitUpdate(obj, old, subresource, ctx) {
      if (subresource !== 'status' || statusEqual(status(obj), status(old))) return;
      const signer = str(spec(old).signerName);
      if (!isAuthorizedForSigner(ctx.authz, ctx.user, 'sign', signer))
        throw invalid('PodCertificateRequest', GROUP, obj.metadata.name ?? '', [
          field.forbidden(
            'spec.signerName',
            `User ${JSON.stringify(ctx.user.name)} is not permitted to "sign" for signer ${JSON.stringify(signer)}`,
          ),
        ]);
    },
    fields(obj) {
      const s = spec(obj);
      return {
        'metadata.name': obj.metadata.name ?? '',
        'metadata.namespace': obj.metadata.namespace ?? '',
        'spec.signerName': str(s.signerName),
        'spec.podName': str(s.podName),
        'spec.nodeName': str(s.nodeName),
      };
    },
  };
}

/** The internal PodCertificateRequestSpec as Go's json.Marshal renders it in a field error (no json tags). */
function internalSpec(s: Json): unknown {
  const bytes = (v: unknown) => (typeof v === 'string' && v ? v : null);
  return {
    SignerName: str(s.signerName),
    PodName: str(s.podName),
    PodUID: str(s.podUID),
    ServiceAccountName: str(s.serviceAccountName),
    ServiceAccountUID: str(s.serviceAccountUID),
    NodeName: str(s.nodeName),
    NodeUID: str(s.nodeUID),
    MaxExpirationSeconds: typeof s.maxExpirationSeconds === 'number' ? s.maxExpirationSeconds : null,
    PKIXPublicKey: bytes(s.pkixPublicKey),
    ProofOfPossession: bytes(s.proofOfPossession),
    StubPKCS10Request: bytes(s.stubPKCS10Request),
    UnverifiedUserAnnotations: asRecord(s.unverifiedUserAnnotations) ?? null,
  };
}

// ------------------------------------------------------------------------------------------------ ClusterTrustBundles

/** What is wrong with one PEM block of a trust bundle, undefined when it is a CA certificate. */
function anchorProblem(b: PemBlock): string | undefined {
  if (b.type !== 'CERTIFICATE') return `has bad block type: ${b.type}`;
  if (b.hasHeaders) return 'has PEM block headers';
  try {
    if (!new X509Certificate(b.bytes).ca) return 'does not have the CA bit set';
  } catch {
    return 'does not parse as X.509';
  }
  return undefined;
}

/** validateTrustBundle: CA certificates only, no PEM headers, no duplicates, at least one. */
function trustBundleErrors(bundle: string): FieldError[] {
  const path = 'spec.trustBundle';
  if (bundle.length > MAX_TRUST_BUNDLE_SIZE) return [field.tooLong(path, MAX_TRUST_BUNDLE_SIZE)];
  const errs: FieldError[] = [];
  const seen = new Map<string, number[]>();
  pemDecodeAll(bundle).forEach((b, i) => {
    const why = anchorProblem(b);
    if (why) errs.push(field.invalid(path, '<value omitted>', `entry ${i} ${why}`));
    else seen.set(b.bytes.toString('base64'), [...(seen.get(b.bytes.toString('base64')) ?? []), i]);
  });
  if (errs.length) return errs;
  if (seen.size === 0) errs.push(field.invalid(path, '<value omitted>', 'at least one trust anchor must be provided'));
  for (const indices of seen.values())
    if (indices.length > 1)
      errs.push(field.invalid(path, '<value omitted>', `duplicate trust anchor (indices [${indices.join(' ')}])`));
  return errs;
}

/** ValidateClusterTrustBundleName: `<signer with / as :>:` prefix when a signer is set, no `:` otherwise. */
function ctbNameErrors(name: string, signer: string): FieldError[] {
  if (!signer) {
    if (name.includes(':'))
      return [
        field.invalid('metadata.name', name, 'ClusterTrustBundle without signer name must not have ":" in its name'),
      ];
    return nameErrors('metadata.name', name);
  }
  const prefix = `${signer.replaceAll('/', ':')}:`;
  if (!name.startsWith(prefix))
    return [
      field.invalid(
        'metadata.name',
        name,
        `ClusterTrustBundle for signerName ${signer} must be named with prefix ${prefix}`,
      ),
    ];
  return dns1123SubdomainErrors(name.slice(prefix.length)).map((e) => field.invalid('metadata.name', name, e));
}

function validateCtb(obj: KObject, parseBundle: boolean): FieldError[] {
  const s = spec(obj);
  const signer = str(s.signerName);
  const errs = ctbNameErrors(obj.metadata.name ?? '', signer);
  if (signer) errs.push(...validateSignerName('spec.signerName', signer));
  if (parseBundle) errs.push(...trustBundleErrors(str(s.trustBundle)));
  return errs;
}

/** ClusterTrustBundleAttest: writing a bundle with a signer needs `attest` on that signer (or `<domain>/*`). */
function attest(obj: KObject, authz: Authorizer, user: UserInfo): void {
  const signer = str(spec(obj).signerName);
  if (!signer || isAuthorizedForSigner(authz, user, 'attest', signer)) return;
  throw forbidden(
    CTB_RESOURCE,
    GROUP,
    obj.metadata.name ?? '',
    `user not permitted to attest for signerName ${JSON.stringify(signer)}`,
  );
}

/** Only ownerReferences or finalizers changed (rbac.IsOnlyMutatingGCFields): no attest check. */
function onlyGcFields(obj: KObject, old: KObject): boolean {
  const strip = (o: KObject) => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, ...meta } = o.metadata;
    return JSON.stringify({ meta, spec: o.spec });
  };
  return strip(obj) === strip(old);
}

export const ctbStrategy: Strategy = {
  prepareCreate(obj) {
    const s = spec(obj);
    obj.spec = { ...(str(s.signerName) ? { signerName: s.signerName } : {}), trustBundle: str(s.trustBundle) };
  },
  validateCreate: (obj) => validateCtb(obj, true),
  admitCreate: (obj, ctx) => attest(obj, ctx.authz, ctx.user),
  prepareUpdate(obj) {
    ctbStrategy.prepareCreate?.(obj, undefined as never);
  },
  validateUpdate(obj, old) {
    const errs = validateCtb(obj, str(spec(obj).trustBundle) !== str(spec(old).trustBundle));
    const signer = str(spec(obj).signerName);
    if (signer !== str(spec(old).signerName)) errs.push(field.invalid('spec.signerName', signer, 'field is immutable'));
    return errs;
  },
  admitUpdate(obj, old, _sub, ctx) {
    if (!onlyGcFields(obj, old)) attest(obj, ctx.authz, ctx.user);
  },
  fields(obj) {
    return { 'metadata.name': obj.metadata.name ?? '', 'spec.signerName': str(spec(obj).signerName) };
  },
};

// ------------------------------------------------------------------------------------------------ NodeRestriction

const MIRROR = 'kubernetes.io/config.mirror';

/**
 * NodeRestriction's admitPodCertificateRequest: the node names itself and its UID, the pod exists on that node
 * with that UID, is no mirror pod, runs as the named service account (with that UID), and mounts a podCertificate
 * projected volume for the signer (or the node may `request-serviceaccounts-podcertificate-signer`). Errors a real
 * server blames on informer lag are 500s, the rest 403s.
 */
export function admitPcrCreate(
  node: string,
  a: Admission,
  objects: ObjectSource,
  authz: Authorizer,
  user: UserInfo,
): void {
  if (a.operation !== 'create')
    throw admissionForbidden(a.resource, a.group, a.name, `unexpected operation ${a.operation.toUpperCase()}`);
  if (a.subresource) throw admissionForbidden(a.resource, a.group, a.name, `unexpected subresource ${a.subresource}`);
  const deny = (why: string) => admissionForbidden(a.resource, a.group, a.name, why);
  const ns = a.namespace ?? '';
  const s = a.obj ? spec(a.obj) : {};
  const nodeName = str(s.nodeName);
  const podName = str(s.podName);
  const saName = str(s.serviceAccountName);
  const podRef = JSON.stringify(`${ns}/${podName}`);
  if (nodeName !== node)
    throw deny(
      `PodCertificateRequest.Spec.NodeName=${JSON.stringify(nodeName)}, which is not the requesting node ${JSON.stringify(node)}`,
    );
  const nodeObj = objects('nodes').find((n) => n.metadata.name === nodeName);
  if (!nodeObj)
    throw admissionInternalError(
      `while retrieving node ${JSON.stringify(nodeName)} named in the PodCertificateRequest: node ${JSON.stringify(nodeName)} not found`,
    );
  if (nodeObj.metadata.uid !== str(s.nodeUID))
    throw admissionInternalError(
      `PodCertificateRequest for pod ${podRef} names node UID ${JSON.stringify(str(s.nodeUID))}, inconsistent with the running node (${JSON.stringify(nodeObj.metadata.uid)})`,
    );
  const pod = objects('pods', ns).find((p) => p.metadata.name === podName);
  if (!pod)
    throw admissionInternalError(
      `while retrieving pod ${podRef} named in the PodCertificateRequest: pod ${JSON.stringify(podName)} not found`,
    );
  if (str(s.podUID) !== pod.metadata.uid)
    throw admissionInternalError(
      `PodCertificateRequest for pod ${podRef} contains pod UID (${JSON.stringify(str(s.podUID))}) which differs from running pod ${JSON.stringify(pod.metadata.uid)}`,
    );
  const podSpec = spec(pod);
  if (str(podSpec.nodeName) !== nodeName)
    throw deny(`pod ${podRef} is not running on node ${JSON.stringify(nodeName)} named in the PodCertificateRequest`);
  if (MIRROR in (pod.metadata.annotations ?? {})) throw deny(`pod ${podRef} is a mirror pod`);
  const podSa = str(podSpec.serviceAccountName);
  if (saName !== podSa)
    throw deny(
      `PodCertificateRequest for pod ${podRef} contains serviceAccountName (${JSON.stringify(saName)}) that differs from running pod (${JSON.stringify(podSa)})`,
    );
  const sa = objects('serviceaccounts', ns).find((o) => o.metadata.name === saName);
  const saRef = JSON.stringify(`${ns}/${saName}`);
  if (!sa)
    throw admissionInternalError(
      `while retrieving service account ${saRef} named in the PodCertificateRequest: serviceaccount ${JSON.stringify(saName)} not found`,
    );
  if (sa.metadata.uid !== str(s.serviceAccountUID))
    throw admissionInternalError(
      `PodCertificateRequest for pod ${podRef} names service account UID ${JSON.stringify(str(s.serviceAccountUID))}, which differs from the running service account (${JSON.stringify(sa.metadata.uid)})`,
    );
  const signer = str(s.signerName);
  if (podMountsSigner(pod, signer)) return;
  const allowed = authz.authorize({
    user,
    verb: 'request-serviceaccounts-podcertificate-signer',
    resourceRequest: true,
    apiGroup: GROUP,
    resource: signer.replaceAll('/', ':'),
    namespace: ns,
    name: saName,
    path: '',
  }).allowed;
  if (!allowed)
    throw deny(`pod ${podRef} does not mount a podCertificate projected volume for signer ${JSON.stringify(signer)}`);
}

/** Whether a pod has a podCertificate projected volume source for the signer. */
export function podMountsSigner(pod: KObject, signer: string): boolean {
  const volumes = spec(pod).volumes;
  return (Array.isArray(volumes) ? volumes : []).some((v) => {
    const sources = asRecord(asRecord(v)?.projected)?.sources;
    return (Array.isArray(sources) ? sources : []).some(
      (src) => str(asRecord(asRecord(src)?.podCertificate)?.signerName) === signer,
    );
  });
}

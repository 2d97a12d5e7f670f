// certificates.k8s.io/v1 CertificateSigningRequest: the registry strategy (pkg/registry/certificates), validation
// (pkg/apis/certificates/validation) and the CertificateApproval / CertificateSigning / CertificateSubjectRestriction
// admission plugins, as kube-api.md §1–§3 describe them.
import { X509Certificate } from 'node:crypto';
import { isAuthorizedForSigner } from './authz.js';
import { countCertificates, parseAndVerifyCsr } from './der.js';
import { badRequest, type FieldError, field, forbidden, GoValue } from './errors.js';
import { pemDecodeAll } from './pem.js';
import type { KObject } from './store.js';
import { asRecord, type Json, type Strategy, type StrategyContext } from './strategy.js';

export const CSR_GROUP = 'certificates.k8s.io';
export const CSR_RESOURCE = 'certificatesigningrequests';

const VALID_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
];
const SORTED_USAGES = [...VALID_USAGES].sort();

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export function dns1123LabelErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) errs.push(DNS1123_LABEL_MSG);
  return errs;
}

export function dns1123SubdomainErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}

/** apimachinery path.IsValidPathSegmentName: not `.` or `..`, no `/` or `%`. */
export function pathSegmentNameErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** apivalidation.ValidateSignerName */
export function validateSignerName(path: string, signerName: string): FieldError[] {
  const el: FieldError[] = [];
  if (!signerName) return [field.required(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) {
    return [
      field.invalid(
        path,
        signerName,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    ];
  }
  const [domain = '', rest = ''] = segments;
  if (domain.length > 253) el.push(field.tooLong(path, 253));
  const labels = domain.split('.');
  for (const lbl of labels) {
    const errs = dns1123LabelErrors(lbl);
    if (errs.length) {
      for (const e of errs) el.push(field.invalid(path, domain, `validating label "${lbl}": ${e}`));
      break;
    }
  }
  if (labels.length < 2)
    el.push(field.invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const lbl of rest.split('.')) {
    const errs = dns1123SubdomainErrors(lbl);
    if (errs.length) {
      for (const e of errs) el.push(field.invalid(path, rest, `validating component "${lbl}": ${e}`));
      break;
    }
  }
  if (signerName.length > 571) el.push(field.tooLong(path, 571));
  return el;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a []byte JSON field (base64); undefined when absent. Throws BytesError when it is not valid base64. */
export function decodeBytes(v: unknown, _path: string): Buffer | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BytesError('json: cannot unmarshal non-string into Go value of type []uint8');
  if (!B64.test(v) || v.length % 4 !== 0) {
    const bad = v.search(/[^A-Za-z0-9+/=]/);
    const at = bad >= 0 ? bad : v.indexOf('=') >= 0 ? v.indexOf('=') : v.length - (v.length % 4);
    throw new BytesError(`illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(v, 'base64');
}

/** The 400 a typed decode failure gives: `CertificateSigningRequest in version "v1" cannot be handled as …`. */
export function checkCsrBytes(obj: KObject): void {
  try {
    decodeBytes(asRecord(obj.spec)?.request, 'spec.request');
    decodeBytes(asRecord(obj.status)?.certificate, 'status.certificate');
  } catch (err) {
    if (err instanceof BytesError) {
      throw badRequest(
        `CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: ${err.message}`,
      );
    }
    throw err;
  }
}

export class BytesError extends Error {}

function spec(obj: KObject): Json {
  const s = asRecord(obj.spec);
  if (s) return s;
  const fresh: Json = {};
  obj.spec = fresh;
  return fresh;
}

function _status(obj: KObject): Json {
  const s = asRecord(obj.status);
  if (s) return s;
  const fresh: Json = {};
  obj.status = fresh;
  return fresh;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

function conditions(obj: KObject): Condition[] {
  const c = asRecord(obj.status)?.conditions;
  return Array.isArray(c) ? (c as Condition[]) : [];
}

/** Parses the request like certificates.ParseCSR + CheckSignature; returns the Go error text on failure. */
export function checkRequest(requestBytes: Buffer | undefined): {
  error?: string;
  organizations: string[];
  commonName?: string;
} {
  const text = (requestBytes ?? Buffer.alloc(0)).toString('latin1');
  const block = pemDecodeAll(text)[0];
  if (block?.type !== 'CERTIFICATE REQUEST') {
    return { error: 'PEM block type must be CERTIFICATE REQUEST', organizations: [] };
  }
  try {
    const parsed = parseAndVerifyCsr(block.bytes);
    return { organizations: parsed.subject.organization, commonName: parsed.subject.commonName.at(-1) ?? '' };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), organizations: [] };
  }
}

/** spec.request's bytes; undefined when absent or not base64 (checkCsrBytes answers for that). */
function requestBytes(s: Json): Buffer | undefined {
  try {
    return decodeBytes(s.request, 'spec.request');
  } catch {
    return undefined;
  }
}

function requestValue(bytes: Buffer | undefined): Uint8Array | null {
  return bytes && bytes.length > 0 ? new Uint8Array(bytes) : null;
}

function validateSpec(obj: KObject, allowLegacy: boolean): FieldError[] {
  const s = spec(obj);
  const errs: FieldError[] = [];
  const bytes = requestBytes(s);
  const check = checkRequest(bytes);
  if (check.error) {
    const value = requestValue(bytes);
    errs.push(field.invalid('spec.request', value ?? nilBytes, check.error));
  }
  const usages = Array.isArray(s.usages) ? (s.usages as unknown[]) : [];
  if (usages.length === 0) errs.push(field.required('spec.usages'));
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (typeof u !== 'string' || !VALID_USAGES.includes(u))
      errs.push(field.notSupported(`spec.usages[${i}]`, u, SORTED_USAGES));
    if (seen.has(u)) errs.push(field.duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  const signerName = typeof s.signerName === 'string' ? s.signerName : '';
  if (signerName === 'kubernetes.io/legacy-unknown' && !allowLegacy) {
    errs.push(
      field.invalid('spec.signerName', signerName, 'the legacy signerName is not allowed via this API version'),
    );
  } else {
    errs.push(...validateSignerName('spec.signerName', signerName));
  }
  const exp = s.expirationSeconds;
  if (exp !== undefined && exp !== null && typeof exp === 'number' && exp < 600) {
    errs.push(
      field.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 600 seconds (10 minutes)'),
    );
  }
  return errs;
}

const nilBytes = new GoValue('null');

function certificateError(data: Buffer): string | undefined {
  if (data.length === 0) return undefined;
  const blocks = pemDecodeAll(data.toString('latin1'));
  for (const block of blocks) {
    if (block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${block.type}"`;
    if (block.hasHeaders) return 'no PEM block headers are permitted';
    let n = 0;
    try {
      n = countCertificates(block.bytes);
      let off = 0;
      while (off < block.bytes.length) {
        const c = new X509Certificate(block.bytes.subarray(off));
        off += c.raw.length;
      }
    } catch {
      return 'x509: malformed certificate';
    }
    if (n === 0) return 'found CERTIFICATE PEM block containing 0 certificates';
  }
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  return undefined;
}

interface ValidationOptions {
  allowEmptyConditionType: boolean;
  allowBothApprovedAndDenied: boolean;
  allowDuplicateConditionTypes: boolean;
  allowArbitraryCertificate: boolean;
  allowSettingApprovalConditions: boolean;
  allowSettingCertificate: boolean;
}

function validateConditions(obj: KObject, opts: ValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let hasApproved = false;
  let hasDenied = false;
  conditions(obj).forEach((c, i) => {
    const p = `status.conditions[${i}]`;
    const type = typeof c.type === 'string' ? c.type : '';
    if (!opts.allowEmptyConditionType && !type) errs.push(field.required(`${p}.type`));
    const onlyTrue = type === 'Approved' || type === 'Denied' || type === 'Failed';
    const allowed = onlyTrue ? ['True'] : ['False', 'True', 'Unknown'];
    const st = typeof c.status === 'string' ? c.status : '';
    if (!st) errs.push(field.required(`${p}.status`));
    else if (!allowed.includes(st)) errs.push(field.notSupported(`${p}.status`, st, allowed));
    if (type === 'Approved') hasApproved = true;
    if (type === 'Denied') hasDenied = true;
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(type)) errs.push(field.duplicate(`${p}.type`, type));
      seen.add(type);
    }
  });
  // kube 1.37's declarative validation (+k8s:zeroOrOneOfMember on the conditions list).
  if (!opts.allowBothApprovedAndDenied && hasApproved && hasDenied) {
    const a = 'conditions[{"type": "Approved"}]';
    const d = 'conditions[{"type": "Denied"}]';
    errs.push(field.invalid('status.conditions', `{${a}, ${d}}`, `must specify at most one of: \`${a}\`, \`${d}\``));
  }
  return errs;
}

function certBytes(obj: KObject): Buffer {
  try {
    return decodeBytes(asRecord(obj.status)?.certificate, 'status.certificate') ?? Buffer.alloc(0);
  } catch {
    return Buffer.alloc(0);
  }
}

function optionsFor(old: KObject, subresource: string | undefined): ValidationOptions {
  const oldConds = conditions(old);
  const types = oldConds.map((c) => c.type ?? '');
  const oldCert = certBytes(old);
  return {
    allowEmptyConditionType: types.includes(''),
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowArbitraryCertificate: oldCert.length > 0 && certificateError(oldCert) !== undefined,
    allowSettingApprovalConditions: subresource === 'approval',
    allowSettingCertificate: subresource === 'status',
  };
}

function ofType(obj: KObject, t: string): Condition[] {
  return conditions(obj).filter((c) => c.type === t);
}

function populateConditionTimestamps(obj: KObject, old: KObject): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const oldConds = conditions(old);
  for (const c of conditions(obj)) {
    if (!c.lastUpdateTime) c.lastUpdateTime = now;
    if (!c.lastTransitionTime) {
      const prev = oldConds.find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime);
      c.lastTransitionTime = prev?.lastTransitionTime ?? now;
    }
  }
}

function ensureSignerAuthorized(
  obj: KObject,
  verb: 'approve' | 'sign',
  signerName: string,
  ctx: StrategyContext,
): void {
  if (!isAuthorizedForSigner(ctx.authz, ctx.user, verb, signerName)) {
    throw forbidden(
      CSR_RESOURCE,
      CSR_GROUP,
      obj.metadata.name,
      `user not permitted to ${verb} requests with signerName "${signerName}"`,
    );
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const csrStrategy: Strategy = {
  prepareCreate(obj, ctx) {
    checkCsrBytes(obj);
    const s = spec(obj);
    delete s.username;
    delete s.uid;
    delete s.groups;
    delete s.extra;
    s.username = ctx.user.name;
    if (ctx.user.uid) s.uid = ctx.user.uid;
    s.groups = [...ctx.user.groups];
    if (ctx.user.extra && Object.keys(ctx.user.extra).length) s.extra = ctx.user.extra;
    obj.status = {};
  },
  validateCreate(obj) {
    return validateSpec(obj, false);
  },
  admitCreate(obj, _ctx) {
    const s = spec(obj);
    if (s.signerName !== 'kubernetes.io/kube-apiserver-client') return;
    const check = checkRequest(requestBytes(s));
    if (check.error) {
      throw forbidden(CSR_RESOURCE, CSR_GROUP, obj.metadata.name, `failed to parse CSR: ${check.error}`);
    }
    if (check.organizations.includes('system:masters')) {
      throw forbidden(
        CSR_RESOURCE,
        CSR_GROUP,
        obj.metadata.name,
        'use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
      );
    }
  },
  prepareUpdate(obj, old, subresource) {
    checkCsrBytes(obj);
    obj.spec = old.spec;
    if (subresource === 'approval') {
      populateConditionTimestamps(obj, old);
      const conds = conditions(obj);
      obj.status = { ...(asRecord(old.status) ?? {}) };
      if (conds.length) (obj.status as Json).conditions = conds;
      else delete (obj.status as Json).conditions;
    } else if (subresource === 'status') {
      const newStatus = { ...(asRecord(obj.status) ?? {}) };
      obj.status = newStatus;
      for (const t of ['Approved', 'Denied']) {
        const oldOf = ofType(old, t);
        const newOf = ofType(obj, t);
        if (oldOf.length === newOf.length && oldOf.length > 0) {
          let k = 0;
          newStatus.conditions = conditions(obj).map((c) => (c.type === t ? { ...oldOf[k++] } : c));
        }
      }
      populateConditionTimestamps(obj, old);
    } else {
      obj.status = old.status;
    }
  },
  validateUpdate(obj, old, subresource) {
    const opts = optionsFor(old, subresource);
    const errs = validateConditions(obj, opts);
    const newCert = certBytes(obj);
    const oldCert = certBytes(old);
    const certChanged = !newCert.equals(oldCert);
    if (newCert.length > 0 && certChanged && !opts.allowArbitraryCertificate) {
      const e = certificateError(newCert);
      if (e) errs.push(field.invalid('status.certificate', '<certificate data>', e));
    }
    for (const t of ['Approved', 'Denied', 'Failed']) {
      if (ofType(obj, t).length < ofType(old, t).length) {
        errs.push(field.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
      }
    }
    if (!opts.allowSettingApprovalConditions) {
      for (const t of ['Approved', 'Denied']) {
        const o = ofType(old, t);
        const n = ofType(obj, t);
        if (n.length > o.length)
          errs.push(field.forbidden('status.conditions', `updates may not add a condition of type "${t}"`));
        else if (n.length === o.length && !jsonEqual(o, n)) {
          errs.push(field.forbidden('status.conditions', `updates may not modify a condition of type "${t}"`));
        }
      }
    }
    if (certChanged) {
      if (!opts.allowSettingCertificate) {
        errs.push(field.forbidden('status.certificate', 'updates may not set certificate content'));
      } else if (oldCert.length > 0) {
        errs.push(field.forbidden('status.certificate', 'updates may not modify existing certificate content'));
      }
    }
    return errs;
  },
  admitUpdate(obj, old, subresource, ctx) {
    const signerName = String(asRecord(old.spec)?.signerName ?? '');
    if (subresource === 'approval') ensureSignerAuthorized(obj, 'approve', signerName, ctx);
    if (subresource === 'status' && !certBytes(obj).equals(certBytes(old))) {
      ensureSignerAuthorized(obj, 'sign', signerName, ctx);
    }
  },
  fields(obj) {
    return {
      'metadata.name': obj.metadata.name ?? '',
      'spec.signerName': String(asRecord(obj.spec)?.signerName ?? ''),
    };
  },
};

// The approver's policy as data: limits and choices behind the findings. The built-in default equals
// assets/policy/default.yaml; a user's YAML file overrides any part of it.
import { MiB, readBoundedText } from '../files/read-bounded.js';
import { parse } from 'yaml';
import type { FindingLevel } from './types.js';

export interface Policy {
  name: string;
  /** Longest certificate lifetime a request may ask for (expirationSeconds). */
  maxDurationSeconds: number;
  /** Level of the finding when a request asks for more than maxDurationSeconds. */
  durationOverMax: FindingLevel;
  keys: {
    /** RSA below this is `fail`. */
    rsaMinBits: number;
    /** Level for keys that are strong but off the supported list (Ed25519, RSA 3072, …). */
    offList: FindingLevel;
  };
  sans: {
    /** More SANs than this is `fail`. */
    maxCount: number;
    /** Level for wildcard DNS names. */
    wildcards: FindingLevel;
    /** CIDRs IP SANs must fall in; empty allows any IP. */
    allowedIpRanges: string[];
  };
  /** Subject O values nobody may get through certdesk (`fail`). */
  forbiddenGroups: string[];
  /** Usages that make a certificate able to sign others (`fail`). */
  forbiddenUsages: string[];
  /** Level when the requestor cannot be linked to the subject (no pod, no matching name). */
  unlinkedRequestor: FindingLevel;
  /** PodCertificateRequests (issue 20; docs/policy.md). */
  podCertificates: {
    /** Longest pod certificate issued; a request's maxExpirationSeconds caps it further. */
    maxDurationSeconds: number;
    /** unverifiedUserAnnotations keys the signer understands. */
    knownAnnotations: string[];
    /** Level for any other key (a signer should deny keys it does not know, KEP-4317). */
    unknownAnnotation: FindingLevel;
  };
  /**
   * Signers whose certificates serve a node (`node-addresses`): every DNS and IP SAN must be one of the Node's
   * status.addresses. Empty turns the check off (and the TUI and controller stop following Nodes).
   */
  nodeServingSigners: string[];
  /** In-cluster names a node or a pod may not have (`reserved-names`). */
  reservedNames: {
    level: FindingLevel;
    /** The cluster's DNS domain (`<service>.<namespace>.svc.<clusterDomain>`). */
    clusterDomain: string;
    /** The service CIDR(s): IP SANs inside are a Service's address, not a node's or a pod's. Empty: not checked. */
    serviceCidrs: string[];
  };
  /** URI SANs `spiffe://TRUST-DOMAIN/ns/NS/sa/SA` must name the requesting service account (`spiffe-identity`). */
  spiffe: {
    level: FindingLevel;
    /** Trust domains a SPIFFE ID may use; empty allows any. */
    trustDomains: string[];
    /** Requesters that ask for workloads' identities by design (istiod): their requests pass this finding. */
    brokers: string[];
  };
  /** Level when a newer request for the same pod, node or identity exists, or the requesting pod is gone. */
  superseded: FindingLevel;
  /** Level when the request's public key is already in a request of another identity (`key-reuse`). */
  keyReuse: FindingLevel;
  /** One requester with more than `maxRequests` requests within `windowMinutes` (`request-storm`). */
  requestStorm: { level: FindingLevel; maxRequests: number; windowMinutes: number };
  /**
   * The opt-in DNS check (`dns-resolution`, off by default): DNS SANs are resolved in the background (never slowing
   * a list) and their addresses compared with the request's IP SANs and, for a node, the Node's addresses.
   */
  dns: {
    enabled: boolean;
    /** Level when a name resolves elsewhere or does not resolve. */
    level: FindingLevel;
    /** Each lookup's deadline; the finding says `resolving…` until then. */
    timeoutMs: number;
    /** Resolvers to ask (`IP` or `IP:PORT`); empty: the system's. */
    servers: string[];
  };
}

export const DEFAULT_POLICY: Policy = {
  name: 'certdesk-default',
  maxDurationSeconds: 365 * 24 * 3600,
  durationOverMax: 'fail',
  keys: { rsaMinBits: 2048, offList: 'warn' },
  sans: { maxCount: 100, wildcards: 'warn', allowedIpRanges: [] },
  forbiddenGroups: ['system:masters'],
  forbiddenUsages: ['cert sign', 'crl sign', 'any'],
  unlinkedRequestor: 'warn',
  podCertificates: { maxDurationSeconds: 86_400, knownAnnotations: [], unknownAnnotation: 'fail' },
  nodeServingSigners: ['kubernetes.io/kubelet-serving'],
  reservedNames: { level: 'fail', clusterDomain: 'cluster.local', serviceCidrs: [] },
  spiffe: { level: 'fail', trustDomains: [], brokers: ['system:serviceaccount:istio-system:istiod'] },
  superseded: 'warn',
  keyReuse: 'fail',
  requestStorm: { level: 'warn', maxRequests: 20, windowMinutes: 10 },
  dns: { enabled: false, level: 'warn', timeoutMs: 3000, servers: [] },
};

export class PolicyError extends Error {
  override name = 'PolicyError';
}

const LEVELS = new Set(['ok', 'warn', 'fail']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(base: Record<string, unknown>, patch: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(patch)) {
    const where = path ? `${path}.${key}` : key;
    if (!(key in base)) throw new PolicyError(`unknown policy field "${where}"`);
    const current = base[key];
    if (isRecord(current)) {
      if (!isRecord(value)) throw new PolicyError(`policy field "${where}" must be a mapping`);
      mergeInto(current, value, where);
    } else if (Array.isArray(current)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        throw new PolicyError(`policy field "${where}" must be a list of strings`);
      base[key] = value;
    } else if (typeof current !== typeof value) {
      throw new PolicyError(`policy field "${where}" must be a ${typeof current}`);
    } else {
      base[key] = value;
    }
  }
}

/** Validates and merges a parsed policy document over the default. */
export function policyFromObject(doc: unknown): Policy {
  if (doc === null || doc === undefined) return structuredClone(DEFAULT_POLICY);
  if (!isRecord(doc)) throw new PolicyError('a policy file must be a YAML mapping');
  const policy = structuredClone(DEFAULT_POLICY) as unknown as Record<string, unknown>;
  mergeInto(policy, doc, '');
  const p = policy as unknown as Policy;
  for (const [field, level] of [
    ['durationOverMax', p.durationOverMax],
    ['keys.offList', p.keys.offList],
    ['sans.wildcards', p.sans.wildcards],
    ['unlinkedRequestor', p.unlinkedRequestor],
    ['podCertificates.unknownAnnotation', p.podCertificates.unknownAnnotation],
    ['reservedNames.level', p.reservedNames.level],
    ['spiffe.level', p.spiffe.level],
    ['superseded', p.superseded],
    ['keyReuse', p.keyReuse],
    ['requestStorm.level', p.requestStorm.level],
    ['dns.level', p.dns.level],
  ] as const) {
    if (!LEVELS.has(level)) throw new PolicyError(`policy field "${field}" must be ok, warn or fail`);
  }
  if (!(p.maxDurationSeconds >= 600)) throw new PolicyError('policy field "maxDurationSeconds" must be at least 600');
  if (!(p.podCertificates.maxDurationSeconds >= 3600))
    throw new PolicyError('policy field "podCertificates.maxDurationSeconds" must be at least 3600 (1h)');
  if (!(p.sans.maxCount >= 1)) throw new PolicyError('policy field "sans.maxCount" must be at least 1');
  if (!(p.requestStorm.maxRequests >= 1))
    throw new PolicyError('policy field "requestStorm.maxRequests" must be at least 1');
  if (!(p.requestStorm.windowMinutes > 0))
    throw new PolicyError('policy field "requestStorm.windowMinutes" must be more than 0');
  if (!(p.dns.timeoutMs >= 100 && p.dns.timeoutMs <= 30_000))
    throw new PolicyError('policy field "dns.timeoutMs" must be between 100 and 30000');
  for (const cidr of [...p.sans.allowedIpRanges, ...p.reservedNames.serviceCidrs]) parseCidr(cidr);
  return p;
}

/** Loads a policy YAML file (merged over the default), or the default when no file is given. */
export async function loadPolicy(file?: string): Promise<Policy> {
  if (!file) return structuredClone(DEFAULT_POLICY);
  let text: string;
  try {
    text = await readBoundedText(file, { what: 'policy', limit: MiB });
  } catch (err) {
    throw new PolicyError((err as Error).message.replace(/^The /, '').replace(/\.$/, ''));
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PolicyError(`policy file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return policyFromObject(doc);
  } catch (err) {
    throw new PolicyError(`policy file ${file}: ${(err as Error).message}`);
  }
}

/** Parses `10.0.0.0/8` or `fd00::/8` into bytes + prefix length; throws PolicyError on nonsense. */
export function parseCidr(cidr: string): { bytes: number[]; prefix: number } {
  const [addr = '', prefixText] = cidr.split('/');
  const bytes = ipToBytes(addr);
  const prefix = prefixText === undefined ? (bytes?.length ?? 0) * 8 : Number(prefixText);
  if (!bytes || !Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8)
    throw new PolicyError(`"${cidr}" is not a CIDR range like 10.0.0.0/8`);
  return { bytes, prefix };
}

export function ipToBytes(ip: string): number[] | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    return parts.every((n) => n <= 255) ? parts : undefined;
  }
  if (!ip.includes(':')) return undefined;
  const [head = '', tail] = ip.split('::');
  if (ip.split('::').length > 2) return undefined;
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return undefined;
  const all = [...h, ...Array(fill).fill('0'), ...t];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const addr = ipToBytes(ip);
  const { bytes, prefix } = parseCidr(cidr);
  if (!addr || addr.length !== bytes.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if (((addr[bit >> 3] ?? 0) & mask) !== ((bytes[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

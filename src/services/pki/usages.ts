// The CSR API's usage strings and the certificate fields they become, as kube-controller-manager maps them
// (pkg/controller/certificates/authority/policies.go). Data, so docs and findings can list it.
import type { KeyUsageBitName } from './oids.js';

export interface UsageMapping {
  usage: string;
  keyUsage?: KeyUsageBitName;
  /** ExtKeyUsage OID and its name. */
  extKeyUsage?: { oid: string; name: string };
}

export const USAGE_TABLE: readonly UsageMapping[] = [
  { usage: 'signing', keyUsage: 'digitalSignature' },
  { usage: 'digital signature', keyUsage: 'digitalSignature' },
  { usage: 'content commitment', keyUsage: 'contentCommitment' },
  { usage: 'key encipherment', keyUsage: 'keyEncipherment' },
  { usage: 'key agreement', keyUsage: 'keyAgreement' },
  { usage: 'data encipherment', keyUsage: 'dataEncipherment' },
  { usage: 'cert sign', keyUsage: 'keyCertSign' },
  { usage: 'crl sign', keyUsage: 'cRLSign' },
  { usage: 'encipher only', keyUsage: 'encipherOnly' },
  { usage: 'decipher only', keyUsage: 'decipherOnly' },
  { usage: 'any', extKeyUsage: { oid: '2.5.29.37.0', name: 'anyExtendedKeyUsage' } },
  { usage: 'server auth', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.1', name: 'serverAuth' } },
  { usage: 'client auth', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.2', name: 'clientAuth' } },
  { usage: 'code signing', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.3', name: 'codeSigning' } },
  { usage: 'email protection', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.4', name: 'emailProtection' } },
  { usage: 's/mime', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.4', name: 'emailProtection' } },
  { usage: 'ipsec end system', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.5', name: 'ipsecEndSystem' } },
  { usage: 'ipsec tunnel', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.6', name: 'ipsecTunnel' } },
  { usage: 'ipsec user', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.7', name: 'ipsecUser' } },
  { usage: 'timestamping', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.8', name: 'timeStamping' } },
  { usage: 'ocsp signing', extKeyUsage: { oid: '1.3.6.1.5.5.7.3.9', name: 'OCSPSigning' } },
  { usage: 'microsoft sgc', extKeyUsage: { oid: '1.3.6.1.4.1.311.10.3.3', name: 'msSGC' } },
  { usage: 'netscape sgc', extKeyUsage: { oid: '2.16.840.1.113730.4.1', name: 'nsSGC' } },
];

/** The 23 usage strings the v1 CSR API accepts. */
export const KNOWN_USAGES: readonly string[] = USAGE_TABLE.map((u) => u.usage);

const BY_USAGE = new Map(USAGE_TABLE.map((u) => [u.usage, u]));
/** Go's ExtKeyUsage enum order, which kube-controller-manager sorts by. */
const EKU_ORDER = USAGE_TABLE.filter((u) => u.extKeyUsage).map((u) => u.extKeyUsage!.oid);

export interface MappedUsages {
  keyUsage: KeyUsageBitName[];
  /** ExtKeyUsage OIDs, deduplicated, in Go's order. */
  extKeyUsageOids: string[];
  unrecognized: string[];
}

export function mapUsages(usages: readonly string[]): MappedUsages {
  const ku = new Set<KeyUsageBitName>();
  const eku = new Set<string>();
  const unrecognized: string[] = [];
  for (const usage of usages) {
    const m = BY_USAGE.get(usage);
    if (!m) unrecognized.push(usage);
    else if (m.keyUsage) ku.add(m.keyUsage);
    else if (m.extKeyUsage) eku.add(m.extKeyUsage.oid);
  }
  return {
    keyUsage: [...ku],
    extKeyUsageOids: EKU_ORDER.filter((o, i) => eku.has(o) && EKU_ORDER.indexOf(o) === i),
    unrecognized,
  };
}

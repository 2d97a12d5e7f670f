// The scenarios' requesters make keys and CSRs with the PKI core, as cfssl or a Go client would.
import { createCa, generateKeyAndCsr, type KeyAlgorithmName } from '../../pki/index.js';

export interface KeyAndCsrRequest {
  /** @default ECDSAWithCurve256 */
  keyAlgorithm?: KeyAlgorithmName;
  /** Empty for a subject-less request (then at least one SAN is needed). */
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
}

function keySpec(name: KeyAlgorithmName): { algo: 'rsa' | 'ecdsa'; size: number } {
  const m = /^(RSAWithSize|ECDSAWithCurve)(\d+)$/.exec(name);
  if (!m) throw new Error(`Unknown key algorithm ${name}; use RSAWithSize2048/4096/8192 or ECDSAWithCurve256/384/521.`);
  return { algo: m[1] === 'RSAWithSize' ? 'rsa' : 'ecdsa', size: Number(m[2]) };
}

/** A fresh key and a PKCS#10 request, both PEM. */
export function makeKeyAndCsr(req: KeyAndCsrRequest): Promise<{ keyPem: string; csrPem: string }> {
  return generateKeyAndCsr({
    cn: req.commonName,
    names: (req.organizations ?? []).map((O) => ({ O })),
    hosts: [...(req.dnsNames ?? []), ...(req.ipAddresses ?? []), ...(req.uris ?? [])],
    key: keySpec(req.keyAlgorithm ?? 'ECDSAWithCurve256'),
  });
}

/** A CA certificate whose private key is thrown away: something to trust that nobody can sign as. */
export async function createDemoCaPem(cn: string): Promise<string> {
  return (await createCa({ cn, days: 365 })).certPem;
}

// Shared shapes of the PKI core (decode, CAs, issue, generate). Other layers import only these types
// and the functions in services/pki/index.ts.
import type { CaKey } from './ca-key.js';

export type PkiErrorCode =
  | 'not-pem' // input is neither PEM, DER nor base64 of PEM
  | 'wrong-pem-type' // e.g. a CERTIFICATE where a CERTIFICATE REQUEST was expected
  | 'bad-der' // ASN.1 could not be parsed
  | 'too-large'
  | 'unsupported' // algorithm or structure we recognise but cannot handle (Ed448, …)
  | 'bad-key' // private key unreadable / wrong passphrase / does not match certificate
  | 'not-a-ca'
  | 'ca-expired'
  | 'insecure-key-file'
  | 'signer-refused' // the signer's rules refuse the request (text usable as a Failed condition message)
  | 'not-found';

export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}

export interface RelativeDistinguishedName {
  /** Short name when known (CN, O, OU, C, ST, L, …), otherwise the dotted OID. */
  type: string;
  oid: string;
  value: string;
}

export interface DistinguishedName {
  /** In order, as encoded. */
  rdns: RelativeDistinguishedName[];
  /** RFC 4514-ish text, e.g. `CN=calico-node,O=system:nodes`. Not terminal-safe: sanitize before display. */
  text: string;
  commonName?: string;
  organizations: string[];
}

export interface SubjectAltNames {
  dns: string[];
  ip: string[];
  uri: string[];
  email: string[];
  /** Anything else, described. */
  other: string[];
}

export interface PublicKeyInfo {
  algorithm: 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'unknown';
  rsaBits?: number;
  /** `P-256`, `P-384`, `P-521`, or the OID of another curve. */
  curve?: string;
  /** On the supported list of the Calico doc: RSA 2048/4096/8192, ECDSA P-256/384/521. */
  supported: boolean;
  /** e.g. `RSA 2048`, `ECDSA P-256`, `Ed25519`. */
  description: string;
}

export interface ExtensionInfo {
  oid: string;
  name?: string;
  critical: boolean;
  /** Human-readable value. */
  value: string;
}

export interface DecodedCsr {
  pem: string;
  subject: DistinguishedName;
  sans: SubjectAltNames;
  publicKey: PublicKeyInfo;
  /** e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `Ed25519`. */
  signatureAlgorithm: string;
  /** Requested extensions (extensionRequest attribute). */
  extensions: ExtensionInfo[];
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** KeyUsage names as in the certificate (`digitalSignature`, `keyCertSign`, …). */
  keyUsage?: string[];
  extKeyUsage?: string[];
  proofOfPossession: { verified: boolean; error?: string };
  /**
   * Why Go's crypto/x509 (kube-controller-manager's signer, the API server, Calico, Istio) refuses this request in
   * ParseCertificateRequest or CheckSignature (e.g. `asn1: invalid UTF-8 string`); absent when Go takes it.
   */
  goRefusal?: string;
  /**
   * Why a certificate copying this subject could not be read although the request parses: Go's certificate parser
   * and openssl take only UTF8, Printable, IA5, T61, BMP and Numeric strings in a name, where a request may hold
   * any type (VisibleString, UniversalString, a time…). kube-controller-manager signs it; certdesk does not.
   */
  nameRefusal?: string;
}

export interface DecodedCertificate {
  pem: string;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** Hex, no colons. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sans: SubjectAltNames;
  publicKey: PublicKeyInfo;
  signatureAlgorithm: string;
  keyUsage: string[];
  extKeyUsage: string[];
  basicConstraints?: { ca: boolean; pathLength?: number };
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
  /** SHA-256 of the DER, uppercase hex with colons (as `openssl x509 -fingerprint -sha256`). */
  sha256Fingerprint: string;
  extensions: ExtensionInfo[];
}

export type KeyAlgorithmName =
  | 'RSAWithSize2048'
  | 'RSAWithSize4096'
  | 'RSAWithSize8192'
  | 'ECDSAWithCurve256'
  | 'ECDSAWithCurve384'
  | 'ECDSAWithCurve521';

/** The key algorithms of the Calico document's supported list, in its spelling. */
export const KEY_ALGORITHMS: readonly KeyAlgorithmName[] = [
  'RSAWithSize2048',
  'RSAWithSize4096',
  'RSAWithSize8192',
  'ECDSAWithCurve256',
  'ECDSAWithCurve384',
  'ECDSAWithCurve521',
];

export type SignatureAlgorithmName =
  | 'SHA256WithRSA'
  | 'SHA384WithRSA'
  | 'SHA512WithRSA'
  | 'ECDSAWithSHA256'
  | 'ECDSAWithSHA384'
  | 'ECDSAWithSHA512';

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithmName[] = [
  'SHA256WithRSA',
  'SHA384WithRSA',
  'SHA512WithRSA',
  'ECDSAWithSHA256',
  'ECDSAWithSHA384',
  'ECDSAWithSHA512',
];

/** The 23 usage strings the CSR API accepts (`spec.usages`). */
export type KeyUsageName = string;

export interface SigningProfile {
  name: string;
  /** Usages the profile allows; a request asking for others is refused. Empty = any of the API's. */
  allowedUsages: KeyUsageName[];
  /** Used when the CSR has no expirationSeconds. */
  defaultDurationSeconds: number;
  /** Cap on the certificate lifetime. */
  maxDurationSeconds: number;
  /** Hash for RSA CAs (ECDSA CAs use the hash that matches the curve). @default SHA256 */
  rsaHash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Append the CA chain (intermediates) to the issued PEM. @default false */
  includeChain?: boolean;
}

/** A CA ready to sign: its certificate (checked: CA=true, keyCertSign, in validity) and the matching key. */
export interface LoadedCa {
  certificate: DecodedCertificate;
  certPem: string;
  /** Certificates above this CA (its issuer first), from the chain file; empty for a root. */
  chain: DecodedCertificate[];
  /** The CA key: signs (CaKey.sign) wherever it lives, a file's or a token's. Never log or send it anywhere. */
  readonly key: CaKey;
}

/** A CA's certificates without its key: what is compared with the cluster's trust (services/actions/ca-trust.ts). */
export type CaCertificates = Pick<LoadedCa, 'certificate' | 'certPem' | 'chain'>;

/** What issueCertificate needs besides the CSR and the CA (from the CSR object's spec, or the command line). */
export interface IssueRequest {
  usages: string[];
  signerName: string;
  expirationSeconds?: number;
  /** @default the built-in default profile (1 year, cap 1 year) */
  profile?: SigningProfile;
}

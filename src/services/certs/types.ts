// The renewal radar's shapes: where a certificate lives, what it is, and what is wrong with it.

/** The sources `--source` selects. Calico's annotated Secrets are Secrets. */
export const CERT_SOURCES = ['secret', 'configmap', 'webhook', 'trust-bundle', 'csr', 'pcr', 'local'] as const;
export type CertSource = (typeof CERT_SOURCES)[number];

export interface CertLocation {
  source: CertSource;
  /** Secret, ConfigMap, ValidatingWebhookConfiguration, …, CaRegistry, Kubeconfig. */
  kind: string;
  namespace?: string;
  name: string;
  /** Where in the object: `tls.crt`, `webhooks[x].clientConfig.caBundle`, `spec.trustBundle`, a file path. */
  field: string;
  /** Position in a bundle (0 for the first certificate). */
  index: number;
}

export type ProblemKind =
  | 'expired'
  | 'expiring'
  | 'not-yet-valid'
  | 'ca-expires-first'
  | 'chain-unverified'
  | 'key-mismatch'
  | 'unparseable';

export interface CertProblem {
  kind: ProblemKind;
  /** One sentence; raw text from the cluster inside it is made terminal-safe at display. */
  message: string;
}

/** A certificate above the entry in its chain (from the same PEM, or the CA it was verified against). */
export interface ChainLink {
  subject: string;
  issuer: string;
  notAfter: Date;
  /** Where it came from: `tls.crt`, `ca.crt of the Secret`, `the local CA for example.com/x`. */
  from: string;
}

/** What renews a certificate, so a person (or the TUI) can go there. */
export interface RenewalHint {
  /** Calico's key-cert-provisioner (the Secret carries certificates.operator.tigera.io/* metadata). */
  calico?: boolean;
  signerName?: string;
  csrName?: string;
  pcr?: { namespace: string; name: string; podName?: string };
}

export interface CertRecord {
  /** Unique within a scan: context, location and index. */
  id: string;
  /** The kubeconfig context; undefined for the local CA registry. */
  context: string | undefined;
  location: CertLocation;
  /** Set unless the content is unparseable. */
  cert?: CertFacts;
  chain: ChainLink[];
  /** Problems that do not depend on the time (key, chain, CA lifetime, parse errors). */
  problems: CertProblem[];
  renewal: RenewalHint;
  /** The same CA published in this many namespaces (kube-root-ca.crt is copied into each). */
  copies?: number;
  /**
   * Its chain is not verified yet (the watch checks what is on screen first, the rest in the background): `chain`
   * is empty and `problems` lacks what the chain may add (chain-unverified, ca-expires-first) until it is.
   */
  pending?: true;
}

export interface CertFacts {
  subject: string;
  commonName?: string;
  sans: string[];
  issuer: string;
  /** Hex, no colons. */
  serial: string;
  keyType: string;
  signatureAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  selfSigned: boolean;
  /** SHA-256, uppercase hex with colons. */
  fingerprint: string;
}

/** Trust anchors a certificate's chain must verify against, and where they came from (for the message). */
export interface Anchors {
  pems: string[];
  where: string;
}

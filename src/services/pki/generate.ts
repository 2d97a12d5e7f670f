// The requester's side, as `cfssl genkey` does it: a fresh key pair and a PKCS#10 request whose hosts
// become DNS, IP, e-mail or URI subjectAltNames.
import { buildCsr, encodeName, type NameFields, sanElementsFromHosts, sanExtension } from './build.js';
import { defaultSignatureFor, exportKeyPem, generateKey } from './keys.js';
import { toPem } from './pem.js';
import { PkiError } from './types.js';

export interface GenerateKeyAndCsrOptions {
  cn: string;
  /** DNS names, IP addresses, e-mail addresses or URIs, split as cfssl splits them. */
  hosts?: string[];
  names?: Array<Omit<NameFields, 'CN'>>;
  /** @default { algo: 'ecdsa', size: 256 } */
  key?: { algo: 'rsa' | 'ecdsa'; size: number };
}

/** Returns the private key (PKCS#1 for RSA, SEC1 for ECDSA, as cfssl) and the CSR, both PEM. Write the key 0600. */
export async function generateKeyAndCsr(opts: GenerateKeyAndCsrOptions): Promise<{ keyPem: string; csrPem: string }> {
  if (!opts.cn && !opts.hosts?.length) {
    throw new PkiError('unsupported', 'A certificate request needs a common name or at least one host.');
  }
  const key = await generateKey(opts.key ?? { algo: 'ecdsa', size: 256 });
  const subject = encodeName(opts.names ?? [], opts.cn);
  const { elements } = sanElementsFromHosts(opts.hosts ?? []);
  const emptySubject = !opts.cn && !(opts.names ?? []).some((n) => Object.values(n).some(Boolean));
  const extensions = elements.length ? [sanExtension(elements, emptySubject)] : [];
  const der = await buildCsr(subject, key, extensions, defaultSignatureFor(key));
  return { keyPem: exportKeyPem(key), csrPem: toPem('CERTIFICATE REQUEST', der) };
}

// `certdesk inspect FILE|-`: decodes a CSR, a certificate or a bundle (PEM, DER, or base64 of PEM as in
// spec.request) and describes it; `-o json` prints the decoded fields.
import { decodeCertificates, decodeCsr } from '../../services/pki/decode.js';
import { inputBlocks } from '../../services/pki/pem.js';
import { type DecodedCertificate, type DecodedCsr, PkiError } from '../../services/pki/types.js';
import { CliError } from '../cli-error.js';
import { asCli, out, readInput, safeJson } from './common.js';
import { describeCertificate, describeCsr } from './format.js';

export interface InspectOptions {
  output?: string;
}

type Decoded = { kind: 'csr'; csr: DecodedCsr } | { kind: 'certs'; certs: DecodedCertificate[] };

export async function decodeAny(input: Uint8Array): Promise<Decoded> {
  try {
    return { kind: 'csr', csr: await decodeCsr(input) };
  } catch (err) {
    if (err instanceof PkiError && err.code === 'not-pem') {
      throw new PkiError(
        'not-pem',
        'The input is not a certificate request or certificate (PEM, DER or base64 of PEM).',
      );
    }
    if (!(err instanceof PkiError) || err.code !== 'wrong-pem-type') throw err;
  }
  try {
    return { kind: 'certs', certs: await decodeCertificates(input) };
  } catch (err) {
    if (err instanceof PkiError && err.code === 'wrong-pem-type') {
      const label = inputBlocks(input, 'input')[0]?.label ?? 'unknown block';
      throw new PkiError(
        'wrong-pem-type',
        `The input holds a "${label}" PEM block, not a certificate request or certificate; pass a CSR or certificate file.`,
      );
    }
    throw err;
  }
}

export async function runInspect(file: string, opts: InspectOptions): Promise<void> {
  await asCli(async () => {
    if (opts.output && opts.output !== 'json')
      throw new CliError(`unknown output format "${opts.output}"; use -o json`);
    const decoded = await decodeAny(await readInput(file, 'input'));
    if (opts.output === 'json') {
      if (decoded.kind === 'csr') out(safeJson({ kind: 'CertificateSigningRequest', ...decoded.csr }));
      else if (decoded.certs.length === 1) out(safeJson({ kind: 'Certificate', ...decoded.certs[0] }));
      else out(safeJson({ kind: 'CertificateList', items: decoded.certs.map((c) => ({ kind: 'Certificate', ...c })) }));
      return;
    }
    if (decoded.kind === 'csr') {
      out(describeCsr(decoded.csr));
      return;
    }
    out(decoded.certs.map((c) => describeCertificate(c)).join('\n'));
  });
}

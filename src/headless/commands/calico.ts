// `certdesk calico snippet --signer S`: Installation.spec.certificateManagement for a CA in the registry.
import { caCertificatePem } from '../../services/config/ca-registry.js';
import { buildCalicoSnippet } from '../../services/export/index.js';
import { decodeCertificate } from '../../services/pki/index.js';
import { pkiToCli } from './ca-source.js';
import { out } from './common.js';

export interface CalicoCliOptions {
  signer: string;
  blockOnly?: boolean;
}

/** Calico's names for a CA's key and signature algorithms (seed 000). */
export function calicoAlgorithms(publicKey: { algorithm: string; rsaBits?: number; curve?: string }): {
  keyAlgorithm: string;
  signatureAlgorithm: string;
} {
  if (publicKey.algorithm === 'EC') {
    const size = publicKey.curve === 'P-384' ? 384 : publicKey.curve === 'P-521' ? 521 : 256;
    const hash = size === 384 ? 384 : size === 521 ? 512 : 256;
    return { keyAlgorithm: `ECDSAWithCurve${size}`, signatureAlgorithm: `ECDSAWithSHA${hash}` };
  }
  const bits = publicKey.rsaBits ?? 2048;
  return { keyAlgorithm: `RSAWithSize${bits}`, signatureAlgorithm: 'SHA256WithRSA' };
}

export async function runCalicoSnippet(opts: CalicoCliOptions): Promise<void> {
  try {
    const caPem = await caCertificatePem(opts.signer);
    const cert = await decodeCertificate(caPem);
    out(
      buildCalicoSnippet({
        caPem,
        signerName: opts.signer,
        ...calicoAlgorithms(cert.publicKey),
        wholeInstallation: !opts.blockOnly,
      }),
    );
  } catch (err) {
    pkiToCli(err);
  }
}

// The Calico Installation `spec.certificateManagement` block (seed 000) for a CA held in the registry.
import { stringify } from 'yaml';

export interface CalicoSnippetInput {
  caPem: string;
  signerName: string;
  signatureAlgorithm: string;
  keyAlgorithm: string;
  /** Print a whole Installation (apiVersion, kind, metadata.name default) instead of the block alone. @default true */
  wholeInstallation?: boolean;
}

export function buildCalicoSnippet(input: CalicoSnippetInput): string {
  const certificateManagement = {
    caCert: input.caPem.endsWith('\n') ? input.caPem : `${input.caPem}\n`,
    signerName: input.signerName,
    signatureAlgorithm: input.signatureAlgorithm,
    keyAlgorithm: input.keyAlgorithm,
  };
  const doc =
    input.wholeInstallation === false
      ? { certificateManagement }
      : {
          apiVersion: 'operator.tigera.io/v1',
          kind: 'Installation',
          metadata: { name: 'default' },
          spec: { certificateManagement },
        };
  return stringify(doc, { lineWidth: 0 });
}

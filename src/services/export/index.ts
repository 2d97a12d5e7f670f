// Pure builders of what certdesk exports: the TLS Secret, the CA ConfigMap, a client kubeconfig, Calico's block.
export { type CaConfigMapInput, buildCaConfigMap } from './ca-configmap.js';
export { buildCalicoSnippet, type CalicoSnippetInput } from './calico.js';
export {
  buildClientKubeconfig,
  type ClientKubeconfigInput,
  KubeconfigConflictError,
  mergeKubeconfig,
} from './kubeconfig.js';
export { FileExistsError, replaceFileAtomically, writeFileSafely } from './write-file.js';
export {
  buildTlsSecret,
  ExportError,
  firstCertificatePem,
  keyMatchesCertificate,
  type TlsSecretInput,
} from './tls-secret.js';

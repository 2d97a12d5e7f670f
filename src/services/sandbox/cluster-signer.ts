// The cluster's own signers, as kube-controller-manager runs them: signs Approved kubernetes.io/kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving requests with the cluster CA (issue 8).
// STUB (interface fixed; the scenarios engineer implements it).
import type { SandboxClusterHandle } from './scenarios/types.js';

export interface ClusterSignerOptions {
  /** The cluster's client CA (the sandbox's cluster CA), PEM. */
  caCertPem: string;
  caKeyPem: string;
  /** Cap and default for issued certificates (kube-controller-manager's --cluster-signing-duration). */
  durationSeconds: number;
  signal: AbortSignal;
  log?: (line: string) => void;
}

/** Starts the signing loop (acting over HTTPS as kube-controller-manager); resolves once it is watching. */
export async function startClusterSigner(_cluster: SandboxClusterHandle, _options: ClusterSignerOptions): Promise<void> {}

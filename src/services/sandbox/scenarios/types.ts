// What a scenario may use of a simulated cluster (implemented by the sandbox core).
import type { KubeConfig } from '@kubernetes/client-node';

export interface SandboxClusterHandle {
  name: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** A KubeConfig for any identity, with a client certificate minted by the cluster CA (CN = user, O = groups). */
  kubeConfigFor(user: string, groups?: string[]): KubeConfig;
  /** Serve an API group that is absent until a CRD would be installed (e.g. 'operator.tigera.io'). */
  enableApiGroup(group: string): void;
}

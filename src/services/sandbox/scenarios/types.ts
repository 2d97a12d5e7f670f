// What a scenario may use of a cluster: an admin identity and nothing else. Everything a scenario does goes over
// HTTPS through the Kubernetes API, so the same code runs on the sandbox and on any real cluster.
import type { KubeConfig } from '@kubernetes/client-node';

/** Who a component is: its user name, groups and extra, as its real credentials would authenticate it. */
export interface Identity {
  user: string;
  /**
   * Groups besides those the server derives (system:authenticated; system:serviceaccounts[:ns] for a service
   * account). At most one: client-node sends a header once, and Impersonate-Group is read line by line.
   */
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface ScenarioCluster {
  name: string;
  /** The installer's identity: may do everything, impersonation included (system:masters on a kind cluster). */
  admin: KubeConfig;
  /** A KubeConfig that acts as `identity`: the admin's credentials with Impersonate-* headers. */
  as(identity: Identity): KubeConfig;
}

/** The label on everything a scenario creates (value: the scenario's name), by which `scenario run` cleans up. */
export const SCENARIO_LABEL = 'certdesk.dev/scenario';

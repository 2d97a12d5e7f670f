// A kubeconfig for a new client user whose kube-apiserver-client certificate was just issued (the Certificates
// API onboarding notes): the current context's cluster, the issued certificate and the user's key, embedded.
import { stringify } from 'yaml';

export interface ClientKubeconfigInput {
  /** Cluster entry name (as in the admin's kubeconfig). */
  clusterName: string;
  server: string;
  /** The cluster's CA bundle, base64 (certificate-authority-data) — or a file path. */
  certificateAuthorityData?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** User entry name. */
  user: string;
  /** Context name. @default `<user>@<clusterName>` */
  contextName?: string;
  namespace?: string;
  certificatePem: string;
  keyPem: string;
}

export function buildClientKubeconfig(input: ClientKubeconfigInput): string {
  const contextName = input.contextName ?? `${input.user}@${input.clusterName}`;
  const cluster: Record<string, unknown> = { server: input.server };
  if (input.certificateAuthorityData) cluster['certificate-authority-data'] = input.certificateAuthorityData;
  else if (input.certificateAuthority) cluster['certificate-authority'] = input.certificateAuthority;
  if (input.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  if (input.tlsServerName) cluster['tls-server-name'] = input.tlsServerName;
  const context: Record<string, unknown> = { cluster: input.clusterName, user: input.user };
  if (input.namespace) context.namespace = input.namespace;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.clusterName, cluster }],
    users: [
      {
        name: input.user,
        user: {
          'client-certificate-data': Buffer.from(input.certificatePem).toString('base64'),
          'client-key-data': Buffer.from(input.keyPem).toString('base64'),
        },
      },
    ],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
    preferences: {},
  };
  return stringify(doc, { lineWidth: 0 });
}

// A kubeconfig for a new client user whose kube-apiserver-client certificate was just issued (the Certificates
// API onboarding notes): the current context's cluster, the issued certificate and the user's key, embedded.
import { parse, stringify } from 'yaml';

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

type Named = { name?: string; [k: string]: unknown };
interface KubeconfigDoc {
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [k: string]: unknown;
}

/** A merge refused: an entry of that name exists with other content and force was not given. */
export class KubeconfigConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigConflictError';
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merges the entries of `added` into the kubeconfig text `existing` as kubectl's `config set-cluster`,
 * `set-credentials` and `set-context` do: entries of other names are kept as they are, an identical entry is left
 * alone, an entry of the same name with other content is replaced only with `force` (otherwise
 * KubeconfigConflictError). current-context is set only when the file had none. `file` names it in messages.
 */
export function mergeKubeconfig(existing: string, added: string, file: string, force = false): string {
  let doc: KubeconfigDoc | null;
  try {
    doc = (existing.trim() ? parse(existing) : {}) as KubeconfigDoc | null;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new KubeconfigConflictError(
      `${file} is not a kubeconfig (its YAML does not parse: ${why}); choose another --out`,
    );
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new KubeconfigConflictError(`${file} is not a kubeconfig (not a YAML mapping); choose another --out`);
  }
  // Another kind of object (a Pod's manifest, say) is not merged into, as kubectl refuses to load it.
  if (doc.kind !== undefined && doc.kind !== 'Config') {
    throw new KubeconfigConflictError(
      `${file} is not a kubeconfig (it holds a ${String(doc.kind).slice(0, 60)}, not a Config); choose another --out`,
    );
  }
  const add = parse(added) as KubeconfigDoc;
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  for (const [key, word] of [
    ['clusters', 'cluster'],
    ['users', 'user'],
    ['contexts', 'context'],
  ] as const) {
    const list: Named[] = Array.isArray(doc[key]) ? (doc[key] as Named[]) : [];
    for (const entry of add[key] ?? []) {
      const at = list.findIndex((e: Named) => e?.name === entry.name);
      if (at < 0) list.push(entry);
      else if (!same(list[at], entry)) {
        // A cluster entry that reaches the same server with the same CA is the same cluster (the admin's own entry
        // may carry more, e.g. extensions or a proxy): keep it.
        const mine = list[at]?.[word] as Record<string, unknown> | undefined;
        const theirs = entry[word] as Record<string, unknown>;
        const sameCluster =
          word === 'cluster' &&
          mine?.server === theirs.server &&
          mine?.['certificate-authority-data'] === theirs['certificate-authority-data'] &&
          mine?.['certificate-authority'] === theirs['certificate-authority'];
        if (sameCluster) continue;
        if (!force) {
          throw new KubeconfigConflictError(
            `${file} already has a ${word} named "${entry.name}" with other content; pass --force to replace it, or --user NAME for another name`,
          );
        }
        list[at] = entry;
      }
    }
    doc[key] = list;
  }
  if (!doc['current-context']) doc['current-context'] = add['current-context'] ?? '';
  return stringify(doc, { lineWidth: 0 });
}

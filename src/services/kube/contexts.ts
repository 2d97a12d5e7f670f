// Loads kubeconfig as kubectl does (the KUBECONFIG list merged, first definition of a name wins, --kubeconfig,
// current-context by default) and gives each context a KubeConfig of its own, so credentials never cross clusters.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { type Cluster, type Context, KubeConfig, type User } from '@kubernetes/client-node';
import { MiB, readBoundedSync } from '../files/read-bounded.js';
import type { ClusterContext, LoadContextsOptions } from './api-types.js';

/** A kubeconfig problem the person must fix (missing file, unknown context); the message is one sentence. */
export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

function readFile(path: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    // Read bounded (a device or FIFO given as --kubeconfig ends in a sentence), then as loadFromFile does.
    kc.loadFromString(readBoundedSync(path, { what: 'kubeconfig', limit: 16 * MiB }).toString('utf8'));
    kc.makePathsAbsolute(dirname(path));
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new KubeConfigError(
      `Kubeconfig ${path} could not be read (${detail}); fix the file or point to another one.`,
    );
  }
  return kc;
}

function candidateFiles(options: LoadContextsOptions): { files: string[]; explicit: boolean } {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return { files: options.kubeconfig.split(delimiter).filter(Boolean), explicit: true };
  if (env.KUBECONFIG) return { files: env.KUBECONFIG.split(delimiter).filter(Boolean), explicit: false };
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  return { files: [join(home, '.kube', 'config')], explicit: false };
}

/** kubectl's merge: the first file that defines a cluster/user/context name, or current-context, wins. */
export function mergeKubeconfigFiles(files: string[], explicit: boolean): KubeConfig {
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
  let found = 0;
  for (const file of files) {
    if (!existsSync(file)) {
      if (explicit) throw new KubeConfigError(`Kubeconfig ${file} does not exist; check the --kubeconfig path.`);
      continue;
    }
    found++;
    const kc = readFile(file);
    if (!merged.currentContext && kc.currentContext) merged.currentContext = kc.currentContext;
    for (const c of kc.clusters) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of kc.users) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of kc.contexts) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
  }
  if (found === 0) {
    throw new KubeConfigError(
      `No kubeconfig found (looked at ${files.join(', ')}); set KUBECONFIG or pass --kubeconfig, or start one with \`certdesk sandbox\`.`,
    );
  }
  return merged;
}

/** A KubeConfig holding exactly one context (its cluster and user), pinned as current. */
export function pinContext(merged: KubeConfig, contextName: string): ClusterContext {
  const ctx = merged.contexts.find((c) => c.name === contextName);
  if (!ctx) {
    const known = merged.contexts.map((c) => c.name).join(', ') || 'none';
    throw new KubeConfigError(
      `Context "${contextName}" is not in the kubeconfig (known: ${known}); pick one of those.`,
    );
  }
  const cluster: Cluster | undefined = merged.clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) {
    throw new KubeConfigError(
      `Context "${contextName}" names cluster "${ctx.cluster}", which the kubeconfig does not define; add it or fix the context.`,
    );
  }
  if (!cluster.server) {
    throw new KubeConfigError(
      `Cluster "${cluster.name}" has no server address in the kubeconfig; add its https:// URL.`,
    );
  }
  const user: User = merged.users.find((u) => u.name === ctx.user) ?? { name: ctx.user || 'anonymous' };
  const pinnedContext: Context = { ...ctx, user: user.name };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [pinnedContext],
    currentContext: ctx.name,
  });
  return {
    name: ctx.name,
    server: cluster.server.replace(/\/+$/, ''),
    cluster: cluster.name,
    user: user.name,
    ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
    kubeConfig,
  };
}

/**
 * Loads the contexts to work with: `contexts` (in that order, duplicates dropped), or every context with
 * `allContexts`, or the current context. Throws KubeConfigError with one sentence when that is impossible.
 */
export function loadContexts(options: LoadContextsOptions = {}): ClusterContext[] {
  const { files, explicit } = candidateFiles(options);
  const merged = mergeKubeconfigFiles(files, explicit);
  let names: string[];
  if (options.allContexts) {
    names = merged.contexts.map((c) => c.name);
    if (!names.length)
      throw new KubeConfigError('The kubeconfig defines no contexts; add one or point to another file.');
  } else if (options.contexts?.length) {
    names = [...new Set(options.contexts)];
  } else {
    if (!merged.currentContext) {
      throw new KubeConfigError('The kubeconfig has no current-context; pass --context NAME or --all-contexts.');
    }
    names = [merged.currentContext];
  }
  if (!options.allContexts) return names.map((n) => pinContext(merged, n));
  // With --all-contexts a broken entry (no cluster, no server) is skipped with a warning instead of failing the rest.
  const out: ClusterContext[] = [];
  for (const n of names) {
    try {
      out.push(pinContext(merged, n));
    } catch (err) {
      if (!(err instanceof KubeConfigError)) throw err;
      options.onWarning?.(`Skipping context "${n}": ${err.message}`);
    }
  }
  if (!out.length) throw new KubeConfigError('No usable context in the kubeconfig; fix its clusters and contexts.');
  return out;
}

/** The pod's own service account (for the in-cluster controller). */
export function loadInClusterContext(): ClusterContext {
  if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
    throw new KubeConfigError(
      'Not running inside a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset); use a kubeconfig context instead.',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return pinContext(kc, kc.currentContext);
}

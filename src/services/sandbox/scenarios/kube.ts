// Small client-side helpers the scenarios and the cluster signer share: API clients for an identity, a list+watch
// loop that resumes from its resourceVersion (relisting on 410), retries of read-modify-write on 409, and
// abortable delays. Everything goes over HTTPS with @kubernetes/client-node, as a real requester would.
import { setMaxListeners } from 'node:events';
import {
  ApiException,
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type RequestContext,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';

import { type Identity, SCENARIO_LABEL, type ScenarioCluster } from './types.js';

export interface Clients {
  kc: KubeConfig;
  certs: CertificatesV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  rbac: RbacAuthorizationV1Api;
}

export function clientsFor(kc: KubeConfig): Clients {
  return {
    kc,
    certs: kc.makeApiClient(CertificatesV1Api),
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** A service account's identity; the server derives its groups (system:serviceaccounts, …:<namespace>). */
export function serviceAccountIdentity(namespace: string, name: string): Identity {
  return { user: `system:serviceaccount:${namespace}:${name}` };
}

/** A kubelet's identity: system:node:<name> in system:nodes, as its client certificate says. */
export function nodeIdentity(nodeName: string): Identity {
  return { user: `system:node:${nodeName}`, groups: ['system:nodes'] };
}

/** A scenario node's InternalIP: 10.0.0.(10 + n) for a name ending in the number n (`node-1`, `scale-node-3`). */
export function nodeAddress(nodeName: string): string {
  const n = Number(/(\d+)$/.exec(nodeName)?.[1] ?? 0);
  return `10.0.${Math.floor((10 + n) / 250)}.${(10 + n) % 250}`;
}

/** The addresses a scenario node's kubelet reports: InternalIP (`nodeAddress`), ExternalIP in 203.0.113.0/24, Hostname. */
export function nodeAddresses(nodeName: string): { type: string; address: string }[] {
  const internal = nodeAddress(nodeName);
  return [
    { type: 'InternalIP', address: internal },
    { type: 'ExternalIP', address: `203.0.113.${internal.split('.').at(-1)}` },
    { type: 'Hostname', address: nodeName },
  ];
}

/**
 * The kubelet registers its Node (the Node authorizer and NodeRestriction let a node create its own), Ready, with
 * the addresses a kubelet reports (`nodeAddresses`).
 */
export async function registerNode(cluster: ScenarioCluster, nodeName: string, scenario: string): Promise<void> {
  const kubelet = clientsFor(cluster.as(nodeIdentity(nodeName)));
  await createIfAbsent(() =>
    kubelet.core.createNode({
      body: {
        metadata: {
          name: nodeName,
          labels: {
            'kubernetes.io/hostname': nodeName,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            [SCENARIO_LABEL]: scenario,
          },
        },
        spec: {},
        status: {
          addresses: nodeAddresses(nodeName),
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: `kubelet is posting ready status (played by certdesk scenario ${scenario})`,
            },
          ],
          nodeInfo: {
            machineID: '',
            systemUUID: '',
            bootID: '',
            kernelVersion: '6.1.0-certdesk',
            osImage: 'certdesk scenario node',
            containerRuntimeVersion: 'containerd://2.1.0',
            kubeletVersion: 'v1.37.2',
            kubeProxyVersion: '',
            operatingSystem: 'linux',
            architecture: 'amd64',
          },
        },
      },
    }),
  );
}

/** The Impersonate-* headers for an identity (groups the server adds by itself are left out). */
export function impersonationHeaders(identity: Identity): Record<string, string> {
  const headers: Record<string, string> = { 'Impersonate-User': identity.user };
  const groups = (identity.groups ?? []).filter(
    (g) => g !== 'system:authenticated' && !g.startsWith('system:serviceaccounts'),
  );
  if (groups.length > 1) {
    throw new Error(`impersonating ${identity.user}: one group at most (${groups.join(', ')} given)`);
  }
  if (groups[0]) headers['Impersonate-Group'] = groups[0];
  for (const [key, values] of Object.entries(identity.extra ?? {})) {
    if (values.length !== 1) throw new Error(`impersonating ${identity.user}: one value for extra ${key}`);
    headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values[0] ?? '';
  }
  return headers;
}

/** The admin's KubeConfig acting as another identity: every request and watch carries Impersonate-* headers. */
class ImpersonatingKubeConfig extends KubeConfig {
  constructor(
    admin: KubeConfig,
    private readonly headers: Record<string, string>,
  ) {
    super();
    this.loadFromOptions({
      clusters: admin.getClusters(),
      users: admin.getUsers(),
      contexts: admin.getContexts(),
      currentContext: admin.getCurrentContext(),
    });
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    for (const [key, value] of Object.entries(this.headers)) context.setHeaderParam(key, value);
  }

  override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]) {
    const init = await super.applyToFetchOptions(opts);
    const headers = init.headers as unknown as { set(key: string, value: string): void };
    for (const [key, value] of Object.entries(this.headers)) headers.set(key, value);
    return init;
  }
}

/** A ScenarioCluster on any cluster, from an admin KubeConfig allowed to impersonate. */
export function scenarioCluster(name: string, admin: KubeConfig): ScenarioCluster {
  return { name, admin, as: (identity) => new ImpersonatingKubeConfig(admin, impersonationHeaders(identity)) };
}

export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** One line for a log: the server's Status message when there is one, otherwise the error's message. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        message = body.slice(0, 200);
      }
    } else if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
      message = (body as { message: string }).message;
    }
    return `HTTP ${err.code}: ${message ?? 'no message'}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Scenarios hang one abort listener per pod, watch and timer on the shared signal: that many is expected. */
export function allowManyListeners(signal: AbortSignal): void {
  setMaxListeners(0, signal);
}

/** Resolves after `ms`, or early (without error) when the signal aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Creates the object, ignoring 409 AlreadyExists. */
export async function createIfAbsent(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
}

/** Read, change, write; on 409 Conflict read again and retry (up to `attempts` times). */
export async function updateWithRetry<T>(
  read: () => Promise<T>,
  change: (current: T) => T | undefined,
  write: (next: T) => Promise<unknown>,
  attempts = 10,
): Promise<boolean> {
  for (let i = 0; ; i++) {
    const current = await read();
    const next = change(current);
    if (next === undefined) return false;
    try {
      await write(next);
      return true;
    } catch (err) {
      if (statusCode(err) !== 409 || i >= attempts - 1) throw err;
    }
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface KubeObject {
  metadata?: { resourceVersion?: string; name?: string };
}

export interface ListWatchOptions<T extends KubeObject> {
  kc: KubeConfig;
  /** The collection's URL path, e.g. /apis/certificates.k8s.io/v1/certificatesigningrequests. */
  path: string;
  /** Lists the collection (with the same selectors as `query`). */
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** fieldSelector / labelSelector for the watch. */
  query?: Record<string, string>;
  /** Called with every object of the initial list as ADDED (with `initial` true), then every change. */
  onEvent: (type: WatchEventType, obj: T, initial: boolean) => void;
  /** Called before the items of every list (the first and each relist after 410) are delivered. */
  onList?: () => void;
  /**
   * Keep retrying (with backoff) until the first list and watch succeed, instead of rejecting when the server is
   * away or refuses at the start. Resolves once watching, or when the signal aborts.
   */
  persistent?: boolean;
  signal: AbortSignal;
  log?: (line: string) => void;
}

/**
 * A list+watch loop, the way client-go's reflector does it: list, then watch from the list's resourceVersion,
 * resume from the last seen resourceVersion when the stream ends, relist on 410 Expired. Resolves after the
 * first list has been delivered and the watch is open; runs until the signal aborts.
 */
export async function listWatch<T extends KubeObject>(options: ListWatchOptions<T>): Promise<void> {
  const { kc, path, list, onEvent, signal } = options;
  const watch = new Watch(kc);
  let resourceVersion = '';
  let backoff = 200;
  let resolveReady: () => void = () => {};
  let rejectReady: (err: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let firstRound = true;

  const relist = async (): Promise<void> => {
    const result = await list();
    resourceVersion = result.metadata?.resourceVersion ?? '';
    options.onList?.();
    for (const item of result.items) onEvent('ADDED', item, true);
  };

  let stopped = false;
  const watchOnce = (): Promise<'ended' | 'expired' | 'error'> =>
    new Promise((resolve) => {
      let outcome: 'ended' | 'expired' | 'error' = 'ended';
      let controller: AbortController | undefined;
      let failure: unknown;
      const onAbort = (): void => controller?.abort();
      void watch
        .watch(
          path,
          { ...options.query, resourceVersion, allowWatchBookmarks: true },
          (phase: string, obj: unknown) => {
            if (phase === 'ERROR') {
              const code = (obj as { code?: number } | undefined)?.code;
              outcome = code === 410 ? 'expired' : 'error';
              return;
            }
            const object = obj as T;
            const rv = object?.metadata?.resourceVersion;
            if (rv) resourceVersion = rv;
            if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') onEvent(phase, object, false);
          },
          (err: unknown) => {
            signal.removeEventListener('abort', onAbort);
            if (err && !signal.aborted) {
              failure = err;
              outcome = statusCode(err) === 410 ? 'expired' : 'error';
              if (!firstRound) options.log?.(`watch ${path} ended: ${describeError(err)}`);
            }
            resolve(outcome);
          },
        )
        .then((c) => {
          controller = c;
          if (signal.aborted) c.abort();
          else signal.addEventListener('abort', onAbort, { once: true });
          if (firstRound) {
            if (!failure) {
              firstRound = false;
              resolveReady();
            } else if (!options.persistent) {
              firstRound = false;
              stopped = true;
              rejectReady(failure);
            }
          }
        });
    });

  const loop = async (listFirst: boolean): Promise<void> => {
    let needList = listFirst;
    while (!signal.aborted && !stopped) {
      try {
        if (needList) {
          await relist();
          needList = false;
        }
        const outcome = await watchOnce();
        if (signal.aborted || stopped) return;
        if (outcome === 'expired') needList = true;
        if (outcome === 'ended') {
          backoff = 200;
          continue;
        }
      } catch (err) {
        if (signal.aborted) return;
        options.log?.(`list ${path} failed: ${describeError(err)}`);
        needList = true;
      }
      await delay(backoff, signal);
      backoff = Math.min(backoff * 2, 5000);
    }
  };

  if (options.persistent) {
    signal.addEventListener('abort', () => resolveReady(), { once: true });
    void loop(true);
  } else {
    await relist();
    void loop(false);
  }
  await ready;
}

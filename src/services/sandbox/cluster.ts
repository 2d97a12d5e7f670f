// One simulated cluster: its CA, storage and API logic, HTTPS listener, and the identities (kubeconfigs) to reach it.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ApiCore, type ApiResponse, type JsonResponse } from './api.js';
import type { UserInfo } from './authz.js';
import { type ClusterCa, createClusterCa, type IssuedCert, issueCert } from './ca.js';
import { scenarioCluster } from './scenarios/kube.js';
import type { ScenarioCluster } from './scenarios/types.js';
import { Transport } from './server.js';
import type { KObject } from './store.js';

export interface ClusterOptions {
  name: string;
  /** Where kubeconfigPathFor writes its files. */
  dir: string;
  watchHistorySize?: number;
  bookmarkIntervalMs?: number;
  log?: (line: string) => void;
}

export interface KubeconfigIdentity {
  /** Context name. */
  context: string;
  user: string;
  groups: string[];
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export class SandboxCluster {
  readonly name: string;
  readonly api: ApiCore;
  private readonly ca: ClusterCa;
  private readonly transport: Transport;
  private readonly certs = new Map<string, IssuedCert>();
  private boundPort = 0;
  private readonly dir: string;

  constructor(options: ClusterOptions) {
    this.name = options.name;
    this.dir = options.dir;
    this.ca = createClusterCa(options.name);
    const apiOptions: ConstructorParameters<typeof ApiCore>[0] = {
      serverAddress: () => `127.0.0.1:${this.boundPort}`,
    };
    if (options.watchHistorySize !== undefined) apiOptions.watchHistorySize = options.watchHistorySize;
    if (options.bookmarkIntervalMs !== undefined) apiOptions.bookmarkIntervalMs = options.bookmarkIntervalMs;
    if (options.log) apiOptions.log = options.log;
    this.api = new ApiCore(apiOptions);
    const serving = issueCert(this.ca, { commonName: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost', '::1'] });
    const transportOptions: ConstructorParameters<typeof Transport>[1] = {
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      caPem: this.ca.certPem,
    };
    if (options.log) transportOptions.log = options.log;
    this.transport = new Transport(this.api, transportOptions);
  }

  /** The cluster CA certificate (serving and client CA), PEM. */
  get caCertPem(): string {
    return this.ca.certPem;
  }

  /** The cluster CA key, for the in-process cluster signer only. Never log it or send it anywhere. */
  get caKeyPem(): string {
    return this.ca.keyPem;
  }

  get port(): number {
    return this.boundPort;
  }

  get server(): string {
    return `https://127.0.0.1:${this.boundPort}`;
  }

  get contextName(): string {
    return this.name;
  }

  async listen(port = 0): Promise<void> {
    this.boundPort = await this.transport.listen(port);
  }

  /** Closes the listener and drops every open connection and watch; the state is kept. */
  async pause(): Promise<void> {
    await this.transport.close();
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    if (this.transport.listening) return;
    await this.transport.listen(this.boundPort);
  }

  /** The most client connections open at once (the transport's high-water mark). */
  get peakConnections(): number {
    return this.transport.peakConnections;
  }

  get paused(): boolean {
    return !this.transport.listening;
  }

  async stop(): Promise<void> {
    await this.transport.close();
  }

  enableApiGroup(group: string): void {
    this.api.enableApiGroup(group);
  }

  /** Every resourceVersion older than now gets 410 Expired on watch. */
  expireWatchHistory(): void {
    this.api.store.expireHistory();
  }

  /** What scenarios act through: the admin's kubeconfig, and impersonation for every other identity. */
  scenarioCluster(): ScenarioCluster {
    return scenarioCluster(this.name, this.kubeConfigFor('admin', ['system:masters']));
  }

  /** A client certificate for the identity, minted once by the cluster CA (CN = user, O = groups). */
  clientCert(user: string, groups: string[] = []): IssuedCert {
    const key = `${user}\u0000${groups.join('\u0000')}`;
    let cert = this.certs.get(key);
    if (!cert) {
      cert = issueCert(this.ca, { commonName: user, organizations: groups });
      this.certs.set(key, cert);
    }
    return cert;
  }

  kubeConfigFor(user: string, groups: string[] = []): KubeConfig {
    const cert = this.clientCert(user, groups);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: this.name, server: this.server, caData: b64(this.ca.certPem), skipTLSVerify: false }],
      users: [{ name: user, certData: b64(cert.certPem), keyData: b64(cert.keyPem) }],
      contexts: [{ name: this.name, cluster: this.name, user }],
      currentContext: this.name,
    });
    return kc;
  }

  /** The kubeconfig pieces (cluster, users, contexts) for a kubeconfig file. */
  kubeconfigParts(identities: KubeconfigIdentity[]): { cluster: unknown; users: unknown[]; contexts: unknown[] } {
    return {
      cluster: {
        name: this.name,
        cluster: {
          server: this.server,
          'certificate-authority-data': b64(this.ca.certPem),
          // What `certdesk scenario run` checks before writing (as minikube marks its clusters).
          extensions: [{ name: 'certdesk.dev/created-by', extension: { by: 'certdesk sandbox' } }],
        },
      },
      users: identities.map((id) => {
        const cert = this.clientCert(id.user, id.groups);
        return {
          name: `${this.name}-${id.user}`,
          user: { 'client-certificate-data': b64(cert.certPem), 'client-key-data': b64(cert.keyPem) },
        };
      }),
      contexts: identities.map((id) => ({
        name: id.context,
        context: { cluster: this.name, user: `${this.name}-${id.user}` },
      })),
    };
  }

  /** Writes a kubeconfig file (0600) for one identity on this cluster and returns its path. */
  writeKubeconfig(path: string, user: string, groups: string[] = []): string {
    const parts = this.kubeconfigParts([{ context: this.name, user, groups }]);
    writeKubeconfigFile(path, [parts], this.name);
    return path;
  }

  /** Writes (once) a kubeconfig file for that identity on this cluster, and returns its path. */
  kubeconfigPathFor(user: string, groups: string[] = []): string {
    const tag = createHash('sha256')
      .update(`${user}\u0000${groups.join('\u0000')}`)
      .digest('hex')
      .slice(0, 10);
    const safe = user.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
    const path = join(this.dir, `${this.name}-${safe}-${tag}.kubeconfig`);
    if (!existsSync(path)) this.writeKubeconfig(path, user, groups);
    return path;
  }

  /** In-process request as `user` (works while paused): e.g. createAs(user, '/apis/…/certificatesigningrequests', csr). */
  async createAs(user: UserInfo, resourcePath: string, object: unknown): Promise<KObject> {
    const response = await this.requestAs(user, 'POST', resourcePath, object);
    const body = JSON.parse(response.body) as KObject & { kind?: string; message?: string };
    if (response.code >= 300) throw new Error(body.message ?? `request failed with ${response.code}`);
    return body;
  }

  /**
   * In-process request through the whole pipeline (authorization, validation, admission, storage); works while
   * paused. Returns the status code and the JSON body text; watches need HTTP.
   */
  async requestAs(user: UserInfo, method: string, pathWithQuery: string, body?: unknown): Promise<JsonResponse> {
    const response = await this.request(user, method, pathWithQuery, body);
    if (response.kind !== 'json') throw new Error('Watches are not available in-process; watch over HTTPS instead.');
    return response;
  }

  private request(user: UserInfo, method: string, pathWithQuery: string, body?: unknown): Promise<ApiResponse> {
    const url = new URL(pathWithQuery, 'https://sandbox');
    const req: Parameters<ApiCore['handle']>[0] = {
      user: { ...user, groups: [...new Set([...user.groups, 'system:authenticated'])] },
      method,
      path: url.pathname,
      query: url.searchParams,
      contentType: 'application/json',
      accept: 'application/json',
    };
    if (body !== undefined) req.body = Buffer.from(JSON.stringify(body));
    return this.api.handle(req);
  }
}

export function writeKubeconfigFile(
  path: string,
  parts: { cluster: unknown; users: unknown[]; contexts: unknown[] }[],
  currentContext: string,
): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': currentContext,
    clusters: parts.map((p) => p.cluster),
    users: parts.flatMap((p) => p.users),
    contexts: parts.flatMap((p) => p.contexts),
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  chmodSync(path, 0o600);
}

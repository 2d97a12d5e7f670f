// The API logic of one simulated cluster, independent of HTTP: routing of a request path to a resource, authorization,
// the create/update/patch/delete pipelines (strategy → validation → admission → storage), lists with selectors and
// pagination, Table output, watches, and SelfSubjectAccessReview. The HTTP transport lives in server.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import {
  type AccessReviewSpec,
  accessReviewStatus,
  type Authorizer,
  createRbacAuthorizer,
  forbiddenDetail,
  nameFromFieldSelector,
  type RbacSource,
  type RequestAttributes,
  rulesForUser,
  type UserInfo,
} from './authz.js';
import { BytesError } from './csr.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, pathSegmentNameErrors } from './csr.js';
import {
  apiGroupDoc,
  apiGroupListDoc,
  apiResourceListDoc,
  apiVersionsDoc,
  isKnownGroup,
  KUBE_VERSION,
  openApiGroupVersionDoc,
  openApiRootDoc,
  versionDoc,
} from './discovery.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  type FieldError,
  field,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  notFoundPath,
  unsupportedMediaType,
} from './errors.js';
import { goJsonSyntaxError } from './go-json.js';
import { type Admission, admitNodeRequest, authorizeNode, nodeIdentity, type ObjectSource } from './node-authz.js';
import { admitPcrCreate } from './pcr.js';
import { decodeProtobufObject, ProtoError } from './proto.js';
import { applyPatch, PatchError, patchTypeFromContentType, strategicMergeKeysFor } from './patch.js';
import { apiVersionOf, findResource, RESOURCES, type ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { canonical, type Entry, type KObject, Store, type StoreEvent } from './store.js';
import { asRecord, type Json, type StrategyContext } from './strategy.js';
import { type IncludeObject, tableJson, tableRow } from './table.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ApiRequest {
  user: UserInfo;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  contentType: string;
  accept: string;
  body?: Buffer;
}

export interface JsonResponse {
  kind: 'json';
  code: number;
  body: string;
  contentType?: string;
}

export interface WatchSink {
  /** One JSON line (without the newline). */
  send(line: string): void;
  end(): void;
  /** Called by the watch when the client goes away. */
  onClose(cb: () => void): void;
}

export interface WatchResponse {
  kind: 'watch';
  start(sink: WatchSink): void;
}

export type ApiResponse = JsonResponse | WatchResponse;

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: string;
}

export const PATCH_MERGE_KEYS: Readonly<Record<string, string>> = {
  'status.conditions': 'type',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'status.containerStatuses': 'name',
  'status.initContainerStatuses': 'name',
};

const ACCEPTED_BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
/** Kinds whose names need only be valid path segments (ValidateRBACName). */
const PATH_SEGMENT_NAMED = new Set(['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings']);
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A list item as a real server encodes built-in kinds: without kind and apiVersion (custom resources keep them). */
function listItemJson(def: ResourceDef, json: string): string {
  if (def.optional) return json;
  const head = `{"kind":"${def.kind}","apiVersion":"${apiVersionOf(def)}",`;
  return json.startsWith(head) ? `{${json.slice(head.length)}` : json;
}

/** A stored object as the requested version encodes it (resources served at several versions convert). */
function wire(def: ResourceDef, e: { obj: KObject; json: string }): string {
  return def.atVersion ? JSON.stringify(canonical(def.atVersion(e.obj, def.version))) : e.json;
}

function json(code: number, value: unknown): JsonResponse {
  return { kind: 'json', code, body: JSON.stringify(value) };
}

function raw(code: number, body: string): JsonResponse {
  return { kind: 'json', code, body };
}

/** The rest of a bookmark's object: the Go zero value of the kind as a real server encodes it (checked: CSR). */
const BOOKMARK_ZERO: Record<string, Json> = {
  CertificateSigningRequest: { spec: { request: null, signerName: '' }, status: {} },
};

function bookmarkZero(def: ResourceDef): Json | undefined {
  if (!def.atVersion) return BOOKMARK_ZERO[def.kind];
  const { kind: _k, apiVersion: _a, metadata: _m, ...rest } = def.atVersion({ metadata: {} }, def.version);
  return rest;
}

/** apimachinery's ValidateListOptions: resourceVersionMatch and sendInitialEvents combinations (422 ListOptions). */
function checkListOptions(req: ApiRequest, watch: boolean): void {
  const rv = req.query.get('resourceVersion');
  const match = req.query.get('resourceVersionMatch') ?? '';
  const initial = req.query.get('sendInitialEvents');
  const cont = req.query.get('continue');
  const errs: FieldError[] = [];
  const forbid = (f: string, why: string) => errs.push(field.forbidden(f, why));
  if (watch) {
    if (initial !== null && match !== 'NotOlderThan')
      forbid('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    if (match) {
      if (initial === null)
        forbid(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        );
      if (match !== 'NotOlderThan') errs.push(field.notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (cont) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    }
  } else {
    if (match) {
      if (!rv) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (cont) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
      if (match === 'Exact' && rv === '0')
        forbid('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
      else if (match !== 'Exact' && match !== 'NotOlderThan')
        errs.push(field.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    }
    if (initial !== null) forbid('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  }
  if (errs.length) throw invalid('ListOptions', 'meta.k8s.io', '', errs);
}

/**
 * /openapi/v2 without definitions: kubectl ≤ 1.26 fetches it (as protobuf) to validate `create -f`/`apply -f` and skips
 * kinds it does not describe; a 404 there made kubectl 1.20's `create -f` fail ("the server could not find the
 * requested resource"). The protobuf is gnostic's openapi_v2.Document {swagger = 1, info = 2 {title = 1, version = 2}},
 * every byte below 0x80.
 */
function openApiV2(accept: string): JsonResponse {
  const version = `v${KUBE_VERSION.major}.${KUBE_VERSION.minor}`;
  if (/protobuf/.test(accept)) {
    const field = (n: number, text: string) => `${String.fromCharCode((n << 3) | 2, text.length)}${text}`;
    const body = field(1, '2.0') + field(2, field(1, 'Kubernetes') + field(2, version));
    return { kind: 'json', code: 200, body, contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' };
  }
  return json(200, { swagger: '2.0', info: { title: 'Kubernetes', version }, paths: {}, definitions: {} });
}

/** A group nobody serves: the real server's mux answers Go's plain-text 404, not a Status. */
const PAGE_NOT_FOUND: JsonResponse = {
  kind: 'json',
  code: 404,
  body: '404 page not found\n',
  contentType: 'text/plain; charset=utf-8',
};

export function errorResponse(err: ApiError): JsonResponse {
  return json(err.code, err.toStatus());
}

function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSuffix(): string {
  const bytes = randomBytes(5);
  return Array.from(bytes, (b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join('');
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** `?dryRun=All`: run every check, store nothing. */
/** The write options' fieldValidation value (unknown fields themselves are not detected: no schemas here). */
function checkFieldValidation(req: ApiRequest, verb: 'create' | 'update' | 'patch'): void {
  const v = req.query.get('fieldValidation');
  if (v === null || ['', 'Ignore', 'Strict', 'Warn'].includes(v)) return;
  const kind = verb === 'create' ? 'CreateOptions' : verb === 'update' ? 'UpdateOptions' : 'PatchOptions';
  throw invalid(kind, 'meta.k8s.io', '', [field.notSupported('fieldValidation', v, ['', 'Ignore', 'Strict', 'Warn'])]);
}

function isDryRun(req: ApiRequest): boolean {
  return req.query.getAll('dryRun').includes('All');
}

function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof v.rv !== 'number' || typeof v.start !== 'string') throw new Error('bad');
    return { rv: v.rv, start: v.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

export interface ApiOptions {
  serverAddress: () => string;
  watchHistorySize?: number;
  bookmarkIntervalMs?: number;
  log?: (line: string) => void;
}

/** What a beforeServe hook sees of a resource request. */
export interface ServedRequest {
  method: string;
  resource: string;
  name?: string;
  subresource?: string;
}

export class ApiCore {
  readonly store: Store;
  readonly authz: Authorizer;
  private readonly rbac: RbacSource;
  private readonly enabledGroups = new Set<string>();
  private readonly watchers = new Set<() => void>();
  /**
   * Test hooks, run in order before a resource request is served (after authorization), e.g. to delete and
   * re-create an object between a client's check and its write. A hook that resolves to true is removed.
   */
  readonly beforeServe: Array<(request: ServedRequest) => unknown> = [];
  /** What the authorizer and admission plugins read: the stored objects of a resource. */
  readonly objects: ObjectSource = (resource, namespace) => this.store.list(resource, namespace).map((e) => e.obj);

  constructor(private readonly options: ApiOptions) {
    this.store = new Store(options.watchHistorySize ?? 1000);
    this.rbac = {
      list: (resource, namespace) => this.store.list(resource, namespace).map((e) => e.obj),
    };
    this.authz = this.nodeAndRbacAuthorizer();
  }

  /**
   * `--authorization-mode=Node,RBAC` behind the privileged-group authorizer, as the union authorizer combines them:
   * the first allow wins; a refusal carries each authorizer's reason as `<name>: <reason>`, one per line.
   */
  private nodeAndRbacAuthorizer(): Authorizer {
    const rbac = createRbacAuthorizer(this.rbac);
    const objects = this.objects;
    return {
      authorize: (a) => {
        const node = a.user.groups.includes('system:masters') ? undefined : authorizeNode(a, objects);
        if (node?.allowed) return node;
        const d = rbac.authorize(a);
        if (d.allowed || !node?.reason) return d;
        return {
          allowed: false,
          reason: [`node: ${node.reason}`, ...(d.reason ? [`rbac: ${d.reason}`] : [])].join('\n'),
        };
      },
      ...(rbac.roleRules ? { roleRules: rbac.roleRules } : {}),
    };
  }

  /** NodeRestriction (a mutating admission plugin: it runs before the strategy and validation). */
  private admitNode(req: ApiRequest, a: Admission): void {
    admitNodeRequest(req.user, a, (node, pcr) => admitPcrCreate(node, pcr, this.objects, this.authz, req.user));
  }

  enableApiGroup(group: string): void {
    this.enabledGroups.add(group);
  }

  /**
   * `kubectl logs`: text/plain, `tailLines` honoured, kube-apiserver's errors. The sandbox runs no containers; what
   * it can tell truthfully is a Calico key-cert-provisioner's part (its container name ends so): the CSR its pod
   * asked for (named `<ns>:<pod>:…` or carrying the pod's name in spec.extra), when, and what became of it. Other
   * containers have an empty log.
   */
  private podLog(req: ApiRequest, route: Route): ApiResponse {
    const entry = this.store.get('pods', route.namespace ?? '', route.name ?? '');
    if (!entry) throw notFound('pods', '', route.name ?? '');
    const spec = asRecord(entry.obj.spec) ?? {};
    const names = (key: string) =>
      ((spec[key] as Array<{ name?: string }> | undefined) ?? []).map((c) => c.name ?? '').filter(Boolean);
    const containers = names('containers');
    const inits = names('initContainers');
    let container = req.query.get('container') ?? '';
    if (!container) {
      if (containers.length !== 1) {
        throw badRequest(
          `a container name must be specified for pod ${route.name}, choose one of: [${containers.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
        );
      }
      container = containers[0]!;
    }
    if (!containers.includes(container) && !inits.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${route.name}`);
    }
    let lines = container.endsWith('key-cert-provisioner')
      ? this.provisionerLog(route.namespace ?? '', route.name ?? '')
      : [];
    const tail = Number(req.query.get('tailLines') ?? '');
    if (req.query.has('tailLines') && Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    return { kind: 'json', code: 200, body: lines.map((l) => `${l}\n`).join(''), contentType: 'text/plain' };
  }

  private provisionerLog(namespace: string, pod: string): string[] {
    const line = (at: unknown, msg: string) =>
      `${typeof at === 'string' ? at : new Date().toISOString()} level=info msg=${JSON.stringify(msg)}`;
    const csrs = this.store
      .list('certificatesigningrequests')
      .map((e) => e.obj)
      .filter((o) => {
        const extra = (asRecord(o.spec)?.extra ?? {}) as Record<string, string[] | undefined>;
        return (
          (o.metadata.name ?? '').startsWith(`${namespace}:${pod}:`) ||
          extra['authentication.kubernetes.io/pod-name']?.[0] === pod
        );
      })
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    const out: string[] = [];
    for (const csr of csrs) {
      const name = csr.metadata.name ?? '';
      const created = csr.metadata.creationTimestamp;
      out.push(line(created, `created CSR ${name} for signer ${String(asRecord(csr.spec)?.signerName ?? '')}`));
      out.push(line(created, 'waiting for the CSR to be approved and signed'));
      const status = asRecord(csr.status) ?? {};
      const conditions = (status.conditions ?? []) as Array<Record<string, unknown>>;
      for (const c of conditions) {
        const at = c.lastUpdateTime ?? c.lastTransitionTime;
        if (c.type === 'Approved') out.push(line(at, `CSR ${name} approved`));
        else
          out.push(
            line(
              at,
              `CSR ${name} ${String(c.type).toLowerCase()}: ${String(c.reason ?? '')} ${String(c.message ?? '')}`.trim(),
            ),
          );
      }
      if (status.certificate) out.push(line(undefined, 'certificate issued; writing it to the shared volume'));
    }
    return out;
  }

  /** An optional group is served once enabled or once a CustomResourceDefinition of that group is stored. */
  groupEnabled(group: string): boolean {
    const optional = RESOURCES.some((r) => r.group === group && r.optional);
    if (!optional || this.enabledGroups.has(group)) return true;
    return this.store
      .list('customresourcedefinitions')
      .some((e) => (e.obj.spec as { group?: unknown } | undefined)?.group === group);
  }

  /** Ends every open watch (pause / stop). */
  closeWatches(): void {
    for (const close of [...this.watchers]) close();
  }

  /** Inserts an object directly (bootstrap, scale preload); no validation or authorization. */
  insert(resource: string, obj: KObject): Entry {
    const def = RESOURCES.find((r) => r.resource === resource);
    if (!def) throw new Error(`unknown resource ${resource}`);
    this.fillNewMeta(def, obj, true);
    return this.store.put(resource, obj, 'ADDED');
  }

  /** FillObjectMetaSystemFields: uid and creationTimestamp are the server's (a preload may keep its own time). */
  fillNewMeta(def: ResourceDef, obj: KObject, keepCreationTimestamp = false): void {
    obj.apiVersion = def.storageVersion ? `${def.group}/${def.storageVersion}` : apiVersionOf(def);
    obj.kind = def.kind;
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    meta.uid = randomUUID();
    meta.creationTimestamp = (keepCreationTimestamp && meta.creationTimestamp) || nowTimestamp();
    if (!def.namespaced) delete meta.namespace;
    delete meta.deletionTimestamp;
    delete meta.managedFields;
  }

  // ------------------------------------------------------------------------------------------- dispatch
  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.dispatch(req);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      this.options.log?.(`internal error: ${err instanceof Error ? err.message : String(err)}`);
      return errorResponse(
        new ApiError(
          500,
          'InternalError',
          `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
          {},
        ),
      );
    }
  }

  private authorize(attrs: RequestAttributes, resource?: string, group = '', name?: string): void {
    const decision = this.authz.authorize(attrs);
    if (!decision.allowed) {
      // The Node authorizer's reason is part of the message (responsewriters.ForbiddenStatusError).
      const why = nodeIdentity(attrs.user) !== undefined && decision.reason ? `: ${decision.reason}` : '';
      throw forbidden(resource, group, name, `${forbiddenDetail(attrs)}${why}`);
    }
  }

  private nonResource(req: ApiRequest, verb: string): void {
    this.authorize({ user: req.user, verb, resourceRequest: false, apiGroup: '', path: req.path });
  }

  private async dispatch(req: ApiRequest): Promise<ApiResponse> {
    let parts: string[];
    try {
      parts = req.path
        .split('/')
        .filter((p) => p.length > 0)
        .map(decodeURIComponent);
    } catch {
      throw badRequest(`invalid URL escape in ${JSON.stringify(req.path)}`);
    }
    const method = req.method.toUpperCase();
    const first = parts[0];
    if (first !== 'api' && first !== 'apis') return this.nonResourcePath(req, parts, method);
    let group: string;
    let version: string | undefined;
    let rest: string[];
    if (first === 'api') {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
      if (!version) {
        this.nonResource(req, 'get');
        return json(200, apiVersionsDoc(this.options.serverAddress()));
      }
      if (version !== 'v1') {
        this.nonResource(req, 'get');
        throw notFoundPath();
      }
    } else {
      group = parts[1] ?? '';
      version = parts[2];
      rest = parts.slice(3);
      if (!group) {
        this.nonResource(req, 'get');
        return json(
          200,
          apiGroupListDoc((g) => this.groupEnabled(g)),
        );
      }
      if (!version) {
        this.nonResource(req, 'get');
        if (!isKnownGroup(group) || !this.groupEnabled(group)) return PAGE_NOT_FOUND;
        return json(200, apiGroupDoc(group));
      }
    }
    if (rest.length === 0) {
      this.nonResource(req, 'get');
      if (group && (!isKnownGroup(group) || !this.groupEnabled(group))) return PAGE_NOT_FOUND;
      if (!RESOURCES.some((r) => r.group === group && r.version === version)) throw notFoundPath();
      return json(200, apiResourceListDoc(group, version));
    }
    let watchPrefix = false;
    if (rest[0] === 'watch') {
      watchPrefix = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && ['status', 'finalize'].includes(rest[2] ?? ''))
    ) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource = '', name, subresource] = rest;
    const isWatch = watchPrefix || req.query.get('watch') === 'true' || req.query.get('watch') === '1';
    let verb: string;
    switch (method) {
      case 'GET':
        // As the apiserver's RequestInfoFactory: the legacy /watch/ prefix is a watch even with a name.
        verb = watchPrefix ? 'watch' : name ? 'get' : isWatch ? 'watch' : 'list';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name ? 'delete' : 'deletecollection';
        break;
      default:
        verb = method.toLowerCase();
    }
    const attrs: RequestAttributes = {
      user: req.user,
      verb,
      resourceRequest: true,
      apiGroup: group,
      resource,
      path: req.path,
    };
    if (subresource) attrs.subresource = subresource;
    if (namespace !== undefined) attrs.namespace = namespace;
    if (name) attrs.name = name;
    else if (verb === 'list' || verb === 'watch') {
      // A list or watch of one object by field selector carries its name, so resourceNames rules apply.
      const byName = nameFromFieldSelector(req.query.get('fieldSelector') ?? '');
      if (byName) attrs.name = byName;
      const selector = req.query.get('fieldSelector');
      if (selector) attrs.fieldSelector = selector;
    }
    this.authorize(attrs, resource, group, name);

    if (group && (!isKnownGroup(group) || !this.groupEnabled(group))) return PAGE_NOT_FOUND;
    const def = findResource(group, version, resource);
    if (!def || !this.groupEnabled(group) || rest.length > 3) throw notFoundPath();
    if (subresource && !(subresource in def.subresources)) throw notFoundPath();
    if (!def.namespaced && namespace !== undefined) throw notFoundPath();
    const route: Route = { def, verb };
    if (namespace !== undefined) route.namespace = namespace;
    if (name) route.name = name;
    if (subresource) route.subresource = subresource;

    const allowed = subresource ? (def.subresources[subresource] ?? []) : def.verbs;
    if (!allowed.includes(verb)) throw methodNotAllowed();
    if (def.namespaced && namespace === undefined && !['list', 'watch'].includes(verb)) throw methodNotAllowed();
    if (name && method === 'POST') throw methodNotAllowed();
    if (!name && (method === 'PUT' || method === 'PATCH')) throw methodNotAllowed();
    if (isWatch && name) return this.watch(req, { ...route, verb: 'watch' }, name);
    for (const hook of [...this.beforeServe]) {
      const served: ServedRequest = { method, resource, ...(name ? { name } : {}) };
      if (subresource) served.subresource = subresource;
      if ((await hook(served)) === true) this.beforeServe.splice(this.beforeServe.indexOf(hook), 1);
    }

    if (verb === 'create' || verb === 'update' || verb === 'patch') checkFieldValidation(req, verb);
    switch (verb) {
      case 'get':
        return this.get(req, route);
      case 'list':
        return this.list(req, route);
      case 'watch':
        return this.watch(req, route);
      case 'create':
        return this.create(req, route);
      case 'update':
        return this.update(req, route, this.decodeBody(req, route.def.kind), true);
      case 'patch':
        return this.patch(req, route);
      case 'delete':
        return this.delete(req, route);
      case 'deletecollection':
        return this.deleteCollection(req, route);
      default:
        throw methodNotAllowed();
    }
  }

  private nonResourcePath(req: ApiRequest, parts: string[], method: string): ApiResponse {
    const path = `/${parts.join('/')}`;
    this.nonResource(req, method === 'GET' ? 'get' : method.toLowerCase());
    if (method !== 'GET') throw methodNotAllowed();
    if (path === '/version') return json(200, versionDoc());
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      return { kind: 'json', code: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' };
    }
    if (path === '/openapi/v2') return openApiV2(req.accept);
    if (path === '/openapi/v3')
      return json(
        200,
        openApiRootDoc((g) => this.groupEnabled(g)),
      );
    const gv = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (gv) {
      const group = gv[2] ?? '';
      const version = gv[1] ?? gv[3] ?? '';
      const doc = this.groupEnabled(group) ? openApiGroupVersionDoc(group, version) : undefined;
      if (doc) return json(200, doc);
    }
    throw notFoundPath();
  }

  // ------------------------------------------------------------------------------------------- body
  decodeBody(req: ApiRequest, kind?: string): KObject {
    const ct = (req.contentType.split(';')[0] ?? '').trim().toLowerCase();
    const text = (req.body ?? Buffer.alloc(0)).toString('utf8');
    // The apiserver's transformDecodeError: the expected kind and the first 30 bytes of the body.
    const unrecognized = (why: string) => {
      const data = req.body ?? Buffer.alloc(0);
      const cut = data.subarray(0, 30);
      const more = data.length > 30 ? ' ...' : '';
      const summary =
        data.length === 0
          ? '<empty>'
          : data[0] === 0x7b
            ? `${cut.toString('utf8')}${more}`
            : `${cut.toString('hex')}${more}`;
      return badRequest(
        kind
          ? `the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: ${why} (${summary})`
          : `couldn't get version/kind; json parse error: ${why}`,
      );
    };
    let value: unknown;
    if (ct === '' || ct === 'application/json' || ct === '*/*') {
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw unrecognized(goJsonSyntaxError(text) ?? errText(err));
      }
    } else if (ct === 'application/yaml' || ct === 'application/x-yaml') {
      try {
        value = parseYaml(text);
      } catch (err) {
        throw badRequest(
          `error converting YAML to JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      }
    } else if (ct === 'application/vnd.kubernetes.protobuf') {
      try {
        value = decodeProtobufObject(req.body ?? Buffer.alloc(0));
      } catch (err) {
        if (err instanceof ProtoError)
          throw unsupportedMediaType(['application/json', 'application/yaml'], err.message);
        throw err;
      }
    } else {
      throw unsupportedMediaType(ACCEPTED_BODY_TYPES);
    }
    const obj = asRecord(value);
    if (!obj)
      throw unrecognized(
        `json: cannot unmarshal ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'bool'} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
      );
    const meta = asRecord(obj.metadata);
    if (obj.metadata !== undefined && !meta) throw badRequest('metadata must be an object');
    return { ...obj, metadata: { ...(meta ?? {}) } } as KObject;
  }

  private checkKind(def: ResourceDef, obj: KObject, expectKind = def.kind): void {
    const apiVersion = apiVersionOf(def);
    // The scheme's answer when the body names another kind or version (transformDecodeError with a GVK).
    const sentVersion = String(obj.apiVersion ?? '');
    const sentKind = String(obj.kind ?? expectKind);
    if ((obj.apiVersion !== undefined && sentVersion !== apiVersion) || sentKind !== expectKind) {
      const version = sentVersion.includes('/') ? sentVersion.slice(sentVersion.indexOf('/') + 1) : sentVersion;
      throw badRequest(
        `${sentKind} in version ${JSON.stringify(version)} cannot be handled as a ${expectKind}: no kind ${JSON.stringify(sentKind)} is registered for version ${JSON.stringify(sentVersion || apiVersion)} in scheme "pkg/runtime/scheme.go:111"`,
      );
    }
  }

  private ctx(req: ApiRequest): StrategyContext {
    return { user: req.user, authz: this.authz };
  }

  // ------------------------------------------------------------------------------------------- read
  private get(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    if (def.resource === 'pods' && route.subresource === 'log') return this.podLog(req, route);
    const entry = this.store.get(def.resource, route.namespace ?? '', route.name ?? '');
    if (!entry) throw notFound(def.resource, def.group, route.name ?? '');
    if (wantsTable(req.accept)) {
      const include = (req.query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      const row = tableRow(def, entry.obj, wire(def, entry), include, Date.now());
      return raw(200, tableJson(def, [row], { resourceVersion: String(entry.rv) }));
    }
    return raw(200, wire(def, entry));
  }

  private matcher(req: ApiRequest, def: ResourceDef): (obj: KObject) => boolean {
    const labels = parseLabelSelector(req.query.get('labelSelector'));
    const fields = parseFieldSelector(req.query.get('fieldSelector'), def.fieldLabels);
    const hasFields = !!req.query.get('fieldSelector');
    const fieldsOf =
      def.strategy.fields ??
      ((o: KObject) => ({ 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '' }));
    return (obj) => labels(obj.metadata.labels ?? {}) && (!hasFields || fields(fieldsOf(obj)));
  }

  private list(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    checkListOptions(req, false);
    const matches = this.matcher(req, def);
    const selectors = !!(req.query.get('labelSelector') || req.query.get('fieldSelector'));
    const limitParam = Number(req.query.get('limit') ?? '0');
    const limit = Number.isFinite(limitParam) && limitParam > 0 ? Math.floor(limitParam) : 0;
    const cont = req.query.get('continue');
    let rv = this.store.resourceVersion;
    let all = this.store.list(def.resource, route.namespace);
    if (cont) {
      const token = decodeContinue(cont);
      if (token.rv < this.store.compactedRv) {
        const fresh = encodeContinue({ rv: this.store.resourceVersion, start: token.start });
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          undefined,
          { continue: fresh },
        );
      }
      rv = token.rv;
      all = all.filter((e) => `${e.namespace}/${e.name}` > token.start);
    }
    const items: Entry[] = [];
    let remaining = 0;
    let next: string | undefined;
    for (let i = 0; i < all.length; i++) {
      const e = all[i] as Entry;
      if (!matches(e.obj)) continue;
      if (limit && items.length >= limit) {
        next = encodeContinue({ rv, start: `${items[items.length - 1]?.namespace}/${items[items.length - 1]?.name}` });
        if (!selectors) remaining = all.length - i;
        break;
      }
      items.push(e);
    }
    const meta: Json = { resourceVersion: String(rv) };
    if (next) meta.continue = next;
    if (next && !selectors && remaining > 0) meta.remainingItemCount = remaining;
    if (wantsTable(req.accept)) {
      const include = (req.query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      const now = Date.now();
      return raw(
        200,
        tableJson(
          def,
          items.map((e) => tableRow(def, e.obj, wire(def, e), include, now)),
          meta,
        ),
      );
    }
    const body = `{"kind":"${def.kind}List","apiVersion":"${apiVersionOf(def)}","metadata":${JSON.stringify(meta)},"items":[${items.map((e) => listItemJson(def, wire(def, e))).join(',')}]}`;
    return raw(200, body);
  }

  // ------------------------------------------------------------------------------------------- watch
  private watch(req: ApiRequest, route: Route, name?: string): WatchResponse {
    const { def } = route;
    checkListOptions(req, true);
    if (req.query.get('continue')) throw badRequest('continue is not supported for watch');
    const baseMatch = this.matcher(req, def);
    const ns = route.namespace;
    const matches = (e: Entry): boolean =>
      (ns === undefined || e.namespace === ns) && (name === undefined || e.name === name) && baseMatch(e.obj);
    const rvParam = req.query.get('resourceVersion');
    let fromRv: number | undefined;
    if (rvParam && rvParam !== '0') {
      fromRv = Number(rvParam);
      if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
    }
    const bookmarks = req.query.get('allowWatchBookmarks') === 'true';
    const sendInitialEvents = req.query.get('sendInitialEvents') === 'true';
    const asTable = wantsTable(req.accept);
    const include = (req.query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
    const timeoutParam = Number(req.query.get('timeoutSeconds') ?? '');
    const timeoutMs =
      Number.isFinite(timeoutParam) && timeoutParam > 0 ? timeoutParam * 1000 : (1800 + Math.random() * 1800) * 1000;
    const bookmarkMs = this.options.bookmarkIntervalMs ?? 1000;
    const apiVersion = apiVersionOf(def);
    let headersSent = false;
    const encode = (type: string, e: Entry): string => {
      if (asTable) {
        const table = tableJson(
          def,
          [tableRow(def, e.obj, wire(def, e), include, Date.now())],
          { resourceVersion: String(e.rv) },
          headersSent,
        );
        headersSent = true;
        return `{"type":"${type}","object":${table}}`;
      }
      return `{"type":"${type}","object":${wire(def, e)}}`;
    };
    const bookmark = (annotations?: Record<string, string>): string => {
      const meta: Json = { resourceVersion: String(this.store.resourceVersion) };
      if (annotations) meta.annotations = annotations;
      return JSON.stringify({
        type: 'BOOKMARK',
        object: { kind: def.kind, apiVersion, metadata: meta, ...bookmarkZero(def) },
      });
    };

    return {
      kind: 'watch',
      start: (sink) => {
        let closed = false;
        const timers: NodeJS.Timeout[] = [];
        const deliver = (ev: StoreEvent): void => {
          if (closed) return;
          const now = matches(ev.entry);
          if (ev.type === 'MODIFIED' && ev.prev) {
            const before = matches(ev.prev);
            if (before && now) sink.send(encode('MODIFIED', ev.entry));
            else if (before && !now) sink.send(encode('DELETED', ev.entry));
            else if (!before && now) sink.send(encode('ADDED', ev.entry));
            return;
          }
          if (now) sink.send(encode(ev.type, ev.entry));
        };
        // sendInitialEvents=true (the watch-list protocol) starts with the current state whatever the resourceVersion.
        const initial = fromRv === undefined || sendInitialEvents;
        const sub = this.store.watch(def.resource, initial ? undefined : fromRv, deliver);
        if ('expired' in sub) {
          const err = expired(`too old resource version: ${fromRv} (${sub.expired})`);
          sink.send(JSON.stringify({ type: 'ERROR', object: err.toStatus() }));
          sink.end();
          return;
        }
        const close = (): void => {
          if (closed) return;
          closed = true;
          sub.cancel();
          for (const t of timers) clearTimeout(t);
          this.watchers.delete(close);
          sink.end();
        };
        this.watchers.add(close);
        sink.onClose(() => {
          closed = true;
          sub.cancel();
          for (const t of timers) clearTimeout(t);
          this.watchers.delete(close);
        });
        if (initial) {
          for (const e of this.store.list(def.resource, ns)) if (matches(e)) sink.send(encode('ADDED', e));
          if (bookmarks && sendInitialEvents) sink.send(bookmark({ 'k8s.io/initial-events-end': 'true' }));
        } else {
          for (const ev of sub.replay) deliver(ev);
        }
        timers.push(setTimeout(close, timeoutMs));
        if (bookmarks) {
          const tick = (): void => {
            if (closed) return;
            sink.send(bookmark());
            timers.push(setTimeout(tick, bookmarkMs));
          };
          timers.push(setTimeout(tick, bookmarkMs));
        }
      },
    };
  }

  // ------------------------------------------------------------------------------------------- write
  /**
   * The name rule of each kind's ObjectMeta validation: CSRs have none (ValidateCertificateRequestName), the RBAC
   * kinds (ValidateRBACName) take any path-segment name, so `system:node` is fine; namespaces are DNS-1123
   * labels; every other kind (pods, secrets, configmaps, service accounts, leases, custom resources) DNS-1123
   * subdomains.
   */
  private validateName(def: ResourceDef, name: string): FieldError[] {
    // ValidateCertificateRequestName: "We don't care what you call your certificate requests." The storage key
    // function refuses non-path-segment names later, with a 400 (see create).
    if (def.resource === 'certificatesigningrequests') return [];
    // ValidateClusterTrustBundleName depends on spec.signerName: the strategy checks it.
    if (def.resource === 'clustertrustbundles') return [];
    const errs = PATH_SEGMENT_NAMED.has(def.resource)
      ? pathSegmentNameErrors(name)
      : def.resource === 'namespaces'
        ? dns1123LabelErrors(name)
        : dns1123SubdomainErrors(name);
    return errs.map((e) => field.invalid('metadata.name', name, e));
  }

  /** ObjectMeta label rules (apimachinery ValidateLabels): qualified-name keys, values of at most 63 characters. */
  private validateLabels(labels: unknown): FieldError[] {
    const rec = asRecord(labels);
    if (!rec) return [];
    const errs: FieldError[] = [];
    const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
    for (const [key, value] of Object.entries(rec)) {
      const slash = key.lastIndexOf('/');
      const prefix = slash >= 0 ? key.slice(0, slash) : '';
      const name = slash >= 0 ? key.slice(slash + 1) : key;
      if (slash >= 0 && (prefix === '' || dns1123SubdomainErrors(prefix).length > 0)) {
        errs.push(
          field.invalid(
            'metadata.labels',
            key,
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
          ),
        );
      } else if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
        errs.push(
          field.invalid(
            'metadata.labels',
            key,
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
          ),
        );
      }
      const v = typeof value === 'string' ? value : String(value);
      if (v.length > 63) errs.push(field.invalid('metadata.labels', v, 'must be no more than 63 characters'));
      else if (v !== '' && !NAME.test(v)) {
        errs.push(
          field.invalid(
            'metadata.labels',
            v,
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
          ),
        );
      }
    }
    return errs;
  }

  private ensureNamespace(namespace: string | undefined): void {
    if (namespace === undefined) return;
    if (!this.store.get('namespaces', '', namespace)) throw notFound('namespaces', '', namespace);
  }

  private create(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    const obj = this.decodeBody(req, def.kind);
    this.checkKind(def, obj);
    if (def.virtual && def.resource === 'selfsubjectrulesreviews') return this.selfSubjectRulesReview(req, obj);
    if (def.virtual && def.resource === 'selfsubjectreviews') return this.selfSubjectReview(req);
    if (def.virtual) return this.selfSubjectAccessReview(req, obj);
    const meta = obj.metadata;
    if (def.namespaced) {
      if (meta.namespace && meta.namespace !== route.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = route.namespace;
    }
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    this.admitNode(req, {
      operation: 'create',
      resource: def.resource,
      group: def.group,
      ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
      name: meta.name || meta.generateName || '',
      obj,
    });
    const ctx = this.ctx(req);
    def.strategy.prepareCreate?.(obj, ctx);
    this.fillNewMeta(def, obj);
    const errs: FieldError[] = [];
    if (!meta.name) errs.push(field.required('metadata.name', 'name or generateName is required'));
    else {
      errs.push(...this.validateName(def, meta.name));
      // kube 1.37 checks the path-segment rule in ObjectMeta validation (422), not only in the storage key (400).
      if (!errs.length)
        for (const why of pathSegmentNameErrors(meta.name)) errs.push(field.invalid('metadata.name', meta.name, why));
    }
    errs.push(...this.validateLabels(meta.labels));
    if (errs.length === 0) errs.push(...(def.strategy.validateCreate?.(obj) ?? []));
    if (def.optional) meta.generation = 1;
    if (errs.length) throw invalid(def.kind, def.group, meta.name ?? meta.generateName ?? '', errs);
    this.ensureNamespace(route.namespace);
    def.strategy.admitCreate?.(obj, ctx);
    // The registry's key function (NoNamespaceKeyFunc / NamespaceKeyFunc), after validation and admission.
    const keyErrs = pathSegmentNameErrors(meta.name ?? '');
    if (keyErrs.length) throw badRequest(`Name parameter invalid: ${JSON.stringify(meta.name)}: ${keyErrs.join(';')}`);
    if (this.store.get(def.resource, meta.namespace ?? '', meta.name ?? '')) {
      throw alreadyExists(def.resource, def.group, meta.name ?? '');
    }
    if (isDryRun(req)) return raw(201, wire(def, { obj, json: JSON.stringify(canonical(obj)) }));
    const entry = this.store.put(def.resource, obj, 'ADDED');
    return raw(201, wire(def, entry));
  }

  /** The update pipeline shared by PUT and PATCH. */
  private update(req: ApiRequest, route: Route, obj: KObject, put = false): ApiResponse {
    const { def } = route;
    const name = route.name ?? '';
    this.checkKind(def, obj);
    const meta = obj.metadata;
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && meta.namespace && meta.namespace !== route.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const existing = this.store.get(def.resource, route.namespace ?? '', name);
    if (!existing) throw notFound(def.resource, def.group, name);
    // A PUT's metadata.uid is a precondition (rest.defaultUpdatedObjectInfo.Preconditions), checked by storage
    // before the resourceVersion; the StorageError text is the real server's (InterpretUpdateError → NewConflict).
    if (put && meta.uid && meta.uid !== existing.obj.metadata.uid) {
      const key = `/registry/${def.optional ? `${def.group}/` : ''}${def.resource}/${def.namespaced ? `${route.namespace}/` : ''}${name}`;
      throw conflict(
        def.resource,
        def.group,
        name,
        `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${existing.obj.metadata.uid}`,
      );
    }
    if (put && !meta.resourceVersion && def.requireResourceVersion) {
      throw invalid(def.resource, def.group, name, [
        field.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
      ]);
    }
    if (meta.resourceVersion && meta.resourceVersion !== String(existing.rv)) {
      throw conflict(def.resource, def.group, name);
    }
    const old = clone(existing.obj);
    this.admitNode(req, {
      operation: 'update',
      resource: def.resource,
      group: def.group,
      ...(route.subresource ? { subresource: route.subresource } : {}),
      ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
      name,
      obj,
      old,
    });
    obj.apiVersion = old.apiVersion;
    obj.kind = old.kind;
    def.strategy.prepareUpdate?.(obj, old, route.subresource);
    if (!def.strategy.prepareUpdate && route.subresource === 'status') {
      obj.spec = old.spec;
      obj.metadata = { ...old.metadata };
    }
    const m = obj.metadata;
    m.name = old.metadata.name;
    if (def.namespaced) m.namespace = old.metadata.namespace;
    else delete m.namespace;
    m.uid = old.metadata.uid;
    m.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.generateName) m.generateName = old.metadata.generateName;
    if (old.metadata.deletionTimestamp) m.deletionTimestamp = old.metadata.deletionTimestamp;
    else delete m.deletionTimestamp;
    delete m.managedFields;
    m.resourceVersion = old.metadata.resourceVersion;
    let errs: FieldError[];
    try {
      errs = def.strategy.validateUpdate?.(obj, old, route.subresource) ?? [];
    } catch (err) {
      if (err instanceof BytesError) throw badRequest(err.message);
      throw err;
    }
    errs.unshift(...this.validateLabels(m.labels));
    if (errs.length) throw invalid(def.kind, def.group, name, errs);
    def.strategy.admitUpdate?.(obj, old, route.subresource, this.ctx(req));
    // Custom resources count spec changes in metadata.generation.
    if (def.optional) {
      const gen = typeof old.metadata.generation === 'number' ? old.metadata.generation : 1;
      m.generation = JSON.stringify(obj.spec) === JSON.stringify(old.spec) ? gen : gen + 1;
    }
    // A write that changes nothing keeps the resourceVersion and sends no event (etcd3 GuaranteedUpdate).
    if (JSON.stringify(canonical(obj)) === existing.json) return raw(200, wire(def, existing));
    if (isDryRun(req)) return raw(200, wire(def, { obj, json: JSON.stringify(canonical(obj)) }));
    const entry = this.store.put(def.resource, obj, 'MODIFIED');
    return raw(200, wire(def, entry));
  }

  private patch(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    const type = patchTypeFromContentType(req.contentType);
    // A real server answers an unknown patch type with its router's bare 415.
    if (!type) throw new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
    let patchDoc: unknown;
    try {
      patchDoc = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
    } catch (err) {
      throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
    }
    const name = route.name ?? '';
    const existing = this.store.get(def.resource, route.namespace ?? '', name);
    if (!existing) throw notFound(def.resource, def.group, name);
    let patched: unknown;
    try {
      patched = applyPatch(type, clone(existing.obj), patchDoc, {
        ...PATCH_MERGE_KEYS,
        ...strategicMergeKeysFor(def.resource),
      });
    } catch (err) {
      if (err instanceof PatchError) {
        const reason = err.status === 415 ? 'UnsupportedMediaType' : err.status === 422 ? 'Invalid' : 'BadRequest';
        // A JSON patch that does not apply is a generic 422 on a real server: its own text is not sent.
        const message =
          err.status === 422 && type === 'json'
            ? 'the server rejected our request due to an error in our request'
            : err.message;
        throw new ApiError(err.status, reason, message, err.status === 400 ? undefined : {});
      }
      throw err;
    }
    const obj = asRecord(patched);
    if (!obj) throw badRequest('the patch result is not an object');
    const meta = asRecord(obj.metadata) ?? {};
    return this.update(req, route, { ...obj, metadata: { ...meta } } as KObject);
  }

  private deleteEntry(def: ResourceDef, entry: Entry): Entry | undefined {
    if (def.resource === 'namespaces') {
      for (const d of RESOURCES) {
        if (!d.namespaced || d.virtual) continue;
        for (const e of [...this.store.list(d.resource, entry.name)])
          this.store.delete(d.resource, e.namespace, e.name);
      }
    }
    return this.store.delete(def.resource, entry.namespace, entry.name);
  }

  private delete(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    const name = route.name ?? '';
    const existing = this.store.get(def.resource, route.namespace ?? '', name);
    if (!existing) throw notFound(def.resource, def.group, name);
    if (req.body && req.body.length > 0) {
      let opts: Json | undefined;
      try {
        opts = asRecord(JSON.parse(req.body.toString('utf8')));
      } catch (err) {
        const goError = goJsonSyntaxError(req.body.toString('utf8'));
        throw badRequest(`couldn't get version/kind; json parse error: ${goError ?? errText(err)}`);
      }
      const pre = asRecord(opts?.preconditions);
      if (pre?.uid && pre.uid !== existing.obj.metadata.uid) {
        throw conflict(
          def.kind,
          def.group,
          name,
          `the UID in the precondition (${String(pre.uid)}) does not match the UID in record (${existing.obj.metadata.uid}). The object might have been deleted and then recreated`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(existing.rv)) {
        throw conflict(
          def.kind,
          def.group,
          name,
          `the ResourceVersion in the precondition (${String(pre.resourceVersion)}) does not match the ResourceVersion in record (${existing.rv}). The object might have been modified`,
        );
      }
    }
    this.admitNode(req, {
      operation: 'delete',
      resource: def.resource,
      group: def.group,
      ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
      name,
      old: existing.obj,
    });
    const deleted = isDryRun(req) ? existing : (this.deleteEntry(def, existing) ?? existing);
    if (def.returnDeletedObject) return raw(200, deleted.json);
    return json(200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: existing.obj.metadata.uid },
    });
  }

  private deleteCollection(req: ApiRequest, route: Route): ApiResponse {
    const { def } = route;
    if (!def.deleteCollection) throw methodNotAllowed();
    const matches = this.matcher(req, def);
    const victims = this.store.list(def.resource, route.namespace).filter((e) => matches(e.obj));
    const deleted = isDryRun(req) ? victims : victims.map((e) => this.deleteEntry(def, e) ?? e);
    const body = `{"kind":"${def.kind}List","apiVersion":"${apiVersionOf(def)}","metadata":{"resourceVersion":"${this.store.resourceVersion}"},"items":[${deleted.map((e) => wire(def, e)).join(',')}]}`;
    return raw(200, body);
  }

  // ------------------------------------------------------------------------------------------- reviews
  /** What the user may do in a namespace (`kubectl auth can-i --list`), from the RBAC rules. */
  /** authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): the authenticated user's attributes. */
  private selfSubjectReview(req: ApiRequest): ApiResponse {
    const u = req.user;
    const userInfo: Json = { username: u.name };
    if (u.uid) userInfo.uid = u.uid;
    if (u.groups.length) userInfo.groups = [...u.groups];
    if (u.extra && Object.keys(u.extra).length) userInfo.extra = u.extra;
    return json(201, {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      status: { userInfo },
    });
  }

  private selfSubjectRulesReview(req: ApiRequest, obj: KObject): ApiResponse {
    const spec = asRecord(obj.spec) ?? {};
    const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
    if (!namespace) throw badRequest('no namespace on request');
    const rules = rulesForUser(this.rbac, req.user, namespace);
    const status: Json = {
      resourceRules: rules.resourceRules,
      nonResourceRules: rules.nonResourceRules,
      incomplete: rules.incomplete,
    };
    if (rules.evaluationError) status.evaluationError = rules.evaluationError;
    return json(201, {
      kind: 'SelfSubjectRulesReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status,
    });
  }

  private selfSubjectAccessReview(req: ApiRequest, obj: KObject): ApiResponse {
    const spec = asRecord(obj.spec) ?? {};
    const result = accessReviewStatus(this.authz, req.user, spec as AccessReviewSpec);
    if ('error' in result) {
      // The real answer names no kind (`.authorization.k8s.io "" is invalid`) and renders the spec as null.
      throw invalid('', 'authorization.k8s.io', '', [field.invalid('spec', null, result.error)]);
    }
    return json(201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: result,
    });
  }
}

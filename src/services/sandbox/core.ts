// Strategies of the other resources: pods (status kept apart from spec), secrets and configmaps (kube-api.md §9),
// namespaces, and plain stored objects.
import { type FieldError, field } from './errors.js';
import type { KObject } from './store.js';
import { asRecord, type Json, type Strategy } from './strategy.js';

export const MAX_SECRET_SIZE = 1024 * 1024;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function configKeyErrors(path: string, key: string): FieldError[] {
  const errs: FieldError[] = [];
  if (key.length > 253) errs.push(field.invalid(path, key, 'must be no more than 253 characters'));
  if (!CONFIG_KEY.test(key)) errs.push(field.invalid(path, key, CONFIG_KEY_MSG));
  if (key === '.') errs.push(field.invalid(path, key, "must not be '.'"));
  else if (key === '..') errs.push(field.invalid(path, key, "must not be '..'"));
  else if (key.startsWith('..')) errs.push(field.invalid(path, key, "must not start with '..'"));
  return errs;
}

function b64len(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
}

export const podStrategy: Strategy = {
  prepareCreate(obj) {
    obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
    const spec = asRecord(obj.spec);
    if (spec && spec.restartPolicy === undefined) spec.restartPolicy = 'Always';
  },
  validateCreate(obj) {
    const spec = asRecord(obj.spec);
    const containers = spec?.containers;
    const errs: FieldError[] = [];
    if (!Array.isArray(containers) || containers.length === 0) errs.push(field.required('spec.containers'));
    else {
      containers.forEach((c, i) => {
        const rec = asRecord(c);
        if (!rec || typeof rec.name !== 'string' || !rec.name) errs.push(field.required(`spec.containers[${i}].name`));
        if (!rec || typeof rec.image !== 'string' || !rec.image)
          errs.push(field.required(`spec.containers[${i}].image`));
      });
    }
    return errs;
  },
  prepareUpdate(obj, old, subresource) {
    if (subresource === 'status') {
      // ResetObjectMetaForStatus: only the status changes through /status.
      obj.spec = old.spec;
      obj.metadata = { ...old.metadata };
    } else {
      obj.status = old.status;
    }
  },
  fields(obj) {
    const spec = asRecord(obj.spec) ?? {};
    const status = asRecord(obj.status) ?? {};
    const podIPs = Array.isArray(status.podIPs) ? (status.podIPs as Json[]) : [];
    return {
      'metadata.name': obj.metadata.name ?? '',
      'metadata.namespace': obj.metadata.namespace ?? '',
      'spec.nodeName': String(spec.nodeName ?? ''),
      'spec.restartPolicy': String(spec.restartPolicy ?? ''),
      'spec.schedulerName': String(spec.schedulerName ?? ''),
      'spec.serviceAccountName': String(spec.serviceAccountName ?? ''),
      'spec.hostNetwork': spec.hostNetwork === true ? 'true' : 'false',
      'status.phase': String(status.phase ?? ''),
      'status.podIP': String(podIPs[0]?.ip ?? status.podIP ?? ''),
      'status.nominatedNodeName': String(status.nominatedNodeName ?? ''),
    };
  },
};

function validateSecret(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = asRecord(obj.data) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    errs.push(...configKeyErrors(`data[${k}]`, k));
    total += b64len(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(field.tooLong('data', MAX_SECRET_SIZE));
  if (obj.type === 'kubernetes.io/tls') {
    if (!('tls.crt' in data)) errs.push(field.required('data[tls.crt]'));
    if (!('tls.key' in data)) errs.push(field.required('data[tls.key]'));
  }
  return errs;
}

function mergeStringData(obj: KObject): void {
  const stringData = asRecord(obj.stringData);
  if (!obj.type) obj.type = 'Opaque';
  if (!stringData) return;
  const data: Json = { ...(asRecord(obj.data) ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  obj.data = data;
  delete obj.stringData;
}

export const secretStrategy: Strategy = {
  prepareCreate: mergeStringData,
  validateCreate: validateSecret,
  prepareUpdate(obj) {
    mergeStringData(obj);
  },
  validateUpdate(obj, old) {
    // ValidateSecretUpdate checks the type first, then the new secret.
    const errs: FieldError[] = [];
    if ((obj.type ?? 'Opaque') !== (old.type ?? 'Opaque'))
      errs.push(field.invalid('type', obj.type, 'field is immutable'));
    errs.push(...validateSecret(obj));
    if (old.immutable === true && (JSON.stringify(obj.data) !== JSON.stringify(old.data) || obj.immutable !== true)) {
      errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
    }
    return errs;
  },
  fields(obj) {
    return {
      'metadata.name': obj.metadata.name ?? '',
      'metadata.namespace': obj.metadata.namespace ?? '',
      type: String(obj.type ?? ''),
    };
  },
};

function validateConfigMap(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = asRecord(obj.data) ?? {};
  const binary = asRecord(obj.binaryData) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    errs.push(...configKeyErrors(`data[${k}]`, k));
    total += typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
  }
  for (const [k, v] of Object.entries(binary)) {
    errs.push(...configKeyErrors(`binaryData[${k}]`, k));
    if (k in data) errs.push(field.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    total += b64len(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(field.tooLong('', MAX_SECRET_SIZE));
  return errs;
}

export const configMapStrategy: Strategy = {
  validateCreate: validateConfigMap,
  validateUpdate(obj, old) {
    const errs = validateConfigMap(obj);
    if (old.immutable === true) {
      if (JSON.stringify(obj.data) !== JSON.stringify(old.data)) {
        errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
      }
      if (JSON.stringify(obj.binaryData) !== JSON.stringify(old.binaryData)) {
        errs.push(field.forbidden('binaryData', 'field is immutable when `immutable` is set'));
      }
      if (obj.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
    }
    return errs;
  },
};

export const namespaceStrategy: Strategy = {
  prepareCreate(obj) {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
  },
  prepareUpdate(obj, old) {
    obj.spec = old.spec;
    obj.status = old.status;
  },
  fields(obj) {
    return { 'metadata.name': obj.metadata.name ?? '', 'status.phase': String(asRecord(obj.status)?.phase ?? '') };
  },
};

/** A resource with a /status subresource and no other rules (tigerastatuses, installations). */
export const statusSplitStrategy: Strategy = {
  prepareUpdate(obj, old, subresource) {
    if (subresource === 'status') {
      obj.spec = old.spec;
      obj.metadata = { ...old.metadata };
    } else if (old.status !== undefined) {
      obj.status = old.status;
    }
  },
};

export const plainStrategy: Strategy = {};

/** coordination/validation ValidateLeaseSpec: durations above 0, transitions not negative. */
function validateLease(obj: KObject): FieldError[] {
  const spec = asRecord(obj.spec) ?? {};
  const errs: FieldError[] = [];
  const d = spec.leaseDurationSeconds;
  if (typeof d === 'number' && d <= 0)
    errs.push(field.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
  const t = spec.leaseTransitions;
  if (typeof t === 'number' && t < 0)
    errs.push(field.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
  return errs;
}

export const leaseStrategy: Strategy = { validateCreate: validateLease, validateUpdate: (obj) => validateLease(obj) };

/** Webhook configurations: generation 1 on create, +1 when the webhooks change; an empty list is omitted. */
/** A service reference's port defaults to 443 (SetDefaults_ServiceReference, admissionregistration and apiextensions). */
function defaultServicePort(clientConfig: unknown): void {
  const service = asRecord(asRecord(clientConfig)?.service);
  if (service && service.port === undefined) service.port = 443;
}

/**
 * The defaults admissionregistration/v1 gives each webhook (SetDefaults_ValidatingWebhook / _MutatingWebhook and
 * SetDefaults_Rule, 1.37), as the real server returns them (test/real/differential/api.test.ts).
 */
function defaultWebhooks(obj: KObject): void {
  if (!Array.isArray(obj.webhooks)) return;
  const mutating = obj.kind === 'MutatingWebhookConfiguration';
  for (const w of obj.webhooks) {
    const hook = asRecord(w);
    if (!hook) continue;
    hook.failurePolicy ??= 'Fail';
    hook.matchPolicy ??= 'Equivalent';
    hook.namespaceSelector ??= {};
    hook.objectSelector ??= {};
    hook.timeoutSeconds ??= 10;
    if (mutating) hook.reinvocationPolicy ??= 'Never';
    for (const rule of Array.isArray(hook.rules) ? hook.rules : []) {
      const r = asRecord(rule);
      if (r) r.scope ??= '*';
    }
    defaultServicePort(hook.clientConfig);
  }
}

/** CRDs: the status split, and a conversion webhook's service port defaulted. */
export const crdStrategy: Strategy = {
  ...statusSplitStrategy,
  prepareCreate(obj, ctx) {
    statusSplitStrategy.prepareCreate?.(obj, ctx);
    defaultServicePort(asRecord(asRecord(asRecord(obj.spec)?.conversion)?.webhook)?.clientConfig);
  },
  prepareUpdate(obj, old, subresource) {
    statusSplitStrategy.prepareUpdate?.(obj, old, subresource);
    if (subresource === undefined)
      defaultServicePort(asRecord(asRecord(asRecord(obj.spec)?.conversion)?.webhook)?.clientConfig);
  },
};

export const webhookConfigStrategy: Strategy = {
  prepareCreate(obj) {
    obj.metadata.generation = 1;
    if (Array.isArray(obj.webhooks) && obj.webhooks.length === 0) delete obj.webhooks;
    defaultWebhooks(obj);
  },
  prepareUpdate(obj, old) {
    if (Array.isArray(obj.webhooks) && obj.webhooks.length === 0) delete obj.webhooks;
    defaultWebhooks(obj);
    const changed = JSON.stringify(obj.webhooks ?? null) !== JSON.stringify(old.webhooks ?? null);
    obj.metadata.generation = (Number(old.metadata.generation) || 1) + (changed ? 1 : 0);
  },
};

/** APIServices: the status split, and a name that must be `version.group` (apiregistration validation). */
export const apiServiceStrategy: Strategy = {
  ...statusSplitStrategy,
  validateCreate(obj) {
    const spec = asRecord(obj.spec) ?? {};
    const errs = statusSplitStrategy.validateCreate?.(obj) ?? [];
    const group = typeof spec.group === 'string' ? spec.group : '';
    const version = typeof spec.version === 'string' ? spec.version : '';
    const want = group ? `${version}.${group}` : version;
    if (obj.metadata.name !== want)
      errs.push(
        field.invalid(
          'metadata.name',
          obj.metadata.name,
          `must be \`spec.version+"."+spec.group\`: ${JSON.stringify(want)}`,
        ),
      );
    return errs;
  },
};

/** NodeSystemInfo as the real server writes it when none is given: every field an empty string (no omitempty). */
const EMPTY_NODE_INFO = {
  machineID: '',
  systemUUID: '',
  bootID: '',
  kernelVersion: '',
  osImage: '',
  containerRuntimeVersion: '',
  kubeletVersion: '',
  kubeProxyVersion: '',
  operatingSystem: '',
  architecture: '',
};

/** The Go zero values of NodeStatus's struct fields, and allocatable defaulted from capacity (SetDefaults_NodeStatus). */
function defaultNodeStatus(status: Json): Json {
  const out: Json = { ...status };
  if (out.allocatable === undefined && out.capacity !== undefined) out.allocatable = out.capacity;
  const endpoints = asRecord(out.daemonEndpoints) ?? {};
  out.daemonEndpoints = { ...endpoints, kubeletEndpoint: { Port: 0, ...(asRecord(endpoints.kubeletEndpoint) ?? {}) } };
  out.nodeInfo = { ...EMPTY_NODE_INFO, ...(asRecord(out.nodeInfo) ?? {}) };
  // metav1.Time is a struct: omitempty does not drop it, a zero time is written as null.
  if (Array.isArray(out.conditions))
    out.conditions = out.conditions.map((c) => ({ lastHeartbeatTime: null, lastTransitionTime: null, ...asRecord(c) }));
  delete out.config;
  return out;
}

/**
 * Nodes (pkg/registry/core/node): every field, status included, may be set on create; an update of the main resource
 * keeps the status, an update of /status keeps the spec (metadata may change through either).
 */
export const nodeStrategy: Strategy = {
  prepareCreate(obj) {
    const spec = { ...(asRecord(obj.spec) ?? {}) };
    delete spec.configSource;
    // The TaintNodesByCondition admission plugin: every new Node gets the not-ready NoSchedule taint (the node
    // lifecycle controller, which does not run here, would lift it once the node is Ready).
    const taints = Array.isArray(spec.taints) ? (spec.taints as Json[]) : [];
    if (!taints.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoSchedule'))
      spec.taints = [...taints, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }];
    obj.spec = spec;
    obj.status = defaultNodeStatus(asRecord(obj.status) ?? {});
  },
  prepareUpdate(obj, old, subresource) {
    if (subresource === 'status') {
      obj.spec = old.spec;
      obj.status = defaultNodeStatus(asRecord(obj.status) ?? {});
    } else {
      obj.status = old.status;
      obj.spec = asRecord(obj.spec) ?? {};
    }
  },
  fields(obj) {
    return {
      'metadata.name': obj.metadata.name ?? '',
      'spec.unschedulable': asRecord(obj.spec)?.unschedulable === true ? 'true' : 'false',
    };
  },
};

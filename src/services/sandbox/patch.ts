// PATCH for the sandbox: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge
// patch (lists with a merge key merge by it; `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` directives).
// Pure functions over plain JSON; errors carry the HTTP status the API server answers with.

export type PatchType = 'merge' | 'json' | 'strategic';

export class PatchError extends Error {
  constructor(
    readonly status: 400 | 415 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

/** Maps a Content-Type to a patch type; undefined means 415 Unsupported Media Type. */
export function patchTypeFromContentType(contentType: string): PatchType | undefined {
  const ct = contentType.split(';')[0]?.trim().toLowerCase();
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

/**
 * Strategic-merge keys of the lists every object has (ObjectMeta). A key of '' marks a list of scalars merged as a
 * set (patchStrategy "merge" without a key, as `metadata.finalizers`).
 */
export const METADATA_MERGE_KEYS: Readonly<Record<string, string>> = {
  'metadata.finalizers': '',
  'metadata.ownerReferences': 'uid',
};

const CONTAINER_LISTS: Record<string, string> = {
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
};

function containerKeys(prefix: string): Record<string, string> {
  const out: Record<string, string> = { [prefix]: 'name' };
  for (const [list, key] of Object.entries(CONTAINER_LISTS)) out[`${prefix}.${list}`] = key;
  return out;
}

/** The patchMergeKey tags of the kinds the sandbox serves, by resource (plural), as in k8s.io/api. */
export const STRATEGIC_MERGE_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  certificatesigningrequests: { 'status.conditions': 'type' },
  pods: {
    ...containerKeys('spec.containers'),
    ...containerKeys('spec.initContainers'),
    ...containerKeys('spec.ephemeralContainers'),
    'spec.volumes': 'name',
    'spec.imagePullSecrets': 'name',
    'spec.hostAliases': 'ip',
    'spec.schedulingGates': 'name',
    'spec.resourceClaims': 'name',
    'status.conditions': 'type',
    'status.podIPs': 'ip',
  },
  namespaces: { 'status.conditions': 'type' },
  nodes: { 'status.conditions': 'type', 'status.addresses': 'type' },
  services: { 'spec.ports': 'port' },
};

/** The merge keys to pass to applyPatch for a resource: its own plus those of metadata. */
export function strategicMergeKeysFor(resource: string): Record<string, string> {
  return { ...METADATA_MERGE_KEYS, ...(STRATEGIC_MERGE_KEYS[resource] ?? {}) };
}

/**
 * Returns the patched copy of `target` (never mutates it).
 * `mergeKeys` maps a dotted list path (e.g. `status.conditions`, `spec.containers`, `spec.containers.env`; list
 * indices are not part of the path) to its merge key (`type`, `name`) for strategic merge patches; other lists are
 * replaced. METADATA_MERGE_KEYS always apply unless `mergeKeys` overrides them.
 * Errors: a patch document of the wrong shape → 400; a JSON patch that cannot be applied (missing path, failed
 * `test`) → 422.
 */
export function applyPatch(
  type: PatchType,
  target: unknown,
  patch: unknown,
  mergeKeys: Readonly<Record<string, string>> = {},
): unknown {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw new PatchError(400, 'A merge patch must be a JSON object.');
      return mergePatch(target, patch);
    case 'json':
      return jsonPatch(target, patch);
    case 'strategic':
      if (!isObject(patch)) throw new PatchError(400, 'A strategic merge patch must be a JSON object.');
      return strategicMerge(clone(target), patch, '', { ...METADATA_MERGE_KEYS, ...mergeKeys }) ?? {};
    default:
      throw new PatchError(415, `Patch type ${String(type)} is not supported.`);
  }
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 7386 JSON merge patch

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return isObject(target) ? cloneShallowRest(out, target, patch) : out;
}

/** Keys the patch did not touch still point into `target`: copy them so the result shares nothing with it. */
function cloneShallowRest(out: JsonObject, target: JsonObject, patch: JsonObject): JsonObject {
  for (const k of Object.keys(out)) if (!Object.hasOwn(patch, k) && out[k] === target[k]) out[k] = clone(out[k]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 6902 JSON patch (with RFC 6901 pointers)

function parsePointer(pointer: unknown, field: string): string[] {
  if (typeof pointer !== 'string')
    throw new PatchError(422, `The "${field}" of a JSON patch operation must be a string.`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new PatchError(422, `JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/".`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError(
      422,
      `JSON pointer ${JSON.stringify(pointer)}: ${JSON.stringify(token)} is not an array index.`,
    );
  }
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) {
    throw new PatchError(422, `JSON pointer ${JSON.stringify(pointer)}: index ${i} is out of range.`);
  }
  return i;
}

/** The container (object or array) holding the last token of `tokens`. */
function parentOf(doc: unknown, tokens: string[], pointer: string): JsonObject | unknown[] {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, pointer)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(422, `The path ${JSON.stringify(pointer)} does not exist in the object.`);
  }
  if (Array.isArray(cur) || isObject(cur)) return cur;
  throw new PatchError(422, `The path ${JSON.stringify(pointer)} does not exist in the object.`);
}

function getAt(doc: unknown, pointer: string, tokens: string[]): unknown {
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false, pointer)];
  if (!Object.hasOwn(parent, last)) {
    throw new PatchError(422, `The path ${JSON.stringify(pointer)} does not exist in the object.`);
  }
  return parent[last];
}

interface DocBox {
  doc: unknown;
}

function addAt(box: DocBox, pointer: string, tokens: string[], value: unknown): void {
  if (tokens.length === 0) {
    box.doc = value;
    return;
  }
  const parent = parentOf(box.doc, tokens, pointer);
  const last = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, pointer), 0, value);
  else parent[last] = value;
}

function removeAt(box: DocBox, pointer: string, tokens: string[]): unknown {
  if (tokens.length === 0) throw new PatchError(422, 'A JSON patch may not remove the whole object.');
  const parent = parentOf(box.doc, tokens, pointer);
  const last = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) return parent.splice(arrayIndex(last, parent.length, false, pointer), 1)[0];
  if (!Object.hasOwn(parent, last)) {
    throw new PatchError(422, `The path ${JSON.stringify(pointer)} does not exist in the object.`);
  }
  const old = parent[last];
  delete parent[last];
  return old;
}

function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError(400, 'A JSON patch must be a JSON array of operations.');
  const box: DocBox = { doc: clone(target) };
  patch.forEach((op, i) => {
    if (!isObject(op)) throw new PatchError(422, `JSON patch operation ${i} is not an object.`);
    const path = parsePointer(op.path, 'path');
    const pointer = op.path as string;
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && !Object.hasOwn(op, 'value')) {
      throw new PatchError(422, `JSON patch operation ${i} (${String(op.op)}) has no "value".`);
    }
    switch (op.op) {
      case 'add':
        addAt(box, pointer, path, clone(op.value));
        break;
      case 'remove':
        removeAt(box, pointer, path);
        break;
      case 'replace':
        if (path.length === 0) {
          box.doc = clone(op.value);
          break;
        }
        {
          // evanphx/json-patch v4 (the apiserver's): replacing a missing key of an object adds it.
          const parent = parentOf(box.doc, path, pointer);
          if (Array.isArray(parent) || Object.hasOwn(parent, path[path.length - 1] ?? '')) removeAt(box, pointer, path);
        }
        addAt(box, pointer, path, clone(op.value));
        break;
      case 'move': {
        const from = parsePointer(op.from, 'from');
        const fromPointer = op.from as string;
        if (pointer !== fromPointer && pointer.startsWith(`${fromPointer}/`)) {
          throw new PatchError(422, `JSON patch operation ${i} moves ${fromPointer} into one of its own children.`);
        }
        const value = removeAt(box, fromPointer, from);
        addAt(box, pointer, path, value);
        break;
      }
      case 'copy': {
        const from = parsePointer(op.from, 'from');
        addAt(box, pointer, path, clone(getAt(box.doc, op.from as string, from)));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(box.doc, pointer, path), op.value)) {
          throw new PatchError(422, `JSON patch test failed: the value at ${JSON.stringify(pointer)} differs.`);
        }
        break;
      default:
        throw new PatchError(422, `JSON patch operation ${i} has an unknown op ${JSON.stringify(op.op)}.`);
    }
  });
  return box.doc;
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), for plain JSON + a key table

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Strips directives and nulls from a patch fragment that lands where nothing was (what SMP does for new values). */
function stripDirectives(v: unknown, path: string, keys: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(v)) return strategicList([], v, path, keys);
  if (!isObject(v)) return clone(v);
  const r = strategicMerge(undefined, v, path, keys);
  return r === undefined ? undefined : r;
}

/**
 * Merges a map into `target`, which the caller owns (applyPatch clones the target once, so each level is changed in
 * place); returns undefined when the patch deletes it (`$patch: delete`).
 */
function strategicMerge(
  target: unknown,
  patch: JsonObject,
  path: string,
  keys: Readonly<Record<string, string>>,
): JsonObject | undefined {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined && directive !== 'replace' && directive !== 'delete' && directive !== 'merge') {
    throw new PatchError(400, `Unknown $patch directive ${JSON.stringify(directive)} at ${path || 'the top level'}.`);
  }
  if (directive === 'delete') return undefined;
  let out: JsonObject = directive === 'replace' || !isObject(target) ? {} : target;

  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
      throw new PatchError(400, `$retainKeys at ${path || 'the top level'} must be a list of field names.`);
    }
    out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k)));
  }

  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (k.startsWith(DELETE_FROM_PRIMITIVE)) {
      if (!Array.isArray(v)) throw new PatchError(400, `${k} at ${path || 'the top level'} must be a list.`);
      continue; // applied after the field itself is merged, below
    }
    const p = childPath(path, k);
    if (v === null) {
      delete out[k];
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, p, keys);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = strategicList(Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, p, keys);
    } else {
      out[k] = v;
    }
  }

  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_FROM_PRIMITIVE) || !Array.isArray(v)) continue;
    const field = k.slice(DELETE_FROM_PRIMITIVE.length);
    const list = out[field];
    if (Array.isArray(list)) out[field] = list.filter((x) => !v.some((d) => deepEqual(d, x)));
  }
  return out;
}

function strategicList(
  target: unknown[],
  patch: unknown[],
  path: string,
  keys: Readonly<Record<string, string>>,
): unknown[] {
  const key = Object.hasOwn(keys, path) ? keys[path] : undefined;
  if (key === undefined) {
    // No merge strategy: the list is replaced (with directives and nulls stripped from its items).
    return patch.map((item) => stripDirectives(item, path, keys)).filter((x) => x !== undefined);
  }
  const replace = patch.some(
    (item) => isObject(item) && item[DIRECTIVE] === 'replace' && Object.keys(item).length === 1,
  );
  const items = patch.filter(
    (item) => !(isObject(item) && item[DIRECTIVE] === 'replace' && Object.keys(item).length === 1),
  );
  let out: unknown[] = replace ? [] : target;

  if (key === '') {
    // A merged list of scalars: a set union, keeping order.
    for (const item of items) {
      if (isObject(item) || Array.isArray(item)) {
        throw new PatchError(400, `The list ${path} holds scalar values; the patch gave ${JSON.stringify(item)}.`);
      }
      if (!out.some((x) => deepEqual(x, item))) out.push(item);
    }
    return out;
  }

  for (const item of items) {
    if (!isObject(item)) {
      throw new PatchError(400, `The list ${path} is merged by "${key}"; the patch gave ${JSON.stringify(item)}.`);
    }
    if (!Object.hasOwn(item, key)) {
      throw new PatchError(400, `An item of ${path} in the patch has no merge key "${key}": ${JSON.stringify(item)}.`);
    }
    const index = out.findIndex((x) => isObject(x) && deepEqual(x[key], item[key]));
    if (item[DIRECTIVE] === 'delete') {
      if (index >= 0) out = out.filter((x) => !(isObject(x) && deepEqual(x[key], item[key])));
      continue;
    }
    if (index >= 0) {
      const merged = strategicMerge(out[index], item, path, keys);
      if (merged === undefined) out.splice(index, 1);
      else out[index] = merged;
    } else {
      const added = strategicMerge(undefined, item, path, keys);
      if (added !== undefined) out.push(added);
    }
  }
  return out;
}

// Turns raw Kubernetes JSON into client-node's model objects (Dates for timestamps, TS property names), the same
// shapes the typed API clients return, using the models' public attribute maps.
// The model classes come in explicit sets (models-csr.ts, models-pod.ts) rather than from `import * as k8s`: a
// namespace import indexed by name keeps all of client-node's ~2,500 models in the bundle and makes every command
// that reads a CSR load them (see docs/performance.md, "Startup").

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
}
export interface ModelClass {
  new (): object;
  getAttributeTypeMap(): AttributeType[];
}

/** A root model type and every model class reachable from it, by name. */
export interface ModelSet {
  typeName: string;
  classes: Readonly<Record<string, ModelClass>>;
}

export function modelSet(typeName: string, classes: Readonly<Record<string, ModelClass>>): ModelSet {
  if (!classes[typeName]) throw new Error(`model set without its root type ${typeName}`);
  return { typeName, classes };
}

const PRIMITIVES = new Set(['string', 'boolean', 'number', 'any', 'object', 'double', 'integer', 'float', 'long']);

function convert(data: unknown, type: string, classes: ModelSet['classes']): unknown {
  if (data === undefined || data === null) return data;
  if (PRIMITIVES.has(type.toLowerCase())) return data;
  if (type.startsWith('Array<')) {
    if (!Array.isArray(data)) return data;
    const sub = type.slice(6, -1);
    return data.map((d) => convert(d, sub, classes));
  }
  if (type.startsWith('{ [key: string]: ')) {
    const sub = type.slice('{ [key: string]: '.length, -'; }'.length);
    if (PRIMITIVES.has(sub.toLowerCase())) return data;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) out[k] = convert(v, sub, classes);
    return out;
  }
  if (type === 'Date') return typeof data === 'string' ? new Date(data) : data;
  const cls = Object.hasOwn(classes, type) ? classes[type] : undefined;
  if (!cls || typeof data !== 'object') return data;
  const instance = new cls() as Record<string, unknown>;
  const src = data as Record<string, unknown>;
  for (const attr of cls.getAttributeTypeMap()) {
    const v = src[attr.baseName];
    if (v !== undefined) instance[attr.name] = convert(v, attr.type, classes);
  }
  return instance;
}

/** Raw JSON → the client-node model of `model` (e.g. csrType from models-csr.ts). */
export function deserialize<T>(data: unknown, model: ModelSet): T {
  return convert(data, model.typeName, model.classes) as T;
}

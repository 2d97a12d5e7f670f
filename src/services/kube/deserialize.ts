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

type Converter = (data: unknown) => unknown;
const asIs: Converter = (data) => data;
const toDate: Converter = (data) => (typeof data === 'string' ? new Date(data) : data);

/**
 * One converter per type name and model set, built once from the attribute maps: a list of 10,000 CSRs used to
 * re-read each type string per field (lower-casing it, testing its prefixes) for every object.
 */
const converters = new WeakMap<ModelSet['classes'], Map<string, Converter>>();

function converter(type: string, classes: ModelSet['classes']): Converter {
  let byType = converters.get(classes);
  if (!byType) {
    byType = new Map();
    converters.set(classes, byType);
  }
  const known = byType.get(type);
  if (known) return known;
  // Model types can refer to themselves (through arrays or maps): a forwarder stands in while this one is built.
  let built: Converter | undefined;
  byType.set(type, (data) => (built as Converter)(data));
  built = buildConverter(type, classes);
  byType.set(type, built);
  return built;
}

function buildConverter(type: string, classes: ModelSet['classes']): Converter {
  if (PRIMITIVES.has(type.toLowerCase())) return asIs;
  if (type.startsWith('Array<')) {
    const item = converter(type.slice(6, -1), classes);
    if (item === asIs) return asIs;
    return (data) => (Array.isArray(data) ? data.map((d) => (d === undefined || d === null ? d : item(d))) : data);
  }
  if (type.startsWith('{ [key: string]: ')) {
    const value = converter(type.slice('{ [key: string]: '.length, -'; }'.length), classes);
    if (value === asIs) return asIs;
    return (data) => {
      if (typeof data !== 'object' || data === null) return data;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(data)) out[k] = v === undefined || v === null ? v : value(v);
      return out;
    };
  }
  if (type === 'Date') return toDate;
  const cls = Object.hasOwn(classes, type) ? classes[type] : undefined;
  if (!cls) return asIs;
  const attributes = cls.getAttributeTypeMap().map((a) => ({
    name: a.name,
    baseName: a.baseName,
    convert: converter(a.type, classes),
  }));
  return (data) => {
    if (typeof data !== 'object' || data === null) return data;
    const instance = new cls() as Record<string, unknown>;
    const src = data as Record<string, unknown>;
    for (const a of attributes) {
      const v = src[a.baseName];
      if (v !== undefined) instance[a.name] = v === null ? v : a.convert(v);
    }
    return instance;
  };
}

/** Raw JSON → the client-node model of `model` (e.g. csrType from models-csr.ts). */
export function deserialize<T>(data: unknown, model: ModelSet): T {
  return (data === undefined || data === null ? data : converter(model.typeName, model.classes)(data)) as T;
}

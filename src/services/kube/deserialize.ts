// Turns raw Kubernetes JSON into client-node's model shapes (Dates for timestamps, TS property names), as the
// typed API clients return them, using the models' public attribute maps.
// In place: the parsed object becomes the model. Only timestamps (and renamed attributes, none in the sets used
// today) are rewritten, so a list of 10,000 objects is not copied a second time (at a cold start that copy and its
// garbage were ~80 ms of 1.8 s). Two differences from client-node's ObjectSerializer, which builds class instances:
// the objects are plain (nothing here uses `instanceof` on models), and fields the client does not know are kept
// rather than dropped, so a read-modify-write does not lose them. test/unit/kube/models.test.ts checks the values
// against ObjectSerializer.
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
    return (data) => {
      if (!Array.isArray(data)) return data;
      for (let i = 0; i < data.length; i++) {
        const d = data[i];
        if (d !== undefined && d !== null) data[i] = item(d);
      }
      return data;
    };
  }
  if (type.startsWith('{ [key: string]: ')) {
    const value = converter(type.slice('{ [key: string]: '.length, -'; }'.length), classes);
    if (value === asIs) return asIs;
    return (data) => {
      if (typeof data !== 'object' || data === null) return data;
      const map = data as Record<string, unknown>;
      for (const k of Object.keys(map)) {
        const v = map[k];
        if (v !== undefined && v !== null) map[k] = value(v);
      }
      return map;
    };
  }
  if (type === 'Date') return toDate;
  const cls = Object.hasOwn(classes, type) ? classes[type] : undefined;
  if (!cls) return asIs;
  // Only the attributes that need work: timestamps, nested models that hold some, and renamed fields (none in
  // the sets used today). The rest of the parsed object is already what the model holds.
  const attributes = cls
    .getAttributeTypeMap()
    .map((a) => ({ name: a.name, baseName: a.baseName, convert: converter(a.type, classes) }))
    .filter((a) => a.convert !== asIs || a.name !== a.baseName);
  if (attributes.length === 0) return asIs;
  return (data) => {
    if (typeof data !== 'object' || data === null) return data;
    const obj = data as Record<string, unknown>;
    for (const a of attributes) {
      const v = obj[a.baseName];
      if (v === undefined) continue;
      const converted = v === null ? v : a.convert(v);
      if (a.name !== a.baseName) delete obj[a.baseName];
      if (converted !== v || a.name !== a.baseName) obj[a.name] = converted;
    }
    return obj;
  };
}

/** Raw JSON → the client-node model of `model` (e.g. csrType from models-csr.ts), converted in place. */
export function deserialize<T>(data: unknown, model: ModelSet): T {
  return (data === undefined || data === null ? data : converter(model.typeName, model.classes)(data)) as T;
}

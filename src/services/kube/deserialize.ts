// Turns raw Kubernetes JSON into client-node's model objects (Dates for timestamps, TS property names), the same
// shapes the typed API clients return, using the models' public attribute maps.
import * as k8s from '@kubernetes/client-node';

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
}
interface ModelClass {
  new (): object;
  getAttributeTypeMap(): AttributeType[];
}

const models = k8s as unknown as Record<string, unknown>;
const PRIMITIVES = new Set(['string', 'boolean', 'number', 'any', 'object', 'double', 'integer', 'float', 'long']);

function modelClass(type: string): ModelClass | undefined {
  const c = models[type];
  if (typeof c !== 'function') return undefined;
  return typeof (c as { getAttributeTypeMap?: unknown }).getAttributeTypeMap === 'function'
    ? (c as unknown as ModelClass)
    : undefined;
}

function convert(data: unknown, type: string): unknown {
  if (data === undefined || data === null) return data;
  if (PRIMITIVES.has(type.toLowerCase())) return data;
  if (type.startsWith('Array<')) {
    if (!Array.isArray(data)) return data;
    const sub = type.slice(6, -1);
    return data.map((d) => convert(d, sub));
  }
  if (type.startsWith('{ [key: string]: ')) {
    const sub = type.slice('{ [key: string]: '.length, -'; }'.length);
    if (PRIMITIVES.has(sub.toLowerCase())) return data;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) out[k] = convert(v, sub);
    return out;
  }
  if (type === 'Date') return typeof data === 'string' ? new Date(data) : data;
  const cls = modelClass(type);
  if (!cls || typeof data !== 'object') return data;
  const instance = new cls() as Record<string, unknown>;
  const src = data as Record<string, unknown>;
  for (const attr of cls.getAttributeTypeMap()) {
    const v = src[attr.baseName];
    if (v !== undefined) instance[attr.name] = convert(v, attr.type);
  }
  return instance;
}

/** Raw JSON → the client-node model `typeName` (e.g. 'V1CertificateSigningRequest'). */
export function deserialize<T>(data: unknown, typeName: string): T {
  return convert(data, typeName) as T;
}

export const csrType = 'V1CertificateSigningRequest';
export const podType = 'V1Pod';
export const namespaceType = 'V1Namespace';

// Kubernetes objects as kubectl prints them in JSON/YAML: Dates back to RFC 3339 (second precision when the
// server sent seconds), undefined fields dropped, apiVersion/kind filled in for list items.

/** A deep copy of a client-node model as wire JSON. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    const outObj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) outObj[k] = toWire(v);
    return outObj;
  }
  return value;
}

/** Wire JSON of an object with apiVersion and kind first (list items come without them). */
export function withTypeMeta(obj: object, apiVersion: string, kind: string): Record<string, unknown> {
  const wire = toWire(obj) as Record<string, unknown>;
  const { apiVersion: _a, kind: _k, ...rest } = wire;
  return { apiVersion, kind, ...rest };
}

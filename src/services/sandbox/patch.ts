// PATCH for the sandbox: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge
// patch (lists with a merge key merge by it). Pure functions over plain JSON.
// STUB (interface fixed; the RBAC/PATCH engineer implements it).

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
 * Returns the patched copy of `target` (never mutates it).
 * `mergeKeys` maps a dotted list path (e.g. `status.conditions`, `spec.containers`) to its merge key
 * (`type`, `name`) for strategic merge patches; other lists are replaced.
 */
export function applyPatch(
  _type: PatchType,
  _target: unknown,
  _patch: unknown,
  _mergeKeys: Readonly<Record<string, string>> = {},
): unknown {
  throw new PatchError(415, 'PATCH is not implemented yet');
}

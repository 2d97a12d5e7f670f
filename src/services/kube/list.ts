// Reads for the kinds certdesk does not follow live: every page of a collection handed to the caller page by page
// (so nothing holds the whole list, e.g. 10,000 Secrets' data), and discovery of which version of a group serves a
// resource (an API that is not served is an answer, not an error).
import type { ClusterContext } from './api-types.js';
import { ok, withRetry } from './errors.js';
import { requestJson } from './transport.js';
import type { KubeResult } from './types.js';

export type RawObject = Record<string, unknown>;

interface RawList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: RawObject[];
}

export interface ListEachOptions {
  /** @default 500 */
  pageSize?: number;
  fieldSelector?: string;
  signal?: AbortSignal;
}

/**
 * Lists every page of `path` (e.g. /api/v1/secrets), calling `onPage` with each page's items before the next page is
 * asked for; `onPage` must not keep the items. Each page is retried on 429/5xx/timeouts; the first other error ends
 * the list. Resolves with the number of items and the list's resourceVersion.
 */
export async function listEach(
  ctx: ClusterContext,
  path: string,
  onPage: (items: RawObject[]) => void | Promise<void>,
  options: ListEachOptions = {},
): Promise<KubeResult<{ count: number; resourceVersion: string }>> {
  let cont: string | undefined;
  let count = 0;
  let resourceVersion = '';
  do {
    const token = cont;
    const page = await withRetry(
      () =>
        requestJson<RawList>(ctx, {
          path,
          query: { limit: options.pageSize ?? 500, continue: token, fieldSelector: options.fieldSelector },
          timeoutMs: 60_000,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      { context: ctx.name, ...(options.signal ? { signal: options.signal } : {}) },
    );
    if (!page.ok) return page;
    const items = page.value.items ?? [];
    count += items.length;
    resourceVersion = page.value.metadata?.resourceVersion ?? resourceVersion;
    cont = page.value.metadata?.continue || undefined;
    await onPage(items);
  } while (cont);
  return ok({ count, resourceVersion });
}

/** One object, or undefined when the server answers 404 (it does not exist, or its API is not served). */
export async function getIfPresent(ctx: ClusterContext, path: string): Promise<KubeResult<RawObject | undefined>> {
  const r = await withRetry(() => requestJson<RawObject>(ctx, { path }), { context: ctx.name });
  if (!r.ok && r.error.kind === 'not-found') return ok(undefined);
  return r;
}

interface ResourceListDoc {
  resources?: { name?: string }[];
}

interface GroupDoc {
  versions?: { version?: string }[];
  preferredVersion?: { version?: string };
}

/**
 * The version of `group` that serves `resource` (the preferred one first), or undefined when none does or the group
 * is not served at all (404): e.g. clustertrustbundles in certificates.k8s.io is served only where its feature
 * gate and API version are enabled.
 */
export async function servedVersion(
  ctx: ClusterContext,
  group: string,
  resource: string,
): Promise<KubeResult<string | undefined>> {
  const g = await getIfPresent(ctx, `/apis/${group}`);
  if (!g.ok) return g;
  const doc = g.value as GroupDoc | undefined;
  if (!doc) return ok(undefined);
  const preferred = doc.preferredVersion?.version;
  const versions = (doc.versions ?? []).map((v) => v.version ?? '').filter(Boolean);
  const ordered = preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
  for (const version of ordered) {
    const list = await getIfPresent(ctx, `/apis/${group}/${version}`);
    if (!list.ok) return list;
    const resources = (list.value as ResourceListDoc | undefined)?.resources ?? [];
    if (resources.some((r) => r.name === resource)) return ok(version);
  }
  return ok(undefined);
}

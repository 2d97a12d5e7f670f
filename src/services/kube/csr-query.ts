// Reads for `get csr` as kubectl does them: a paged list with label and field selectors passed to the server (it
// supports metadata.name and spec.signerName for CSRs), the list's resourceVersion, and a watch from it. Objects stay
// wire JSON (RFC 3339 strings, exactly as the server sent them): `get` prints them as they are, and a table of
// 1,000 CSRs does not pay for building client-node models it never needs.
import type { ClusterContext } from './api-types.js';
import { fail, KubeHttpError, ok, toKubeError, withRetry } from './errors.js';
import { requestJson, watchStream } from './transport.js';
import type { KubeResult } from './types.js';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** A CSR as the server sent it (timestamps are strings). */
export interface WireCsr {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: {
    signerName?: string;
    username?: string;
    usages?: string[];
    expirationSeconds?: number;
    [k: string]: unknown;
  };
  status?: { conditions?: { type: string; status?: string; [k: string]: unknown }[]; certificate?: string };
  [k: string]: unknown;
}

export interface CsrQuery {
  labelSelector?: string;
  fieldSelector?: string;
}

/** Every page of the list, and the resourceVersion a watch continues from. */
export async function queryCsrs(
  ctx: ClusterContext,
  query: CsrQuery = {},
): Promise<KubeResult<{ items: WireCsr[]; resourceVersion?: string }>> {
  return withRetry(
    async () => {
      const items: WireCsr[] = [];
      let cont: string | undefined;
      let resourceVersion: string | undefined;
      do {
        const page = await requestJson<{
          metadata?: { continue?: string; resourceVersion?: string };
          items?: WireCsr[];
        }>(ctx, {
          path: CSR_PATH,
          query: { limit: 500, continue: cont, labelSelector: query.labelSelector, fieldSelector: query.fieldSelector },
          timeoutMs: 60_000,
        });
        for (const item of page.items ?? []) items.push(item);
        resourceVersion = page.metadata?.resourceVersion;
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return { items, resourceVersion };
    },
    { context: ctx.name },
  );
}

/** kubectl's request for server-side printing: a Table, else plain JSON from a server that has none. */
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export interface CsrTable {
  /** Column names as the server names them (Name, Age, SignerName, …). */
  columns: string[];
  rows: unknown[][];
}

/**
 * The list as the server prints it (kubectl get's own request: `as=Table`, no objects). Rows are a fraction of the
 * objects' size (no spec.request). undefined when the server answered with objects instead of a Table.
 */
export async function queryCsrTable(
  ctx: ClusterContext,
  query: CsrQuery = {},
): Promise<KubeResult<CsrTable | undefined>> {
  return withRetry(
    async () => {
      const table: CsrTable = { columns: [], rows: [] };
      let cont: string | undefined;
      do {
        const page = await requestJson<{
          kind?: string;
          metadata?: { continue?: string };
          columnDefinitions?: { name?: string }[];
          rows?: { cells?: unknown[] }[];
        }>(ctx, {
          path: CSR_PATH,
          accept: TABLE_ACCEPT,
          query: {
            limit: 500,
            continue: cont,
            includeObject: 'None',
            labelSelector: query.labelSelector,
            fieldSelector: query.fieldSelector,
          },
          timeoutMs: 60_000,
        });
        if (page.kind !== 'Table') return undefined;
        if (!table.columns.length) table.columns = (page.columnDefinitions ?? []).map((c) => c.name ?? '');
        for (const row of page.rows ?? []) table.rows.push(row.cells ?? []);
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return table;
    },
    { context: ctx.name },
  );
}

/** One CSR by name, as the server sent it. */
export async function readCsr(ctx: ClusterContext, name: string): Promise<KubeResult<WireCsr>> {
  return withRetry(() => requestJson<WireCsr>(ctx, { path: `${CSR_PATH}/${encodeURIComponent(name)}` }), {
    context: ctx.name,
  });
}

export type CsrEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Watches CSRs from `resourceVersion` until the signal aborts; a watch the server ends is resumed from the last
 * resourceVersion seen. Resolves ok when aborted, or with the error that ended it (a 410 means: list again).
 */
export async function watchCsrs(
  ctx: ClusterContext,
  query: CsrQuery & { resourceVersion?: string; signal: AbortSignal },
  onEvent: (type: CsrEventType, csr: WireCsr) => void,
): Promise<KubeResult<void>> {
  let resourceVersion = query.resourceVersion;
  while (!query.signal.aborted) {
    try {
      await watchStream(
        ctx,
        {
          path: CSR_PATH,
          query: {
            labelSelector: query.labelSelector,
            fieldSelector: query.fieldSelector,
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: 300,
          },
          signal: query.signal,
        },
        (event) => {
          if (event.type === 'ERROR') {
            throw new KubeHttpError((event.object as { code?: number }).code ?? 500, event.object);
          }
          const rv = (event.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
          if (rv) resourceVersion = rv;
          if (event.type !== 'BOOKMARK') onEvent(event.type, event.object as WireCsr);
        },
      );
    } catch (err) {
      if (query.signal.aborted) break;
      return fail(toKubeError(err, ctx.name));
    }
  }
  return ok(undefined);
}

// Differential tests: the sandbox held against a real kube-apiserver 1.37 (issue 19 §3). A case is one row of data:
// method, path, identity, headers, body and normaliser tweaks. Each row is sent to both servers over HTTPS with a
// client certificate for the same identity (CN = user, O = groups), both answers are normalised (uid, timestamps,
// resourceVersion, generated names, managedFields, AGE cells, order where the API promises none) and compared.
// Rows of one file run in order against both servers, so a row may rely on what earlier rows created.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Sandbox, startSandbox } from '../../../src/services/sandbox/index.js';
import { type RealCluster, startRealCluster } from '../../helpers/real-cluster.js';

export interface Identity {
  user: string;
  groups?: string[];
}
export const ADMIN: Identity = { user: 'admin', groups: ['system:masters'] };
export const VIEWER: Identity = { user: 'viewer' };

export interface Answer {
  code: number;
  contentType: string;
  /** Parsed JSON (or, for watches, the list of parsed event lines); text when not JSON. */
  body: unknown;
}

export interface Case {
  name: string;
  method?: string;
  path: string;
  as?: Identity;
  headers?: Record<string, string>;
  /**
   * An object is sent as JSON (content type application/json unless headers say otherwise); a string as is. A
   * function gives each server its own body (e.g. with the UIDs that server gave a pod and its node).
   */
  body?: unknown | ((target: 'sandbox' | 'real') => unknown);
  /** Dotted paths removed from the normalised body before comparison (e.g. 'metadata.labels'). */
  omit?: string[];
  /** Text replacements applied to every string in the body (e.g. resourceVersion numbers in messages). */
  replace?: [RegExp, string][];
  /** Projection of the normalised answer that is compared (default: code and body). */
  pick?: (a: Answer) => unknown;
  /** Sort arrays of objects at these dotted paths by name (the API promises no order there). */
  sort?: string[];
  /** A difference documented in docs/sandbox.md "Known differences" (the reason): the test checks it is still there. */
  known?: string;
  /** Runs before the row is sent (e.g. expire the sandbox's watch history, as time does on a real server). */
  before?: (s: Servers) => void | Promise<void>;
  /** A watch: the stream is read until it ends or `untilEvents` events arrived or `ms` passed. */
  watch?: { untilEvents?: number; ms?: number };
}

export interface Servers {
  sandbox: Sandbox;
  real: RealCluster;
  send(target: 'sandbox' | 'real', c: Case): Promise<Answer>;
}

function addr(s: string): { host: string; port: number } {
  const u = new URL(s);
  return { host: u.hostname, port: Number(u.port) };
}

/** Starts the sandbox (with its built-in kubernetes.io signers, as the real controller-manager) and a real cluster. */
export async function startBoth(): Promise<Servers> {
  const [sandbox, real] = await Promise.all([
    startSandbox({ clusters: ['east'] }),
    startRealCluster(undefined, { clusters: ['east'] }),
  ]);
  const sbCluster = sandbox.cluster('east');
  const realCa = readFileSync(join(real.stateDir, 'east', 'ca.crt'), 'utf8');
  const send = (target: 'sandbox' | 'real', c: Case): Promise<Answer> => {
    const id = c.as ?? ADMIN;
    const cert =
      target === 'sandbox'
        ? sbCluster.clientCert(id.user, id.groups ?? [])
        : real.clientCert('east', id.user, id.groups ?? []);
    const where = target === 'sandbox' ? { host: '127.0.0.1', port: sbCluster.port } : addr(real.servers.east ?? '');
    let payload: Buffer | undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...c.headers };
    const body = typeof c.body === 'function' ? (c.body as (t: typeof target) => unknown)(target) : c.body;
    if (body !== undefined) {
      payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...where,
          method: c.method ?? 'GET',
          path: c.path,
          ca: target === 'sandbox' ? sbCluster.caCertPem : realCa,
          cert: cert.certPem,
          key: cert.keyPem,
          headers,
          agent: false,
        },
        (res) => {
          let text = '';
          let events = 0;
          const timer = c.watch ? setTimeout(() => res.destroy(), c.watch.ms ?? 5000) : undefined;
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (c.watch?.untilEvents) {
              events = text.split('\n').filter((l) => l.trim()).length;
              if (events >= c.watch.untilEvents) res.destroy();
            }
          });
          const done = () => {
            clearTimeout(timer);
            const contentType = String(res.headers['content-type'] ?? '');
            let body: unknown = text;
            if (c.watch) {
              body = text
                .split('\n')
                .filter((l) => l.trim())
                .map((l) => JSON.parse(l));
              if (c.watch.untilEvents) body = (body as unknown[]).slice(0, c.watch.untilEvents);
            } else {
              try {
                body = JSON.parse(text);
              } catch {}
            }
            resolve({ code: res.statusCode ?? 0, contentType, body });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', () => {});
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
  return { sandbox, real, send };
}

const TIME_FIELDS = new Set(['creationTimestamp', 'lastUpdateTime', 'lastTransitionTime', 'renewTime', 'acquireTime']);

/** The normalisation every case gets: server-made values replaced by placeholders. */
export function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'managedFields' || k === 'selfLink') continue;
      if (TIME_FIELDS.has(k) && typeof v === 'string') out[k] = '<time>';
      else if ((k === 'uid' || k === 'resourceVersion') && typeof v === 'string' && key !== 'spec') out[k] = `<${k}>`;
      else if (k === 'continue' && typeof v === 'string' && v) out[k] = '<continue>';
      else if (k === 'authentication.kubernetes.io/credential-id') out[k] = ['X509SHA256=<sha256>'];
      else out[k] = normalise(v, k);
    }
    if (key === 'metadata' && typeof o.generateName === 'string' && typeof o.name === 'string')
      out.name = `${o.generateName}<random>`;
    if (o.kind === 'Table' && Array.isArray(o.columnDefinitions) && Array.isArray(out.rows)) {
      const ages = (o.columnDefinitions as { name: string }[])
        .map((c, i) => (/^(age|created at)$/i.test(c.name) ? i : -1))
        .filter((i) => i >= 0);
      for (const row of out.rows as { cells?: unknown[]; object?: { metadata?: { name?: string } } }[]) {
        for (const i of ages) if (row.cells && row.cells[i] !== undefined) row.cells[i] = '<age>';
        const generated = row.object?.metadata?.name;
        if (row.cells && generated?.endsWith('<random>')) row.cells[0] = generated;
      }
    }
    return out;
  }
  return value;
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

function at(obj: unknown, path: string): { parent: Record<string, unknown>; key: string } | undefined {
  const parts = path.split('.');
  let cur = obj as Record<string, unknown> | undefined;
  for (const p of parts.slice(0, -1)) {
    const next = cur?.[p];
    if (!next || typeof next !== 'object') return undefined;
    cur = next as Record<string, unknown>;
  }
  return cur ? { parent: cur, key: parts.at(-1) as string } : undefined;
}

/** The normalised answer with a case's tweaks applied. */
export function prepared(c: Case, a: Answer): Answer {
  let body = normalise(a.body);
  if (c.replace) body = mapStrings(body, (s) => c.replace?.reduce((t, [re, to]) => t.replace(re, to), s) ?? s);
  for (const p of c.omit ?? []) {
    const spot = at(body, p);
    if (spot) delete spot.parent[spot.key];
  }
  for (const p of c.sort ?? []) {
    const spot = p === '' ? { parent: { '': body } as Record<string, unknown>, key: '' } : at(body, p);
    const arr = spot?.parent[spot.key];
    if (Array.isArray(arr)) arr.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  }
  return { ...a, body };
}

/** Runs the rows as tests (named by the case) against both servers, started once for the file. */
export function differential(
  cases: (Case | ((s: Servers) => Case))[],
  options: { setup?: (s: Servers) => Promise<void> } = {},
): {
  servers: () => Servers;
} {
  let servers: Servers | undefined;
  before(async () => {
    servers = await startBoth();
    await options.setup?.(servers);
  });
  after(async () => {
    await Promise.all([servers?.sandbox.stop(), servers?.real.stop()]);
  });
  const names = new Set<string>();
  for (const row of cases) {
    const label = typeof row === 'function' ? row.name || 'dynamic case' : row.name;
    const lazyName = typeof row === 'function' ? undefined : row.name;
    if (lazyName) {
      assert.ok(!names.has(lazyName), `duplicate case name ${lazyName}`);
      names.add(lazyName);
    }
    test(label, async () => {
      const s = servers as Servers;
      const c = typeof row === 'function' ? row(s) : row;
      await c.before?.(s);
      const [sb, real] = await Promise.all([s.send('sandbox', c), s.send('real', c)]);
      const pick = c.pick ?? ((a: Answer) => ({ code: a.code, body: a.body }));
      const got = pick(prepared(c, sb));
      const want = pick(prepared(c, real));
      const d = differences(got, want);
      if (c.known) {
        // A documented difference (docs/sandbox.md "Known differences"): it must still be there, or the mark goes.
        assert.ok(d.length > 0, `${c.name}: the sandbox now answers as the real server; remove its \`known\` mark`);
        return;
      }
      // DIFF_DUMP=dir writes both answers of every differing case there (to read the real server's exact text).
      if (d.length && process.env.DIFF_DUMP) {
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(process.env.DIFF_DUMP, { recursive: true });
        const file = join(process.env.DIFF_DUMP, `${c.name.replace(/[^\w.-]+/g, '_')}.json`);
        writeFileSync(file, JSON.stringify({ sandbox: sb, real }, null, 2));
      }
      if (d.length)
        assert.fail(
          `${c.method ?? 'GET'} ${c.path} as ${(c.as ?? ADMIN).user}: sandbox ≠ real\n${d.slice(0, 25).join('\n')}`,
        );
      assert.deepEqual(got, want);
    });
  }
  return { servers: () => servers as Servers };
}

/** Only the status code and, for a Status body, its reason, message, details and code. */
export function statusOf(a: Answer): unknown {
  const b = a.body as Record<string, unknown>;
  if (b && b.kind === 'Status') {
    const { reason, message, details, code, status } = b;
    return { http: a.code, reason, message, details, code, status };
  }
  return { http: a.code, kind: b?.kind };
}

/** Where two JSON values differ: `path: sandbox=… real=…` lines. */
export function differences(sb: unknown, real: unknown, path = '$'): string[] {
  if (JSON.stringify(sb) === JSON.stringify(real)) return [];
  const cut = (v: unknown) => {
    const t = JSON.stringify(v) ?? 'undefined';
    return t.length > 300 ? `${t.slice(0, 300)}…` : t;
  };
  if (sb && real && typeof sb === 'object' && typeof real === 'object' && Array.isArray(sb) === Array.isArray(real)) {
    const keys = new Set([...Object.keys(sb), ...Object.keys(real)]);
    const out: string[] = [];
    if (Array.isArray(sb) && sb.length !== (real as unknown[]).length)
      out.push(`${path}.length: sandbox=${sb.length} real=${(real as unknown[]).length}`);
    for (const k of keys)
      out.push(
        ...differences((sb as Record<string, unknown>)[k], (real as Record<string, unknown>)[k], `${path}.${k}`),
      );
    return out;
  }
  return [`${path}: sandbox=${cut(sb)} real=${cut(real)}`];
}

// The controller's metrics in the Prometheus text exposition format (version 0.0.4), written by hand:
// counters per signer, the pending gauge, the sign latency histogram and the leader gauge; plus the HTTP server
// that serves /metrics and /healthz.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error('A counter only goes up.');
    const k = keyOf(labels);
    const entry = this.values.get(k) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(k, entry);
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(keyOf(labels), { labels, value });
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels);
    const s = this.series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((le, i) => {
      if (value <= le) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
    this.series.set(k, s);
  }
  count(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.count ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((le, i) => {
        lines.push(`${this.name}_bucket${labelText(labels, ['le', formatNumber(le)])} ${counts[i] ?? 0}`);
      });
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatNumber(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join('\n');
  }
}

/** The controller's metrics. Signer names are label values; they are escaped, never trusted. */
export class ControllerMetrics {
  readonly approved = new Counter('certdesk_controller_approved_total', 'CSRs approved by the controller.');
  readonly denied = new Counter('certdesk_controller_denied_total', 'CSRs denied by the controller.');
  readonly issued = new Counter(
    'certdesk_controller_issued_total',
    'Certificates issued and uploaded by the controller.',
  );
  readonly failed = new Counter(
    'certdesk_controller_failed_total',
    'CSRs marked Failed because the signer refused them.',
  );
  readonly left = new Counter(
    'certdesk_controller_left_pending_total',
    'CSRs left pending for a person because of warnings.',
  );
  readonly errors = new Counter(
    'certdesk_controller_errors_total',
    'Writes that failed and were retried (by kind of error).',
  );
  readonly pending = new Gauge('certdesk_controller_pending', 'CSRs of this controller’s signers still pending.');
  readonly leader = new Gauge('certdesk_controller_leader', '1 when this replica holds the lease, else 0.');
  readonly signLatency = new Histogram(
    'certdesk_controller_sign_latency_seconds',
    'Time to issue one certificate: quorum read, signing and upload.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly timeToIssue = new Histogram(
    'certdesk_controller_time_to_issue_seconds',
    'Time from a CSR’s creation to its certificate upload by this replica.',
    [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  );

  private readonly all: Metric[] = [
    this.approved,
    this.denied,
    this.issued,
    this.failed,
    this.left,
    this.errors,
    this.pending,
    this.leader,
    this.signLatency,
    this.timeToIssue,
  ];

  /** The whole exposition, ending with a newline. */
  render(): string {
    return `${this.all.map((m) => m.render()).join('\n')}\n`;
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export type HealthCheck = () => { ok: boolean; reason?: string };

/**
 * Serves GET /metrics, GET /healthz and /livez (200 `ok` while `healthy()` is true, else 503 with its reason) and
 * GET /readyz (the same with `ready()`, default `healthy()`). Port 0 picks a free port.
 */
export async function startMetricsServer(
  metrics: ControllerMetrics,
  port: number,
  healthy: HealthCheck,
  host = '0.0.0.0',
  ready: HealthCheck = healthy,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
    } else if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      const h = path === '/readyz' ? ready() : healthy();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(h.ok ? 'ok\n' : `${h.reason ?? 'unhealthy'}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The opt-in DNS check (policy `dns.enabled`, off by default; the `dns-resolution` finding): DNS SANs are resolved
// in the background, never while a list is drawn. A finding asks for an answer and gets what is known now
// (`resolving` at first); the answer arrives later and `onResult` says so, so that the TUI makes its findings again.
// Commands and the controller `settle` the names of the request they decide on first (at most the timeout).
import { Resolver } from 'node:dns/promises';

export type DnsAnswer =
  | { state: 'resolving' }
  | { state: 'resolved'; addresses: string[] }
  | { state: 'failed'; why: string };

export interface DnsChecksOptions {
  /** Each lookup's deadline (A and AAAA in parallel, one try each). */
  timeoutMs: number;
  /** Resolvers to ask (`IP` or `IP:PORT`); default: the system's. */
  servers?: readonly string[];
  /** Answers older than this are looked up again (the old one is shown meanwhile). @default 300000 */
  ttlMs?: number;
  /** Called once per answer that arrives. */
  onResult?: () => void;
}

interface Entry {
  answer: DnsAnswer;
  at: number;
  done: Promise<void>;
}

const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);
/** Names looked up at once (a list of thousands of requests asks for all of theirs): the rest wait their turn. */
export const DNS_IN_FLIGHT = 16;

export class DnsChecks {
  /** Grows with each answer that arrives: findings made before are stale. */
  version = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly resolver: Resolver;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: DnsChecksOptions) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
    if (options.servers?.length) this.resolver.setServers([...options.servers]);
  }

  /** What is known of `name` now; starts a lookup when there is none (or the answer is old). */
  answer(name: string): DnsAnswer {
    const key = name.toLowerCase().replace(/\.$/, '');
    const entry = this.entries.get(key);
    const ttl = this.options.ttlMs ?? 300_000;
    if (entry && (entry.answer.state === 'resolving' || Date.now() - entry.at < ttl)) return entry.answer;
    const next: Entry = { answer: entry?.answer ?? { state: 'resolving' }, at: Date.now(), done: Promise.resolve() };
    next.done = this.limited(() => this.lookup(key)).then((answer) => {
      next.answer = answer;
      next.at = Date.now();
      this.version++;
      this.options.onResult?.();
    });
    this.entries.set(key, next);
    return next.answer;
  }

  /** Waits until every name has an answer (each lookup ends by its timeout). */
  async settle(names: readonly string[]): Promise<void> {
    for (const n of names) this.answer(n);
    await Promise.all(names.map((n) => this.entries.get(n.toLowerCase().replace(/\.$/, ''))?.done));
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= DNS_IN_FLIGHT) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async lookup(name: string): Promise<DnsAnswer> {
    const seconds = `${this.options.timeoutMs / 1000} s`;
    // c-ares's own timeout ends each query; this one holds even if it did not.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DnsAnswer>((resolve) => {
      timer = setTimeout(
        () => resolve({ state: 'failed', why: `no answer within ${seconds}` }),
        this.options.timeoutMs + 500,
      );
      timer.unref();
    });
    const asked = Promise.allSettled([this.resolver.resolve4(name), this.resolver.resolve6(name)]).then(
      ([v4, v6]): DnsAnswer => {
        const addresses = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
        if (addresses.length) return { state: 'resolved', addresses };
        const codes = [v4, v6].map((r) =>
          r.status === 'rejected' ? String((r.reason as { code?: string }).code) : '',
        );
        if (codes.every((c) => NO_RECORD.has(c) || c === '')) return { state: 'failed', why: 'no such name' };
        if (codes.includes('ETIMEOUT')) return { state: 'failed', why: `no answer within ${seconds}` };
        return { state: 'failed', why: `lookup failed (${codes.filter(Boolean).join(', ')})` };
      },
    );
    try {
      return await Promise.race([asked, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

// An in-memory Lease store with the API server's optimistic concurrency (resourceVersion, 409 on stale writes),
// for fast unit tests of the elector's timing logic. Integration tests use the sandbox over HTTPS instead.
import type { V1Lease } from '@kubernetes/client-node';
import { type LeaseApi, LeaseConflict } from '../../../src/services/controller/leader-election.js';

export class MemoryLeases {
  private readonly leases = new Map<string, V1Lease>();
  private rv = 1;
  writes = 0;

  peek(namespace: string, name: string): V1Lease | undefined {
    return this.leases.get(`${namespace}/${name}`);
  }

  /** A LeaseApi for one candidate; `down()` makes its calls fail like an unreachable server. */
  client(): LeaseApi & { down(on: boolean): void; slow(ms: number): void } {
    let isDown = false;
    let delayMs = 0;
    const guard = async () => {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (isDown) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    };
    const copy = (l: V1Lease): V1Lease => JSON.parse(JSON.stringify(l)) as V1Lease;
    return {
      down: (on) => {
        isDown = on;
      },
      slow: (ms) => {
        delayMs = ms;
      },
      get: async (namespace, name) => {
        await guard();
        const l = this.leases.get(`${namespace}/${name}`);
        return l ? copy(l) : undefined;
      },
      create: async (namespace, lease) => {
        await guard();
        const key = `${namespace}/${lease.metadata?.name}`;
        if (this.leases.has(key)) throw new LeaseConflict('already exists');
        const stored = copy(lease);
        stored.metadata = { ...stored.metadata, resourceVersion: String(++this.rv) };
        this.leases.set(key, stored);
        this.writes++;
        return copy(stored);
      },
      replace: async (namespace, name, lease) => {
        await guard();
        const key = `${namespace}/${name}`;
        const cur = this.leases.get(key);
        if (!cur) throw new Error('not found');
        const rv = lease.metadata?.resourceVersion;
        if (rv && rv !== cur.metadata?.resourceVersion) throw new LeaseConflict();
        const stored = copy(lease);
        stored.metadata = { ...stored.metadata, resourceVersion: String(++this.rv) };
        this.leases.set(key, stored);
        this.writes++;
        return copy(stored);
      },
    };
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

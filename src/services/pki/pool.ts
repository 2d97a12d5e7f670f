// Bulk issuing on every core: a small pool of worker threads, each holding the same CA (the key travels as a
// KeyObject, never as PEM text), running issueCertificate in parallel. This module is also the workers' entry point
// (the worker loads the file this code is bundled in): import it lazily (`await import(...)`) from entry points.
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { issueCertificate } from './issue.js';
import { type DecodedCertificate, type IssueRequest, type LoadedCa, PkiError, type PkiErrorCode } from './types.js';

interface Job {
  id: number;
  csr: string;
  request: IssueRequest;
  now: number;
}

type Reply =
  | { id: number; pem: string; certificate: DecodedCertificate }
  | { id: number; error: { code: PkiErrorCode | 'internal'; message: string } };

interface WorkerInit {
  certdeskIssueWorker: true;
  ca: LoadedCa;
}

export interface IssuerPool {
  /** Same contract as issueCertificate (the CSR as PEM, DER-in-base64 or spec.request text). */
  issue(csr: string, request: IssueRequest, now?: Date): Promise<{ pem: string; certificate: DecodedCertificate }>;
  readonly size: number;
  /** Workers still running (a worker that died hands its jobs back to this thread). */
  liveWorkers(): number;
  close(): Promise<void>;
}

/**
 * Starts `size` workers (default: the number of cores) that issue with `ca`. Use it for bulk signing; a single
 * request is faster with issueCertificate directly (its signature already runs on the threadpool).
 */
export async function createIssuerPool(ca: LoadedCa, opts: { size?: number } = {}): Promise<IssuerPool> {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const init: WorkerInit = {
    certdeskIssueWorker: true,
    ca: { certificate: ca.certificate, certPem: ca.certPem, chain: ca.chain, privateKey: ca.privateKey },
  };
  type Result = { pem: string; certificate: DecodedCertificate };
  interface Pending {
    job: Job;
    worker: number;
    resolve: (v: Result) => void;
    reject: (e: Error) => void;
  }
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let closed = false;
  const workers: Array<Worker | undefined> = [];
  const load: number[] = [];
  // A job whose worker died is issued in this thread instead: no request is ever lost.
  const runHere = (p: Pending) =>
    issueCertificate(p.job.csr, ca, p.job.request, new Date(p.job.now)).then(p.resolve, p.reject);
  const onReply = (index: number) => (reply: Reply) => {
    load[index] = (load[index] ?? 1) - 1;
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (!('error' in reply)) p.resolve({ pem: reply.pem, certificate: reply.certificate });
    else if (reply.error.code === 'internal') void runHere(p);
    else p.reject(new PkiError(reply.error.code, reply.error.message));
  };
  const onGone = (index: number) => () => {
    workers[index] = undefined;
    if (closed) return;
    for (const [id, p] of pending) {
      if (p.worker !== index) continue;
      pending.delete(id);
      void runHere(p);
    }
  };
  const self = new URL(import.meta.url);
  // Workers load the file this code lives in. Never when that file is the program's entry (the worker would run the
  // program again) nor from inside a worker (no pools of pools): then this thread issues everything itself.
  const entry = process.argv[1] ? safeRealpath(process.argv[1]) : undefined;
  const usable = isMainThread && entry !== safeRealpath(fileURLToPath(self));
  await Promise.all(
    Array.from({ length: usable ? size : 0 }, (_, index) => {
      // From TypeScript sources (tests, `node --import tsx`), the worker registers tsx before loading this module.
      const w = self.pathname.endsWith('.ts')
        ? new Worker(
            `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(self.href)}))`,
            { eval: true, workerData: init },
          )
        : new Worker(self, { workerData: init });
      workers.push(w);
      load.push(0);
      w.on('message', onReply(index));
      w.on('error', onGone(index));
      w.on('exit', onGone(index));
      return new Promise<void>((resolve) => {
        w.once('online', () => resolve());
        w.once('error', () => resolve());
      });
    }),
  );
  return {
    size,
    liveWorkers: () => workers.filter(Boolean).length,
    issue(csr, request, now = new Date()) {
      const job: Job = { id: nextId++, csr, request, now: now.getTime() };
      // The least busy live worker takes the job; with none left, this thread issues it.
      let index = -1;
      for (let i = 0; i < workers.length; i++) {
        if (workers[i] && (index < 0 || (load[i] ?? 0) < (load[index] ?? 0))) index = i;
      }
      if (index < 0 || closed) return issueCertificate(csr, ca, request, now);
      load[index] = (load[index] ?? 0) + 1;
      return new Promise<Result>((resolve, reject) => {
        pending.set(job.id, { job, worker: index, resolve, reject });
        workers[index]!.postMessage(job);
      });
    },
    async close() {
      closed = true;
      const left = [...pending.values()];
      pending.clear();
      await Promise.all(workers.map((w) => w?.terminate()));
      await Promise.all(left.map(runHere));
    },
  };
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  port.on('message', async (job: Job) => {
    let reply: Reply;
    try {
      const { pem, certificate } = await issueCertificate(job.csr, init.ca, job.request, new Date(job.now));
      reply = { id: job.id, pem, certificate };
    } catch (err) {
      reply =
        err instanceof PkiError
          ? { id: job.id, error: { code: err.code, message: err.message } }
          : { id: job.id, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
    }
    port.postMessage(reply);
  });
}

const data = workerData as Partial<WorkerInit> | null;
if (!isMainThread && data?.certdeskIssueWorker && data.ca) runWorker(data as WorkerInit);

// Bulk issuing on every core: a small pool of worker threads, each holding the same CA (the key travels as a
// KeyObject, never as PEM text), running issueCertificate in parallel. This module is also the workers' entry point
// (the worker loads the file this code is bundled in): import it lazily (`await import(...)`) from entry points.
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { decodeCsrDerChecked, rawPartsOf } from './decode.js';
import { issueCertificate, issueCertificateInThisThread } from './issue.js';
import {
  type DecodedCertificate,
  type DecodedCsr,
  type IssueRequest,
  type LoadedCa,
  PkiError,
  type PkiErrorCode,
} from './types.js';

/**
 * A request as text (decoded and verified in the worker), or as the DER of a CSR this thread already decoded and
 * verified with its proof of possession (the worker decodes it without verifying the signature again).
 */
interface Job {
  id: number;
  csr: string | { der: Uint8Array; proofOfPossession: DecodedCsr['proofOfPossession'] };
  request: IssueRequest;
  now: number;
}

type Reply =
  | { id: number; pem: string; certificate: DecodedCertificate }
  | { id: number; error: { code: PkiErrorCode | 'internal'; message: string } };

/** At most this many jobs per message to a worker. */
const MAX_BATCH = 32;

interface WorkerInit {
  certdeskIssueWorker: true;
  ca: LoadedCa;
}

export interface IssuerPool {
  /**
   * Same contract as issueCertificate: the CSR as PEM, DER-in-base64 or spec.request text, or a DecodedCsr from
   * decodeCsr (its signature is not verified again).
   */
  issue(
    csr: string | DecodedCsr,
    request: IssueRequest,
    now?: Date,
  ): Promise<{ pem: string; certificate: DecodedCertificate }>;
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
    input: string | DecodedCsr;
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
    issueCertificate(p.input, ca, p.job.request, new Date(p.job.now)).then(p.resolve, p.reject);
  // Jobs go out and results come back in batches: one message (and one wake-up of each thread) per batch rather
  // than per certificate, which on a busy machine costs more CPU than issuing itself.
  const outbox: Array<{ jobs: Job[]; transfer: ArrayBuffer[] }> = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    outbox.forEach((box, index) => {
      if (!box.jobs.length) return;
      const w = workers[index];
      const jobs = box.jobs;
      const transfer = box.transfer;
      box.jobs = [];
      box.transfer = [];
      if (w) w.postMessage(jobs, transfer);
      else for (const job of jobs) onGoneJob(job.id);
    });
  };
  const onGoneJob = (id: number) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    void runHere(p);
  };
  const onReply = (index: number) => (replies: Reply[]) => {
    load[index] = Math.max(0, (load[index] ?? 0) - replies.length);
    for (const reply of replies) {
      const p = pending.get(reply.id);
      if (!p) continue;
      pending.delete(reply.id);
      if (!('error' in reply)) p.resolve({ pem: reply.pem, certificate: reply.certificate });
      else if (reply.error.code === 'internal') void runHere(p);
      else p.reject(new PkiError(reply.error.code, reply.error.message));
    }
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
      outbox.push({ jobs: [], transfer: [] });
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
      // The least busy live worker takes the job; with none left, this thread issues it.
      let index = -1;
      for (let i = 0; i < workers.length; i++) {
        if (workers[i] && (index < 0 || (load[i] ?? 0) < (load[index] ?? 0))) index = i;
      }
      if (index < 0 || closed) return issueCertificate(csr, ca, request, now);
      const der = typeof csr === 'string' ? undefined : rawPartsOf(csr)?.der;
      if (typeof csr !== 'string' && !der) return issueCertificate(csr, ca, request, now);
      // A copy of just the CSR's bytes, moved (not cloned) to the worker.
      const bytes = der?.slice();
      const job: Job = {
        id: nextId++,
        csr: typeof csr === 'string' ? csr : { der: bytes!, proofOfPossession: csr.proofOfPossession },
        request,
        now: now.getTime(),
      };
      load[index] = (load[index] ?? 0) + 1;
      return new Promise<Result>((resolve, reject) => {
        pending.set(job.id, { job, input: csr, worker: index, resolve, reject });
        const box = outbox[index]!;
        box.jobs.push(job);
        if (bytes) box.transfer.push(bytes.buffer as ArrayBuffer);
        if (box.jobs.length >= MAX_BATCH) flush();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
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
  port.on('message', async (jobs: Job[]) => {
    const replies: Reply[] = [];
    for (const job of jobs) {
      try {
        const csr =
          typeof job.csr === 'string' ? job.csr : await decodeCsrDerChecked(job.csr.der, job.csr.proofOfPossession);
        const { pem, certificate } = await issueCertificateInThisThread(csr, init.ca, job.request, new Date(job.now));
        replies.push({ id: job.id, pem, certificate });
      } catch (err) {
        replies.push(
          err instanceof PkiError
            ? { id: job.id, error: { code: err.code, message: err.message } }
            : { id: job.id, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } },
        );
      }
    }
    port.postMessage(replies);
  });
}

const data = workerData as Partial<WorkerInit> | null;
if (!isMainThread && data?.certdeskIssueWorker && data.ca) runWorker(data as WorkerInit);

// Bulk issuing on every core without loading the event loop: a small pool of worker threads, each holding the same CA
// (the key travels as a KeyObject, never as PEM text) and signing synchronously in its own thread. The calling thread
// makes kube-controller-manager's checks (planIssue: cheap, cached per CA and usage list) and packs what each TBS needs
// (subject, SPKI, public key bits, SANs, validity) into one transferred buffer per batch; the worker writes the TBS,
// signs it and packs PEM, serial and SKI into one transferred buffer back. The certificate's description is built on
// the calling thread when first asked for. This module is also the workers' entry point (the worker loads the file
// this code is bundled in): import it lazily (`await import(...)`) from entry points.
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  certificatePemLength,
  certificateStart,
  finishLeaf,
  type LeafRequest,
  TBS_AT,
  writeCertificatePem,
  writeLeafTbs,
} from './cert-writer.js';
import { rawPartsOf } from './decode.js';
import { createNativeIssuerPool } from './native-pool.js';
import {
  type CaSigner,
  cacheOfCa,
  cacheOfUsages,
  IDS_BYTES,
  type IssuePlan,
  issueCertificate,
  issueCertificateInThisThread,
  issuedResult,
  planIssue,
  RSA_HASHES,
  signatureOf,
  signHere,
  type UsageCache,
} from './issue.js';
import {
  type DecodedCertificate,
  type DecodedCsr,
  type IssueRequest,
  type LoadedCa,
  PkiError,
  type PkiErrorCode,
} from './types.js';

/** At most this many jobs per message to a worker (a worker with two batches queued never waits for the next one). */
const MAX_BATCH = 32;

// A job, packed (little-endian): u16 usage list id, u8 RSA hash index, u8 flags (1 = empty subject), f64 NotBefore ms,
// f64 NotAfter ms, u32 lengths of the subject, SPKI, public key bits and SAN elements, then those bytes.
const JOB_HEADER = 36;
// Results: first one entry per job — u8 status (0 = issued, 1 = error: the next entry of `errors`), the 16 serial and
// 20 SKI bytes, u32 PEM length — then the PEMs' ASCII bytes, in job order.
const RESULT_ENTRY = 1 + IDS_BYTES + 4;

interface TextJob {
  csr: string;
  request: IssueRequest;
  now: number;
}
type WireError = { code: PkiErrorCode | 'internal'; message: string };
type TextResult = { pem: string; certificate: DecodedCertificate } | { error: WireError };

interface JobsMessage {
  seq: number;
  /** Packed planned jobs (`count` of them). */
  jobs: ArrayBuffer;
  count: number;
  /** Usage lists the worker has not seen yet, by id. */
  usages?: Array<[number, string[]]>;
  /** Requests as text: decoded, verified and checked in the worker. */
  texts?: TextJob[];
}

interface ResultsMessage {
  seq: number;
  results: ArrayBuffer;
  errors: WireError[];
  texts?: TextResult[];
}

interface WorkerInit {
  certdeskIssueWorker: true;
  ca: LoadedCa;
}

export interface IssuerPool {
  /**
   * Same contract as issueCertificate: the CSR as PEM, DER-in-base64 or spec.request text (decoded and verified in a
   * worker), or a DecodedCsr from decodeCsr (its signature is not verified again). `certificate` is described on
   * first access.
   */
  issue(
    csr: string | DecodedCsr,
    request: IssueRequest,
    now?: Date,
  ): Promise<{ pem: string; certificate: DecodedCertificate }>;
  /**
   * How it signs: 'native' — the native signer on libuv's threadpool, no worker threads (when `npm install` built it);
   * 'workers' — worker threads signing with node:crypto.
   */
  readonly engine: 'native' | 'workers';
  /** Worker threads (workers), or the most batches on the threadpool at once (native). */
  readonly size: number;
  /** Workers still running (a worker that died hands its jobs back to this thread); native: `size` until closed. */
  liveWorkers(): number;
  /** Stops taking jobs for the workers (later ones are issued in this thread), waits for those under way, stops them. */
  close(): Promise<void>;
}

type Result = { pem: string; certificate: DecodedCertificate };
interface Pending {
  input: string | DecodedCsr;
  request: IssueRequest;
  /** The time of issuing, in ms. */
  now: number;
  plan: IssuePlan | undefined;
  resolve: (v: Result) => void;
  reject: (e: Error) => void;
}
interface Box {
  /** The jobs packed so far (its own ArrayBuffer, from byte 0), and a DataView of it. */
  bytes: Uint8Array<ArrayBuffer>;
  view: DataView;
  pos: number;
  items: Pending[];
  texts: Pending[];
  usages: Array<[number, string[]]>;
}
interface InFlight {
  worker: number;
  items: Pending[];
  texts: Pending[];
}

const workersOfPool = new WeakMap<IssuerPool, ReadonlyArray<Worker | undefined>>();
/** For tests: the pool's worker threads (undefined once gone). */
export function poolWorkersForTests(pool: IssuerPool): ReadonlyArray<Worker | undefined> {
  return workersOfPool.get(pool) ?? [];
}

/**
 * Starts `size` workers (default: the number of cores) that issue with `ca`. Use it for bulk signing; a single
 * request is as fast with issueCertificate directly (its signature already runs on the threadpool).
 */
export async function createIssuerPool(
  ca: LoadedCa,
  opts: { size?: number; engine?: 'native' | 'workers' } = {},
): Promise<IssuerPool> {
  const size = Math.max(1, opts.size ?? availableParallelism());
  if (opts.engine !== 'workers') {
    const native = createNativeIssuerPool(ca, size);
    if (native) return native;
  }
  const init: WorkerInit = {
    certdeskIssueWorker: true,
    ca: { certificate: ca.certificate, certPem: ca.certPem, chain: ca.chain, privateKey: ca.privateKey },
  };
  const workers: Array<Worker | undefined> = [];
  const load: number[] = [];
  const boxes: Box[] = [];
  /** Per worker, which usage list ids it was sent. */
  const knows: boolean[][] = [];
  const usageIds = new WeakMap<UsageCache, number>();
  let nextUsageId = 0;
  const inflight = new Map<number, InFlight>();
  let nextSeq = 0;
  let closed = false;
  /** Jobs taken for the workers and not settled yet (close() waits for them). */
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const settledOne = () => {
    if (--outstanding === 0 && drained) drained();
  };
  // A job whose worker died (or failed in a way that is not the request's fault) is issued in this thread instead:
  // no request is ever lost.
  const runHere = (p: Pending) =>
    issueCertificate(p.input, ca, p.request, new Date(p.now)).then(p.resolve, p.reject).finally(settledOne);

  // Jobs go out and results come back in batches: one message (and one wake-up of each thread) per batch.
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    for (let index = 0; index < boxes.length; index++) flushBox(index);
  };
  const flushBox = (index: number) => {
    const box = boxes[index]!;
    if (!box.items.length && !box.texts.length) return;
    const { items, texts, usages } = box;
    // One copy of exactly the bytes packed, moved to the worker; box.bytes is reused.
    const jobs = (box.bytes.buffer as ArrayBuffer).slice(0, box.pos);
    box.items = [];
    box.texts = [];
    box.usages = [];
    box.pos = 0;
    const w = workers[index];
    if (!w) {
      for (const p of items) void runHere(p);
      for (const p of texts) void runHere(p);
      return;
    }
    const seq = nextSeq++;
    inflight.set(seq, { worker: index, items, texts });
    const message: JobsMessage = { seq, jobs, count: items.length };
    if (usages.length) message.usages = usages;
    if (texts.length) message.texts = texts.map((p) => ({ csr: p.input as string, request: p.request, now: p.now }));
    w.postMessage(message, [jobs]);
  };
  const schedule = (index: number) => {
    const box = boxes[index]!;
    if (box.items.length + box.texts.length >= MAX_BATCH) flushBox(index);
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const onResults = (index: number) => (msg: ResultsMessage) => {
    const f = inflight.get(msg.seq);
    if (!f) return;
    inflight.delete(msg.seq);
    load[index] = Math.max(0, (load[index] ?? 0) - f.items.length - f.texts.length);
    const buf = Buffer.from(msg.results);
    // One copy of the entries (the ids the descriptions need), shared by the batch's results.
    const entries = Uint8Array.prototype.slice.call(buf, 0, f.items.length * RESULT_ENTRY);
    let p = entries.length;
    let e = 0;
    for (let i = 0; i < f.items.length; i++) {
      const item = f.items[i]!;
      const at = i * RESULT_ENTRY;
      if (entries[at] === 0) {
        const len = buf.readUInt32LE(at + 1 + IDS_BYTES);
        const pem = buf.toString('latin1', p, p + len);
        p += len;
        item.resolve(issuedResult(item.plan!, pem, entries, at + 1));
        settledOne();
      } else {
        const err = msg.errors[e++]!;
        if (err.code === 'internal') void runHere(item);
        else {
          item.reject(new PkiError(err.code, err.message));
          settledOne();
        }
      }
    }
    f.texts.forEach((item, i) => {
      const r = msg.texts?.[i];
      if (!r || ('error' in r && r.error.code === 'internal')) void runHere(item);
      else {
        if ('error' in r) item.reject(new PkiError(r.error.code as PkiErrorCode, r.error.message));
        else item.resolve(r);
        settledOne();
      }
    });
  };
  const onGone = (index: number) => () => {
    workers[index] = undefined;
    for (const [seq, f] of inflight) {
      if (f.worker !== index) continue;
      inflight.delete(seq);
      for (const p of f.items) void runHere(p);
      for (const p of f.texts) void runHere(p);
    }
    flushBox(index);
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
      knows.push([]);
      const bytes = new Uint8Array(16 * 1024);
      boxes.push({ bytes, view: new DataView(bytes.buffer), pos: 0, items: [], texts: [], usages: [] });
      w.on('message', onResults(index));
      w.on('error', onGone(index));
      w.on('exit', onGone(index));
      return new Promise<void>((resolve) => {
        w.once('online', () => resolve());
        w.once('error', () => resolve());
      });
    }),
  );

  const pool: IssuerPool = {
    engine: 'workers',
    size,
    liveWorkers: () => workers.filter(Boolean).length,
    issue(csr, request, nowDate) {
      // The least busy live worker takes the job; with none left, this thread issues it.
      let index = -1;
      for (let i = 0; i < workers.length; i++) {
        if (workers[i] && (index < 0 || (load[i] ?? 0) < (load[index] ?? 0))) index = i;
      }
      if (index < 0 || closed) return issueCertificate(csr, ca, request, nowDate);
      const now = nowDate ? nowDate.getTime() : Date.now();
      let plan: IssuePlan | undefined;
      if (typeof csr !== 'string') {
        const raw = rawPartsOf(csr);
        // A DecodedCsr that lost its raw parts (a copy): issueCertificate decodes its PEM again.
        if (!raw) return issueCertificate(csr, ca, request, new Date(now));
        try {
          plan = planIssue(csr, raw, ca, request, now);
        } catch (err) {
          return Promise.reject(err);
        }
      }
      load[index] = (load[index] ?? 0) + 1;
      outstanding++;
      return new Promise<Result>((resolve, reject) => {
        const pending: Pending = { input: csr, request, now, plan, resolve, reject };
        const box = boxes[index]!;
        if (plan) {
          let id = usageIds.get(plan.usage);
          if (id === undefined) {
            id = nextUsageId++;
            usageIds.set(plan.usage, id);
          }
          const told = knows[index]!;
          if (!told[id]) {
            told[id] = true;
            box.usages.push([id, request.usages.slice()]);
          }
          packJob(box, id, plan);
          box.items.push(pending);
        } else box.texts.push(pending);
        schedule(index);
      });
    },
    async close() {
      closed = true;
      flush();
      if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
      await Promise.all(workers.map((w) => w?.terminate()));
    },
  };
  workersOfPool.set(pool, workers);
  return pool;
}

function packJob(box: Box, usageId: number, plan: IssuePlan): void {
  const { raw } = plan;
  const sanLength = plan.sans.length;
  const need = JOB_HEADER + raw.subject.length + raw.spki.length + raw.publicKeyBits.length + sanLength;
  if (box.pos + need > box.bytes.length) {
    const bigger = new Uint8Array(Math.max(box.bytes.length * 2, box.pos + need));
    bigger.set(box.bytes.subarray(0, box.pos));
    box.bytes = bigger;
    box.view = new DataView(bigger.buffer);
  }
  const b = box.bytes;
  const v = box.view;
  let p = box.pos;
  v.setUint16(p, usageId, true);
  b[p + 2] = plan.hashIndex;
  b[p + 3] = plan.sanCritical ? 1 : 0;
  v.setFloat64(p + 4, plan.notBeforeMs, true);
  v.setFloat64(p + 12, plan.notAfterMs, true);
  v.setUint32(p + 20, raw.subject.length, true);
  v.setUint32(p + 24, raw.spki.length, true);
  v.setUint32(p + 28, raw.publicKeyBits.length, true);
  v.setUint32(p + 32, sanLength, true);
  p += JOB_HEADER;
  b.set(raw.subject, p);
  p += raw.subject.length;
  b.set(raw.spki, p);
  p += raw.spki.length;
  b.set(raw.publicKeyBits, p);
  p += raw.publicKeyBits.length;
  b.set(plan.sans, p);
  box.pos = p + sanLength;
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const wireError = (err: unknown): WireError =>
  err instanceof PkiError
    ? { code: err.code, message: err.message }
    : { code: 'internal', message: err instanceof Error ? err.message : String(err) };

function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  const ca = init.ca;
  const cache = cacheOfCa(ca);
  const signers: Array<CaSigner | undefined> = [];
  const usageExtensions: Array<Uint8Array | undefined> = [];
  // A plain Uint8Array (its views are cheaper than a Buffer's), grown by the writer if a request needs more.
  const leaf = { buf: new Uint8Array(16 * 1024) };
  let out = Buffer.allocUnsafeSlow(64 * 1024);
  port.on('message', (msg: JobsMessage) => {
    if (msg.usages) for (const [id, list] of msg.usages) usageExtensions[id] = cacheOfUsages(list).extensions;
    const jobs = new Uint8Array(msg.jobs);
    const view = new DataView(msg.jobs);
    const errors: WireError[] = [];
    let p = 0;
    let o = msg.count * RESULT_ENTRY;
    if (o > out.length) out = Buffer.allocUnsafeSlow(Math.max(out.length * 2, o));
    for (let i = 0; i < msg.count; i++) {
      const entry = i * RESULT_ENTRY;
      const usageId = view.getUint16(p, true);
      const hashIndex = jobs[p + 2]!;
      const subjectEnd = p + JOB_HEADER + view.getUint32(p + 20, true);
      const spkiEnd = subjectEnd + view.getUint32(p + 24, true);
      const bitsEnd = spkiEnd + view.getUint32(p + 28, true);
      const sansEnd = bitsEnd + view.getUint32(p + 32, true);
      const req: LeafRequest = {
        notBeforeMs: view.getFloat64(p + 4, true),
        notAfterMs: view.getFloat64(p + 12, true),
        subject: jobs.subarray(p + JOB_HEADER, subjectEnd),
        spki: jobs.subarray(subjectEnd, spkiEnd),
        publicKeyBits: jobs.subarray(spkiEnd, bitsEnd),
        sans: jobs.subarray(bitsEnd, sansEnd),
        sanCritical: jobs[p + 3] === 1,
      };
      p = sansEnd;
      try {
        const extensions = usageExtensions[usageId];
        if (!extensions) throw new Error(`usage list ${usageId} was never sent`);
        signers[hashIndex] ??= signatureOf(ca, cache, RSA_HASHES[hashIndex]);
        const sig = signers[hashIndex]!;
        // The serial and SKI go straight into this job's entry.
        const tbsEnd = writeLeafTbs(leaf, sig, extensions, req, out, entry + 1);
        const signature = signHere(sig.hash, leaf.buf.subarray(TBS_AT, tbsEnd), ca.privateKey);
        const end = finishLeaf(leaf, tbsEnd, sig.algorithmIdentifier, signature);
        const start = certificateStart(end);
        const need = certificatePemLength(end - start);
        if (o + need > out.length) {
          const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, o + need));
          bigger.set(out.subarray(0, o));
          out = bigger;
        }
        const pemEnd = writeCertificatePem(out, o, leaf.buf, start, end);
        out[entry] = 0;
        out.writeUInt32LE(pemEnd - o, entry + 1 + IDS_BYTES);
        o = pemEnd;
      } catch (err) {
        out[entry] = 1;
        errors.push(wireError(err));
      }
    }
    // One copy of exactly the bytes written, moved to the calling thread; `out` is reused for the next batch.
    const results = new Uint8Array(o);
    results.set(out.subarray(0, o));
    const reply = (texts?: TextResult[]) => {
      const message: ResultsMessage = { seq: msg.seq, results: results.buffer, errors };
      if (texts) message.texts = texts;
      port.postMessage(message, [results.buffer]);
    };
    if (!msg.texts?.length) return reply();
    void Promise.all(
      msg.texts.map((t) =>
        issueCertificateInThisThread(t.csr, ca, t.request, new Date(t.now)).then(
          (r): TextResult => ({ pem: r.pem, certificate: r.certificate }),
          (err): TextResult => ({ error: wireError(err) }),
        ),
      ),
    ).then(reply);
  });
}

const data = workerData as Partial<WorkerInit> | null;
if (!isMainThread && data?.certdeskIssueWorker && data.ca) runWorker(data as WorkerInit);

// The issuer pool when the native signer is there (native.ts): no worker threads. The calling thread makes the checks
// (planIssue) and writes each TBS straight into a batch buffer, with room around it; the addon's workers take whole
// batches on libuv's threadpool (one worker per core, each starting the next queued batch as one ends; see
// NativeSigner) and, per certificate, hash the key bits into the SKI, sign, wrap the TBS into the Certificate in place
// and write the PEM. Back on the event loop each result is a string cut from the batch's PEM bytes.
import { availableParallelism } from 'node:os';
import { certificatePemLength, type LeafBuffer, TBS_AT, writeLeafTbs } from './cert-writer.js';
import { type RawParts, rawPartsOf } from './decode.js';
import {
  type CaSigner,
  cacheOfCa,
  decodedWithParts,
  type IssuePlan,
  issueCertificateWithNodeCrypto,
  issuedResult,
  planIssue,
  signatureOf,
} from './issue.js';
import {
  CERT_HEAD_ROOM,
  CERTIFY_JOB_WORDS,
  type CertifyBatch,
  MAX_BATCH,
  type NativeSigner,
  nativeSignerFor,
  signFailed,
} from './native.js';
import type { IssuerPool } from './pool.js';
import type { DecodedCertificate, DecodedCsr, IssueRequest, LoadedCa } from './types.js';

type Result = { pem: string; certificate: DecodedCertificate };

/** Room kept free in a batch buffer before writing the next TBS (a larger TBS grows the buffer). */
const ROOM = 16 * 1024;
/** A finished batch's data is kept for the next one only up to this size (a batch with huge CSRs grows it). */
const MAX_SPARE_DATA = 16 * ROOM;
const EMPTY = new Uint8Array(0);

type Spare = Pick<CertifyBatch, 'data' | 'jobs' | 'lengths' | 'pem'>;

interface Batch extends CertifyBatch {
  signer: NativeSigner;
  sig: CaSigner;
  pos: number;
  pemBytes: number;
  plans: IssuePlan[];
  resolves: Array<(r: Result) => void>;
  rejects: Array<(e: Error) => void>;
}

if (CERT_HEAD_ROOM !== TBS_AT) throw new Error('the leaf writer and the native signer disagree on the header room');

/**
 * An issuer pool signing through the native signer, or undefined when that signer is not available for this CA's
 * key (not built, turned off, an EdDSA key).
 */
export function createNativeIssuerPool(
  ca: LoadedCa,
  size: number,
  signerFor: (sig: CaSigner) => NativeSigner | undefined = (sig) => nativeSignerFor(ca.privateKey, sig.hash),
): IssuerPool | undefined {
  if (!signerFor(signatureOf(ca, cacheOfCa(ca), 'SHA-256'))) return undefined;
  const stats = { maxInFlight: 0 };
  let open: Batch | undefined;
  let flushScheduled = false;
  let closed = false;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  // The leaf writer's target, reused: its buf is the open batch's data; skiAt and bitsAt come back in it.
  const leaf: LeafBuffer & { skiAt: number; bitsAt: number } = {
    buf: new Uint8Array(0),
    deferSki: true,
    skiAt: 0,
    bitsAt: 0,
  };
  const settled = (n: number) => {
    outstanding -= n;
    if (outstanding === 0 && drained) drained();
  };

  // Buffers of finished batches, reused by the next ones: a batch's data, jobs, lengths and PEM bytes are free once
  // its results are strings (allocating and zeroing ~120 KB per batch was ~5% of the event loop's time).
  const spare: Spare[] = [];
  const newBatch = (signer: NativeSigner, sig: CaSigner): Batch => {
    const reuse = spare.pop();
    return {
      signer,
      sig,
      data: reuse?.data ?? Buffer.allocUnsafeSlow(4 * ROOM),
      pos: 0,
      jobs: reuse?.jobs ?? new Uint32Array(CERTIFY_JOB_WORDS * MAX_BATCH),
      count: 0,
      algorithmIdentifier: sig.algorithmIdentifier,
      pem: reuse?.pem ?? EMPTY,
      pemBytes: 0,
      lengths: reuse?.lengths ?? new Uint32Array(MAX_BATCH),
      plans: [],
      resolves: [],
      rejects: [],
    };
  };

  // At most `size` + 1 of this pool's batches in the signer at once: `size` signing and one waiting, so that a worker
  // finishing a batch starts the next at once. Batches are cut to keep that many in flight when fewer than
  // (size + 1) × MAX_BATCH requests are outstanding.
  let inFlight = 0;
  const waiting: Batch[] = [];
  const send = () => {
    flushScheduled = false;
    const b = open;
    if (!b) return;
    open = undefined;
    // Every byte the results read is written by the addon: no need to zero a new buffer.
    if (b.pem.length < b.pemBytes) b.pem = Buffer.allocUnsafeSlow(b.pemBytes);
    if (inFlight <= size) start(b);
    else waiting.push(b);
  };
  const start = (b: Batch) => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    b.signer.certify(b, (err) => {
      inFlight--;
      const next = waiting.shift();
      if (next) start(next);
      finish(b, err);
    });
  };

  const finish = (b: Batch, err: Error | null) => {
    const text = Buffer.from(b.pem.buffer, b.pem.byteOffset, b.pem.byteLength);
    for (let i = 0; i < b.count; i++) {
      const length = b.lengths[i]!;
      if (err || length === 0) {
        b.rejects[i]!(err ?? signFailed());
        continue;
      }
      const pemAt = b.jobs[i * CERTIFY_JOB_WORDS + 5]!;
      b.resolves[i]!(issuedResult(b.plans[i]!, text.toString('latin1', pemAt, pemAt + length), undefined, 0));
    }
    if (spare.length <= size && b.data.length <= MAX_SPARE_DATA) {
      spare.push({ data: b.data, jobs: b.jobs, lengths: b.lengths, pem: b.pem });
    }
    settled(b.count);
  };

  /** Writes a planned job's TBS into the open batch (a new batch when the signature algorithm differs). */
  const add = (plan: IssuePlan, signer: NativeSigner, resolve: (r: Result) => void, reject: (e: Error) => void) => {
    if (open && open.sig !== plan.sig) send();
    open ??= newBatch(signer, plan.sig);
    const b = open;
    if (b.data.length - b.pos < ROOM) grow(b, b.data.length * 2);
    const at = b.pos;
    leaf.buf = b.data;
    const i = b.count;
    const tbsEnd = writeLeafTbs(leaf, plan.sig, plan.usage.extensions, plan, undefined, 0, at);
    if (leaf.buf !== b.data) {
      // A TBS larger than the room: the writer made a bigger buffer with this TBS at the same place.
      leaf.buf.set(b.data.subarray(0, at));
      b.data = leaf.buf;
    }
    // Behind the TBS: the signature's AlgorithmIdentifier, a BIT STRING header and the largest signature.
    const end = tbsEnd + plan.sig.algorithmIdentifier.length + 5 + signer.slot;
    const pemRoom = certificatePemLength(end - at);
    const jobs = b.jobs;
    const j = i * CERTIFY_JOB_WORDS;
    jobs[j] = at + TBS_AT;
    jobs[j + 1] = tbsEnd;
    jobs[j + 2] = leaf.bitsAt;
    jobs[j + 3] = leaf.bitsAt + plan.publicKeyBits.length;
    jobs[j + 4] = leaf.skiAt;
    jobs[j + 5] = b.pemBytes;
    jobs[j + 6] = pemRoom;
    b.count++;
    b.pemBytes += pemRoom;
    b.plans.push(plan);
    b.resolves.push(resolve);
    b.rejects.push(reject);
    b.pos = end;
    if (b.count >= Math.min(MAX_BATCH, Math.ceil(outstanding / (size + 1)))) send();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(send);
    }
  };

  const enqueue = (decoded: DecodedCsr, raw: RawParts, request: IssueRequest, now: number): Promise<Result> => {
    const plan = planIssue(decoded, raw, ca, request, now);
    const signer = signerFor(plan.sig);
    if (!signer) return issueCertificateWithNodeCrypto(decoded, ca, request, new Date(now));
    outstanding++;
    return new Promise<Result>((resolve, reject) => add(plan, signer, resolve, reject));
  };

  const pool: IssuerPool = {
    engine: 'native',
    size,
    liveWorkers: () => (closed ? 0 : size),
    issue(csr, request, nowDate) {
      const now = nowDate ? nowDate.getTime() : Date.now();
      if (closed) return issueCertificateWithNodeCrypto(csr, ca, request, new Date(now));
      if (typeof csr !== 'string') {
        const raw = rawPartsOf(csr);
        if (raw) {
          try {
            return enqueue(csr, raw, request, now);
          } catch (err) {
            return Promise.reject(err);
          }
        }
      }
      return decodedWithParts(csr).then(({ decoded, raw }) => enqueue(decoded, raw, request, now));
    },
    async close() {
      closed = true;
      send();
      if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
    },
  };
  statsOfPool.set(pool, stats);
  return pool;
}

const statsOfPool = new WeakMap<IssuerPool, { maxInFlight: number }>();
/** For tests: the most batches a native pool had on the threadpool at once. */
export const nativePoolStatsForTests = (pool: IssuerPool) => statsOfPool.get(pool);

function grow(b: Batch, size: number): void {
  const bigger = new Uint8Array(size);
  bigger.set(b.data.subarray(0, b.pos));
  b.data = bigger;
}

const issuers = new WeakMap<LoadedCa, IssuerPool | null>();

/**
 * The native issuer issueCertificate uses for `ca` (made once per LoadedCa; it holds no threads, so it is never
 * closed), or undefined without the native signer.
 */
export function nativeIssuerOf(ca: LoadedCa): IssuerPool | undefined {
  let issuer = issuers.get(ca);
  if (issuer === undefined) {
    issuer = createNativeIssuerPool(ca, availableParallelism()) ?? null;
    issuers.set(ca, issuer);
  }
  return issuer ?? undefined;
}

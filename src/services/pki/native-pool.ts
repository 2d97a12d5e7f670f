// The issuer pool when the native signer is there (native.ts): no worker threads. The calling thread makes the checks
// (planIssue) and writes each TBS straight into a batch buffer, with room behind it for the signature; the addon signs
// whole batches on libuv's threadpool (one batch per core at a time); when a batch comes back, each certificate is
// finished in place and its PEM written into one reused buffer. Per certificate the event loop does only what
// node:crypto's issuer does too, minus the signature: about 3 µs.
import {
  certificatePemLength,
  certificateStart,
  finishLeaf,
  TBS_AT,
  writeCertificatePem,
  writeLeafTbs,
} from './cert-writer.js';
import { rawPartsOf } from './decode.js';
import {
  type CaSigner,
  cacheOfCa,
  decodedWithParts,
  IDS_BYTES,
  type IssuePlan,
  issueCertificate,
  issuedResult,
  leafRequestOf,
  planIssue,
  signatureOf,
} from './issue.js';
import { MAX_BATCH, type NativeSigner, nativeSignerFor, signFailed } from './native.js';
import type { IssuerPool } from './pool.js';
import type { DecodedCertificate, DecodedCsr, IssueRequest, LoadedCa } from './types.js';

type Result = { pem: string; certificate: DecodedCertificate };

/** Room kept free in a batch buffer before writing the next TBS (a larger TBS grows the buffer). */
const ROOM = 16 * 1024;

interface Batch {
  signer: NativeSigner;
  sig: CaSigner;
  data: Uint8Array;
  pos: number;
  ranges: Uint32Array;
  count: number;
  sigs: Uint8Array;
  lengths: Uint32Array;
  /** Serial and SKI bytes of every job (the results keep views of it: a new one per batch). */
  ids: Uint8Array;
  /** Per job: where its leaf starts in `data`, where its TBS ends (from that start), its plan and its promise. */
  starts: number[];
  tbsEnds: number[];
  plans: IssuePlan[];
  resolves: Array<(r: Result) => void>;
  rejects: Array<(e: Error) => void>;
}

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
  let open: Batch | undefined;
  let flushScheduled = false;
  let closed = false;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  let out = Buffer.allocUnsafeSlow(8 * 1024);
  const settledOne = (n = 1) => {
    outstanding -= n;
    if (outstanding === 0 && drained) drained();
  };

  const newBatch = (signer: NativeSigner, sig: CaSigner): Batch => ({
    signer,
    sig,
    data: new Uint8Array(4 * ROOM),
    pos: 0,
    ranges: new Uint32Array(2 * MAX_BATCH),
    count: 0,
    sigs: new Uint8Array(MAX_BATCH * signer.slot),
    lengths: new Uint32Array(MAX_BATCH),
    ids: new Uint8Array(MAX_BATCH * IDS_BYTES),
    starts: [],
    tbsEnds: [],
    plans: [],
    resolves: [],
    rejects: [],
  });

  const send = () => {
    flushScheduled = false;
    const b = open;
    if (!b) return;
    open = undefined;
    b.signer.run(b, (err) => finish(b, err));
  };

  const finish = (b: Batch, err: Error | null) => {
    const slot = b.signer.slot;
    for (let i = 0; i < b.count; i++) {
      const length = b.lengths[i]!;
      if (err || length === 0) {
        b.rejects[i]!(err ?? signFailed());
        continue;
      }
      const leaf = { buf: b.data.subarray(b.starts[i]) };
      const end = finishLeaf(
        leaf,
        b.tbsEnds[i]!,
        b.sig.algorithmIdentifier,
        b.sigs.subarray(i * slot, i * slot + length),
      );
      const start = certificateStart(end);
      const need = certificatePemLength(end - start);
      if (need > out.length) out = Buffer.allocUnsafeSlow(Math.max(out.length * 2, need));
      const pemEnd = writeCertificatePem(out, 0, leaf.buf, start, end);
      b.resolves[i]!(issuedResult(b.plans[i]!, out.toString('latin1', 0, pemEnd), b.ids, i * IDS_BYTES));
    }
    settledOne(b.count);
  };

  /** Writes a planned job's TBS into the open batch (a new batch when the signature algorithm differs). */
  const add = (plan: IssuePlan, signer: NativeSigner, resolve: (r: Result) => void, reject: (e: Error) => void) => {
    if (open && open.sig !== plan.sig) send();
    open ??= newBatch(signer, plan.sig);
    const b = open;
    if (b.data.length - b.pos < ROOM) grow(b, b.data.length * 2);
    const view = b.data.subarray(b.pos);
    const leaf = { buf: view };
    const tbsEnd = writeLeafTbs(leaf, plan.sig, plan.usage.extensions, leafRequestOf(plan), b.ids, b.count * IDS_BYTES);
    if (leaf.buf !== view) {
      // A TBS larger than the room: the writer made its own buffer; bring it into the batch.
      grow(b, b.pos + leaf.buf.length + ROOM);
      b.data.set(leaf.buf, b.pos);
    }
    const i = b.count++;
    b.ranges[2 * i] = b.pos + TBS_AT;
    b.ranges[2 * i + 1] = b.pos + tbsEnd;
    b.starts.push(b.pos);
    b.tbsEnds.push(tbsEnd);
    b.plans.push(plan);
    b.resolves.push(resolve);
    b.rejects.push(reject);
    // Room behind the TBS for the signature's AlgorithmIdentifier and BIT STRING: finished in place.
    b.pos += tbsEnd + plan.sig.algorithmIdentifier.length + 8 + signer.slot;
    if (b.count === MAX_BATCH) send();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(send);
    }
  };

  const enqueue = (
    decoded: DecodedCsr,
    raw: NonNullable<ReturnType<typeof rawPartsOf>>,
    request: IssueRequest,
    now: number,
  ): Promise<Result> => {
    const plan = planIssue(decoded, raw, ca, request, now);
    const signer = signerFor(plan.sig);
    if (!signer) return issueCertificate(decoded, ca, request, new Date(now));
    outstanding++;
    return new Promise<Result>((resolve, reject) => add(plan, signer, resolve, reject));
  };

  return {
    engine: 'native',
    size,
    liveWorkers: () => (closed ? 0 : size),
    issue(csr, request, nowDate) {
      const now = nowDate ? nowDate.getTime() : Date.now();
      if (closed) return issueCertificate(csr, ca, request, new Date(now));
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
}

function grow(b: Batch, size: number): void {
  const bigger = new Uint8Array(size);
  bigger.set(b.data.subarray(0, b.pos));
  b.data = bigger;
}

// The optional native signer (native/certdesk_sign.c): RSA and ECDSA signatures over batches of TBSCertificates with
// the OpenSSL Node itself links, on libuv's threadpool (each signing thread keeps a key context per signer and its
// digests fetched once); for certificates it also writes the SKI, wraps the TBS into the Certificate and encodes the
// PEM. `npm install` builds it when a C compiler is there (scripts/build-native.mjs); without it, or with
// CERTDESK_NATIVE_SIGNER=off, everything signs with node:crypto. Every check and every byte of the TBS stay in
// TypeScript.
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PkiError } from './types.js';

interface Addon {
  createSigner(pkcs8: Uint8Array, workers?: number): object;
  maxSignatureSize(signer: object): number;
  /** Workers queued on the threadpool for this signer so far (a worker that handed its thread back is replaced). */
  signerStats(signer: object): { workersStarted: number };
  signBatch(
    signer: object,
    hash: number,
    data: Uint8Array,
    ranges: Uint32Array,
    count: number,
    sigs: Uint8Array,
    slot: number,
    lengths: Uint32Array,
    callback: (err: Error | null) => void,
  ): void;
  certifyBatch(
    signer: object,
    hash: number,
    data: Uint8Array,
    jobs: Uint32Array,
    count: number,
    algorithmIdentifier: Uint8Array,
    pem: Uint8Array,
    lengths: Uint32Array,
    callback: (err: Error | null) => void,
  ): void;
}

/** Where `npm install` puts the addon, relative to the package root. */
export const ADDON_PATH = join('native', 'build', 'Release', 'certdesk_sign.node');

let loaded: { addon: Addon | undefined; why: string } | undefined;

/** The package root: the nearest folder above this module (src/services/pki, dist or dist/chunks) with native/. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** The addon, or why it is not used (not built, turned off, failed to load). Loaded once. */
export function nativeSignerStatus(): { addon: Addon | undefined; why: string } {
  loaded ??= loadAddon();
  return loaded;
}

function loadAddon(): { addon: Addon | undefined; why: string } {
  const setting = process.env.CERTDESK_NATIVE_SIGNER;
  if (setting === 'off' || setting === '0') return { addon: undefined, why: 'turned off (CERTDESK_NATIVE_SIGNER=off)' };
  const root = packageRoot();
  const file = root ? join(root, ADDON_PATH) : undefined;
  if (!file || !existsSync(file)) {
    return { addon: undefined, why: 'not built (npm install builds it when a C compiler is present)' };
  }
  try {
    return { addon: createRequire(import.meta.url)(file) as Addon, why: `loaded from ${file}` };
  } catch (err) {
    return {
      addon: undefined,
      why: `failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
}

/** node:crypto digest names → the addon's hash index. */
const HASH_INDEX: Record<string, number> = { sha256: 0, sha384: 1, sha512: 2 };

/** Signatures per batch handed to the addon. */
export const MAX_BATCH = 64;

/**
 * A batch of TBS byte ranges to sign: `ranges` holds (start, end) pairs into `data`; the addon writes signature i at
 * sigs[i * slot] and its length to lengths[i] (0: that one failed). The arrays must not change until `done` runs.
 */
export interface SignBatch {
  data: Uint8Array;
  ranges: Uint32Array;
  count: number;
  sigs: Uint8Array;
  lengths: Uint32Array;
}

/** certifyBatch's words per job (native/certdesk_sign.c): TBS start, end; key bits start, end; SKI; PEM at, room. */
export const CERTIFY_JOB_WORDS = 7;
/** Bytes the addon needs free in front of each TBS for the Certificate's header. */
export const CERT_HEAD_ROOM = 6;

/**
 * A batch of TBSCertificates to finish: the addon writes each SKI (SHA-1 of the key bits, when asked), signs, wraps
 * the TBS into the Certificate in place and writes its PEM to `pem`; lengths[i] is PEM i's length (0: it failed).
 */
export interface CertifyBatch {
  data: Uint8Array;
  jobs: Uint32Array;
  count: number;
  algorithmIdentifier: Uint8Array;
  pem: Uint8Array;
  lengths: Uint32Array;
}

export const signFailed = (): PkiError =>
  new PkiError('bad-key', 'The CA key failed to sign; check that it is intact.');

/**
 * Threadpool threads one signer's workers may hold at once: one per core, but never every thread of libuv's pool
 * (UV_THREADPOOL_SIZE, 4 by default), so that file and DNS work always has one.
 */
export function signingWorkers(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool - 1));
}

/**
 * Signs with one CA key and digest through the addon. The addon queues the batches and runs them on at most
 * signingWorkers() threadpool threads, each taking the next batch the moment one ends (when signing workers of all
 * signers hold every threadpool thread, each hands its thread back every 20 ms so that other threadpool work runs in
 * between).
 */
export class NativeSigner {
  readonly #addon: Addon;
  readonly #handle: object;
  readonly #hash: number;
  /** Bytes reserved per signature (the key's largest). */
  readonly slot: number;

  constructor(addon: Addon, handle: object, hash: number) {
    this.#addon = addon;
    this.#handle = handle;
    this.#hash = hash;
    this.slot = addon.maxSignatureSize(handle);
  }

  /** Signs a batch; `done` runs on the event loop once every signature of it is written (or the batch failed). */
  run(batch: SignBatch, done: (err: Error | null) => void): void {
    const { data, ranges, count, sigs, lengths } = batch;
    this.#call(done, (finished) =>
      this.#addon.signBatch(this.#handle, this.#hash, data, ranges, count, sigs, this.slot, lengths, finished),
    );
  }

  /** Finishes a batch of certificates (see CertifyBatch); `done` runs on the event loop once all are written. */
  certify(batch: CertifyBatch, done: (err: Error | null) => void): void {
    const { data, jobs, count, algorithmIdentifier, pem, lengths } = batch;
    this.#call(done, (finished) =>
      this.#addon.certifyBatch(
        this.#handle,
        this.#hash,
        data,
        jobs,
        count,
        algorithmIdentifier,
        pem,
        lengths,
        finished,
      ),
    );
  }

  #call(done: (err: Error | null) => void, call: (finished: (err: Error | null) => void) => void): void {
    // A TypeError is the addon refusing arguments (a bug here, not the key's fault): passed on as it is.
    const finished = (err: Error | null) => done(err ? (err instanceof TypeError ? err : signFailed()) : null);
    try {
      call(finished);
    } catch (err) {
      finished(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

const signers = new WeakMap<KeyObject, Map<string, NativeSigner | null>>();

/**
 * The native signer for `key` and `hash` (node:crypto's digest name), made once per key and digest; undefined when
 * the addon is not available or does not sign this kind of key (EdDSA). The key crosses into the addon once, as
 * PKCS#8 DER wiped right after.
 */
export function nativeSignerFor(key: KeyObject, hash: string | null): NativeSigner | undefined {
  if (hash === null) return undefined;
  let byHash = signers.get(key);
  if (!byHash) {
    byHash = new Map();
    signers.set(key, byHash);
  }
  let signer = byHash.get(hash);
  if (signer === undefined) {
    signer = makeSigner(key, hash) ?? null;
    byHash.set(hash, signer);
  }
  return signer ?? undefined;
}

function makeSigner(key: KeyObject, hash: string): NativeSigner | undefined {
  const { addon } = nativeSignerStatus();
  const hashIndex = HASH_INDEX[hash];
  if (!addon || hashIndex === undefined) return undefined;
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') return undefined;
  const der = key.export({ format: 'der', type: 'pkcs8' });
  try {
    return new NativeSigner(addon, addon.createSigner(der, signingWorkers()), hashIndex);
  } catch {
    return undefined;
  } finally {
    der.fill(0);
  }
}

// The native signer (native/certdesk_sign.c): its signatures verify with the CA's public key (node:crypto and openssl),
// batches larger than the in-flight limit all settle, bad batches fail as errors instead of crashing, and with it
// turned off everything signs with node:crypto. CI builds it (`npm ci` runs the install script) and sets
// CERTDESK_REQUIRE_NATIVE=1, so a native signer that silently stopped building fails here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import {
  createCa,
  decodeCsr,
  generateKeyAndCsr,
  issueCertificate,
  loadCaFromPem,
} from '../../../src/services/pki/index.js';
import { MAX_BATCH, type NativeSigner, nativeSignerFor, nativeSignerStatus } from '../../../src/services/pki/native.js';
import { openssl, put, tempDir } from './helpers.js';

const execFileAsync = promisify(execFile);

/** A module of src/services/pki as a quoted URL, for the scripts run in a child process. */
const pkiModule = (name: string) => JSON.stringify(new URL(`../../../src/services/pki/${name}`, import.meta.url).href);

/** Runs an ES module script in a fresh node (with tsx) from the repository root; its stdout. */
async function runScript(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<string> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, ...env }, cwd: fileURLToPath(new URL('../../..', import.meta.url)), maxBuffer: 1 << 20 },
  );
  return stdout;
}
/**
 * What the child scripts driving the addon directly share: `addon`, `signerOf(privateKey, workers)`, and
 * `signBatch(signer, hash, data, count, len)` for `count` messages of `len` bytes lying one after another in `data`,
 * resolving to `message(i)` and `signature(i)`.
 */
const ADDON_HELPERS = `
    const { nativeSignerStatus } = await import(${pkiModule('native.ts')});
    const addon = nativeSignerStatus().addon;
    const signerOf = (privateKey, workers) => addon.createSigner(privateKey.export({ format: 'der', type: 'pkcs8' }), workers);
    const signBatch = (signer, hash, data, count, len) => {
      const slot = addon.maxSignatureSize(signer);
      const ranges = new Uint32Array(2 * count).map((_, i) => (i >> 1) * len + (i & 1) * len);
      const sigs = new Uint8Array(count * slot);
      const lengths = new Uint32Array(count);
      return new Promise((resolve, reject) => addon.signBatch(signer, hash, data, ranges, count, sigs, slot, lengths,
        (err) => (err ? reject(err) : resolve({
          message: (i) => data.subarray(i * len, i * len + len),
          signature: (i) => sigs.subarray(i * slot, i * slot + lengths[i]),
        }))));
    };
`;
const status = nativeSignerStatus();
const skip = status.addon ? false : `native signer ${status.why}`;

test(
  'the native signer is built where it is required (CI)',
  { skip: process.env.CERTDESK_REQUIRE_NATIVE === '1' ? false : 'CERTDESK_REQUIRE_NATIVE is not set' },
  () => assert.ok(status.addon, `native signer ${status.why}`),
);

/** Signs every message with signBatch, MAX_BATCH per batch, all batches started at once. */
function signAll(signer: NativeSigner, messages: Uint8Array[]): Promise<Uint8Array[]> {
  const batches: Promise<Uint8Array[]>[] = [];
  for (let from = 0; from < messages.length; from += MAX_BATCH) {
    const part = messages.slice(from, from + MAX_BATCH);
    const data = new Uint8Array(part.reduce((n, m) => n + m.length, 0));
    const ranges = new Uint32Array(2 * part.length);
    let pos = 0;
    part.forEach((m, i) => {
      data.set(m, pos);
      ranges[2 * i] = pos;
      pos += m.length;
      ranges[2 * i + 1] = pos;
    });
    const sigs = new Uint8Array(part.length * signer.slot);
    const lengths = new Uint32Array(part.length);
    batches.push(
      new Promise((resolve, reject) =>
        signer.run({ data, ranges, count: part.length, sigs, lengths }, (err) =>
          err
            ? reject(err)
            : resolve(part.map((_, i) => sigs.subarray(i * signer.slot, i * signer.slot + lengths[i]!))),
        ),
      ),
    );
  }
  return Promise.all(batches).then((all) => all.flat());
}

const KEYS = [
  { label: 'P-256', make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), hash: 'sha256' },
  { label: 'P-384', make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), hash: 'sha384' },
  { label: 'P-521', make: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }), hash: 'sha512' },
  { label: 'RSA-2048 SHA-256', make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), hash: 'sha256' },
  { label: 'RSA-2048 SHA-512', make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), hash: 'sha512' },
];

for (const k of KEYS) {
  test(`native ${k.label} signatures over more batches than run at once verify with node:crypto`, {
    skip,
  }, async () => {
    const { privateKey, publicKey } = k.make();
    const signer = nativeSignerFor(privateKey, k.hash);
    assert.ok(signer);
    assert.equal(nativeSignerFor(privateKey, k.hash), signer, 'one signer per key and digest');
    // Several batches' worth at once (more than one per core is in flight), each message different, some empty.
    const messages = Array.from({ length: MAX_BATCH * 5 + 3 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 0 : 300 + i, i));
    const sigs = await signAll(signer, messages);
    assert.equal(sigs.length, messages.length);
    for (const [i, m] of messages.entries()) assert.ok(verify(k.hash, m, publicKey, sigs[i]!), `signature ${i}`);
    assert.ok(!verify(k.hash, Buffer.from('other'), publicKey, sigs[1]!));
  });
}

test('a bad batch fails as an error, the addon refuses keys it cannot read', { skip }, async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = nativeSignerFor(privateKey, 'sha256')!;
  const data = new Uint8Array(10);
  const outside = {
    data,
    ranges: Uint32Array.of(0, 11),
    count: 1,
    sigs: new Uint8Array(signer.slot),
    lengths: new Uint32Array(1),
  };
  const err = await new Promise<Error | null>((resolve) => signer.run(outside, resolve));
  assert.match(String(err?.message), /a range lies outside the data/);
  // certifyBatch: a TBS without room in front for the Certificate's header, and one whose tail passes the buffer.
  const certify = (jobs: number[]) =>
    new Promise<Error | null>((resolve) =>
      signer.certify(
        {
          data: new Uint8Array(4096),
          jobs: Uint32Array.from(jobs),
          count: 1,
          algorithmIdentifier: Uint8Array.of(0x30, 0x0a),
          pem: new Uint8Array(4096),
          lengths: new Uint32Array(1),
        },
        resolve,
      ),
    );
  assert.match(String((await certify([2, 100, 10, 20, 50, 0, 2000]))?.message), /outside its buffers/);
  assert.match(String((await certify([6, 4090, 10, 20, 50, 0, 2000]))?.message), /outside its buffers/);
  assert.match(String((await certify([6, 100, 10, 20, 50, 3000, 2000]))?.message), /outside its buffers/);
  assert.equal(await certify([6, 100, 10, 20, 50, 0, 2000]), null, 'a job inside its buffers runs');
  const addon = status.addon!;
  assert.throws(() => addon.createSigner(new Uint8Array(64).fill(7)), /could not be read/);
  const ed = generateKeyPairSync('ed25519').privateKey;
  assert.throws(() => addon.createSigner(ed.export({ format: 'der', type: 'pkcs8' })), /only RSA and EC/);
  assert.equal(nativeSignerFor(ed, null), undefined, 'EdDSA keys are not signed natively');
  // Still usable after the refusals.
  const [ok] = await signAll(signer, [new Uint8Array(5)]);
  assert.ok(ok && ok.length > 0);
});

test('every threadpool thread signs with the same key: 24 threads at once, more than get a copy of their own', {
  skip,
}, async () => {
  // Each signing thread copies the key into its own OpenSSL library context, up to 16 threads; the rest sign with the
  // shared key. 24 batches started at once on a signer allowed 24 workers, on a 24-thread pool, take both paths;
  // every signature must verify with the one public key.
  const script = `
    const { generateKeyPairSync, verify } = await import('node:crypto');
    ${ADDON_HELPERS}
    const results = [];
    for (const [type, options, hash] of [['ec', { namedCurve: 'P-256' }, 0], ['rsa', { modulusLength: 2048 }, 2]]) {
      const { privateKey, publicKey } = generateKeyPairSync(type, options);
      const signer = signerOf(privateKey, 24);
      const count = 32;
      const batches = Array.from({ length: 24 }, (_, b) =>
        signBatch(signer, hash, new Uint8Array(count * 100).map((_, i) => (i * 7 + b) & 255), count, 100));
      let good = 0;
      for (const batch of await Promise.all(batches)) {
        for (let i = 0; i < count; i++) {
          if (verify(hash ? 'sha512' : 'sha256', batch.message(i), publicKey, batch.signature(i))) good++;
        }
      }
      results.push(good);
    }
    process.stdout.write(JSON.stringify(results));
  `;
  const stdout = await runScript(script, { UV_THREADPOOL_SIZE: '24' });
  assert.deepEqual(JSON.parse(stdout), [24 * 32, 24 * 32], 'every P-256 and RSA signature verifies');
});

test('each signer signs with its own key on threads it shares with others; collected signers free what they kept', {
  skip,
}, async () => {
  // A signing thread keeps a key context per signer for its later batches. Two live signers with different keys take
  // turns on the same threads, in rounds, and each round's signers are collected before the next: every signature
  // must verify with its own signer's public key (a context kept per thread rather than per signer signs with the
  // wrong key; one freed with its signer and still used crashes).
  const script = `
    const { generateKeyPairSync, verify } = await import('node:crypto');
    ${ADDON_HELPERS}
    const count = 16;
    const signAll = (signer, hash, rounds, seed) => Promise.all(Array.from({ length: rounds }, (_, b) =>
      signBatch(signer, hash, new Uint8Array(count * 40).map((_, i) => (i * 11 + b + seed) & 255), count, 40)));
    let good = 0, bad = 0;
    for (let round = 0; round < 12; round++) {
      const keys = [
        [generateKeyPairSync('ec', { namedCurve: 'P-256' }), 0, 'sha256'],
        [round % 2 ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' }), 2, 'sha512'],
      ];
      const signers = keys.map(([k]) => signerOf(k.privateKey, 2));
      const done = await Promise.all(signers.map((s, i) => signAll(s, keys[i][1], 4, i)));
      done.forEach((batches, k) => {
        for (const batch of batches) {
          for (let i = 0; i < count; i++) {
            const ok = verify(keys[k][2], batch.message(i), keys[k][0].publicKey, batch.signature(i));
            ok ? good++ : bad++;
          }
        }
      });
      signers.length = 0;
      globalThis.gc();
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(JSON.stringify({ good, bad }));
  `;
  const stdout = await runScript(script, { UV_THREADPOOL_SIZE: '3' }, ['--expose-gc']);
  assert.deepEqual(JSON.parse(stdout), { good: 12 * 2 * 4 * 16, bad: 0 });
});

test('a signing backlog leaves threadpool work its turn: a file stat on a 1-thread pool ends before the backlog', {
  skip,
}, async () => {
  // One threadpool thread, held by the signer's worker; the worker hands it back every 20 ms, so a file stat (one
  // threadpool job) queued behind a backlog of RSA batches finishes long before the last batch.
  const script = `
    const { generateKeyPairSync } = await import('node:crypto');
    const { stat } = await import('node:fs/promises');
    const { nativeSignerFor, signingWorkers } = await import(${pkiModule('native.ts')});
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer = nativeSignerFor(privateKey, 'sha256');
    const order = [];
    const count = 32;
    const batches = Array.from({ length: 16 }, (_, b) => new Promise((resolve, reject) => {
      const data = new Uint8Array(count * 50).fill(b);
      const ranges = new Uint32Array(2 * count).map((_, i) => (i >> 1) * 50 + (i & 1) * 50);
      signer.run({ data, ranges, count, sigs: new Uint8Array(count * signer.slot), lengths: new Uint32Array(count) },
        (err) => (err ? reject(err) : (order.push('batch'), resolve())));
    }));
    await new Promise((r) => setTimeout(r, 30));
    const read = stat(${JSON.stringify(fileURLToPath(import.meta.url))}).then(() => order.push('read'));
    await Promise.all([...batches, read]);
    process.stdout.write(JSON.stringify({ workers: signingWorkers(), readAt: order.indexOf('read'), of: order.length }));
  `;
  const stdout = await runScript(script, { UV_THREADPOOL_SIZE: '1' });
  const out = JSON.parse(stdout) as { workers: number; readAt: number; of: number };
  assert.equal(out.workers, 1, 'one worker at most, even when it must share the only thread');
  assert.equal(out.of, 17);
  assert.ok(out.readAt < 12, `the read finished after ${out.readAt} of 16 batches`);
});

test('signing workers keep their threads while one is left free, and take turns when they hold every thread', {
  skip,
}, async () => {
  // Each signer gets signingWorkers() workers. With a thread of libuv's pool left free (4 threads, one signer) they go
  // on past their 20 ms slice — no worker is queued again — and a file stat runs at once on the free thread. With
  // every thread held (2 threads, two signers of one worker each) they hand their threads back each slice: more
  // workers are started than signers have, and a stat queued behind both backlogs ends long before them.
  const script = `
    const { generateKeyPairSync } = await import('node:crypto');
    const { stat } = await import('node:fs/promises');
    const { signingWorkers } = await import(${pkiModule('native.ts')});
    ${ADDON_HELPERS}
    const signers = Array.from({ length: Number(process.env.SIGNERS) }, () =>
      signerOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, signingWorkers()));
    const order = [];
    const count = 24;
    const batches = signers.flatMap((signer) => Array.from({ length: Number(process.env.BATCHES) }, (_, b) =>
      signBatch(signer, 0, new Uint8Array(count * 50).fill(b), count, 50).then(() => order.push('batch'))));
    await new Promise((r) => setTimeout(r, 30));
    const queuedAt = order.length;
    const read = stat(${JSON.stringify(fileURLToPath(import.meta.url))}).then(() => order.push('read'));
    await Promise.all([...batches, read]);
    process.stdout.write(JSON.stringify({
      workers: signingWorkers(), started: signers.map((s) => addon.signerStats(s).workersStarted),
      queuedAt, readAt: order.indexOf('read'), of: order.length,
    }));
  `;
  // Backlogs long enough to outlast the 30 ms before the read and a few slices even on a fast machine.
  const free = JSON.parse(await runScript(script, { UV_THREADPOOL_SIZE: '4', SIGNERS: '1', BATCHES: '30' })) as {
    workers: number;
    started: number[];
    queuedAt: number;
    readAt: number;
    of: number;
  };
  assert.equal(free.of, 31);
  assert.deepEqual(free.started, [free.workers], 'each worker kept its thread to the end of the backlog');
  assert.ok(free.queuedAt < 26, `the backlog was still signing when the read was queued (${free.queuedAt} done)`);
  // At most the batches already finished and on their way back to the event loop.
  assert.ok(free.readAt - free.queuedAt <= 3, `the read waited for ${free.readAt - free.queuedAt} batches`);
  const crowded = JSON.parse(
    await runScript(script, { UV_THREADPOOL_SIZE: '2', SIGNERS: '2', BATCHES: '40' }),
  ) as typeof free;
  assert.equal(crowded.workers, 1);
  assert.equal(crowded.of, 81);
  assert.ok(
    crowded.started.some((n) => n > 1),
    `workers handed their threads back (started ${crowded.started.join(', ')})`,
  );
  assert.ok(
    crowded.queuedAt < 60,
    `the backlogs were still signing when the read was queued (${crowded.queuedAt} done)`,
  );
  // Without handing back, the read would wait for every batch.
  assert.ok(crowded.readAt < crowded.of - 10, `the read finished after ${crowded.readAt} of 80 batches`);
});

test('a worker that finds no batch waits a moment for the next one instead of leaving its thread', {
  skip,
}, async () => {
  // One batch at a time, each queued from the previous one's callback: the event loop hands the next batch over
  // within a fraction of a millisecond, so the first worker takes all 20 (a worker leaving at once is replaced for
  // every batch: 20 started).
  const script = `
    const { generateKeyPairSync } = await import('node:crypto');
    ${ADDON_HELPERS}
    const signer = signerOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 1);
    const count = 16;
    const data = new Uint8Array(count * 40).fill(7);
    for (let b = 0; b < 20; b++) await signBatch(signer, 0, data, count, 40);
    process.stdout.write(JSON.stringify(addon.signerStats(signer)));
  `;
  const { workersStarted } = JSON.parse(await runScript(script, {})) as { workersStarted: number };
  assert.ok(workersStarted <= 5, `${workersStarted} workers started for 20 batches one after another`);
});

test('the arrays given to a batch stay alive until it is handed back: garbage collection while batches wait', {
  skip,
}, async () => {
  // Queued batches whose ranges arrays nothing else references; the heap is collected and refilled with other
  // Uint32Arrays meanwhile. Every signature must verify (a batch reading a collected array signs garbage or crashes).
  const script = `
    const { generateKeyPairSync, verify } = await import('node:crypto');
    const { nativeSignerFor } = await import(${pkiModule('native.ts')});
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer = nativeSignerFor(privateKey, 'sha256');
    const count = 32;
    const batches = Array.from({ length: 12 }, (_, b) => {
      const data = new Uint8Array(count * 50).map((_, i) => (i * 13 + b) & 255);
      const sigs = new Uint8Array(count * signer.slot);
      const lengths = new Uint32Array(count);
      return new Promise((resolve, reject) => {
        signer.run({ data, ranges: new Uint32Array(2 * count).map((_, i) => (i >> 1) * 50 + (i & 1) * 50), count, sigs, lengths },
          (err) => (err ? reject(err) : resolve({ data, sigs, lengths })));
      });
    });
    const junk = [];
    for (let round = 0; round < 20; round++) {
      globalThis.gc();
      for (let i = 0; i < 200; i++) junk.push(new Uint32Array(64).fill(0xfffffff0));
      await new Promise((r) => setTimeout(r, 5));
    }
    let good = 0;
    for (const { data, sigs, lengths } of await Promise.all(batches)) {
      for (let i = 0; i < count; i++) {
        if (verify('sha256', data.subarray(i * 50, i * 50 + 50), publicKey, sigs.subarray(i * signer.slot, i * signer.slot + lengths[i]))) good++;
      }
    }
    process.stdout.write(JSON.stringify({ good, junk: junk.length }));
  `;
  const stdout = await runScript(script, { UV_THREADPOOL_SIZE: '1' }, ['--expose-gc']);
  assert.equal(JSON.parse(stdout).good, 12 * 32, 'every signature verifies');
});

test('with CERTDESK_NATIVE_SIGNER=off the pool uses worker threads and issueCertificate signs with node:crypto', async (t) => {
  const dir = await tempDir(t);
  const script = `
    const { createCa, loadCaFromPem, generateKeyAndCsr, decodeCsr, issueCertificate } = await import(${pkiModule('index.ts')});
    const { createIssuerPool } = await import(${pkiModule('pool.ts')});
    const { nativeSignerStatus } = await import(${pkiModule('native.ts')});
    const ca = await createCa({ cn: 'off', keyAlgorithm: 'ECDSAWithCurve256', days: 1 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const pool = await createIssuerPool(loaded, { size: 1 });
    const csr = await decodeCsr((await generateKeyAndCsr({ cn: 'x', hosts: ['x.example'] })).csrPem);
    const request = { usages: ['digital signature', 'server auth'], signerName: 'example.com/x' };
    const [a, b] = await Promise.all([pool.issue(csr, request), issueCertificate(csr, loaded, request)]);
    await pool.close();
    process.stdout.write(JSON.stringify({ engine: pool.engine, why: nativeSignerStatus().why, ca: ca.certPem, pems: [a.pem, b.pem] }));
  `;
  const stdout = await runScript(script, { CERTDESK_NATIVE_SIGNER: 'off' });
  const out = JSON.parse(stdout) as { engine: string; why: string; ca: string; pems: string[] };
  assert.equal(out.engine, 'workers');
  assert.match(out.why, /turned off/);
  const caPath = await put(dir, 'ca.pem', out.ca);
  for (const [i, pem] of out.pems.entries()) {
    const leaf = await put(dir, `leaf${i}.pem`, pem);
    assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /OK/);
  }
});

test('issueCertificate signs natively for every supported CA key; openssl verifies each', { skip }, async (t) => {
  const dir = await tempDir(t);
  const csr = await decodeCsr((await generateKeyAndCsr({ cn: 'n', hosts: ['n.example', '10.0.0.9'] })).csrPem);
  const request = { usages: ['digital signature', 'key encipherment', 'server auth'], signerName: 'example.com/n' };
  for (const keyAlgorithm of [
    'RSAWithSize2048',
    'RSAWithSize4096',
    'ECDSAWithCurve256',
    'ECDSAWithCurve384',
    'ECDSAWithCurve521',
  ] as const) {
    const ca = await createCa({ cn: keyAlgorithm, keyAlgorithm, days: 1 });
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const results = await Promise.all(Array.from({ length: 3 }, () => issueCertificate(csr, loaded, request)));
    assert.ok(
      nativeSignerFor(
        loaded.privateKey,
        keyAlgorithm.startsWith('RSA')
          ? 'sha256'
          : keyAlgorithm.endsWith('384')
            ? 'sha384'
            : keyAlgorithm.endsWith('521')
              ? 'sha512'
              : 'sha256',
      ),
    );
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    for (const r of results) {
      const leaf = await put(dir, 'leaf.pem', r.pem);
      assert.match((await openssl(['verify', '-CAfile', caPath, leaf])).stdout, /leaf\.pem: OK/, keyAlgorithm);
    }
  }
});

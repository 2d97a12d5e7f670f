// The one-pass leaf writer used when issuing writes exactly the DER that der.ts's general builders write.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { extension, sanExtension } from '../../../src/services/pki/build.js';
import {
  certificateStart,
  finishLeaf,
  hexOf,
  hexOfBinary,
  newLeafBuffer,
  nextSerialsForTests,
  pemOf,
  TBS_AT,
  writeLeafTbs,
} from '../../../src/services/pki/cert-writer.js';
import { bits, ctx, octets, oid, seq, smallInt, time, uint } from '../../../src/services/pki/der.js';
import { toPem } from '../../../src/services/pki/pem.js';

const YEARS = [1949, 1950, 2026, 2049, 2050, 2100, 9999];

test('writeLeafTbs and finishLeaf match the general DER builders', () => {
  const alg = seq(oid('1.2.840.10045.4.3.2'));
  const elements = (n: number) => Array.from({ length: n }, (_, k) => octets(randomBytes(k % 50)));
  // Serials with leading zero bytes, with the high bit set, and all zero (which becomes 1).
  const serials = randomBytes(16 * 64);
  for (let k = 0; k < 64; k++) {
    if (k % 7 === 0) serials.fill(0, 16 * k, 16 * k + (k % 16));
    if (k % 5 === 0) serials[16 * k + (k % 7 === 0 ? k % 16 : 0)]! |= 0x80;
  }
  serials.fill(0, 16 * 63);
  nextSerialsForTests(serials);
  for (let i = 0; i < 400; i++) {
    const issuer = seq(...elements(i % 9));
    // Now and then a subject or SAN list long enough for two- and three-byte lengths.
    const subject = seq(...elements(((i * 3) % 40) + (i % 100 === 0 ? 3000 : 0)));
    const spki = seq(...elements(3));
    const publicKeyBits = randomBytes(1 + (i % 130));
    const aki = extension('2.5.29.35', false, seq(ctx(0, false, randomBytes(20))));
    const usages = Buffer.concat(elements(i % 4).map((e) => extension('1.2.3.4', i % 3 === 0, e)));
    const notBefore = new Date(
      Date.UTC(YEARS[i % 7]!, i % 12, 1 + (i % 28), i % 24, i % 60, (i * 7) % 60) + (i % 1000),
    );
    const notAfter = new Date(Date.UTC(YEARS[(i + 3) % 7]!, (i + 5) % 12, 1 + (i % 27), (i + 1) % 24, 0, 59));
    const sanCount = i % 4 === 0 ? 0 : i === 201 ? 4000 : i % 6;
    const sans = Array.from({ length: sanCount }, (_, k) => ctx(2, false, randomBytes(5 + (k % 20))));
    const ids = Buffer.alloc(40, 0xee);
    const leaf = i % 2 ? newLeafBuffer() : { buf: Buffer.alloc(100) };
    const tbsEnd = writeLeafTbs(
      leaf,
      { algorithmIdentifier: alg, issuer, akiExtension: aki },
      usages,
      {
        notBeforeMs: notBefore.getTime(),
        notAfterMs: notAfter.getTime(),
        subject,
        spki,
        publicKeyBits,
        sans: Buffer.concat(sans),
        sanCritical: i % 2 === 0,
      },
      ids,
      i % 5,
    );
    const serial = ids.subarray(i % 5, (i % 5) + 16);
    const ski = createHash('sha1').update(publicKeyBits).digest();
    assert.deepEqual(ids.subarray((i % 5) + 16, (i % 5) + 36), ski, `SKI ${i}`);
    if (i < 64) {
      const expected = serials.subarray(16 * i, 16 * i + 16);
      if (i === 63) assert.deepEqual(serial, Buffer.from([...new Uint8Array(15), 1]), 'a zero serial becomes 1');
      else assert.deepEqual(serial, expected, `serial ${i}`);
    }
    const expected = [usages, extension('2.5.29.14', false, octets(ski)), aki];
    if (sans.length) expected.push(sanExtension(sans, i % 2 === 0));
    const tbs = seq(
      ctx(0, true, smallInt(2)),
      uint(serial),
      alg,
      issuer,
      seq(time(notBefore), time(notAfter)),
      subject,
      spki,
      ctx(3, true, seq(...expected)),
    );
    assert.deepEqual(Buffer.from(leaf.buf.subarray(TBS_AT, tbsEnd)), Buffer.from(tbs), `TBS ${i}`);
    const signature = randomBytes(i % 3 === 0 ? 72 : i === 100 ? 2048 : 512);
    const end = finishLeaf(leaf, tbsEnd, alg, signature);
    assert.deepEqual(
      Buffer.from(leaf.buf.subarray(certificateStart(end), end)),
      Buffer.from(seq(tbs, alg, bits(signature))),
      `certificate ${i}`,
    );
  }
});

test('the leaf writer encodes times as der.ts does, from 0001 to 9999', () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
      const d = new Date(ms);
      const leaf = newLeafBuffer();
      const ca = { algorithmIdentifier: seq(), issuer: seq(), akiExtension: new Uint8Array(0) };
      const req = {
        notBeforeMs: ms,
        notAfterMs: ms,
        subject: seq(),
        spki: seq(),
        publicKeyBits: new Uint8Array(1),
        sans: new Uint8Array(0),
        sanCritical: false,
      };
      const end = writeLeafTbs(leaf, ca, new Uint8Array(0), req, new Uint8Array(36), 0);
      const t = Buffer.from(time(d));
      const tbs = Buffer.from(leaf.buf.subarray(TBS_AT, end));
      assert.ok(tbs.includes(Buffer.concat([t, t])), `${d.toISOString()}`);
    }),
    { numRuns: 2000 },
  );
});

test('pemOf writes the same text as toPem', () => {
  for (let n = 1; n <= 1600; n += n < 200 ? 1 : 37) {
    const der = randomBytes(n);
    assert.equal(pemOf('CERTIFICATE', der), toPem('CERTIFICATE', der), `PEM of ${n} bytes`);
  }
});

test('hexOf and hexOfBinary: uppercase pairs with any separator, for lengths past the scratch buffer', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('', ':', ' - '), (bytes, sep) => {
      const expected = [...Buffer.from(bytes)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(sep);
      assert.equal(hexOf(bytes, sep), expected);
      assert.equal(hexOfBinary(Buffer.from(bytes).toString('latin1'), sep), expected);
    }),
    { numRuns: 300 },
  );
});

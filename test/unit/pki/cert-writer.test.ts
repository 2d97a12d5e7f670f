// The one-pass TBS writer used when issuing writes exactly the DER that der.ts's general builders write.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { extension, sanExtension } from '../../../src/services/pki/build.js';
import {
  certificatePemLength,
  extensionDer,
  finishCertificate,
  pemOf,
  writeCertificatePem,
  writeTbs,
} from '../../../src/services/pki/cert-writer.js';
import { bits, ctx, octets, oid, seq, smallInt, time, uint } from '../../../src/services/pki/der.js';
import { toPem } from '../../../src/services/pki/pem.js';

const YEARS = [1949, 1950, 2026, 2049, 2050, 2100, 9999];

test('writeTbs, extensionDer and finishCertificate match the general DER builders', () => {
  const alg = seq(oid('1.2.840.10045.4.3.2'));
  const elements = (n: number) => Array.from({ length: n }, (_, k) => octets(randomBytes(k % 50)));
  for (let i = 0; i < 400; i++) {
    const serial = randomBytes(16);
    if (i % 7 === 0) serial.fill(0, 0, i % 16);
    if (i % 5 === 0) serial[0] = 0x80 | serial[0]!;
    const issuer = seq(...elements(i % 9));
    // Now and then a subject or SAN list long enough for two- and three-byte lengths.
    const subject = seq(...elements(((i * 3) % 40) + (i % 100 === 0 ? 3000 : 0)));
    const spki = seq(...elements(3));
    const notBefore = new Date(Date.UTC(YEARS[i % 7]!, i % 12, 1 + (i % 28), i % 24, i % 60, (i * 7) % 60));
    const notAfter = new Date(Date.UTC(YEARS[(i + 3) % 7]!, (i + 5) % 12, 1 + (i % 27), (i + 1) % 24, 0, 59));
    const sanCount = i % 4 === 0 ? 0 : i === 201 ? 4000 : i % 6;
    const sans = Array.from({ length: sanCount }, (_, k) => ctx(2, false, randomBytes(5 + (k % 20))));
    const ski = randomBytes(20);
    const expected = [extension('2.5.29.14', false, octets(ski))];
    const written = [extensionDer(oid('2.5.29.14'), false, [ski], 0x04)];
    if (sans.length) {
      expected.push(sanExtension(sans, i % 2 === 0));
      written.push(extensionDer(oid('2.5.29.17'), i % 2 === 0, sans, 0x30));
    }
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
    const t = writeTbs({
      serial,
      algorithmIdentifier: alg,
      issuer,
      notBefore,
      notAfter,
      subject,
      spki,
      extensions: written,
    });
    assert.deepEqual(Buffer.from(t.buf.subarray(t.start, t.end)), Buffer.from(tbs), `TBS ${i}`);
    const signature = randomBytes(i % 3 === 0 ? 72 : 512);
    assert.deepEqual(
      Buffer.from(finishCertificate(t, alg, signature)),
      Buffer.from(seq(tbs, alg, bits(signature))),
      `certificate ${i}`,
    );
  }
});

test('writeCertificatePem writes the same text as pemOf and toPem, in exactly certificatePemLength bytes', () => {
  const out = Buffer.alloc(8192, 0xee);
  for (let n = 1; n <= 1600; n += n < 200 ? 1 : 37) {
    const der = randomBytes(n);
    const at = n % 5;
    out.fill(0xee);
    const end = writeCertificatePem(out, at, der);
    assert.equal(end - at, certificatePemLength(n), `length for ${n} bytes`);
    const text = out.toString('latin1', at, end);
    assert.equal(text, pemOf('CERTIFICATE', der), `PEM of ${n} bytes`);
    assert.equal(text, toPem('CERTIFICATE', der));
    assert.equal(out[end], 0xee, 'nothing written past the end');
  }
});

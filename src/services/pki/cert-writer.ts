// The hot path of issuing: the TBSCertificate written in one pass into one buffer (lengths computed first, no
// intermediate arrays), with room behind it for the signature, and the small encoders issuing needs per
// certificate (serials from a pooled random buffer, hex with colons, PEM). Output is the same DER as build.ts writes.
import { randomFillSync } from 'node:crypto';

/** Bytes of a DER header (tag + length) for content of `len` bytes. */
export function headerLength(len: number): number {
  return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
}

/** Writes a DER header at `pos`; returns the position after it. */
export function putHeader(buf: Uint8Array, pos: number, tag: number, len: number): number {
  let p = pos;
  buf[p++] = tag;
  if (len < 0x80) {
    buf[p++] = len;
  } else if (len < 0x100) {
    buf[p++] = 0x81;
    buf[p++] = len;
  } else if (len < 0x10000) {
    buf[p++] = 0x82;
    buf[p++] = len >>> 8;
    buf[p++] = len & 0xff;
  } else if (len < 0x1000000) {
    buf[p++] = 0x83;
    buf[p++] = len >>> 16;
    buf[p++] = (len >>> 8) & 0xff;
    buf[p++] = len & 0xff;
  } else {
    buf[p++] = 0x84;
    buf[p++] = len >>> 24;
    buf[p++] = (len >>> 16) & 0xff;
    buf[p++] = (len >>> 8) & 0xff;
    buf[p++] = len & 0xff;
  }
  return p;
}

const tlvLength = (len: number) => headerLength(len) + len;

// 128-bit serials cut from a pooled CSPRNG buffer: one randomFillSync per 256 certificates.
const SERIAL_BYTES = 16;
const serialPool = Buffer.allocUnsafe(SERIAL_BYTES * 256);
let serialPos = serialPool.length;

/** A random positive 128-bit serial (never zero): a fresh 16-byte copy. */
export function nextSerial(): Uint8Array {
  if (serialPos >= serialPool.length) {
    randomFillSync(serialPool);
    serialPos = 0;
  }
  const s = Uint8Array.prototype.slice.call(serialPool, serialPos, serialPos + SERIAL_BYTES);
  serialPos += SERIAL_BYTES;
  let zero = true;
  for (let i = 0; i < SERIAL_BYTES && zero; i++) zero = s[i] === 0;
  if (zero) s[SERIAL_BYTES - 1] = 1;
  return s;
}

/** The magnitude bytes of a serial without leading zeros (as an INTEGER holds them, less any sign byte). */
export function serialMagnitude(serial: Uint8Array): Uint8Array {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return serial.subarray(i);
}

function timeLength(d: Date): number {
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? 15 : 17;
}

function put2(buf: Uint8Array, pos: number, n: number): number {
  buf[pos] = 0x30 + ((n / 10) | 0);
  buf[pos + 1] = 0x30 + (n % 10);
  return pos + 2;
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), as der.ts's time(). */
function putTime(buf: Uint8Array, pos: number, d: Date): number {
  const y = d.getUTCFullYear();
  let p: number;
  if (y >= 1950 && y < 2050) {
    buf[pos] = 0x17;
    buf[pos + 1] = 13;
    p = put2(buf, pos + 2, y % 100);
  } else {
    buf[pos] = 0x18;
    buf[pos + 1] = 15;
    p = put2(buf, pos + 2, Math.floor(y / 100) % 100);
    p = put2(buf, p, y % 100);
  }
  p = put2(buf, p, d.getUTCMonth() + 1);
  p = put2(buf, p, d.getUTCDate());
  p = put2(buf, p, d.getUTCHours());
  p = put2(buf, p, d.getUTCMinutes());
  p = put2(buf, p, d.getUTCSeconds());
  buf[p++] = 0x5a; // Z
  return p;
}

export interface TbsFields {
  serial: Uint8Array;
  /** DER AlgorithmIdentifier of the signature. */
  algorithmIdentifier: Uint8Array;
  issuer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Uint8Array;
  spki: Uint8Array;
  /** Complete Extension elements, in order (concatenated inside [3] { SEQUENCE }). */
  extensions: readonly Uint8Array[];
}

/** Room reserved in front of the TBS for the certificate's own header, and behind it for the signature's BIT STRING. */
const OUTER_HEADER = 6;
const SIGNATURE_ROOM = 6 + 1024 + 16;

export interface TbsBuffer {
  buf: Uint8Array;
  /** Where the TBSCertificate element starts and ends in buf. */
  start: number;
  end: number;
}

/** Writes a v3 TBSCertificate into a buffer that also has room for the rest of the certificate. */
export function writeTbs(f: TbsFields): TbsBuffer {
  const mag = serialMagnitude(f.serial);
  const serialContent = mag.length + ((mag[0] ?? 0) & 0x80 ? 1 : 0);
  const validityContent = timeLength(f.notBefore) + timeLength(f.notAfter);
  let extsContent = 0;
  for (const e of f.extensions) extsContent += e.length;
  const extsSeq = tlvLength(extsContent);
  const body =
    5 + // [0] { INTEGER 2 }
    tlvLength(serialContent) +
    f.algorithmIdentifier.length +
    f.issuer.length +
    tlvLength(validityContent) +
    f.subject.length +
    f.spki.length +
    (f.extensions.length ? tlvLength(extsSeq) : 0);
  const tbsLength = tlvLength(body);
  const buf = Buffer.allocUnsafe(OUTER_HEADER + tbsLength + f.algorithmIdentifier.length + SIGNATURE_ROOM);
  const start = OUTER_HEADER;
  let p = putHeader(buf, start, 0x30, body);
  buf[p++] = 0xa0;
  buf[p++] = 3;
  buf[p++] = 0x02;
  buf[p++] = 1;
  buf[p++] = 2;
  p = putHeader(buf, p, 0x02, serialContent);
  if (serialContent > mag.length) buf[p++] = 0;
  buf.set(mag, p);
  p += mag.length;
  buf.set(f.algorithmIdentifier, p);
  p += f.algorithmIdentifier.length;
  buf.set(f.issuer, p);
  p += f.issuer.length;
  p = putHeader(buf, p, 0x30, validityContent);
  p = putTime(buf, p, f.notBefore);
  p = putTime(buf, p, f.notAfter);
  buf.set(f.subject, p);
  p += f.subject.length;
  buf.set(f.spki, p);
  p += f.spki.length;
  if (f.extensions.length) {
    p = putHeader(buf, p, 0xa3, extsSeq);
    p = putHeader(buf, p, 0x30, extsContent);
    for (const e of f.extensions) {
      buf.set(e, p);
      p += e.length;
    }
  }
  return { buf, start, end: p };
}

/** Completes the certificate in place: SEQUENCE { tbs, algorithmIdentifier, BIT STRING signature }. */
export function finishCertificate(t: TbsBuffer, algorithmIdentifier: Uint8Array, signature: Uint8Array): Uint8Array {
  const sigContent = signature.length + 1;
  const tail = algorithmIdentifier.length + tlvLength(sigContent);
  const body = t.end - t.start + tail;
  const head = headerLength(body);
  let buf = t.buf;
  if (t.end + tail > buf.length) {
    // A signature longer than the room left (RSA keys over 8192 bits): copy into a bigger buffer.
    const bigger = Buffer.allocUnsafe(t.end + tail);
    bigger.set(buf.subarray(0, t.end));
    buf = bigger;
  }
  const start = t.start - head;
  putHeader(buf, start, 0x30, body);
  let p = t.end;
  buf.set(algorithmIdentifier, p);
  p += algorithmIdentifier.length;
  p = putHeader(buf, p, 0x03, sigContent);
  buf[p++] = 0;
  buf.set(signature, p);
  p += signature.length;
  return buf.subarray(start, p);
}

/** A TLV in one allocation (for the per-certificate SKI and SAN extensions). */
export function extensionDer(
  oidDer: Uint8Array,
  critical: boolean,
  value: readonly Uint8Array[],
  wrap?: number,
): Uint8Array {
  let valueLen = 0;
  for (const v of value) valueLen += v.length;
  const inner = wrap === undefined ? valueLen : tlvLength(valueLen);
  const octets = tlvLength(inner);
  const body = oidDer.length + (critical ? 3 : 0) + octets;
  const out = new Uint8Array(tlvLength(body));
  let p = putHeader(out, 0, 0x30, body);
  out.set(oidDer, p);
  p += oidDer.length;
  if (critical) {
    out[p++] = 0x01;
    out[p++] = 1;
    out[p++] = 0xff;
  }
  p = putHeader(out, p, 0x04, inner);
  if (wrap !== undefined) p = putHeader(out, p, wrap, valueLen);
  for (const v of value) {
    out.set(v, p);
    p += v.length;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Uppercase hex, optionally with a separator between bytes. */
export function hexOf(b: Uint8Array, sep = ''): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += i && sep ? sep + HEX[b[i]!] : HEX[b[i]!];
  return s;
}

/** PEM with 64-character lines (as pem.ts's toPem). */
export function pemOf(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const CERT_HEAD = Buffer.from('-----BEGIN CERTIFICATE-----\n', 'latin1');
const CERT_TAIL = Buffer.from('-----END CERTIFICATE-----\n', 'latin1');

/** Bytes of a CERTIFICATE PEM (64-character lines) for DER of `derLength` bytes. */
export function certificatePemLength(derLength: number): number {
  const b64 = Math.ceil(derLength / 3) * 4;
  return CERT_HEAD.length + b64 + Math.ceil(b64 / 64) + CERT_TAIL.length;
}

/**
 * Writes a certificate's PEM as ASCII bytes at `pos` (the same text as pemOf('CERTIFICATE', der)); returns the
 * position after it. For the issuer pool's workers, which hand back many certificates in one buffer.
 */
export function writeCertificatePem(out: Uint8Array, pos: number, der: Uint8Array): number {
  out.set(CERT_HEAD, pos);
  let p = pos + CERT_HEAD.length;
  const n = der.length;
  const whole = n - (n % 3);
  let col = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = (der[i]! << 16) | (der[i + 1]! << 8) | der[i + 2]!;
    out[p] = BASE64[v >>> 18]!;
    out[p + 1] = BASE64[(v >>> 12) & 63]!;
    out[p + 2] = BASE64[(v >>> 6) & 63]!;
    out[p + 3] = BASE64[v & 63]!;
    p += 4;
    if (++col === 16) {
      out[p++] = 0x0a;
      col = 0;
    }
  }
  if (whole < n) {
    const two = n - whole === 2;
    const v = (der[whole]! << 16) | (two ? der[whole + 1]! << 8 : 0);
    out[p] = BASE64[v >>> 18]!;
    out[p + 1] = BASE64[(v >>> 12) & 63]!;
    out[p + 2] = two ? BASE64[(v >>> 6) & 63]! : 0x3d;
    out[p + 3] = 0x3d;
    p += 4;
    col++;
  }
  if (col) out[p++] = 0x0a;
  out.set(CERT_TAIL, p);
  return p + CERT_TAIL.length;
}

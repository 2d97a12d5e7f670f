// The hot path of issuing: the TBSCertificate written in one pass into one buffer (lengths computed first, no
// intermediate arrays), with room behind it for the signature, and the small encoders issuing needs per
// certificate (serials from a pooled random buffer, hex with colons, PEM). Output is the same DER as build.ts writes.
import * as nodeCrypto from 'node:crypto';
import { createHash, randomFillSync } from 'node:crypto';

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

// 128-bit serials cut from a pooled CSPRNG buffer: one randomFillSync per 256 certificates. A serial is used where it
// lies in the pool (copied into the TBS and the caller's ids), never sliced out.
const SERIAL_BYTES = 16;
const serialPool = Buffer.allocUnsafe(SERIAL_BYTES * 256);
let serialPos = serialPool.length;

const serialView = new DataView(serialPool.buffer, serialPool.byteOffset, serialPool.byteLength);
// The DataView of the buffer writeLeafTbs last wrote a serial to (the native pool reuses a few batch buffers).
let lastBuf: Uint8Array | undefined;
let lastView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
function viewOf(buf: Uint8Array): DataView<ArrayBufferLike> {
  if (buf !== lastBuf) {
    lastBuf = buf;
    lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return lastView;
}

/** Takes the next random positive 128-bit serial (never zero); returns where its 16 bytes lie in serialPool. */
function takeSerial(): number {
  if (serialPos >= serialPool.length) {
    randomFillSync(serialPool);
    serialPos = 0;
  }
  const at = serialPos;
  serialPos += SERIAL_BYTES;
  let zero = true;
  for (let i = at; i < at + SERIAL_BYTES && zero; i++) zero = serialPool[i] === 0;
  if (zero) serialPool[at + SERIAL_BYTES - 1] = 1;
  return at;
}

/** For tests: the next serials are cut from `bytes` (a multiple of 16 bytes, at most the pool). */
export function nextSerialsForTests(bytes: Uint8Array): void {
  serialPool.set(bytes);
  serialPos = 0;
  // Past the given bytes, the pool is refilled at random.
  if (bytes.length < serialPool.length) randomFillSync(serialPool, bytes.length);
}

/** The magnitude bytes of a serial without leading zeros (as an INTEGER holds them, less any sign byte). */
export function serialMagnitude(serial: Uint8Array): Uint8Array {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return serial.subarray(i);
}

// UTC calendar fields of a time in ms, without a Date (days → civil date: H. Hinnant's algorithm). Set by civil().
let cYear = 0;
let cMonth = 0;
let cDay = 0;
let cSecondOfDay = 0;
function civil(ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  cSecondOfDay = seconds - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  cDay = doy - Math.floor((153 * mp + 2) / 5) + 1;
  cMonth = mp < 10 ? mp + 3 : mp - 9;
  cYear = yoe + era * 400 + (cMonth <= 2 ? 1 : 0);
}

// The last Validity SEQUENCEs encoded, by NotBefore and NotAfter whole second (all DER times here have second
// resolution): certificates issued in bulk share both seconds, so the SEQUENCE is encoded once per second and copied
// into each TBS in one go (copying two times byte by byte cost more than the rest of the serial and validity).
interface EncodedValidity {
  notBefore: number;
  notAfter: number;
  bytes: Uint8Array;
}
const validityCache: EncodedValidity[] = [];
let validityCacheNext = 0;

/** The Validity SEQUENCE (tag, length and both times) for NotBefore/NotAfter in ms. */
function encodedValidity(notBeforeMs: number, notAfterMs: number): Uint8Array {
  const notBefore = Math.floor(notBeforeMs / 1000);
  const notAfter = Math.floor(notAfterMs / 1000);
  for (let i = 0; i < validityCache.length; i++) {
    const e = validityCache[i]!;
    if (e.notBefore === notBefore && e.notAfter === notAfter) return e.bytes;
  }
  const times = new Uint8Array(36);
  const end = writeTime(times, writeTime(times, 2, notBeforeMs), notAfterMs);
  putHeader(times, 0, 0x30, end - 2);
  const e = { notBefore, notAfter, bytes: times.subarray(0, end) };
  // A few entries: requests with different lifetimes interleave.
  if (validityCache.length < 4) validityCache.push(e);
  else validityCache[validityCacheNext] = e;
  validityCacheNext = (validityCacheNext + 1) % 4;
  return e.bytes;
}

function put2(buf: Uint8Array, pos: number, n: number): number {
  buf[pos] = 0x30 + ((n / 10) | 0);
  buf[pos + 1] = 0x30 + (n % 10);
  return pos + 2;
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), as der.ts's time(). */
function writeTime(buf: Uint8Array, pos: number, ms: number): number {
  civil(ms);
  const y = cYear;
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
  p = put2(buf, p, cMonth);
  p = put2(buf, p, cDay);
  const s = cSecondOfDay;
  p = put2(buf, p, Math.floor(s / 3600));
  p = put2(buf, p, Math.floor(s / 60) % 60);
  p = put2(buf, p, s % 60);
  buf[p++] = 0x5a; // Z
  return p;
}

/** What a leaf's TBS takes from the CA and its signature algorithm (encoded once per CA). */
export interface LeafIssuer {
  /** DER AlgorithmIdentifier of the signature. */
  algorithmIdentifier: Uint8Array;
  issuer: Uint8Array;
  /** The authorityKeyIdentifier Extension element. */
  akiExtension: Uint8Array;
}

/** What a leaf's TBS takes from the request (views of the CSR's DER, or of a job buffer). */
export interface LeafRequest {
  notBeforeMs: number;
  notAfterMs: number;
  subject: Uint8Array;
  spki: Uint8Array;
  /** The subjectPublicKey bits: the subject key identifier is their SHA-1 (RFC 5280 method 1). */
  publicKeyBits: Uint8Array;
  /** The SAN GeneralName elements in order, concatenated; empty: no subjectAltName extension. */
  sans: Uint8Array;
  /** The subjectAltName extension is critical (an empty subject, RFC 5280 §4.2.1.6). */
  sanCritical: boolean;
}

/** Where the TBSCertificate starts in a leaf buffer: room in front for the certificate's own header. */
export const TBS_AT = 6;
/** Room behind the TBS for the signature's AlgorithmIdentifier and BIT STRING (RSA up to 8192 bits). */
const SIGNATURE_ROOM = 6 + 1024 + 32;
/** Bytes of the subjectKeyIdentifier extension: SEQUENCE { OID 2.5.29.14, OCTET STRING { OCTET STRING (20) } }. */
const SKI_EXTENSION = Uint8Array.of(0x30, 29, 0x06, 3, 0x55, 0x1d, 0x0e, 0x04, 22, 0x04, 20);
const SAN_OID = Uint8Array.of(0x06, 3, 0x55, 0x1d, 0x11);
const EMPTY = new Uint8Array(0);

/** A buffer the leaf writer fills, replaced by a bigger one when it is too small. */
export interface LeafBuffer {
  buf: Uint8Array;
}
export const newLeafBuffer = (): LeafBuffer => ({ buf: EMPTY });

/**
 * Writes a leaf's v3 TBSCertificate at `at` + TBS_AT in `into.buf` (a bigger buffer, the same bytes before `at` not
 * copied, when it lacks room for the TBS and a signature): a fresh random serial, validity, subject and SPKI, then the
 * extensions in order — the usage list's (keyUsage, extKeyUsage, basicConstraints), subjectKeyIdentifier (SHA-1 of
 * the key bits), the CA's authorityKeyIdentifier, subjectAltName. The serial's 16 bytes and the SKI's 20 go to `ids`
 * at `idsAt` too, when given. Returns where the TBS ends. The same DER as der.ts's general builders write.
 */
export function writeLeafTbs(
  into: LeafBuffer,
  ca: LeafIssuer,
  usageExtensions: Uint8Array,
  req: LeafRequest,
  ids: Uint8Array | undefined,
  idsAt: number,
  at = 0,
): number {
  const serialAt = takeSerial();
  let lead = serialAt;
  while (lead < serialAt + SERIAL_BYTES - 1 && serialPool[lead] === 0) lead++;
  const magnitude = serialAt + SERIAL_BYTES - lead;
  const signByte = serialPool[lead]! & 0x80 ? 1 : 0;
  const validity = encodedValidity(req.notBeforeMs, req.notAfterMs);
  const sansLength = req.sans.length;
  const sanValue = sansLength ? tlvLength(sansLength) : 0;
  const sanBody = SAN_OID.length + (req.sanCritical ? 3 : 0) + tlvLength(sanValue);
  const extsContent =
    usageExtensions.length + SKI_EXTENSION.length + 20 + ca.akiExtension.length + (sansLength ? tlvLength(sanBody) : 0);
  const extsSeq = tlvLength(extsContent);
  const body =
    5 + // [0] { INTEGER 2 }
    tlvLength(magnitude + signByte) +
    ca.algorithmIdentifier.length +
    ca.issuer.length +
    validity.length +
    req.subject.length +
    req.spki.length +
    tlvLength(extsSeq);
  const start = at + TBS_AT;
  const end = start + tlvLength(body);
  let buf = into.buf;
  if (end + ca.algorithmIdentifier.length + SIGNATURE_ROOM > buf.length) {
    buf = Buffer.allocUnsafe(end + ca.algorithmIdentifier.length + SIGNATURE_ROOM);
    into.buf = buf;
  }
  let p = putHeader(buf, start, 0x30, body);
  buf[p++] = 0xa0;
  buf[p++] = 3;
  buf[p++] = 0x02;
  buf[p++] = 1;
  buf[p++] = 2;
  p = putHeader(buf, p, 0x02, magnitude + signByte);
  if (signByte) buf[p++] = 0;
  if (magnitude === SERIAL_BYTES) {
    // No leading zero byte (255 times in 256): the 16 bytes as four 32-bit words (a byte loop cost as much as the rest
    // of the serial and validity).
    const to = viewOf(buf);
    for (let i = 0; i < SERIAL_BYTES; i += 4) to.setUint32(p + i, serialView.getUint32(serialAt + i));
    p += SERIAL_BYTES;
  } else for (let i = lead; i < serialAt + SERIAL_BYTES; i++) buf[p++] = serialPool[i]!;
  if (ids) for (let i = 0; i < SERIAL_BYTES; i++) ids[idsAt + i] = serialPool[serialAt + i]!;
  buf.set(ca.algorithmIdentifier, p);
  p += ca.algorithmIdentifier.length;
  buf.set(ca.issuer, p);
  p += ca.issuer.length;
  buf.set(validity, p);
  p += validity.length;
  buf.set(req.subject, p);
  p += req.subject.length;
  buf.set(req.spki, p);
  p += req.spki.length;
  p = putHeader(buf, p, 0xa3, extsSeq);
  p = putHeader(buf, p, 0x30, extsContent);
  buf.set(usageExtensions, p);
  p += usageExtensions.length;
  // SKI_EXTENSION and SAN_OID, stored byte by byte: cheaper than a set() for a few constant bytes.
  buf[p] = 0x30;
  buf[p + 1] = 29;
  buf[p + 2] = 0x06;
  buf[p + 3] = 3;
  buf[p + 4] = 0x55;
  buf[p + 5] = 0x1d;
  buf[p + 6] = 0x0e;
  buf[p + 7] = 0x04;
  buf[p + 8] = 22;
  buf[p + 9] = 0x04;
  buf[p + 10] = 20;
  p += SKI_EXTENSION.length;
  const ski = sha1Latin1(req.publicKeyBits);
  if (ski.length !== 20) throw new Error('SHA-1 gave an unexpected length');
  for (let i = 0; i < 20; i++) {
    const b = ski.charCodeAt(i);
    buf[p + i] = b;
    if (ids) ids[idsAt + SERIAL_BYTES + i] = b;
  }
  p += 20;
  buf.set(ca.akiExtension, p);
  p += ca.akiExtension.length;
  if (sansLength) {
    p = putHeader(buf, p, 0x30, sanBody);
    buf[p] = 0x06;
    buf[p + 1] = 3;
    buf[p + 2] = 0x55;
    buf[p + 3] = 0x1d;
    buf[p + 4] = 0x11;
    p += SAN_OID.length;
    if (req.sanCritical) {
      buf[p++] = 0x01;
      buf[p++] = 1;
      buf[p++] = 0xff;
    }
    p = putHeader(buf, p, 0x04, sanValue);
    p = putHeader(buf, p, 0x30, sansLength);
    buf.set(req.sans, p);
    p += sansLength;
  }
  if (p !== end) throw new Error(`TBS length mismatch: wrote ${p - start}, expected ${end - start}`);
  return end;
}

// The SHA-1 as a latin1 ('binary') string, one char per byte: crypto.hash (Node ≥ 20.12) is a one-shot digest without a Hash
// object, and a string result costs a third of a Buffer's (a Buffer gets its own off-heap backing store).
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string }).hash;
const sha1Latin1 = (data: Uint8Array): string =>
  oneShot ? oneShot('sha1', data, 'binary') : createHash('sha1').update(data).digest('binary');

/**
 * Completes the certificate behind the TBS written by writeLeafTbs (ending at `tbsEnd`): its SEQUENCE header in front
 * of the TBS, the AlgorithmIdentifier and the signature's BIT STRING behind it. Returns where the certificate ends;
 * it starts at certificateStart(end).
 */
export function finishLeaf(
  into: LeafBuffer,
  tbsEnd: number,
  algorithmIdentifier: Uint8Array,
  signature: Uint8Array,
): number {
  const sigContent = signature.length + 1;
  const end = tbsEnd + algorithmIdentifier.length + tlvLength(sigContent);
  let buf = into.buf;
  if (end > buf.length) {
    // A signature longer than the room left (RSA keys over 8192 bits): copy into a bigger buffer.
    const bigger = Buffer.allocUnsafe(end);
    bigger.set(buf.subarray(0, tbsEnd));
    buf = bigger;
    into.buf = buf;
  }
  putHeader(buf, certificateStart(end), 0x30, end - TBS_AT);
  let p = tbsEnd;
  buf.set(algorithmIdentifier, p);
  p += algorithmIdentifier.length;
  p = putHeader(buf, p, 0x03, sigContent);
  buf[p++] = 0;
  buf.set(signature, p);
  return p + signature.length;
}

/** Where a certificate written by writeLeafTbs and finishLeaf starts, given where it ends. */
export const certificateStart = (end: number): number => TBS_AT - headerLength(end - TBS_AT);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
const HEX_DIGITS = '0123456789ABCDEF';
const HEX_HIGH = Uint8Array.from({ length: 256 }, (_, i) => HEX_DIGITS.charCodeAt(i >> 4));
const HEX_LOW = Uint8Array.from({ length: 256 }, (_, i) => HEX_DIGITS.charCodeAt(i & 15));
// Hex is written as ASCII bytes here and made a string once: adding two characters at a time made a rope of n pieces
// that V8 then flattened (~1 µs for a colon-separated SHA-256, a quarter of describing a certificate; now ~0.25 µs).
const hexScratch = Buffer.allocUnsafe(3 * 64);

/** Hex of `length` bytes given by `byteAt`, separated by `sep` when it is one character (else see hexSlow). */
function hexText(length: number, byteAt: (i: number) => number, sep: string): string {
  const s = sep.length === 1 ? sep.charCodeAt(0) : -1;
  const out = 3 * length <= hexScratch.length ? hexScratch : Buffer.allocUnsafe(3 * length);
  let p = 0;
  for (let i = 0; i < length; i++) {
    const b = byteAt(i);
    if (i && s >= 0) out[p++] = s;
    out[p++] = HEX_HIGH[b]!;
    out[p++] = HEX_LOW[b]!;
  }
  return out.toString('latin1', 0, p);
}

function hexSlow(length: number, byteAt: (i: number) => number, sep: string): string {
  let s = '';
  for (let i = 0; i < length; i++) s += i && sep ? sep + HEX[byteAt(i)] : HEX[byteAt(i)];
  return s;
}

/** Uppercase hex, optionally with a separator between bytes. */
export function hexOf(b: Uint8Array, sep = ''): string {
  const byteAt = (i: number) => b[i]!;
  return sep.length > 1 ? hexSlow(b.length, byteAt, sep) : hexText(b.length, byteAt, sep);
}

/** hexOf for bytes held as a latin1 ('binary') string, one char per byte. */
export function hexOfBinary(b: string, sep = ''): string {
  const byteAt = (i: number) => b.charCodeAt(i) & 0xff;
  return sep.length > 1 ? hexSlow(b.length, byteAt, sep) : hexText(b.length, byteAt, sep);
}

/** PEM with 64-character lines (as pem.ts's toPem). */
export function pemOf(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

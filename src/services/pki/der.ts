// A small, strict DER reader and writer: just what CSRs and certificates need, bounded by the input
// so hostile bytes end in a PkiError('bad-der') instead of a hang or an exception from deep inside a library.
import { PkiError } from './types.js';

export interface Tlv {
  /** The first identifier octet (class, constructed bit and tag number). */
  tag: number;
  /** Offset of the identifier octet in the buffer. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
  buf: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  PrintableString: 0x13,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function fail(what: string): never {
  throw new PkiError('bad-der', `The ASN.1 structure is malformed (${what}).`);
}

/** Reads the element at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) fail('truncated element');
  const tag = buf[offset]!;
  let pos = offset + 1;
  if ((tag & 0x1f) === 0x1f) {
    // A high tag number (kept as its first octet, so it matches no expected tag): skip its base-128 octets.
    while (pos < limit && (buf[pos]! & 0x80) !== 0) pos++;
    if (++pos + 1 > limit) fail('truncated element');
  }
  const first = buf[pos++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) fail('indefinite length');
    if (n > 4) fail('absurd length');
    if (pos + n > limit) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
  }
  const end = pos + len;
  if (end > limit) fail('length runs past the end of the data');
  return { tag, start: offset, contentStart: pos, end, buf };
}

/** Reads a whole buffer as exactly one element (trailing bytes are an error). */
export function readRoot(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) fail('trailing bytes after the structure');
  return t;
}

export function children(t: Tlv): Tlv[] {
  if ((t.tag & 0x20) === 0) fail('expected a constructed element');
  const out: Tlv[] = [];
  let pos = t.contentStart;
  while (pos < t.end) {
    const c = readTlv(t.buf, pos, t.end);
    out.push(c);
    pos = c.end;
  }
  return out;
}

/**
 * The first `n` children of a constructed element; what follows them is not read (Go's encoding/asn1 allows extra
 * elements at the end of a SEQUENCE and never parses them).
 */
export function leading(t: Tlv, n: number): Tlv[] {
  if ((t.tag & 0x20) === 0) fail('expected a constructed element');
  const out: Tlv[] = [];
  for (let pos = t.contentStart; pos < t.end && out.length < n; ) {
    const c = readTlv(t.buf, pos, t.end);
    out.push(c);
    pos = c.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) fail(`missing ${what}`);
  if (t.tag !== tag) fail(`unexpected tag 0x${t.tag.toString(16)} for ${what}`);
  return t;
}

export function content(t: Tlv): Uint8Array {
  return t.buf.subarray(t.contentStart, t.end);
}

export function raw(t: Tlv): Uint8Array {
  return t.buf.subarray(t.start, t.end);
}

export function readOid(t: Tlv): string {
  if (t.tag !== TAG.OID) fail('expected an object identifier');
  return readOidContent(content(t));
}

export function readOidContent(c: Uint8Array): string {
  if (c.length === 0 || c.length > 1024) fail('bad object identifier length');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    if (value > 2 ** 45) fail('object identifier arc too large');
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    } else if (i === c.length - 1) {
      fail('truncated object identifier');
    }
  }
  return parts.join('.');
}

export function readBitString(t: Tlv): { unused: number; bytes: Uint8Array } {
  if (t.tag !== TAG.BIT_STRING) fail('expected a bit string');
  const c = content(t);
  if (c.length === 0) fail('empty bit string');
  const unused = c[0]!;
  if (unused > 7) fail('bad bit string');
  return { unused, bytes: c.subarray(1) };
}

export function readBoolean(t: Tlv): boolean {
  if (t.tag !== TAG.BOOLEAN || t.end - t.contentStart !== 1) fail('expected a boolean');
  return t.buf[t.contentStart] !== 0;
}

/** Small non-negative INTEGER as a number (for versions, path lengths, salt lengths). */
export function readSmallInt(t: Tlv): number {
  if (t.tag !== TAG.INTEGER) fail('expected an integer');
  const c = content(t);
  if (c.length === 0 || c.length > 6) fail('integer out of range');
  if ((c[0]! & 0x80) !== 0) fail('negative integer');
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

export function readTime(t: Tlv): Date {
  const c = content(t);
  const s = Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1');
  let m: RegExpExecArray | null;
  if (t.tag === TAG.UTCTime) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s);
    if (!m) fail('bad UTCTime');
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (t.tag === TAG.GeneralizedTime) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(s);
    if (!m) fail('bad GeneralizedTime');
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    const d = new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms),
    );
    // Date.UTC maps years 0–99 to 1900–1999.
    d.setUTCFullYear(Number(m[1]));
    return d;
  }
  fail('expected a time');
}

// ---------------------------------------------------------------- writer

function lengthBytes(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  let n = len;
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const head = lengthBytes(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let pos = 1 + head.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(TAG.SET, ...parts);

/** A context-specific tag: constructed (explicit / constructed implicit) or primitive. */
export const ctx = (n: number, constructed: boolean, ...parts: Uint8Array[]): Uint8Array =>
  tlv(0x80 | (constructed ? 0x20 : 0) | n, ...parts);

const oidCache = new Map<string, Uint8Array>();
export function oid(dotted: string): Uint8Array {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map(Number);
  const body: number[] = [];
  const pushArc = (v: number) => {
    const bytes = [v & 0x7f];
    let n = Math.floor(v / 128);
    while (n > 0) {
      bytes.unshift((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    body.push(...bytes);
  };
  pushArc(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) pushArc(a);
  const enc = tlv(TAG.OID, Uint8Array.from(body));
  oidCache.set(dotted, enc);
  return enc;
}

/** A non-negative INTEGER from big-endian magnitude bytes. */
export function uint(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  if (b.length === 0) return tlv(TAG.INTEGER, Uint8Array.of(0));
  return (b[0]! & 0x80) !== 0 ? tlv(TAG.INTEGER, Uint8Array.of(0), b) : tlv(TAG.INTEGER, b);
}

export const smallInt = (n: number): Uint8Array => {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  return uint(Uint8Array.from(bytes));
};

export const bool = (v: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
export const nul = (): Uint8Array => Uint8Array.of(0x05, 0x00);
export const octets = (b: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, b);
export const bits = (b: Uint8Array, unused = 0): Uint8Array => tlv(TAG.BIT_STRING, Uint8Array.of(unused), b);

const enc = { encode: (text: string): Uint8Array => Buffer.from(text, 'utf8') };
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
/** PrintableString when the text allows it (as Go does), otherwise UTF8String. */
export function dirString(text: string): Uint8Array {
  return tlv(PRINTABLE.test(text) ? TAG.PrintableString : TAG.UTF8String, enc.encode(text));
}
export const ia5 = (text: string, tag: number = TAG.IA5String): Uint8Array => tlv(tag, enc.encode(text));

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTCTime, enc.encode(`${pad(y % 100)}${rest}`));
  return tlv(TAG.GeneralizedTime, enc.encode(`${pad(y, 4)}${rest}`));
}

/** A KeyUsage-style BIT STRING from bit positions (0 = most significant bit of the first byte), DER-minimal. */
export function namedBits(positions: number[]): Uint8Array {
  if (positions.length === 0) return bits(new Uint8Array(0));
  const max = Math.max(...positions);
  const bytes = new Uint8Array(Math.floor(max / 8) + 1);
  for (const p of positions) bytes[p >> 3] = (bytes[p >> 3] ?? 0) | (0x80 >> (p & 7));
  const unused = 7 - (max & 7);
  return bits(bytes, unused);
}

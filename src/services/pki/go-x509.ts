// What Go's crypto/x509 makes of a certificate request: kube-controller-manager's signer, the API server, Calico and
// Istio call x509.ParseCertificateRequest and then CheckSignature, and a request either fails there or is copied into
// a certificate that openssl and every Go client must read. goRefusal(der) follows those two calls step by step:
// encoding/asn1's reflection rules for the structure, the subject and the requested extensions; cryptobyte's for the
// public key and the subjectAltName; net/url's for URI names; CheckSignature's algorithm and key checks. It returns
// Go's reason to refuse (its own words where it has them), or undefined. The signature's bytes are verified by
// decode.ts (node:crypto) over the same TBS. test/go-oracle runs Go itself against this on a corpus and on mutations.

class GoError extends Error {}
function fail(message: string): never {
  throw new GoError(message);
}

// ---------------------------------------------------------------- encoding/asn1

interface TagLen {
  cls: number;
  compound: boolean;
  tag: number;
  len: number;
  /** Offset of the first content octet. */
  at: number;
}

function base128(b: Uint8Array, off: number): { v: number; p: number } {
  let v = 0;
  for (let shifted = 0, p = off; p < b.length; shifted++) {
    if (shifted === 5) fail('asn1: structure error: base 128 integer too large');
    const x = b[p]!;
    if (shifted === 0 && x === 0x80) fail('asn1: syntax error: integer is not minimally encoded');
    v = v * 128 + (x & 0x7f);
    p++;
    if ((x & 0x80) === 0) {
      if (v > 0x7fffffff) fail('asn1: structure error: base 128 integer too large');
      return { v, p };
    }
  }
  fail('asn1: syntax error: truncated base 128 integer');
}

function tagAndLength(b: Uint8Array, off: number): TagLen {
  let p = off;
  const first = b[p++]!;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    ({ v: tag, p } = base128(b, p));
    if (tag < 0x1f) fail('asn1: syntax error: non-minimal tag');
  }
  if (p >= b.length) fail('asn1: syntax error: truncated tag or length');
  const lb = b[p++]!;
  let len = lb;
  if (lb & 0x80) {
    const n = lb & 0x7f;
    if (n === 0) fail('asn1: syntax error: indefinite length found (not DER)');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= b.length) fail('asn1: syntax error: truncated tag or length');
      if (len >= 1 << 23) fail('asn1: structure error: length too large');
      len = len * 256 + b[p++]!;
      if (len === 0) fail('asn1: structure error: superfluous leading zeros in length');
    }
    if (len < 0x80) fail('asn1: structure error: non-minimal length');
  }
  return { cls: first >> 6, compound: (first & 0x20) !== 0, tag, len, at: p };
}

function checkInteger(c: Uint8Array): void {
  if (c.length === 0) fail('asn1: structure error: empty integer');
  if (c.length > 1 && ((c[0] === 0 && (c[1]! & 0x80) === 0) || (c[0] === 0xff && (c[1]! & 0x80) === 0x80)))
    fail('asn1: structure error: integer not minimally-encoded');
}

function parseInt64(c: Uint8Array): number {
  checkInteger(c);
  if (c.length > 8) fail('asn1: structure error: integer too large');
  let v = (c[0]! & 0x80) !== 0 ? -1n : 0n;
  for (const x of c) v = (v << 8n) | BigInt(x);
  return Number(BigInt.asIntN(64, v));
}

function parseBool(c: Uint8Array): boolean {
  if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) fail('asn1: syntax error: invalid boolean');
  return c[0] === 0xff;
}

interface BitString {
  bytes: Uint8Array;
  bitLength: number;
}

function parseBitString(c: Uint8Array): BitString {
  if (c.length === 0) fail('asn1: syntax error: zero length BIT STRING');
  const pad = c[0]!;
  if (pad > 7 || (c.length === 1 && pad > 0) || (c[c.length - 1]! & ((1 << pad) - 1)) !== 0)
    fail('asn1: syntax error: invalid padding bits in BIT STRING');
  return { bytes: c.subarray(1), bitLength: (c.length - 1) * 8 - pad };
}

/** BitString.RightAlign: the padding bits moved to the front (what Go reads keys and signatures from). */
export function rightAlign(bs: BitString): Uint8Array {
  const shift = 8 - (bs.bitLength % 8);
  if (shift === 8 || bs.bytes.length === 0) return bs.bytes;
  const a = new Uint8Array(bs.bytes.length);
  a[0] = bs.bytes[0]! >> shift;
  for (let i = 1; i < a.length; i++) a[i] = ((bs.bytes[i - 1]! << (8 - shift)) | (bs.bytes[i]! >> shift)) & 0xff;
  return a;
}

function parseOid(c: Uint8Array): string {
  if (c.length === 0) fail('asn1: syntax error: zero length OBJECT IDENTIFIER');
  let { v, p } = base128(c, 0);
  const arcs = v < 80 ? [Math.floor(v / 40), v % 40] : [2, v - 80];
  while (p < c.length) {
    ({ v, p } = base128(c, p));
    arcs.push(v);
  }
  return arcs.join('.');
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** time.Parse of the digits, then the round trip encoding/asn1 demands (offsets ±0000 print as Z, so they fail). */
function checkTime(s: string, generalized: boolean): undefined {
  const re = generalized
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d*[1-9])?(Z|[+-]\d{4})$/
    : /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/;
  const m = re.exec(s);
  const bad = (): never => fail(`asn1: cannot parse ${generalized ? 'GeneralizedTime' : 'UTCTime'} "${s}"`);
  if (!m) return bad();
  const yy = Number(m[1]);
  const year = generalized ? yy : yy >= 69 ? 1900 + yy : 2000 + yy;
  const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 59) bad();
  if (day! > (month === 2 && leap(year) ? 29 : DAYS[month! - 1]!)) bad();
  const zone = m[generalized ? 8 : 7]!;
  if (zone !== 'Z' && (/^.0000$/.test(zone) || Number(zone.slice(1, 3)) > 23 || Number(zone.slice(3)) > 59)) bad();
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

const isPrintable = (b: number) =>
  (b >= 0x61 && b <= 0x7a) ||
  (b >= 0x41 && b <= 0x5a) ||
  (b >= 0x30 && b <= 0x39) ||
  (b >= 0x27 && b <= 0x29) ||
  (b >= 0x2b && b <= 0x2f) ||
  b === 0x20 ||
  b === 0x3a ||
  b === 0x3d ||
  b === 0x3f ||
  b === 0x2a || // '*' and '&': not PrintableString, accepted by Go for compatibility
  b === 0x26;

/** The string checks of encoding/asn1 (an ANY value of a universal, primitive type). */
function checkUniversal(tag: number, c: Uint8Array): void {
  switch (tag) {
    case 1:
      parseBool(c);
      return;
    case 2:
      parseInt64(c);
      return;
    case 3:
      parseBitString(c);
      return;
    case 6:
      parseOid(c);
      return;
    case 12:
      try {
        utf8Strict.decode(c);
      } catch {
        fail('asn1: invalid UTF-8 string');
      }
      return;
    case 18:
      if (c.some((b) => !(b === 0x20 || (b >= 0x30 && b <= 0x39))))
        fail('asn1: syntax error: NumericString contains invalid character');
      return;
    case 19:
      if (c.some((b) => !isPrintable(b))) fail('asn1: syntax error: PrintableString contains invalid character');
      return;
    case 22:
      if (c.some((b) => b >= 0x80)) fail('asn1: syntax error: IA5String contains invalid character');
      return;
    case 23:
    case 24:
      checkTime(Buffer.from(c).toString('latin1'), tag === 24);
      return;
    case 30: {
      if (c.length % 2 !== 0) fail('invalid BMPString');
      const n = c.length >= 2 && c[c.length - 1] === 0 && c[c.length - 2] === 0 ? c.length - 2 : c.length;
      for (let i = 0; i < n; i += 2) {
        const u = (c[i]! << 8) | c[i + 1]!;
        if (u === 0xfffe || u === 0xffff || (u >= 0xfdd0 && u <= 0xfdef) || (u >= 0xd800 && u <= 0xdfff))
          fail('invalid BMPString');
      }
      return;
    }
    // T61String (any byte, read as Latin-1), OCTET STRING, and types Go does not know (left nil): accepted.
  }
}

/** The Go types the CSR structures use, as encoding/asn1 sees them. */
type Kind =
  | { k: 'raw' | 'oid' | 'bits' | 'bool' | 'int' | 'bytes' | 'any' }
  | { k: 'struct'; fields: Field[] }
  | { k: 'seqOf'; elem: Kind; setType?: boolean };
interface Field {
  name: string;
  kind: Kind;
  optional?: boolean;
  explicit?: boolean;
  /** Context-specific tag number (implicit unless explicit). */
  tag?: number;
  set?: boolean;
  default?: number;
}

export interface RawValue {
  cls: number;
  tag: number;
  compound: boolean;
  bytes: Uint8Array;
  full: Uint8Array;
}
// biome-ignore lint/suspicious/noExplicitAny: the values follow the schema
type Value = any;

const UNIVERSAL: Record<string, [number, boolean]> = {
  oid: [6, false],
  bits: [3, false],
  bool: [1, false],
  int: [2, false],
  bytes: [4, false],
  struct: [16, true],
};

function universalOf(kind: Kind): [number, boolean] | undefined {
  if (kind.k === 'raw') return undefined;
  if (kind.k === 'seqOf') return [kind.setType ? 17 : 16, true];
  return UNIVERSAL[kind.k];
}

const NO_PARAMS: Omit<Field, 'name' | 'kind'> = {};

function parseField(
  kind: Kind,
  params: Omit<Field, 'name' | 'kind'>,
  b: Uint8Array,
  initOffset: number,
  depth: number,
): { off: number; value?: Value } {
  if (depth > 10000) fail('asn1: structure error: nesting depth exceeded');
  if (initOffset === b.length) {
    if (params.optional) return { off: initOffset, value: params.default };
    fail('asn1: syntax error: sequence truncated');
  }
  if (kind.k === 'any') {
    const t = tagAndLength(b, initOffset);
    if (t.at + t.len > b.length) fail('asn1: syntax error: data truncated');
    if (!t.compound && t.cls === 0) checkUniversal(t.tag, b.subarray(t.at, t.at + t.len));
    return { off: t.at + t.len };
  }
  let t = tagAndLength(b, initOffset);
  let off = t.at;
  if (params.explicit) {
    if (off === b.length) fail('asn1: structure error: explicit tag has no child');
    if (t.cls === 2 && t.tag === params.tag && (t.len === 0 || t.compound)) {
      if (t.len === 0) fail('asn1: structure error: zero length explicit tag was not an asn1.Flag');
      if (kind.k !== 'raw') {
        t = tagAndLength(b, off);
        off = t.at;
      }
    } else {
      if (params.optional) return { off: initOffset, value: params.default };
      fail('asn1: structure error: explicitly tagged member did not match');
    }
  }
  const universal = universalOf(kind);
  const matchAny = universal === undefined;
  let matchAnyClassAndTag = matchAny;
  let expectedClass = 0;
  let expectedTag = params.set ? 17 : universal?.[0];
  if (!params.explicit && params.tag !== undefined) {
    expectedClass = 2;
    expectedTag = params.tag;
    matchAnyClassAndTag = false;
  }
  if (
    (!matchAnyClassAndTag && (t.cls !== expectedClass || t.tag !== expectedTag)) ||
    (!matchAny && t.compound !== universal[1])
  ) {
    if (params.optional) return { off: initOffset, value: params.default };
    fail("asn1: structure error: tags don't match");
  }
  if (off + t.len > b.length) fail('asn1: syntax error: data truncated');
  const inner = b.subarray(off, off + t.len);
  off += t.len;
  switch (kind.k) {
    case 'raw':
      return {
        off,
        value: { cls: t.cls, tag: t.tag, compound: t.compound, bytes: inner, full: b.subarray(initOffset, off) },
      };
    case 'oid':
      return { off, value: parseOid(inner) };
    case 'bits':
      return { off, value: parseBitString(inner) };
    case 'bool':
      return { off, value: parseBool(inner) };
    case 'int':
      return { off, value: parseInt64(inner) };
    case 'bytes':
      return { off, value: inner };
    case 'struct': {
      const value: Record<string, Value> = { raw: b.subarray(initOffset, off) };
      let io = 0;
      for (const f of kind.fields) {
        const r = parseField(f.kind, f, inner, io, depth + 1);
        io = r.off;
        value[f.name] = r.value;
      }
      // Extra elements at the end of a SEQUENCE are allowed (and never read).
      return { off, value };
    }
    case 'seqOf':
      return { off, value: parseSequenceOf(inner, kind.elem, depth) };
  }
}

const STRING_TAGS = new Set([22, 27, 20, 12, 18, 30]);

function parseSequenceOf(b: Uint8Array, elem: Kind, depth: number): Value[] {
  const universal = universalOf(elem);
  let n = 0;
  for (let off = 0; off < b.length; n++) {
    const t = tagAndLength(b, off);
    const tag = STRING_TAGS.has(t.tag) ? 19 : t.tag === 24 ? 23 : t.tag;
    if (universal && (t.cls !== 0 || t.compound !== universal[1] || tag !== universal[0]))
      fail('asn1: structure error: sequence tag mismatch');
    if (t.at + t.len > b.length) fail('asn1: syntax error: truncated sequence');
    off = t.at + t.len;
  }
  const out: Value[] = [];
  for (let i = 0, off = 0; i < n; i++) {
    const r = parseField(elem, NO_PARAMS, b, off, depth);
    out.push(r.value);
    off = r.off;
  }
  return out;
}

/** asn1.Unmarshal: the value and what follows it. */
function unmarshal(kind: Kind, b: Uint8Array): { value: Value; rest: number } {
  const r = parseField(kind, NO_PARAMS, b, 0, 0);
  return { value: r.value, rest: b.length - r.off };
}

const f = (name: string, kind: Kind, params: Omit<Field, 'name' | 'kind'> = {}): Field => ({ name, kind, ...params });
const OIDK: Kind = { k: 'oid' };
const RAW: Kind = { k: 'raw' };
const ALGORITHM: Kind = { k: 'struct', fields: [f('algorithm', OIDK), f('parameters', RAW, { optional: true })] };
const SPKI: Kind = { k: 'struct', fields: [f('algorithm', ALGORITHM), f('key', { k: 'bits' })] };
const CSR: Kind = {
  k: 'struct',
  fields: [
    f('tbs', {
      k: 'struct',
      fields: [
        f('version', { k: 'int' }),
        f('subject', RAW),
        f('publicKey', SPKI),
        f('attributes', { k: 'seqOf', elem: RAW }, { tag: 0 }),
      ],
    }),
    f('signatureAlgorithm', ALGORITHM),
    f('signature', { k: 'bits' }),
  ],
};
const RDN_SEQUENCE: Kind = {
  k: 'seqOf',
  elem: { k: 'seqOf', setType: true, elem: { k: 'struct', fields: [f('type', OIDK), f('value', { k: 'any' })] } },
};
const PKCS10_ATTRIBUTE: Kind = {
  k: 'struct',
  fields: [f('id', OIDK), f('values', { k: 'seqOf', elem: RAW }, { set: true })],
};
const EXTENSIONS: Kind = {
  k: 'seqOf',
  elem: {
    k: 'struct',
    fields: [f('id', OIDK), f('critical', { k: 'bool' }, { optional: true }), f('value', { k: 'bytes' })],
  },
};
const PSS_PARAMETERS: Kind = {
  k: 'struct',
  fields: [
    f('hash', ALGORITHM, { explicit: true, tag: 0 }),
    f('mgf', ALGORITHM, { explicit: true, tag: 1 }),
    f('saltLength', { k: 'int' }, { explicit: true, tag: 2 }),
    f('trailerField', { k: 'int' }, { optional: true, explicit: true, tag: 3, default: 1 }),
  ],
};

// ---------------------------------------------------------------- cryptobyte

/** cryptobyte's ReadAnyASN1: one low-tag element with a minimal definite length, or undefined. */
function cbRead(b: Uint8Array, off: number): { tag: number; content: Uint8Array; end: number } | undefined {
  if (b.length - off < 2) return undefined;
  const tag = b[off]!;
  const lb = b[off + 1]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let len = lb;
  let head = 2;
  if (lb & 0x80) {
    const n = lb & 0x7f;
    if (n === 0 || n > 4 || b.length - off < 2 + n) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]!;
    if (len < 128 || b[off + 2] === 0) return undefined;
    head = 2 + n;
  }
  const end = off + head + len;
  if (end > b.length) return undefined;
  return { tag, content: b.subarray(off + head, end), end };
}

function cbExpect(b: Uint8Array, tag: number): Uint8Array | undefined {
  const r = cbRead(b, 0);
  return r && r.tag === tag ? r.content : undefined;
}

/** cryptobyte's ReadASN1Integer into a big.Int (minimal encoding; negative allowed). */
function cbInteger(b: Uint8Array, off = 0): { value: bigint; end: number } | undefined {
  const r = cbRead(b, off);
  if (r?.tag !== 0x02) return undefined;
  const c = r.content;
  if (c.length === 0) return undefined;
  if (c.length > 1 && ((c[0] === 0 && (c[1]! & 0x80) === 0) || (c[0] === 0xff && (c[1]! & 0x80) === 0x80)))
    return undefined;
  let v = 0n;
  for (const x of c) v = (v << 8n) | BigInt(x);
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return { value: v, end: r.end };
}

/** cryptobyte's ReadASN1ObjectIdentifier. */
function cbOid(b: Uint8Array): string | undefined {
  const c = cbExpect(b, 0x06);
  if (!c || c.length === 0) return undefined;
  const arcs: number[] = [];
  for (let p = 0; p < c.length; ) {
    let v = 0;
    for (let i = 0; ; i++) {
      if (p >= c.length || i === 5 || v >= 1 << 24) return undefined;
      const x = c[p++]!;
      if (i === 0 && x === 0x80) return undefined;
      v = v * 128 + (x & 0x7f);
      if ((x & 0x80) === 0) break;
    }
    if (arcs.length === 0) arcs.push(...(v < 80 ? [Math.floor(v / 40), v % 40] : [2, v - 80]));
    else arcs.push(v);
  }
  return arcs.join('.');
}

// ---------------------------------------------------------------- the public key (parsePublicKey)

const RSA = '1.2.840.113549.1.1.1';
const DSA = '1.2.840.10040.4.1';
const ECDSA = '1.2.840.10045.2.1';
const ED25519 = '1.3.101.112';
const GO_KEY_ALGORITHMS = new Set([RSA, DSA, '1.2.840.10045.2.1', ED25519]);
/** Go's named curves: [name, coordinate bytes]. */
const CURVES: Record<string, [string, number]> = {
  '1.3.132.0.33': ['P-224', 28],
  '1.2.840.10045.3.1.7': ['P-256', 32],
  '1.3.132.0.34': ['P-384', 48],
  '1.3.132.0.35': ['P-521', 66],
};
const CURVE_PRIMES: Record<string, bigint> = {
  'P-224': 2n ** 224n - 2n ** 96n + 1n,
  'P-256': 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  'P-384': 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
  'P-521': 2n ** 521n - 1n,
};
const CURVE_B: Record<string, bigint> = {
  'P-224': 0xb4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4n,
  'P-256': 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  'P-384': 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  'P-521':
    0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
};
const big = (b: Uint8Array) => (b.length ? BigInt(`0x${Buffer.from(b).toString('hex')}`) : 0n);
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

/** The public key as Go holds it after parsing: what CheckSignature then needs. */
type GoKey = { type: 'rsa'; n: bigint; e: bigint } | { type: 'ecdsa' | 'ed25519' | 'dsa' } | undefined;

function parsePublicKey(algorithm: string, params: RawValue | undefined, key: BitString): GoKey {
  const data = rightAlign(key);
  const paramsFull = params?.full ?? new Uint8Array(0);
  switch (algorithm) {
    case RSA: {
      if (paramsFull.length !== 2 || paramsFull[0] !== 0x05 || paramsFull[1] !== 0)
        fail('x509: RSA key missing NULL parameters');
      const seq = cbExpect(data, 0x30);
      if (!seq) fail('x509: invalid RSA public key');
      const n = cbInteger(seq);
      if (!n) fail('x509: invalid RSA modulus');
      const e = cbInteger(seq, n.end);
      if (!e || e.value >= 2n ** 63n || e.value < -(2n ** 63n)) fail('x509: invalid RSA public exponent');
      if (n.value <= 0n) fail('x509: RSA modulus is not a positive number');
      if (e.value <= 0n) fail('x509: RSA public exponent is not a positive number');
      return { type: 'rsa', n: n.value, e: e.value };
    }
    case ECDSA: {
      const curveOid = cbOid(paramsFull);
      if (curveOid === undefined) fail('x509: invalid ECDSA parameters');
      const curve = CURVES[curveOid];
      if (!curve) fail('x509: unsupported elliptic curve');
      const [name, size] = curve;
      if (data.length < 1 || data[0] !== 4) fail('ecdsa: invalid uncompressed public key');
      if (data.length !== 1 + 2 * size) fail('invalid public key');
      const p = CURVE_PRIMES[name]!;
      const x = big(data.subarray(1, 1 + size));
      const y = big(data.subarray(1 + size));
      if (x >= p || y >= p) fail('invalid public key');
      // y² = x³ − 3x + b
      if (mod(y * y, p) !== mod(x * x * x - 3n * x + CURVE_B[name]!, p)) fail('invalid public key');
      return { type: 'ecdsa' };
    }
    case ED25519:
      if (paramsFull.length !== 0) fail('x509: Ed25519 key encoded with illegal parameters');
      if (data.length !== 32) fail('x509: wrong Ed25519 public key size');
      return { type: 'ed25519' };
    case DSA: {
      if (!cbInteger(data)) fail('x509: invalid DSA public key');
      const seq = cbExpect(paramsFull, 0x30);
      const p = seq && cbInteger(seq);
      const q = p && cbInteger(seq, p.end);
      const g = q && cbInteger(seq, q.end);
      if (!g) fail('x509: invalid DSA parameters');
      if (cbInteger(data)!.value <= 0n || p.value <= 0n || q.value <= 0n || g.value <= 0n)
        fail('x509: zero or negative DSA parameter');
      return { type: 'dsa' };
    }
    default:
      // X25519, Ed448, RSA-PSS keys and anything else: UnknownPublicKeyAlgorithm, the key is not parsed.
      return undefined;
  }
}

// ---------------------------------------------------------------- subjectAltName and net/url

// Bytes net/url lets stand in a host (shouldEscape(c, encodeHost) is false).
const HOST_OK = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;
const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

type UrlMode = 'host' | 'zone' | 'other';

function urlUnescape(s: string, mode: UrlMode): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) fail(`invalid URL escape "${s.slice(i, i + 3)}"`);
      const v = Number.parseInt(s.slice(i + 1, i + 3), 16);
      if (mode === 'host' && v >> 4 < 8 && s.slice(i, i + 3) !== '%25')
        fail(`invalid URL escape "${s.slice(i, i + 3)}"`);
      if (mode === 'zone' && s.slice(i, i + 3) !== '%25' && v !== 0x20 && !HOST_OK.test(String.fromCharCode(v)))
        fail(`invalid URL escape "${s.slice(i, i + 3)}"`);
      out += String.fromCharCode(v);
      i += 3;
    } else {
      if ((mode === 'host' || mode === 'zone') && !HOST_OK.test(c)) fail(`invalid character "${c}" in host name`);
      out += c;
      i++;
    }
  }
  return out;
}

const validPort = (p: string) => p === '' || /^:\d*$/.test(p);

/** netip.ParseAddr for what sits between brackets: an IPv6 address (or IPv4, which the caller refuses). */
function parseAddr(s: string): 'v4' | 'v6' {
  const v4 = (t: string) => {
    const parts = t.split('.');
    return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
  };
  if (/^[^:]*\./.test(s) && !s.includes(':')) {
    if (!v4(s)) fail('invalid host: ParseAddr: invalid IPv4 address');
    return 'v4';
  }
  const pct = s.indexOf('%');
  const addr = pct >= 0 ? s.slice(0, pct) : s;
  if (pct >= 0 && pct === s.length - 1) fail('invalid host: ParseAddr: zone must be a non-empty string');
  let groups = 0;
  let ellipsis = false;
  let rest = addr;
  if (rest.startsWith('::')) {
    ellipsis = true;
    rest = rest.slice(2);
  }
  const bad = (): never => fail('invalid host: ParseAddr: invalid IPv6 address');
  while (rest.length > 0) {
    const m = /^[0-9A-Fa-f]{1,4}/.exec(rest);
    if (!m) return bad();
    const tail = rest.slice(m[0].length);
    if (tail.startsWith('.')) {
      // An embedded IPv4 address ends the address and counts as two groups.
      if ((!ellipsis && groups !== 6) || groups > 6 || !v4(rest)) bad();
      groups += 2;
      rest = '';
      break;
    }
    groups++;
    rest = tail;
    if (rest.length === 0) break;
    if (rest[0] !== ':' || rest.length === 1) bad();
    rest = rest.slice(1);
    if (rest.startsWith(':')) {
      if (ellipsis) bad();
      ellipsis = true;
      rest = rest.slice(1);
    }
    if (groups >= 8 && rest.length > 0) bad();
  }
  if (ellipsis ? groups > 7 : groups !== 8) bad();
  return 'v6';
}

function parseHost(scheme: string, host: string): string {
  const open = host.lastIndexOf('[');
  if (open > 0) fail('invalid IP-literal');
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0) fail("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validPort(colonPort)) fail(`invalid port "${colonPort}" after host`);
    const port = urlUnescape(colonPort, 'host');
    const hostname = host.slice(1, close);
    const zone = hostname.indexOf('%25');
    const unescaped =
      zone >= 0
        ? urlUnescape(hostname.slice(0, zone), 'host') + urlUnescape(hostname.slice(zone), 'zone')
        : urlUnescape(hostname, 'host');
    if (parseAddr(unescaped) === 'v4') fail('invalid IP-literal');
    return `[${unescaped}]${port}`;
  }
  let i = host.indexOf(':');
  if (i >= 0) {
    const last = host.lastIndexOf(':');
    if (last !== i && scheme !== 'http' && scheme !== 'https') i = last;
    const colonPort = host.slice(i);
    if (!validPort(colonPort)) fail(`invalid port "${colonPort}" after host`);
  }
  return urlUnescape(host, 'host');
}

const USERINFO_OK = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

/** url.Parse, as far as its errors go; returns the host. */
function parseUrl(raw: string): string {
  const hash = raw.indexOf('#');
  const u = hash >= 0 ? raw.slice(0, hash) : raw;
  if (/[\x00-\x1f\x7f]/.test(u)) fail('net/url: invalid control character in URL');
  let host = '';
  if (u !== '*') {
    let scheme = '';
    let rest = u;
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(u);
    if (u.startsWith(':')) fail('missing protocol scheme');
    if (m) {
      scheme = m[0].slice(0, -1).toLowerCase();
      rest = u.slice(m[0].length);
    }
    if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) rest = rest.slice(0, -1);
    else if (rest.includes('?')) rest = rest.slice(0, rest.indexOf('?'));
    let opaque = false;
    if (!rest.startsWith('/')) {
      if (scheme) opaque = true;
      else if ((rest.split('/')[0] ?? '').includes(':')) fail('first path segment in URL cannot contain colon');
    }
    if (!opaque) {
      if ((scheme || !rest.startsWith('///')) && rest.startsWith('//')) {
        let authority = rest.slice(2);
        const slash = authority.indexOf('/');
        rest = slash >= 0 ? authority.slice(slash) : '';
        if (slash >= 0) authority = authority.slice(0, slash);
        const at = authority.lastIndexOf('@');
        host = parseHost(scheme, at >= 0 ? authority.slice(at + 1) : authority);
        if (at >= 0) {
          const userinfo = authority.slice(0, at);
          if (!USERINFO_OK.test(userinfo)) fail('net/url: invalid userinfo');
          for (const part of userinfo.split(':').slice(0, 2)) urlUnescape(part, 'other');
        }
      }
      urlUnescape(rest, 'other');
    }
  }
  if (hash >= 0) urlUnescape(raw.slice(hash + 1), 'other');
  return host;
}

/** crypto/x509's domainNameValid(s, false), as Go 1.26 has it. */
function domainNameValid(s: string): boolean {
  if (s.length === 0) return true;
  if (s.endsWith('.')) return false;
  for (const label of s.split('.')) {
    if (label.length === 0) return false;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c < 33 || c > 126) return false;
    }
  }
  return true;
}

function parseSan(value: Uint8Array): void {
  const seq = cbExpect(value, 0x30);
  if (!seq) fail('x509: invalid subject alternative names');
  for (let off = 0; off < seq.length; ) {
    const r = cbRead(seq, off);
    if (!r) fail('x509: invalid subject alternative name');
    off = r.end;
    const ascii = !r.content.some((b) => b >= 0x80);
    switch (r.tag ^ 0x80) {
      case 1:
        if (!ascii) fail('x509: SAN rfc822Name is malformed');
        break;
      case 2:
        if (!ascii) fail('x509: SAN dNSName is malformed');
        break;
      case 6: {
        if (!ascii) fail('x509: SAN uniformResourceIdentifier is malformed');
        const uri = Buffer.from(r.content).toString('latin1');
        let host: string;
        try {
          host = parseUrl(uri);
        } catch (err) {
          if (err instanceof GoError) fail(`x509: cannot parse URI ${JSON.stringify(uri)}: ${err.message}`);
          throw err;
        }
        if (!domainNameValid(host)) fail(`x509: cannot parse URI ${JSON.stringify(uri)}: invalid domain`);
        break;
      }
      case 7:
        if (r.content.length !== 4 && r.content.length !== 16)
          fail(`x509: cannot parse IP address of length ${r.content.length}`);
        break;
    }
  }
}

// ---------------------------------------------------------------- CheckSignature's algorithm checks

const OID_SIGNATURE: Record<string, { key: string; hash: string }> = {
  '1.2.840.113549.1.1.2': { key: 'rsa', hash: '' }, // MD2WithRSA
  '1.2.840.113549.1.1.4': { key: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { key: 'rsa', hash: 'sha1' },
  '1.3.14.3.2.29': { key: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.10040.4.3': { key: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { key: 'dsa', hash: 'sha256' },
  '1.2.840.10045.4.1': { key: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { key: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { key: 'ed25519', hash: '' },
};
const RSA_PSS = '1.2.840.113549.1.1.10';
const PSS_HASHES: Record<string, [string, number]> = {
  '2.16.840.1.101.3.4.2.1': ['sha256', 32],
  '2.16.840.1.101.3.4.2.2': ['sha384', 48],
  '2.16.840.1.101.3.4.2.3': ['sha512', 64],
};
const isNullOrAbsent = (r: RawValue | undefined) =>
  !r || r.full.length === 0 || (r.full.length === 2 && r.full[0] === 5 && r.full[1] === 0);

/** getSignatureAlgorithmFromAI: the algorithm Go verifies with, or undefined (UnknownSignatureAlgorithm). */
function signatureAlgorithm(ai: {
  algorithm: string;
  parameters?: RawValue;
}): { key: string; hash: string } | undefined {
  if (ai.algorithm === '1.3.101.112' && ai.parameters && ai.parameters.full.length !== 0) return undefined;
  if (ai.algorithm !== RSA_PSS) return OID_SIGNATURE[ai.algorithm];
  try {
    const params = unmarshal(PSS_PARAMETERS, ai.parameters?.full ?? new Uint8Array(0)).value;
    const mgfHash = unmarshal(ALGORITHM, params.mgf.parameters?.full ?? new Uint8Array(0)).value;
    if (
      !isNullOrAbsent(params.hash.parameters) ||
      params.mgf.algorithm !== '1.2.840.113549.1.1.8' ||
      mgfHash.algorithm !== params.hash.algorithm ||
      !isNullOrAbsent(mgfHash.parameters) ||
      params.trailerField !== 1
    )
      return undefined;
    const h = PSS_HASHES[params.hash.algorithm];
    return h && h[1] === params.saltLength ? { key: 'rsa', hash: h[0] } : undefined;
  } catch (err) {
    if (err instanceof GoError) return undefined;
    throw err;
  }
}

function checkSignatureAlgorithm(ai: { algorithm: string; parameters?: RawValue }, key: GoKey): void {
  const alg = signatureAlgorithm(ai);
  if (!alg || (alg.hash === '' && alg.key !== 'ed25519'))
    fail('x509: cannot verify signature: algorithm unimplemented');
  if (alg.hash === 'md5') fail('x509: cannot verify signature: insecure algorithm MD5-RSA');
  if (!key || key.type === 'dsa') fail('x509: cannot verify signature: algorithm unimplemented');
  if (key.type !== alg.key)
    fail(
      `x509: signature algorithm specifies an ${alg.key.toUpperCase()} public key, but have public key of type ${key.type}`,
    );
  if (key.type === 'rsa') {
    if ((key.n & 1n) === 0n) fail('crypto/rsa: public modulus is even');
    if (key.e < 2n) fail('crypto/rsa: public exponent too small or negative');
    if ((key.e & 1n) === 0n) fail('crypto/rsa: public exponent is even');
    if (key.e > 2n ** 31n - 1n) fail('crypto/rsa: public exponent too large');
    const bits = key.n.toString(2).length;
    if (bits < 1024)
      fail(`crypto/rsa: ${bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`);
  }
}

/**
 * Why Go's parsePublicKey refuses this SubjectPublicKeyInfo (or does not know its algorithm, so that nothing it
 * signs or certifies verifies in Go), or undefined.
 */
export function goKeyRefusal(spki: Uint8Array): string | undefined {
  try {
    const { value } = unmarshal(SPKI, spki);
    if (!GO_KEY_ALGORITHMS.has(value.algorithm.algorithm)) return 'x509: unknown public key algorithm';
    parsePublicKey(value.algorithm.algorithm, value.algorithm.parameters, value.key);
    return undefined;
  } catch (err) {
    if (err instanceof GoError) return err.message;
    throw err;
  }
}

// ---------------------------------------------------------------- ParseCertificateRequest + CheckSignature

/**
 * Go's reason to refuse this DER certificate request in x509.ParseCertificateRequest or in CheckSignature's checks
 * of algorithm and key (not the signature's bytes), or undefined when Go takes it.
 */
export function goRefusal(der: Uint8Array): string | undefined {
  try {
    const { value: csr, rest } = unmarshal(CSR, der);
    if (rest !== 0) fail('asn1: syntax error: trailing data');
    const { tbs } = csr;
    const key = parsePublicKey(
      tbs.publicKey.algorithm.algorithm,
      tbs.publicKey.algorithm.parameters,
      tbs.publicKey.key,
    );
    const subject = tbs.subject as RawValue;
    unmarshal(RDN_SEQUENCE, subject.full);
    const seen = new Set<string>();
    for (const attr of tbs.attributes as RawValue[]) {
      let parsed: Value;
      try {
        parsed = unmarshal(PKCS10_ATTRIBUTE, attr.full).value;
      } catch (err) {
        if (err instanceof GoError) continue; // attributes that do not parse are ignored
        throw err;
      }
      if (parsed.values.length === 0 || parsed.id !== '1.2.840.113549.1.9.14') continue;
      const extensions = unmarshal(EXTENSIONS, (parsed.values[0] as RawValue).full).value as Value[];
      for (const ext of extensions) {
        if (seen.has(ext.id)) fail('x509: certificate request contains duplicate requested extensions');
        seen.add(ext.id);
      }
      for (const ext of extensions) if (ext.id === '2.5.29.17') parseSan(ext.value);
    }
    checkSignatureAlgorithm(csr.signatureAlgorithm, key);
    return undefined;
  } catch (err) {
    if (err instanceof GoError) return err.message;
    throw err;
  }
}

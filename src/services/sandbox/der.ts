// A minimal DER writer and reader: just enough to mint X.509 certificates synchronously with node:crypto (fast
// start-up, no WebCrypto round trips) and to parse and verify PKCS#10 requests the way the API server does.
import { createPublicKey, type KeyObject, verify as cryptoVerify, constants } from 'node:crypto';
import { isIP } from 'node:net';

// ----------------------------------------------------------------------------------------------- writer
function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  let v = n;
  while (v > 0) {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
export const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 + n, ...items);
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));

const evenHex = (h: string): string => (h.length % 2 ? `0${h}` : h);

export function integer(value: Buffer | number): Buffer {
  let b = typeof value === 'number' ? Buffer.from(evenHex(value.toString(16)), 'hex') : value;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && ((b[i + 1] ?? 0) & 0x80) === 0) i++;
  b = b.subarray(i);
  if (((b[0] ?? 0) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const first = (parts[0] ?? 0) * 40 + (parts[1] ?? 0);
  const out: number[] = [];
  for (const p of [first, ...parts.slice(2)]) {
    const stack = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

export function time(d: Date): Buffer {
  const iso = d.toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(compact.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(compact, 'ascii'));
}

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Name with CN and any number of O (each its own RDN, as Go's pkix does). */
export function name(cn: string, orgs: string[] = []): Buffer {
  const rdns = orgs.map((o) => set(seq(oid(OID.organization), utf8(o))));
  rdns.push(set(seq(oid(OID.commonName), utf8(cn))));
  return seq(...rdns);
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** KeyUsage bits: 0 digitalSignature, 2 keyEncipherment, 4 keyAgreement, 5 keyCertSign, 6 cRLSign. */
export function keyUsage(bits: number[]): Buffer {
  let v = 0;
  for (const b of bits) v |= 0x80 >> b;
  const highest = Math.max(...bits);
  const unused = 7 - highest;
  return tlv(0x03, Buffer.from([unused, v]));
}

export function sanNames(hosts: string[]): Buffer {
  return seq(
    ...hosts.map((h) => {
      const family = isIP(h);
      if (family === 4) return tlv(0x87, Buffer.from(h.split('.').map(Number)));
      if (family === 6) return tlv(0x87, ipv6Bytes(h));
      return tlv(0x82, Buffer.from(h, 'ascii'));
    }),
  );
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.map((g: string) => g.padStart(4, '0')).join(''), 'hex');
}

// ----------------------------------------------------------------------------------------------- reader
export interface Node {
  tag: number;
  /** The whole TLV. */
  raw: Buffer;
  /** The content octets. */
  body: Buffer;
}

export class DerError extends Error {}

export function read(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError('asn1: syntax error: data truncated');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError('asn1: syntax error: high-tag-number form not supported');
  let len = buf[offset + 1] ?? 0;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('asn1: syntax error: indefinite or too long length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] ?? 0);
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw new DerError('asn1: syntax error: data truncated');
  return { tag, raw: buf.subarray(offset, end), body: buf.subarray(offset + header, end) };
}

export function children(node: Node): Node[] {
  const out: Node[] = [];
  let off = 0;
  while (off < node.body.length) {
    const child = read(node.body, off);
    out.push(child);
    off += child.raw.length;
  }
  return out;
}

export function oidString(body: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of body) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

export interface ParsedCsr {
  subject: { commonName: string[]; organization: string[] };
  publicKey: KeyObject;
}

const SIG_ALGS: Record<string, string | null> = {
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.10': 'pss',
  '1.3.101.112': null,
};

interface UnverifiedCsr extends ParsedCsr {
  info: Buffer;
  algOid: string;
  signature: Buffer;
}

/** Parses a DER PKCS#10 request without checking its signature (x509.ParseCertificateRequest), Go's error texts. */
export function parseCsr(der: Buffer): UnverifiedCsr {
  let info: Node;
  let algOid: string;
  let signature: Buffer;
  let spki: Buffer;
  const subject = { commonName: [] as string[], organization: [] as string[] };
  try {
    const top = read(der);
    if (top.tag !== 0x30 || top.raw.length !== der.length) throw new DerError('x');
    const [i, alg, sig] = children(top);
    if (!i || !alg || !sig || i.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03) throw new DerError('x');
    info = i;
    const algId = children(alg)[0];
    if (algId?.tag !== 0x06) throw new DerError('x');
    algOid = oidString(algId.body);
    signature = sig.body.subarray(1);
    const [, subj, pk] = children(info);
    if (!subj || !pk || subj.tag !== 0x30 || pk.tag !== 0x30) throw new DerError('x');
    spki = pk.raw;
    for (const rdn of children(subj)) {
      for (const atv of children(rdn)) {
        const [t, v] = children(atv);
        if (!t || !v) continue;
        const id = oidString(t.body);
        const text = v.body.toString(v.tag === 0x1e ? 'utf16le' : 'utf8');
        if (id === OID.commonName) subject.commonName.push(text);
        if (id === OID.organization) subject.organization.push(text);
      }
    }
  } catch {
    throw new DerError('x509: malformed certificate request');
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new DerError('x509: unsupported public key algorithm or malformed public key');
  }
  return { subject, publicKey, info: info.raw, algOid, signature };
}

/** CheckSignature of a parsed request; throws Go's error text. */
export function verifyCsr(csr: UnverifiedCsr): void {
  const { algOid, info, signature, publicKey } = csr;
  if (!(algOid in SIG_ALGS)) throw new DerError('x509: cannot verify signature: algorithm unimplemented');
  const hash = SIG_ALGS[algOid] ?? null;
  let ok = false;
  try {
    if (hash === 'pss') {
      ok = cryptoVerify(
        'sha256',
        info,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        signature,
      );
    } else {
      ok = cryptoVerify(hash, info, publicKey, signature);
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    const type = publicKey.asymmetricKeyType;
    throw new DerError(
      type === 'ec'
        ? 'x509: ECDSA verification failure'
        : type === 'ed25519'
          ? 'x509: Ed25519 verification failure'
          : 'crypto/rsa: verification error',
    );
  }
}

/** Parses a DER PKCS#10 request and checks its self-signature, with Go's error texts. */
export function parseAndVerifyCsr(der: Buffer): ParsedCsr {
  const csr = parseCsr(der);
  verifyCsr(csr);
  return { subject: csr.subject, publicKey: csr.publicKey };
}

/** Checks that a DER blob is one or more X.509 certificates (Go's x509.ParseCertificates, loosely). */
export function countCertificates(der: Buffer): number {
  let off = 0;
  let n = 0;
  while (off < der.length) {
    const cert = read(der, off);
    if (cert.tag !== 0x30) throw new DerError('x509: malformed certificate');
    const parts = children(cert);
    if (parts.length !== 3 || parts[0]?.tag !== 0x30 || parts[2]?.tag !== 0x03) {
      throw new DerError('x509: malformed certificate');
    }
    off += cert.raw.length;
    n++;
  }
  return n;
}

// DER builders for what certdesk writes: names, extensions, certificates and PKCS#10 requests.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bits, bool, ctx, dirString, ia5, namedBits, octets, oid, seq, set, smallInt, time, uint } from './der.js';
import { KEY_USAGE_BITS, type KeyUsageBitName, OID } from './oids.js';
import type { CaKey } from './ca-key.js';
import { type SignatureChoice, signAsync } from './keys.js';

export interface NameFields {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string;
  CN?: string;
}

const NAME_OIDS: Array<[keyof NameFields, string]> = [
  ['C', '2.5.4.6'],
  ['ST', '2.5.4.8'],
  ['L', '2.5.4.7'],
  ['O', '2.5.4.10'],
  ['OU', '2.5.4.11'],
];

/** A Name in Go's order (C, ST, L, O, OU, then CN), one attribute per RDN. */
export function encodeName(names: NameFields[], cn?: string): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const [key, o] of NAME_OIDS) {
    for (const n of names) {
      const v = n[key];
      if (v) rdns.push(set(seq(oid(o), dirString(v))));
    }
  }
  if (cn) rdns.push(set(seq(oid(OID.commonName), dirString(cn))));
  return seq(...rdns);
}

export function extension(o: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(o), bool(true), octets(value)) : seq(oid(o), octets(value));
}

export function keyUsageExtension(usages: KeyUsageBitName[]): Uint8Array {
  return extension(OID.keyUsage, true, namedBits(usages.map((u) => KEY_USAGE_BITS.indexOf(u))));
}

export function extKeyUsageExtension(oids: string[]): Uint8Array {
  return extension(OID.extKeyUsage, false, seq(...oids.map(oid)));
}

export function basicConstraintsExtension(ca: boolean, pathLength?: number): Uint8Array {
  const body = ca ? [bool(true), ...(pathLength !== undefined ? [smallInt(pathLength)] : [])] : [];
  return extension(OID.basicConstraints, true, seq(...body));
}

export const skiExtension = (ski: Uint8Array): Uint8Array => extension(OID.subjectKeyIdentifier, false, octets(ski));
export const akiExtension = (kid: Uint8Array): Uint8Array =>
  extension(OID.authorityKeyIdentifier, false, seq(ctx(0, false, kid)));

export function sanExtension(elements: Uint8Array[], critical: boolean): Uint8Array {
  return extension(OID.subjectAltName, critical, seq(...elements));
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(publicKeyBits: Uint8Array): Uint8Array {
  return createHash('sha1').update(publicKeyBits).digest();
}

export function spkiOf(key: KeyObject): Uint8Array {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
}

/** The subjectPublicKey bits inside an SPKI built by node (BIT STRING is the last element). */
export function publicKeyBitsOf(spki: Uint8Array): Uint8Array {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: walk the two headers.
  const headerLen = (pos: number) => (spki[pos + 1]! < 0x80 ? 2 : 2 + (spki[pos + 1]! & 0x7f));
  const lenAt = (pos: number) => {
    const b = spki[pos + 1]!;
    if (b < 0x80) return b;
    let n = 0;
    for (let i = 0; i < (b & 0x7f); i++) n = n * 256 + spki[pos + 2 + i]!;
    return n;
  };
  const algPos = headerLen(0);
  const bitPos = algPos + headerLen(algPos) + lenAt(algPos);
  return spki.subarray(bitPos + headerLen(bitPos) + 1, bitPos + headerLen(bitPos) + lenAt(bitPos));
}

export function ipBytes(text: string): Uint8Array | undefined {
  const v = isIP(text);
  if (v === 4) return Uint8Array.from(text.split('.').map(Number));
  if (v !== 6) return undefined;
  let s = text;
  const tailV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (tailV4) {
    tail = tailV4[1]!.split('.').map(Number);
    s = `${s.slice(0, -tailV4[1]!.length)}0:0`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const rs = rest ? rest.split(':') : [];
  const words = [...hs, ...Array(8 - hs.length - rs.length).fill('0'), ...rs].map((w) => Number.parseInt(w, 16));
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** SAN GeneralNames from cfssl-style hosts: IPs, e-mail addresses, URIs and DNS names, in Go's order. */
export function sanElementsFromHosts(hosts: string[]): { elements: Uint8Array[]; dns: number; ip: number } {
  const dns: Uint8Array[] = [];
  const email: Uint8Array[] = [];
  const ips: Uint8Array[] = [];
  const uris: Uint8Array[] = [];
  for (const h of hosts) {
    const ip = ipBytes(h);
    if (ip) ips.push(ctx(7, false, ip));
    else if (/^[^@\s<>]+@[^@\s<>]+$/.test(h)) email.push(ia5(h, 0x81));
    else if (/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(h)) uris.push(ia5(h, 0x86));
    else dns.push(ia5(h, 0x82));
  }
  return { elements: [...dns, ...email, ...ips, ...uris], dns: dns.length, ip: ips.length };
}

export interface CertificateFields {
  serial: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: Uint8Array[];
}

export async function buildCertificate(
  f: CertificateFields,
  key: KeyObject | CaKey,
  sig: SignatureChoice,
): Promise<Uint8Array> {
  const tbs = seq(
    ctx(0, true, smallInt(2)),
    uint(f.serial),
    sig.algorithmIdentifier,
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.spki,
    ...(f.extensions.length ? [ctx(3, true, seq(...f.extensions))] : []),
  );
  const signature = await ('sign' in key ? key.sign(sig.hash, tbs) : signAsync(sig.hash, tbs, key));
  return seq(tbs, sig.algorithmIdentifier, bits(signature));
}

export async function buildCsr(
  subject: Uint8Array,
  key: KeyObject,
  extensions: Uint8Array[],
  sig: SignatureChoice,
): Promise<Uint8Array> {
  const attrs = extensions.length ? [seq(oid(OID.extensionRequest), set(seq(...extensions)))] : [];
  const info = seq(smallInt(0), subject, spkiOf(key), ctx(0, true, ...attrs));
  const signature = await signAsync(sig.hash, info, key);
  return seq(info, sig.algorithmIdentifier, bits(signature));
}

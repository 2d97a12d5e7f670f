// Turns what a person or a cluster hands us (PEM text, raw DER, or base64 of PEM as in spec.request)
// into DER blocks with their PEM labels, refusing oversized or unrecognisable input with a PkiError.
import { PkiError } from './types.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

/**
 * Largest input decoded anywhere: kube-apiserver's largest request body (3 MiB, MaxRequestBodyBytes), so that any
 * request a cluster stores can be decoded and judged. A CSR is a few KiB; one padded past a smaller bound would
 * otherwise leave nothing checked but its size.
 */
export const MAX_INPUT_BYTES = 3 * 1024 * 1024;

const MAX_BLOCKS = 64;

const dec = { decode: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') };

export function toText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : dec.decode(input);
}

function looksLikeDer(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x30 && (b[1]! < 0x80 || (b[1]! >= 0x81 && b[1]! <= 0x84));
}

function decodeBase64Strict(s: string): Uint8Array | undefined {
  const compact = s.replace(/\s+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** Linear-time scan for PEM blocks (a regex with a back-reference goes quadratic on hostile input). */
export function parsePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  let pos = 0;
  while (out.length < MAX_BLOCKS) {
    const begin = text.indexOf('-----BEGIN ', pos);
    if (begin < 0) break;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0 || labelEnd - begin - 11 > 64) break;
    const label = text.slice(begin + 11, labelEnd);
    if (!/^[A-Z0-9 ]+$/.test(label)) {
      pos = labelEnd;
      continue;
    }
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) break;
    let body = text.slice(labelEnd + 5, end);
    // RFC 1421 headers (Proc-Type, DEK-Info) end with an empty line.
    if (/^\s*[A-Za-z-]+:/.test(body))
      body = body
        .split(/\r?\n\r?\n/)
        .slice(1)
        .join('\n');
    const der = decodeBase64Strict(body);
    if (!der) throw new PkiError('not-pem', `The PEM block "${label}" does not hold valid base64.`);
    out.push({ label, der });
    pos = end + endMarker.length;
  }
  return out;
}

/**
 * Every DER block in the input, in order. Accepts PEM (one or more blocks), DER, or base64 of either (spec.request
 * and status.certificate are base64 of PEM text).
 */
export function inputBlocks(input: string | Uint8Array, what: string): PemBlock[] {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > MAX_INPUT_BYTES) {
    throw new PkiError(
      'too-large',
      `The ${what} is ${size} bytes, more than the ${MAX_INPUT_BYTES} (3 MiB) certdesk decodes, the most kube-apiserver accepts in one request.`,
    );
  }
  if (size === 0) throw new PkiError('not-pem', `The ${what} is empty.`);
  if (typeof input !== 'string' && looksLikeDer(input)) return [{ label: '', der: input }];
  const text = toText(input);
  if (text.includes('-----BEGIN ')) {
    const blocks = parsePemBlocks(text);
    if (blocks.length > 0) return blocks;
    throw new PkiError('not-pem', `The ${what} has a PEM header but no complete PEM block; the file may be truncated.`);
  }
  const decoded = decodeBase64Strict(text);
  if (decoded && decoded.length > 0) {
    if (looksLikeDer(decoded)) return [{ label: '', der: decoded }];
    const inner = dec.decode(decoded);
    if (inner.includes('-----BEGIN ')) {
      const blocks = parsePemBlocks(inner);
      if (blocks.length > 0) return blocks;
    }
  }
  throw new PkiError('not-pem', `The ${what} is not PEM, DER or base64 of PEM.`);
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

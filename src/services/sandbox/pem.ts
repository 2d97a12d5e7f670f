// Go's encoding/pem.Decode, closely enough: finds the next `-----BEGIN TYPE-----` block, skipping any text before
// it, and skipping malformed blocks.

export interface PemBlock {
  type: string;
  hasHeaders: boolean;
  bytes: Buffer;
}

const BEGIN = /(^|\n)-----BEGIN ([^\n]*?)-----[ \t\r]*\n/g;

/** Decodes every well-formed block, in order. */
export function pemDecodeAll(data: string): PemBlock[] {
  const out: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(data); m; m = BEGIN.exec(data)) {
    const type = m[2] ?? '';
    const start = m.index + m[0].length;
    const endMarker = `-----END ${type}-----`;
    const end = data.indexOf(endMarker, start);
    if (end < 0) continue;
    const body = data.slice(start, end);
    let hasHeaders = false;
    let b64 = body;
    const lines = body.split('\n');
    if (lines[0]?.includes(':')) {
      hasHeaders = true;
      const blank = lines.findIndex((l) => l.trim() === '');
      b64 = lines.slice(blank + 1).join('\n');
    }
    const compact = b64.replace(/[\s]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) continue;
    out.push({ type, hasHeaders, bytes: Buffer.from(compact, 'base64') });
    BEGIN.lastIndex = end + endMarker.length;
  }
  return out;
}

export function pemDecodeFirst(data: string): PemBlock | undefined {
  return pemDecodeAll(data)[0];
}

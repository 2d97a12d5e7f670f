// A tiny DNS server on a local UDP socket for the DNS check's tests (no internet): A and AAAA answers from a zone,
// NXDOMAIN for other names, and no answer at all for `silent.test` and names under it (to reach the client's timeout).
import { createSocket } from 'node:dgram';

export type Zone = Record<string, { a?: string[]; aaaa?: string[] }>;

export interface DnsServer {
  /** `127.0.0.1:PORT`, for a policy's dns.servers. */
  address: string;
  /** Every question asked, `name/type`. */
  asked: string[];
  close(): Promise<void>;
}

function question(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i]) {
    const n = msg[i] ?? 0;
    labels.push(msg.subarray(i + 1, i + 1 + n).toString('latin1'));
    i += n + 1;
  }
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function rdataOf(type: number, ip: string): Buffer {
  if (type === 1) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 0xff]));
}

function answer(zone: Zone, msg: Buffer, asked: string[]): Buffer | undefined {
  const q = question(msg);
  asked.push(`${q.name}/${q.type}`);
  if (q.name === 'silent.test' || q.name.endsWith('.silent.test')) return undefined;
  const known = zone[q.name];
  const records = q.type === 1 ? (known?.a ?? []) : q.type === 28 ? (known?.aaaa ?? []) : [];
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // a response, recursion available; NXDOMAIN when unknown
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const rrs = records.map((ip) => {
    const rdata = rdataOf(q.type, ip);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, msg.subarray(12, q.end), ...rrs]);
}

export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (msg, from) => {
    const reply = answer(zone, msg, asked);
    if (reply) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

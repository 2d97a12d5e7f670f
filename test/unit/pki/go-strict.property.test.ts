// Property: for any certificate request, certdesk accepts it exactly when Go's crypto/x509 does. Requests are
// generated with random subjects (every string type, interesting bytes), random subjectAltNames (URIs assembled from
// the pieces net/url cares about) and random extensions, or are valid requests whose CertificationRequestInfo had
// bytes changed, inserted or removed — then signed for real, so that only the content decides. Go itself is the
// judge (test/go-oracle). GO_STRICT_RUNS sets the number of requests per property (default 400).
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bits, oid, seq, set, tlv } from '../../../src/services/pki/der.js';
import { goAccepts, goOracle } from '../../helpers/go-oracle.js';
import { csrDer, extension, key, ourVerdict } from './go-strict.helpers.js';

const RUNS = Number(process.env.GO_STRICT_RUNS ?? 400);

const byte = fc.oneof(
  fc.constantFrom(0x00, 0x01, 0x1b, 0x20, 0x26, 0x2a, 0x40, 0x5f, 0x7f, 0x80, 0xc3, 0xa9, 0xd8, 0xed, 0xfe, 0xff),
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0, max: 255 }),
);
const bytes = fc.array(byte, { maxLength: 12 });
const stringTag = fc.oneof(
  fc.constantFrom(0x0c, 0x12, 0x13, 0x14, 0x16, 0x1a, 0x1b, 0x1c, 0x1e, 0x17, 0x18, 0x01, 0x02, 0x04, 0x05, 0x06),
  fc.integer({ min: 0, max: 0x1e }),
  fc.constantFrom(0x80, 0xa0, 0x30),
);
const attributeType = fc.constantFrom('2.5.4.3', '2.5.4.10', '2.5.4.11', '2.5.4.6', '1.2.840.113549.1.9.1', '1.2.3.4');
const atv = fc.tuple(attributeType, stringTag, bytes).map(([t, tag, b]) => seq(oid(t), tlv(tag, Uint8Array.from(b))));
const subject = fc
  .array(fc.array(atv, { minLength: 1, maxLength: 2 }), { maxLength: 3 })
  .map((rdns) => seq(...rdns.map((r) => set(...r))));

const URI_PIECES = [
  'http',
  'https',
  'spiffe',
  'urn',
  'a',
  '1',
  ':',
  '//',
  '/',
  '[',
  ']',
  '::1',
  'fd00::1',
  '1.2.3.4',
  '%',
  '%2',
  '%41',
  '%e9',
  '%25',
  '%25eth0',
  '@',
  'user',
  ':pw',
  '?',
  '#',
  '.',
  '..',
  'example',
  'com',
  ':80',
  ':x',
  ' ',
  '\x07',
  '"',
  '<',
  '*',
  '-',
  '_',
  '~',
  '\x7f',
  '+',
  '!',
  '$',
  '=',
  'é',
];
const uriText = fc.array(fc.constantFrom(...URI_PIECES), { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
const generalName = fc.oneof(
  uriText.map((u) => tlv(0x86, Buffer.from(u, 'latin1'))),
  fc.tuple(fc.constantFrom(0x81, 0x82), bytes).map(([tag, b]) => tlv(tag, Uint8Array.from(b))),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 17 }).map((b) => tlv(0x87, Uint8Array.from(b))),
  fc
    .tuple(fc.constantFrom(0x80, 0x83, 0x84, 0x88, 0xa0, 0xa4, 0x30, 0x04), bytes)
    .map(([tag, b]) => tlv(tag, Uint8Array.from(b))),
);
const extensions = fc.array(
  fc.oneof(
    fc.array(generalName, { maxLength: 3 }).map((names) => extension('2.5.29.17', seq(...names))),
    fc
      .tuple(fc.constantFrom('2.5.29.15', '2.5.29.17', '2.5.29.19', '1.2.3.4'), bytes)
      .map(([id, b]) => extension(id, Uint8Array.from(b))),
  ),
  { maxLength: 3 },
);
const generated = fc.tuple(subject, extensions).map(([s, e]) => csrDer({ subject: s, extensions: e }));

/** A valid request's CertificationRequestInfo with bytes changed, inserted or removed, signed again. */
const mutated = fc
  .tuple(
    fc.constantFrom(
      csrDer({
        extensions: [
          extension('2.5.29.17', seq(tlv(0x82, Buffer.from('a.example')), tlv(0x86, Buffer.from('spiffe://c/x')))),
        ],
      }),
      csrDer({ subject: seq(set(seq(oid('2.5.4.10'), tlv(0x13, Buffer.from('system:nodes'))))), extensions: [] }),
    ),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('set', 'insert', 'delete'), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([der, edits]) => {
    // The request is SEQUENCE { info, algorithm, signature }: take info's bytes.
    const infoStart = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
    const infoLen = der[infoStart + 1]! & 0x80 ? 2 + (der[infoStart + 1]! & 0x7f) : 2;
    let len = 0;
    if (der[infoStart + 1]! & 0x80) for (let i = 2; i < infoLen; i++) len = len * 256 + der[infoStart + i]!;
    else len = der[infoStart + 1]!;
    const info = Array.from(der.subarray(infoStart, infoStart + infoLen + len));
    for (const [at, op, value] of edits) {
      const i = at % (info.length + 1);
      if (op === 'insert') info.splice(i, 0, value);
      else if (op === 'delete') info.splice(i, 1);
      else info[Math.min(i, info.length - 1)] = value;
    }
    const infoBytes = Uint8Array.from(info);
    return seq(infoBytes, seq(oid('1.2.840.10045.4.3.2')), bits(sign('sha256', infoBytes, key('p256'))));
  });

async function compare(t: { skip: (m: string) => void }, arb: fc.Arbitrary<Uint8Array>): Promise<void> {
  const oracle = await goOracle();
  if (typeof oracle === 'string') return t.skip(oracle);
  const seed = Number(process.env.GO_STRICT_SEED ?? Date.now() % 2 ** 31);
  const samples = fc.sample(arb, { numRuns: RUNS, seed });
  const go = await oracle.check(samples.map((der) => ({ kind: 'csr', der })));
  const wrong: string[] = [];
  for (const [i, der] of samples.entries()) {
    const ours = await ourVerdict(der);
    const v = go[i]!;
    if (ours.accepted !== goAccepts(v))
      wrong.push(
        `${Buffer.from(der).toString('hex')}: Go ${goAccepts(v) ? 'accepts' : `refuses (${v.parseError ?? v.sigError})`}, certdesk ${ours.accepted ? 'accepts' : `refuses (${ours.why})`}`,
      );
  }
  const accepted = go.filter(goAccepts).length;
  assert.deepEqual(wrong.slice(0, 5), [], `seed ${seed} (GO_STRICT_SEED), ${wrong.length} of ${RUNS} differ`);
  // Both outcomes are exercised.
  assert.ok(accepted > 0 && accepted < RUNS, `Go accepted ${accepted} of ${RUNS}`);
}

describe("generated certificate requests: certdesk's verdict is Go's", () => {
  test('random subjects, subjectAltNames and extensions', (t) => compare(t, generated));
  test('valid requests with bytes of their CertificationRequestInfo changed', (t) => compare(t, mutated));
});

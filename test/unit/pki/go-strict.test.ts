// certdesk decodes certificate requests exactly as strictly as Go's crypto/x509 (kube-controller-manager, the API
// server, Calico, Istio): a corpus of hand-built requests — each bad string type, bad SANs, each key type, broken
// structure — is put to Go itself (test/go-oracle) and to certdesk, and the verdicts must be equal. A request Go
// refuses gets a failing go-parse finding and is never issued; what is issued, Go and openssl read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { bits, bool, ctx, nul, oid, seq, set, tlv } from '../../../src/services/pki/der.js';
import { createCa, decodeCsr, issueCertificate, loadCaFromPem, PkiError } from '../../../src/services/pki/index.js';
import { evaluateCsr } from '../../../src/services/policy/index.js';
import { goAccepts, goOracle } from '../../helpers/go-oracle.js';
import {
  atv,
  cn,
  csrDer,
  dns,
  email,
  extension,
  extensionRequest,
  ip,
  key,
  name,
  ourVerdict,
  pssAlgorithm,
  pssSign,
  san,
  str,
  uri,
} from './go-strict.helpers.js';
import { openssl, put, tempDir } from './helpers.js';

const execFileAsync = promisify(execFile);
const UTF8 = 0x0c;
const NUMERIC = 0x12;
const PRINTABLE = 0x13;
const T61 = 0x14;
const IA5 = 0x16;
const VISIBLE = 0x1a;
const GENERAL = 0x1b;
const UNIVERSAL = 0x1c;
const BMP = 0x1e;

function compressedP256Spki(): Uint8Array {
  const jwk = createPublicKey(key('p256')).export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  return seq(
    seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')),
    bits(Buffer.concat([[2 + (y[31]! & 1)], x].map(Buffer.from))),
  );
}

function rsaSpkiWithoutNull(): Uint8Array {
  const pkcs1 = createPublicKey(key('rsa')).export({ type: 'pkcs1', format: 'der' });
  return seq(seq(oid('1.2.840.113549.1.1.1')), bits(pkcs1));
}

/** [name, DER, whether Go takes it] — the expectation documents the case; the test compares with Go itself. */
function corpus(): Array<[string, Uint8Array, boolean]> {
  const subject = (tag: number, x: string | number[]) => csrDer({ subject: cn(str(tag, x)) });
  const sans = (...names: Uint8Array[]) => csrDer({ extensions: [san(...names)] });
  return [
    // Subject strings
    ['UTF8String that is not UTF-8', subject(UTF8, [0x61, 0xff, 0x62]), false],
    ['UTF8String with an overlong encoding', subject(UTF8, [0xc0, 0xaf]), false],
    ['UTF8String with an encoded surrogate', subject(UTF8, [0xed, 0xa0, 0x80]), false],
    ['UTF8String, valid', subject(UTF8, 'zoë ✓'), true],
    ['BMPString of odd length', subject(BMP, [0x00, 0x61, 0x00]), false],
    ['BMPString with a surrogate', subject(BMP, [0xd8, 0x00, 0x00, 0x61]), false],
    ['BMPString with a noncharacter', subject(BMP, [0xff, 0xfe]), false],
    ['BMPString, valid', subject(BMP, [0x00, 0x61, 0x00, 0xe9]), true],
    ['BMPString with a terminator', subject(BMP, [0x00, 0x61, 0x00, 0x00]), true],
    ['PrintableString with ESC', subject(PRINTABLE, 'ab\x1bc'), false],
    ['PrintableString with @', subject(PRINTABLE, 'a@b'), false],
    ['PrintableString with _', subject(PRINTABLE, 'a_b'), false],
    ['PrintableString with * (Go accepts it)', subject(PRINTABLE, '*.example.com'), true],
    ['PrintableString with & (Go accepts it)', subject(PRINTABLE, 'Smith & Sons'), true],
    ['IA5String with a byte over 0x7f', subject(IA5, [0x61, 0x80]), false],
    ['IA5String with a control character', subject(IA5, [0x61, 0x01]), true],
    ['NumericString with a letter', subject(NUMERIC, '12a'), false],
    ['NumericString, valid', subject(NUMERIC, '12 34'), true],
    ['T61String with any byte', subject(T61, [0x61, 0xff]), true],
    ['UniversalString of 3 bytes (Go leaves it alone)', subject(UNIVERSAL, [0, 0, 0x61]), true],
    ['UniversalString, valid', subject(UNIVERSAL, [0, 0, 0, 0x61]), true],
    ['VisibleString', subject(VISIBLE, 'abc'), true],
    ['GeneralString', subject(GENERAL, [0xff]), true],
    ['INTEGER value not minimally encoded', csrDer({ subject: cn(tlv(0x02, Uint8Array.of(0, 1))) }), false],
    ['BOOLEAN value 0x01', csrDer({ subject: cn(tlv(0x01, Uint8Array.of(1))) }), false],
    ['UTCTime value, valid', subject(0x17, '250101120000Z'), true],
    ['UTCTime value, month 13', subject(0x17, '251301120000Z'), false],
    ['attribute type with an arc over 2^31', csrDer({ subject: name(atv('2.5.4.4294967296', str(UTF8, 'x'))) }), false],
    ['SET where the RDN SEQUENCE belongs', csrDer({ subject: set(set(atv('2.5.4.3', str(UTF8, 'x')))) }), false],
    // Subject alternative names
    ['dNSName with a non-ASCII byte', sans(dns([0x61, 0xc3, 0xa9])), false],
    ['rfc822Name with a non-ASCII byte', sans(email([0x61, 0x40, 0xe9])), false],
    ['URI with a control character', sans(uri('https://example.com/\x07')), false],
    ['URI with DEL', sans(uri('https://example.com/a\x7f')), false],
    ['URI with a space in the host', sans(uri('https://exa mple.com/')), false],
    ['URI with a space in the path', sans(uri('https://example.com/a b')), true],
    ['URI with a bad escape', sans(uri('https://example.com/%zz')), false],
    ['URI starting with a colon', sans(uri(':foo')), false],
    ['URI relative with a colon in the first segment', sans(uri('1a:b/c')), false],
    ['URI opaque', sans(uri('urn:example:x')), true],
    ['URI SPIFFE ID', sans(uri('spiffe://cluster.local/ns/default/sa/web')), true],
    ['URI with an empty label in the host', sans(uri('https://host..example/')), false],
    ['URI with a trailing dot in the host', sans(uri('https://example.com./')), false],
    ['URI with IPv6 host and port', sans(uri('https://[fd00::1]:8443/x')), true],
    ['URI with IPv4 in brackets', sans(uri('https://[10.0.0.1]/')), false],
    ['URI with an unclosed bracket', sans(uri('https://[fd00::1/')), false],
    ['URI with a port that is not a number', sans(uri('https://example.com:https/')), false],
    ['URI with userinfo', sans(uri('https://user:pw@example.com/')), true],
    ['URI with a bad character in userinfo', sans(uri('https://us"er@example.com/')), false],
    ['URI with a host escape under 0x80', sans(uri('https://ex%41mple.com/')), false],
    ['iPAddress of 5 bytes', sans(ip([10, 0, 0, 1, 0])), false],
    ['iPAddress of 16 bytes', sans(ip([0xfd, ...new Array(14).fill(0), 1])), true],
    [
      'otherName and directoryName (Go skips them)',
      sans(ctx(0, true, oid('1.2.3.4'), ctx(0, true, str(UTF8, 'x'))), ctx(4, true, cn(str(UTF8, 'x')))),
      true,
    ],
    [
      'subjectAltName that is not a SEQUENCE',
      csrDer({ extensions: [extension('2.5.29.17', set(dns('a.example')))] }),
      false,
    ],
    [
      'subjectAltName with a non-minimal length',
      csrDer({ extensions: [extension('2.5.29.17', Uint8Array.of(0x30, 0x81, 0x03, 0x82, 0x01, 0x61))] }),
      false,
    ],
    [
      'subjectAltName followed by other bytes (Go ignores them)',
      csrDer({ extensions: [extension('2.5.29.17', Buffer.concat([seq(dns('a.example')), Buffer.from([5, 0])]))] }),
      true,
    ],
    // Keys
    ['Ed448 key', csrDer({ key: 'ed448' }), false],
    ['brainpoolP256r1 key', csrDer({ key: 'brainpool' }), false],
    ['secp256k1 key', csrDer({ key: 'secp256k1' }), false],
    ['X25519 key', csrDer({ key: 'x25519' }), false],
    ['RSA-PSS key', csrDer({ key: 'rsaPss' }), false],
    ['DSA key', csrDer({ key: 'dsa' }), false],
    ['RSA 512 key', csrDer({ key: 'rsa512' }), false],
    ['P-224 key', csrDer({ key: 'p224' }), true],
    ['Ed25519 key', csrDer({ key: 'ed25519' }), true],
    ['RSA 2048 key', csrDer({ key: 'rsa' }), true],
    ['compressed P-256 point', csrDer({ spki: compressedP256Spki() }), false],
    ['RSA key without NULL parameters', csrDer({ key: 'rsa', spki: rsaSpkiWithoutNull() }), false],
    // Structure
    ['trailing bytes after the request', csrDer({ trailing: [5, 0] }), false],
    ['no attributes element', csrDer({ attributesElement: [] }), false],
    ['two subjectAltName extensions', csrDer({ extensions: [san(dns('a.example')), san(dns('b.example'))] }), false],
    [
      'the same extension in two extensionRequest attributes',
      csrDer({ attributes: [extensionRequest(san(dns('a.example'))), extensionRequest(san(dns('b.example')))] }),
      false,
    ],
    [
      'critical flag encoded 0x01',
      csrDer({ extensions: [extension('2.5.29.17', seq(dns('a.example')), tlv(0x01, Uint8Array.of(1)))] }),
      false,
    ],
    [
      'critical FALSE written out',
      csrDer({ extensions: [extension('2.5.29.17', seq(dns('a.example')), bool(false))] }),
      true,
    ],
    [
      'an attribute that does not parse (Go ignores it)',
      csrDer({ attributes: [seq(oid('1.2.840.113549.1.9.7'))] }),
      true,
    ],
    ['an element after the attributes (Go ignores it)', csrDer({ infoTail: [nul()] }), true],
    ['version not minimally encoded', csrDer({ version: tlv(0x02, Uint8Array.of(0, 0)) }), false],
    ['subject with a non-minimal length', csrDer({ subject: Uint8Array.of(0x30, 0x81, 0x00) }), false],
    [
      'signature BIT STRING with padding bits set',
      csrDer({ signatureBits: (s) => tlv(0x03, Uint8Array.of(1), Uint8Array.of(...s.subarray(0, -1), s.at(-1)! | 1)) }),
      false,
    ],
    [
      'MD5 with RSA',
      csrDer({
        key: 'rsa',
        signature: { algorithm: seq(oid('1.2.840.113549.1.1.4'), nul()), sign: (i) => signWith('md5', i) },
      }),
      false,
    ],
    [
      'SHA-1 with RSA (allowed for requests)',
      csrDer({
        key: 'rsa',
        signature: { algorithm: seq(oid('1.2.840.113549.1.1.5'), nul()), sign: (i) => signWith('sha1', i) },
      }),
      true,
    ],
    [
      'Ed25519 signature with NULL parameters',
      csrDer({ key: 'ed25519', signature: { algorithm: seq(oid('1.3.101.112'), nul()), sign: (i) => signEd(i) } }),
      false,
    ],
    [
      'RSA-PSS SHA-256 salt 32',
      csrDer({ key: 'rsa', signature: { algorithm: pssAlgorithm(32), sign: (i) => pssSign(key('rsa'), i, 32) } }),
      true,
    ],
    [
      'RSA-PSS SHA-256 salt 20',
      csrDer({ key: 'rsa', signature: { algorithm: pssAlgorithm(20), sign: (i) => pssSign(key('rsa'), i, 20) } }),
      false,
    ],
    [
      'ECDSA signature algorithm on an RSA key',
      csrDer({
        key: 'rsa',
        signature: { algorithm: seq(oid('1.2.840.10045.4.3.2')), sign: (i) => signWith('sha256', i) },
      }),
      false,
    ],
    ['truncated request', csrDer().subarray(0, 100), false],
  ];
}

import { sign } from 'node:crypto';

const signWith = (hash: string, info: Uint8Array) => sign(hash, info, key('rsa'));
const signEd = (info: Uint8Array) => sign(null, info, key('ed25519'));

describe("certificate requests: certdesk's verdict is Go's", () => {
  test('each case of the corpus', async (t) => {
    const oracle = await goOracle();
    if (typeof oracle === 'string') return t.skip(oracle);
    const cases = corpus();
    assert.ok(cases.length >= 40);
    const go = await oracle.check(cases.map(([, der]) => ({ kind: 'csr', der })));
    const wrong: string[] = [];
    for (const [i, [label, der, expected]] of cases.entries()) {
      const goSays = goAccepts(go[i]!);
      const ours = await ourVerdict(der);
      if (goSays !== expected)
        wrong.push(
          `${label}: Go ${goSays ? 'accepts' : `refuses (${go[i]!.parseError ?? go[i]!.sigError})`}, the corpus expected otherwise`,
        );
      if (ours.accepted !== goSays)
        wrong.push(
          `${label}: Go ${goSays ? 'accepts' : `refuses (${go[i]!.parseError ?? go[i]!.sigError})`}, certdesk ${ours.accepted ? 'accepts' : `refuses (${ours.why})`}`,
        );
    }
    assert.deepEqual(wrong, []);
  });

  test('a request Go refuses has a failing go-parse finding and is never issued; what is issued, Go and openssl read', async (t) => {
    const oracle = await goOracle();
    if (typeof oracle === 'string') return t.skip(oracle);
    const dir = await tempDir(t);
    const ca = await createCa({ cn: 'go-strict CA', days: 2 });
    const caPath = await put(dir, 'ca.pem', ca.certPem);
    const loaded = await loadCaFromPem(ca.certPem, ca.keyPem);
    const request = { usages: ['digital signature', 'client auth'], signerName: 'example.com/test' };
    const issued: Uint8Array[] = [];
    const opensslRefuses: string[] = [];
    const cfsslRefuses: string[] = [];
    const cfssl = await execFileAsync('cfssl', ['version']).then(
      () => true,
      () => false,
    );
    for (const [label, der, expected] of corpus()) {
      let decoded: Awaited<ReturnType<typeof decodeCsr>>;
      try {
        decoded = await decodeCsr(der);
      } catch (err) {
        assert.ok(err instanceof PkiError && !expected, label);
        continue;
      }
      const findings = evaluateCsr({ csr: { spec: { signerName: request.signerName, username: 'x' } }, decoded });
      const finding = findings.find((f) => f.code === 'go-parse');
      const nameFinding = findings.find((f) => f.code === 'name-encoding');
      if (decoded.goRefusal !== undefined || decoded.nameRefusal !== undefined) {
        assert.equal((decoded.goRefusal ? finding : nameFinding)?.level, 'fail', label);
        await assert.rejects(
          issueCertificate(decoded, loaded, request),
          (e) => e instanceof PkiError && e.code === 'signer-refused',
          label,
        );
        continue;
      }
      assert.equal(finding?.level, 'ok', label);
      if (!decoded.proofOfPossession.verified) continue;
      const { pem } = await issueCertificate(decoded, loaded, request);
      const path = await put(dir, 'leaf.pem', pem);
      const verify = await openssl(['verify', '-CAfile', caPath, path]).catch((e: Error) => ({ stdout: e.message }));
      if (!/OK/.test(verify.stdout)) opensslRefuses.push(label);
      // cfssl (the documents' CSR tool, itself Go) reads it too, where it is installed (CI has it).
      if (cfssl) await execFileAsync('cfssl', ['certinfo', '-cert', path]).catch(() => cfsslRefuses.push(label));
      issued.push(new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
    }
    assert.deepEqual(opensslRefuses, []);
    assert.deepEqual(cfsslRefuses, []);
    assert.ok(issued.length >= 20);
    const certs = await oracle.check(issued.map((der) => ({ kind: 'cert', der })));
    assert.deepEqual(
      certs.map((c) => c.parseError ?? 'ok'),
      certs.map(() => 'ok'),
    );
  });
});

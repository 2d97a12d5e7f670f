// The radar's decoding and problems on real certificates (made over node:crypto, checked with openssl): each
// problem case, a key that does not match, garbage PEM, and bundles with a broken block.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import {
  checkRecord,
  inspectPem,
  inspectPemDeferred,
  type PemInput,
  problemsAt,
} from '../../../src/services/certs/inspect.js';
import { secretInputs } from '../../../src/services/certs/objects.js';
import type { CertRecord } from '../../../src/services/certs/types.js';
import { type MadeCert, makeCert, window } from '../../../src/services/sandbox/scenarios/cert-factory.js';

const now = Date.now();
const DAY = 86_400_000;
const kinds = (r: CertRecord, windowMs = 30 * DAY) => problemsAt(r, now, windowMs).map((p) => p.kind);

function input(content: string, extra: Partial<PemInput> = {}): PemInput {
  return {
    context: 'east',
    location: { source: 'secret', kind: 'Secret', namespace: 'ns', name: 's', field: 'tls.crt' },
    content,
    bundle: false,
    ...extra,
  };
}

describe('certs: inspectPem', () => {
  let ca: MadeCert;
  let otherCa: MadeCert;
  let shortCa: MadeCert;
  let good: MadeCert;
  let dir: string;

  before(async () => {
    ca = await makeCert({ cn: 'radar CA', ...window(now, -10, 3650) });
    // Same name, other key: what a re-created CA looks like to certificates signed by the old one.
    otherCa = await makeCert({ cn: 'radar CA', ...window(now, -10, 3650) });
    shortCa = await makeCert({ cn: 'short CA', ...window(now, -10, 20) });
    good = await makeCert({
      cn: 'svc',
      hosts: ['svc.ns.svc', '10.0.0.1'],
      issuer: ca,
      key: 'rsa',
      ...window(now, -1, 365),
    });
    dir = mkdtempSync(join(tmpdir(), 'radar-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes subject, SANs, issuer, serial, key type and validity as openssl does', () => {
    const [r] = inspectPem(input(good.certPem, { key: { field: 'tls.key', content: good.keyPem } }));
    assert.ok(r?.cert);
    assert.deepEqual(problemsAt(r, now, 30 * DAY), []);
    assert.equal(r.cert.subject, 'CN=svc');
    assert.equal(r.cert.issuer, 'CN=radar CA');
    assert.deepEqual(r.cert.sans, ['svc.ns.svc', '10.0.0.1']);
    assert.equal(r.cert.keyType, 'RSA 2048');
    const f = join(dir, 'good.crt');
    writeFileSync(f, good.certPem);
    const text = execFileSync('openssl', ['x509', '-in', f, '-noout', '-serial', '-enddate']).toString();
    assert.match(text, new RegExp(`serial=0*${r.cert.serial}`, 'i'));
    const end = /notAfter=(.*)/.exec(text)?.[1] ?? '';
    assert.equal(new Date(end).getTime(), Math.floor(r.cert.notAfter.getTime() / 1000) * 1000);
  });

  it('verifies the chain against the anchors (as openssl verify does) and reports a foreign signer', () => {
    const anchors = { pems: [ca.certPem], where: 'ca.crt of Secret ns/s' };
    const [ok] = inspectPem(input(good.certPem, { anchors }));
    assert.deepEqual(kinds(ok!), []);
    assert.equal(ok?.chain[0]?.subject, 'CN=radar CA');
    const caFile = join(dir, 'ca.crt');
    const leafFile = join(dir, 'leaf.crt');
    writeFileSync(caFile, ca.certPem);
    writeFileSync(leafFile, good.certPem);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', caFile, leafFile]).toString(), /OK/);

    const [bad] = inspectPem(input(good.certPem, { anchors: { pems: [otherCa.certPem], where: 'the local CA' } }));
    assert.deepEqual(kinds(bad!), ['chain-unverified']);
    assert.match(problemsAt(bad!, now, 0)[0]!.message, /does not verify against the local CA/);
    writeFileSync(caFile, otherCa.certPem);
    assert.throws(() => execFileSync('openssl', ['verify', '-CAfile', caFile, leafFile], { stdio: 'pipe' }));
  });

  it('deferred: validity, parse errors and the key now; the chain pending until checked, once per content', async () => {
    const leaf = await makeCert({ cn: 'deferred', issuer: otherCa, ...window(now, -1, 10) });
    const other = await makeCert({ cn: 'other', issuer: ca, ...window(now, -1, 365) });
    const anchors = { pems: [ca.certPem], where: 'ca.crt of Secret ns/deferred' };
    const key = { field: 'tls.key', content: other.keyPem };
    const [r] = inspectPemDeferred(input(leaf.certPem, { anchors, key }));
    assert.equal(r?.pending, true);
    assert.deepEqual(r?.chain, []);
    assert.deepEqual(kinds(r!), ['expiring', 'key-mismatch']);
    // Nothing of the key stays with the pending check (it was compared while decoding).
    assert.ok(!JSON.stringify(r).includes('PRIVATE KEY'));
    assert.equal(checkRecord(r!), true);
    assert.equal(r?.pending, undefined);
    assert.deepEqual(kinds(r!), ['expiring', 'chain-unverified', 'key-mismatch']);
    assert.equal(checkRecord(r!), false);
    // The same content again: the check already ran for it, so the record is complete at once.
    const [again] = inspectPemDeferred(input(leaf.certPem, { anchors, key }));
    assert.equal(again?.pending, undefined);
    assert.deepEqual(kinds(again!), ['expiring', 'chain-unverified', 'key-mismatch']);
    // The same certificate and CA in another Secret: the same analysis, each record naming its own Secret.
    const copied = { ...anchors, where: 'ca.crt of Secret other/copy' };
    const [copy1] = inspectPemDeferred(input(leaf.certPem, { anchors: copied, key }));
    assert.equal(copy1?.pending, undefined);
    assert.match(problemsAt(copy1!, now, 0)[0]?.message ?? '', /against ca\.crt of Secret other\/copy:/);
    assert.match(problemsAt(r!, now, 0)[0]?.message ?? '', /against ca\.crt of Secret ns\/deferred:/);
    // Checked on a spread copy (as kube-root-ca.crt's is shown): the copy is checked.
    const mid = await makeCert({ cn: 'copied', issuer: ca, ...window(now, -1, 100) });
    const [orig] = inspectPemDeferred(input(mid.certPem, { anchors }));
    const copy = { ...orig!, copies: 3 };
    assert.equal(checkRecord(copy), true);
    assert.equal(copy.chain[0]?.subject, 'CN=radar CA');
    // Roots, bundles' self-signed CAs and a leaf with nothing to verify against have nothing pending.
    assert.equal(inspectPemDeferred(input(ca.certPem, { bundle: true }))[0]?.pending, undefined);
    assert.equal(inspectPemDeferred(input(mid.certPem))[0]?.pending, undefined);
    // Not deferred: never pending.
    const fresh = await makeCert({ cn: 'eager', issuer: otherCa, ...window(now, -1, 100) });
    const [eager] = inspectPem(input(fresh.certPem, { anchors }));
    assert.equal(eager?.pending, undefined);
    assert.deepEqual(kinds(eager!), ['chain-unverified']);
  });

  it('a pending check keeps nothing of its input: not the private key, not the PEM it was decoded from', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const leaf = await makeCert({ cn: 'held', issuer: ca, ...window(now, -1, 100) });
    let key: Uint8Array | undefined = new TextEncoder().encode(leaf.keyPem);
    let content: Uint8Array | undefined = new TextEncoder().encode(leaf.certPem);
    const keyRef = new WeakRef(key);
    const contentRef = new WeakRef(content);
    const anchors = { pems: [ca.certPem], where: 'ca.crt of Secret ns/held' };
    const [r] = inspectPemDeferred(input('', { content, anchors, key: { field: 'tls.key', content: key } }));
    key = undefined;
    content = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(r?.pending, true);
    assert.equal(keyRef.deref(), undefined, 'the private key is not kept by the pending check');
    assert.equal(contentRef.deref(), undefined, 'the PEM is not kept by the pending check');
    assert.ok(checkRecord(r!));
    assert.equal(r?.chain[0]?.subject, 'CN=radar CA');
  });

  it('expired, expiring within the window, not yet valid', async () => {
    const expired = await makeCert({ cn: 'old', issuer: ca, ...window(now, -40, -1) });
    const soon = await makeCert({ cn: 'soon', issuer: ca, ...window(now, -40, 5) });
    const future = await makeCert({ cn: 'future', issuer: ca, ...window(now, 2, 100) });
    assert.deepEqual(kinds(inspectPem(input(expired.certPem))[0]!), ['expired']);
    assert.deepEqual(kinds(inspectPem(input(soon.certPem))[0]!), ['expiring']);
    assert.deepEqual(kinds(inspectPem(input(soon.certPem))[0]!, 1 * DAY), []);
    assert.deepEqual(kinds(inspectPem(input(future.certPem))[0]!), ['not-yet-valid']);
  });

  it('the issuing CA expires before the leaf', async () => {
    const leaf = await makeCert({ cn: 'outlives', issuer: shortCa, ...window(now, -1, 200) });
    const [r] = inspectPem(input(leaf.certPem, { anchors: { pems: [shortCa.certPem], where: 'x' } }));
    assert.deepEqual(kinds(r!, 0), ['ca-expires-first']);
    // Also when the CA is the intermediate in tls.crt itself.
    const [r2] = inspectPem(input(leaf.certPem + shortCa.certPem));
    assert.deepEqual(kinds(r2!, 0), ['ca-expires-first']);
    assert.equal(r2?.chain.length, 1);
  });

  it('a key that does not match its certificate; an unreadable key', async () => {
    const other = await makeCert({ cn: 'other', issuer: ca, ...window(now, -1, 365) });
    const [r] = inspectPem(input(good.certPem, { key: { field: 'tls.key', content: other.keyPem } }));
    assert.deepEqual(kinds(r!), ['key-mismatch']);
    assert.ok(!JSON.stringify(r).includes('PRIVATE KEY'), 'no key material in the record');
    const [r2] = inspectPem(input(good.certPem, { key: { field: 'tls.key', content: 'garbage' } }));
    assert.deepEqual(kinds(r2!), ['unparseable']);
  });

  it('garbage PEM and truncated blocks become unparseable records with their location, never a throw', () => {
    for (const content of [
      'not a certificate',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      '-----BEGIN CERTIFICATE-----\nMIIB',
      '\x1b[31m',
      '',
    ]) {
      const [r] = inspectPem(input(content));
      assert.equal(r?.cert, undefined);
      assert.deepEqual(kinds(r!), ['unparseable']);
      assert.match(r!.problems[0]!.message, /^cannot be read: /);
      assert.equal(r?.location.field, 'tls.crt');
    }
  });

  it('a bundle lists each CA and names a broken block too', () => {
    const bad = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const rs = inspectPem(input(ca.certPem + shortCa.certPem + bad, { bundle: true }));
    assert.deepEqual(
      rs.map((r) => r.cert?.subject ?? 'broken'),
      ['CN=radar CA', 'CN=short CA', 'broken'],
    );
    assert.deepEqual(kinds(rs[1]!), ['expiring']);
  });

  it('TLS Secrets: tls.crt checked against tls.key and ca.crt; Opaque *.pem keys; other types ignored', async () => {
    const wrongKey = await makeCert({ cn: 'x', ...window(now, -1, 10) });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const secret = {
      metadata: { name: 'web', namespace: 'prod' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(good.certPem), 'tls.key': b64(wrongKey.keyPem), 'ca.crt': b64(otherCa.certPem) },
    };
    const records = secretInputs('east', secret, new Map()).flatMap(inspectPem);
    const tls = records.find((r) => r.location.field === 'tls.crt');
    assert.deepEqual(kinds(tls!).sort(), ['chain-unverified', 'key-mismatch']);
    assert.ok(records.some((r) => r.location.field === 'ca.crt'));
    const opaque = {
      metadata: { name: 'o', namespace: 'prod' },
      type: 'Opaque',
      data: { 'cert.pem': b64(good.certPem), 'key.pem': b64(good.keyPem), 'notes.txt': b64('hi') },
    };
    const o = secretInputs('east', opaque, new Map()).flatMap(inspectPem);
    assert.deepEqual(
      o.map((r) => [r.location.field, kinds(r)]),
      [['cert.pem', []]],
    );
    assert.deepEqual(secretInputs('east', { ...opaque, type: 'kubernetes.io/service-account-token' }, new Map()), []);
  });
});

// Turns PEM found somewhere (a Secret's tls.crt, a caBundle, a file) into radar records: each certificate decoded
// once with the PKI core, its chain checked against the CA its signer publishes, a private key beside it checked
// to match (and dropped at once), and the problems that hold whatever the time. Nothing here throws on bad input:
// unparseable content becomes a record that says so, with its location.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeCertificateSync, type RawParts, rawPartsOf, signatureVerifies } from '../pki/decode.js';
import { privateKeyMatchesSpki } from '../pki/keys.js';
import { inputBlocks } from '../pki/pem.js';
import { humanDuration } from '../text/duration.js';
import type { DecodedCertificate } from '../pki/types.js';
import type { Anchors, CertFacts, CertLocation, CertProblem, CertRecord, ChainLink, RenewalHint } from './types.js';

export interface PemInput {
  context: string | undefined;
  location: Omit<CertLocation, 'index'>;
  /** PEM text, DER, or base64 of PEM (caBundle, status.certificate). */
  content: string | Uint8Array;
  /** Every certificate is an entry of its own (CA bundles); otherwise the first is the entry and the rest its chain. */
  bundle: boolean;
  /** The private key stored beside the certificate: only compared with it, never kept. */
  key?: { field: string; content: string | Uint8Array };
  anchors?: Anchors;
  renewal?: RenewalHint;
}

export function recordId(context: string | undefined, l: CertLocation): string {
  return [context ?? '', l.kind, l.namespace ?? '', l.name, l.field, l.index].join('|');
}

/** `Secret calico-system/typha-certs tls.crt`, `ConfigMap default/ca ca.crt#2` (raw: make terminal-safe to show). */
export function describeLocation(l: CertLocation): string {
  const where = l.namespace ? `${l.namespace}/${l.name}` : l.name;
  return `${l.kind} ${where} ${l.field}${l.index > 0 ? `#${l.index + 1}` : ''}`;
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function factsOf(c: DecodedCertificate): CertFacts {
  const s = c.sans;
  return {
    subject: c.subject.text,
    ...(c.subject.commonName !== undefined ? { commonName: c.subject.commonName } : {}),
    sans: [...s.dns, ...s.ip, ...s.uri, ...s.email, ...s.other],
    issuer: c.issuer.text,
    serial: c.serialNumber,
    keyType: c.publicKey.description,
    signatureAlgorithm: c.signatureAlgorithm,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    isCa: c.basicConstraints?.ca === true,
    selfSigned: c.issuer.text === c.subject.text,
    fingerprint: c.sha256Fingerprint,
  };
}

/**
 * A decoded certificate as the radar keeps it: its facts and what verifying a signature by it or of it needs, copied
 * out of the DER (a pending chain check holds a few hundred bytes per certificate, not the decoded certificate).
 */
interface Decoded {
  facts: CertFacts;
  aki?: string;
  ski?: string;
  keyUsage: readonly string[];
  signed?: RawParts['signed'];
  spki?: Uint8Array;
  /** Its public key, made when it is first needed as an issuer (null: unreadable). */
  key?: KeyObject | null;
}

/** Anchors are shared by many certificates (a signer's CA): their X509Certificate objects are kept, a few hundred. */
const anchorCache = new Map<string, Decoded[]>();
const ANCHOR_CACHE_SIZE = 256;

function decodeAll(content: string | Uint8Array, what: string): { certs: Decoded[]; errors: string[] } {
  const certs: Decoded[] = [];
  const errors: string[] = [];
  let blocks: ReturnType<typeof inputBlocks>;
  try {
    blocks = inputBlocks(content, what).filter((b) => b.label === 'CERTIFICATE' || b.label === '');
  } catch (err) {
    return { certs, errors: [err instanceof Error ? err.message : String(err)] };
  }
  if (blocks.length === 0) errors.push(`The ${what} holds no CERTIFICATE block.`);
  for (const b of blocks) {
    try {
      const decoded = decodeCertificateSync(b.der);
      const parts = rawPartsOf(decoded);
      const signed = parts?.signed;
      certs.push({
        facts: factsOf(decoded),
        ...(decoded.authorityKeyIdentifier ? { aki: decoded.authorityKeyIdentifier } : {}),
        ...(decoded.subjectKeyIdentifier ? { ski: decoded.subjectKeyIdentifier } : {}),
        keyUsage: decoded.keyUsage,
        // Copies: the DER they sit in may share a pooled buffer with unrelated data (a Secret's key among it).
        ...(signed
          ? {
              signed: {
                tbs: new Uint8Array(signed.tbs),
                signature: new Uint8Array(signed.signature),
                algorithm: signed.algorithm,
              },
            }
          : {}),
        ...(parts?.spki ? { spki: new Uint8Array(parts.spki) } : {}),
      });
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { certs, errors };
}

function anchorsOf(anchors: Anchors): Decoded[] {
  const key = anchors.pems.join('\n');
  let found = anchorCache.get(key);
  if (!found) {
    found = anchors.pems.flatMap((p) => decodeAll(p, 'CA bundle').certs);
    if (anchorCache.size >= ANCHOR_CACHE_SIZE) anchorCache.delete(anchorCache.keys().next().value as string);
    anchorCache.set(key, found);
  }
  return found;
}

function publicKeyOf(d: Decoded): KeyObject | undefined {
  if (d.key === undefined) {
    const spki = d.spki;
    try {
      d.key = spki ? createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }) : null;
    } catch {
      d.key = null;
    }
  }
  return d.key ?? undefined;
}

/**
 * What OpenSSL's X509_check_issued and X509_verify decide (the issuer's name is the child's issuer, key identifiers
 * agree where both are present, the issuer may sign certificates, its key made the signature), made from the
 * decoded DER with one signature check and no X509Certificate objects (each took ~0.2 ms to build).
 */
function signedBy(child: Decoded, parent: Decoded): boolean {
  if (child.facts.issuer !== parent.facts.subject) return false;
  if (child.aki && parent.ski && child.aki !== parent.ski) return false;
  if (parent.keyUsage.length > 0 && !parent.keyUsage.includes('keyCertSign')) return false;
  const key = publicKeyOf(parent);
  return key !== undefined && signatureVerifies(child.signed, key);
}

/** Verified path above `leaf` through `intermediates` up to one of `anchors` (empty anchors: as far as it goes). */
function verifyPath(
  leaf: Decoded,
  intermediates: Decoded[],
  anchors: Decoded[],
): { verified: boolean; path: Decoded[]; brokenAt?: Decoded } {
  const path: Decoded[] = [];
  let cur = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (anchors.some((a) => a.facts.fingerprint === cur.facts.fingerprint)) return { verified: true, path };
    const anchor = anchors.find((a) => signedBy(cur, a));
    if (anchor) return { verified: true, path: [...path, anchor] };
    const next = intermediates.find((i) => !path.includes(i) && i !== cur && signedBy(cur, i));
    if (!next) {
      // A certificate named as the issuer whose key did not sign it: the chain is broken there.
      const named = [...intermediates, ...anchors].find((i) => i !== cur && i.facts.subject === cur.facts.issuer);
      return { verified: false, path, ...(named ? { brokenAt: named } : {}) };
    }
    path.push(next);
    cur = next;
  }
  return { verified: false, path };
}

type KeyCheck = 'match' | 'mismatch' | 'unreadable' | 'encrypted';

/** Compares the key's public half with the certificate's; the private key object goes out of scope here. */
function checkKey(spki: Uint8Array | undefined, content: string | Uint8Array): KeyCheck {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  if (text.includes('ENCRYPTED')) return 'encrypted';
  if (!spki) return 'unreadable';
  const fast = privateKeyMatchesSpki(text, spki);
  if (fast !== undefined) return fast ? 'match' : 'mismatch';
  try {
    const pub = createPublicKey(createPrivateKey(text)).export({ type: 'spki', format: 'der' });
    return Buffer.compare(pub, Buffer.from(spki)) === 0 ? 'match' : 'mismatch';
  } catch {
    return 'unreadable';
  }
}

function link(d: Decoded, from: string): ChainLink {
  return { subject: d.facts.subject, issuer: d.facts.issuer, notAfter: d.facts.notAfter, from };
}

function unparseable(input: PemInput, index: number, message: string): CertRecord {
  const location = { ...input.location, index };
  return {
    id: recordId(input.context, location),
    context: input.context,
    location,
    chain: [],
    problems: [{ kind: 'unparseable', message: `cannot be read: ${message.replace(/\.$/, '')}` }],
    renewal: input.renewal ?? {},
  };
}

/**
 * The same CA bundle sits in thousands of objects (a ca.crt beside every cert-manager Secret, kube-root-ca.crt in
 * every namespace): decoded bundles are kept by their text, a few hundred (public certificates only).
 */
const bundleCache = new Map<string, { certs: Decoded[]; errors: string[] }>();
const BUNDLE_CACHE_SIZE = 512;

function decodeBundle(content: string | Uint8Array, what: string): { certs: Decoded[]; errors: string[] } {
  if (typeof content !== 'string') return decodeAll(content, what);
  let hit = bundleCache.get(content);
  if (!hit) {
    hit = decodeAll(content, what);
    if (bundleCache.size >= BUNDLE_CACHE_SIZE) bundleCache.delete(bundleCache.keys().next().value as string);
    bundleCache.set(content, hit);
  }
  return hit;
}

/**
 * A chain check not run yet: verifying signatures is most of a certificate's cost, and the list ordered by notAfter
 * needs none of it, so the watch runs these first for the rows on screen, then for the rest in slices. Until it runs
 * it holds what verifying needs of the public certificates (plain data, no closure: a closure would keep the whole
 * input alive, the private key beside the certificate included), never the object they came from.
 */
interface ChainCheck {
  todo?: { entry: Decoded; intermediates: Decoded[]; anchors: Decoded[]; what: string };
  /** Its chain and problems, with WHERE where the anchors' place goes (records of the same content share it). */
  result?: { chain: ChainLink[]; problems: CertProblem[] };
}

/** Stands for where the anchors were published (`ca.crt of Secret ns/name`) in a shared result. */
const WHERE = '\u{F8FF}anchors\u{F8FF}';

/** A record's check, on the record itself (a copy made with spread, as dedupeRootCa makes, keeps it). */
const CHECK = Symbol('chain check');
type Checkable = CertRecord & { [CHECK]?: { check: ChainCheck; where: string } };

/** What a piece of PEM holds, whatever object it sits in: its records' facts, chains and problems (key aside). */
interface Analysis {
  /** Problems here are the ones decoding found; the chain's come from `checks`. */
  records: Pick<CertRecord, 'location' | 'cert' | 'problems'>[];
  /** Each record's chain check (same index); undefined: nothing to check (a root, or nothing to check against). */
  checks: (ChainCheck | undefined)[];
  /** The first entry's SubjectPublicKeyInfo, for the key beside it. */
  spki?: Uint8Array;
}

/**
 * Analyses by content hash (the PEM, where it sits in the object, the bundle flag and the anchors' certificates, not
 * where they were published), so an object whose resourceVersion changed but whose certificates did not (labels,
 * annotations, a relist, the same Secret copied across namespaces) is not decoded and verified again. Values share the records' objects, so the cache
 * costs little beyond its keys. The private key is never part of the key: it is compared afresh each time.
 */
const analysisCache = new Map<string, Analysis>();
const ANALYSIS_CACHE_SIZE = 100_000;

function analysisKey(input: PemInput): string {
  const h = createHash('sha256');
  h.update(`${input.bundle ? 'b' : 'l'}\0${input.location.field}\0${input.key?.field ?? ''}\0`);
  h.update(input.content);
  if (input.anchors) h.update(`\0${input.anchors.pems.join('\0')}`);
  return h.digest('base64');
}

/** Radar records for one piece of PEM, chains verified. Never throws. */
export function inspectPem(input: PemInput): CertRecord[] {
  return recordsOf(input, false);
}

/**
 * Radar records for one piece of PEM whose chains are not verified yet: records that need it are `pending` until
 * checkRecord runs (their validity, parse errors and key match are known already). Never throws.
 */
export function inspectPemDeferred(input: PemInput): CertRecord[] {
  return recordsOf(input, true);
}

function recordsOf(input: PemInput, defer: boolean): CertRecord[] {
  const key = analysisKey(input);
  let analysis = analysisCache.get(key);
  if (analysis) {
    // Most recently used last, so the oldest is the one dropped.
    analysisCache.delete(key);
  } else {
    analysis = analyse(input);
    if (analysisCache.size >= ANALYSIS_CACHE_SIZE) analysisCache.delete(analysisCache.keys().next().value as string);
  }
  analysisCache.set(key, analysis);
  const { records, checks, spki } = analysis;
  return records.map((a, i) => {
    const location = { ...input.location, index: a.location.index };
    const problems = [...a.problems];
    if (i === 0 && input.key && a.cert) {
      const check = checkKey(spki, input.key.content);
      if (check === 'mismatch') {
        problems.push({
          kind: 'key-mismatch',
          message: `the private key in ${input.key.field} does not match this certificate (a rotation wrote one without the other)`,
        });
      } else if (check === 'unreadable') {
        problems.push({ kind: 'unparseable', message: `${input.key.field} holds no readable private key` });
      }
    }
    const record: Checkable = {
      id: recordId(input.context, location),
      context: input.context,
      location,
      ...(a.cert ? { cert: a.cert } : {}),
      chain: [],
      problems,
      renewal: input.renewal ?? {},
    };
    const check = checks[i];
    if (check) {
      record.pending = true;
      record[CHECK] = { check, where: input.anchors?.where ?? '' };
      if (!defer || check.result) checkRecord(record);
    }
    return record;
  });
}

/**
 * Runs a pending record's chain check (once per analysis: records of the same content share it) and puts its
 * chain and problems in the record. Returns whether the record was pending.
 */
export function checkRecord(record: CertRecord): boolean {
  const r = record as Checkable;
  const slot = r[CHECK];
  if (!r.pending || !slot) return false;
  const { check, where } = slot;
  if (!check.result) {
    const { entry, intermediates, anchors, what } = check.todo!;
    check.result = checkChain(entry, intermediates, anchors, WHERE, what);
    // What it held goes with it.
    delete check.todo;
  }
  const { chain, problems } = check.result;
  r.chain = chain.some((l) => l.from === WHERE)
    ? chain.map((l) => (l.from === WHERE ? { ...l, from: where } : l))
    : chain;
  r.problems = [...problems.map((p) => ({ ...p, message: p.message.replaceAll(WHERE, where) })), ...r.problems];
  delete r.pending;
  delete r[CHECK];
  return true;
}

function analyse(input: PemInput): Analysis {
  const what = input.location.field;
  const { certs, errors } = input.bundle ? decodeBundle(input.content, what) : decodeAll(input.content, what);
  if (certs.length === 0) return { records: [unparseable(input, 0, errors[0] ?? 'no certificate')], checks: [] };
  const anchors = input.anchors ? anchorsOf(input.anchors) : [];
  const entries = input.bundle ? certs : certs.slice(0, 1);
  const intermediates = input.bundle ? [] : certs.slice(1);
  const checks = entries.map((entry) =>
    (!entry.facts.selfSigned || !input.bundle) && (anchors.length > 0 || intermediates.length > 0)
      ? { todo: { entry, intermediates, anchors, what } }
      : undefined,
  );
  const records: Analysis['records'] = entries.map((entry, index) => ({
    location: { ...input.location, index },
    cert: entry.facts,
    problems: [],
  }));
  // A bundle where some blocks decode and others do not: the broken ones are named too.
  if (input.bundle) {
    for (const [i, e] of errors.entries()) records.push(unparseable(input, certs.length + i, e));
  } else if (errors.length > 0) records[0]?.problems.push({ kind: 'unparseable', message: errors[0]! });
  const spki = certs[0]!.spki;
  return { records, checks, ...(spki ? { spki } : {}) };
}

/** The chain above `entry` (through `intermediates`, up to `anchors` published at `where`) and what is wrong with it. */
function checkChain(
  entry: Decoded,
  intermediates: Decoded[],
  anchors: Decoded[],
  where: string,
  what: string,
): { chain: ChainLink[]; problems: CertProblem[] } {
  const problems: CertProblem[] = [];
  const { verified, path, brokenAt } = verifyPath(entry, intermediates, anchors);
  const chain = path.map((d) => link(d, anchors.includes(d) ? where : what));
  const onPath = new Set(path.map((d) => d.facts.fingerprint));
  // Certificates beside it that the path did not use (the CA it verified against, sent along again, is not listed twice).
  for (const d of intermediates) if (!onPath.has(d.facts.fingerprint)) chain.push(link(d, what));
  if (anchors.length > 0 && !verified) {
    problems.push({
      kind: 'chain-unverified',
      message: brokenAt
        ? `the chain does not verify against ${where}: "${brokenAt.facts.subject}" did not sign it (re-issued CA or wrong bundle)`
        : `the chain does not verify against ${where}: it was issued by "${entry.facts.issuer}"`,
    });
  } else if (anchors.length === 0 && brokenAt && intermediates.includes(brokenAt)) {
    problems.push({
      kind: 'chain-unverified',
      message: `the chain in ${what} does not verify: "${brokenAt.facts.subject}" did not sign the certificate`,
    });
  }
  const issuer =
    path[0] ?? [...intermediates, ...anchors].find((d) => d !== entry && d.facts.subject === entry.facts.issuer);
  if (issuer && issuer.facts.notAfter.getTime() < entry.facts.notAfter.getTime()) {
    problems.push({
      kind: 'ca-expires-first',
      message: `the issuing CA "${issuer.facts.subject}" expires ${isoSeconds(issuer.facts.notAfter)}, before this certificate (${isoSeconds(entry.facts.notAfter)})`,
    });
  }
  return { chain, problems };
}

/** The problems of `record` at `now`: its fixed ones plus expired / expiring within `windowMs` / not yet valid. */
export function problemsAt(record: CertRecord, now: number, windowMs: number): CertProblem[] {
  const c = record.cert;
  if (!c) return record.problems;
  const out: CertProblem[] = [];
  const left = c.notAfter.getTime() - now;
  if (left <= 0) out.push({ kind: 'expired', message: `expired ${isoSeconds(c.notAfter)}` });
  else if (left <= windowMs) {
    out.push({
      kind: 'expiring',
      message: `expires ${isoSeconds(c.notAfter)}, in ${humanDuration(left)} (within ${humanDuration(windowMs)})`,
    });
  }
  if (c.notBefore.getTime() > now)
    out.push({ kind: 'not-yet-valid', message: `not valid before ${isoSeconds(c.notBefore)}` });
  return [...out, ...record.problems];
}

/** Milliseconds left (negative once expired); -Infinity for unparseable records, so they sort first. */
export function timeLeft(record: CertRecord, now: number): number {
  return record.cert ? record.cert.notAfter.getTime() - now : Number.NEGATIVE_INFINITY;
}

/** Soonest expiry first (unparseable first of all), then by location. */
export function bySoonestExpiry(a: CertRecord, b: CertRecord): number {
  const ta = a.cert ? a.cert.notAfter.getTime() : Number.NEGATIVE_INFINITY;
  const tb = b.cert ? b.cert.notAfter.getTime() : Number.NEGATIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

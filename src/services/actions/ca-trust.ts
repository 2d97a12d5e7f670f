// Is the CA about to sign the one the cluster trusts for this signer? A cluster can say which CA its clients verify a
// signer's certificates against: Calico's Installation (`spec.certificateManagement.caCert` for its `signerName`,
// seed 000) and ClusterTrustBundles of the signer (what pods mount). A certificate from another CA is issued and
// uploaded without error, and then refused by every peer (calico-node and typha fail their TLS after the pods left
// Init). So signing with a CA the cluster states it does not trust is a failing finding, `ca-untrusted`, that gates
// `sign`, `sign --approve`, `sign pcr`, the TUI and the controller alike (docs/safety.md); where the cluster states
// nothing for the signer there is nothing to compare and no finding.
import { X509Certificate } from 'node:crypto';
import type { ClusterContext, KubeResult } from '../kube/index.js';
import { installationAnchor, trustBundleAnchor } from '../certs/objects.js';
import { getIfPresent, listCtbs, podCertificateApis } from '../kube/index.js';
import type { CaCertificates } from '../pki/index.js';
import { parsePemBlocks } from '../pki/pem.js';
import type { Finding } from '../policy/index.js';
import { terminalSafe } from '../text/sanitize.js';

export const CA_UNTRUSTED = 'ca-untrusted';

/** One place of the cluster that names the CAs trusted for a signer. */
export interface TrustStatement {
  /** e.g. `the caCert of Installation default`, `ClusterTrustBundle example.com:calico:live`. */
  where: string;
  certs: X509Certificate[];
}

const safe = (t: string) => terminalSafe(t, { maxLength: 160 });

/** The certificates of PEM text; a block that does not parse trusts nothing (the renewal radar reports it). */
function certsOf(pem: string): X509Certificate[] {
  let blocks: ReturnType<typeof parsePemBlocks>;
  try {
    blocks = parsePemBlocks(pem);
  } catch {
    return [];
  }
  return blocks.flatMap((b) => {
    if (b.label !== 'CERTIFICATE') return [];
    try {
      return [new X509Certificate(b.der)];
    } catch {
      return [];
    }
  });
}

export interface SignerTrust {
  statements: TrustStatement[];
  /** Kinds this user may not read (forbidden): what they state, if anything, was not compared. */
  unread: string[];
}

/**
 * What the cluster says it trusts for `signer`, read now: Installations (operator.tigera.io, absent on most clusters)
 * and ClusterTrustBundles (certificates.k8s.io, where served), read as the renewal radar reads them (certs/objects).
 * A kind the cluster does not serve states nothing; one this user may not read is named in `unread`; other errors
 * are returned (the check could not be made).
 */
export async function readSignerTrust(ctx: ClusterContext, signer: string): Promise<KubeResult<SignerTrust>> {
  const out: TrustStatement[] = [];
  const unread: string[] = [];
  const unreadable = (r: { ok: false; error: { kind: string } }, kind: string) => {
    if (r.error.kind !== 'forbidden') return false;
    if (!unread.includes(kind)) unread.push(kind);
    return true;
  };
  const installations = await getIfPresent(ctx, '/apis/operator.tigera.io/v1/installations');
  if (!installations.ok && !unreadable(installations, 'Installations')) return installations;
  const items = installations.ok ? ((installations.value?.items as Record<string, unknown>[] | undefined) ?? []) : [];
  const stated = items.map(installationAnchor);
  const apis = await podCertificateApis(ctx);
  if (!apis.ok && !unreadable(apis, 'ClusterTrustBundles')) return apis;
  const version = apis.ok ? apis.value.clusterTrustBundles : undefined;
  if (version) {
    const bundles = await listCtbs(ctx, version);
    if (!bundles.ok && !unreadable(bundles, 'ClusterTrustBundles')) return bundles;
    for (const b of bundles.ok ? bundles.value : []) stated.push(trustBundleAnchor(b as Record<string, unknown>));
  }
  for (const a of stated)
    if (a?.signerName === signer) out.push({ where: a.anchors.where, certs: a.anchors.pems.flatMap(certsOf) });
  return { ok: true, value: { statements: out, unread } };
}

/** The same CA: the same certificate, or the same subject and key (a CA certificate renewed with its key). */
function sameCa(a: X509Certificate, b: X509Certificate): boolean {
  if (a.fingerprint256 === b.fingerprint256) return true;
  if (a.subject !== b.subject) return false;
  const der = (c: X509Certificate) => c.publicKey.export({ type: 'spki', format: 'der' });
  return der(a).equals(der(b));
}

/** Whether a certificate issued under `mine` (the CA, then the CAs above it) verifies against `anchor`: one of them
 * is the anchor, or was issued by it. */
function chainsTo(mine: readonly X509Certificate[], anchor: X509Certificate): boolean {
  return mine.some((c) => sameCa(c, anchor) || (c.checkIssued(anchor) && c.verify(anchor.publicKey)));
}

export const CA_TRUST_UNREAD = 'ca-trust-unread';

/**
 * `ca-untrusted` (fail) when the cluster states which CAs it trusts for the signer and this CA is none of them nor
 * below one; undefined when it is, or when the cluster states nothing; `ca-trust-unread` (warn) when nothing was
 * stated in what this user could read and some of it was forbidden.
 */
export function caTrustFinding(
  ca: CaCertificates,
  signer: string,
  statements: readonly TrustStatement[],
  unread: readonly string[] = [],
): Finding | undefined {
  if (statements.length === 0) {
    if (unread.length === 0) return undefined;
    return {
      level: 'warn',
      code: CA_TRUST_UNREAD,
      message: `This CA was not compared with what the cluster trusts for ${safe(signer)}: you may not read ${unread.join(' or ')}.`,
    };
  }
  const chain = [ca.certPem, ...ca.chain.map((c) => c.pem)].flatMap(certsOf);
  if (statements.some((s) => s.certs.some((anchor) => chainsTo(chain, anchor)))) return undefined;
  const trusted = trustedText(statements);
  const mine = ca.certificate;
  return {
    level: 'fail',
    code: CA_UNTRUSTED,
    message: `This CA (${safe(mine.subject.text)}, SHA-256 ${mine.sha256Fingerprint.slice(0, 11)}…) is not one the cluster trusts for ${safe(signer)}: ${trusted}. Peers would refuse its certificates: register the trusted CA (certdesk ca import) or add this one there first.`,
  };
}

/** What the statements trust, in words: `the caCert of Installation default trusts CN=… (SHA-256 AB:CD:EF:01…)`. */
export function trustedText(statements: readonly TrustStatement[]): string {
  return statements
    .map((s) => {
      const names = s.certs.map(
        (c) => `${safe(c.subject.replace(/\n/g, ', '))} (SHA-256 ${c.fingerprint256.slice(0, 11)}…)`,
      );
      return `${safe(s.where)} trusts ${names.length ? names.join(' and ') : 'no readable CA'}`;
    })
    .join('; ');
}

/** Trust statements read per context and signer are reused for this long (a batch of signatures reads them once). */
export const TRUST_TTL_MS = 5_000;
const cache = new WeakMap<ClusterContext, Map<string, { at: number; read: Promise<KubeResult<SignerTrust>> }>>();

/** readSignerTrust, read at most once per TRUST_TTL_MS per context and signer (errors are not kept). */
export function signerTrust(ctx: ClusterContext, signer: string): Promise<KubeResult<SignerTrust>> {
  const bySigner = cache.get(ctx) ?? new Map();
  cache.set(ctx, bySigner);
  const hit = bySigner.get(signer);
  const now = performance.now();
  if (hit && now - hit.at < TRUST_TTL_MS) return hit.read;
  const read = readSignerTrust(ctx, signer);
  bySigner.set(signer, { at: now, read });
  void read.then((r) => {
    if (!r.ok && bySigner.get(signer)?.read === read) bySigner.delete(signer);
  });
  return read;
}

/** The finding for this CA and signer in `ctx`, from what the cluster states now (cached briefly). */
export async function caTrustFor(
  ctx: ClusterContext,
  ca: CaCertificates,
  signer: string,
): Promise<KubeResult<Finding | undefined>> {
  const trust = await signerTrust(ctx, signer);
  if (!trust.ok)
    return {
      ok: false,
      error: {
        ...trust.error,
        message: `could not read which CA ${ctx.name} trusts for ${safe(signer)}, to check this CA against it: ${trust.error.message}`,
      },
    };
  return { ok: true, value: caTrustFinding(ca, signer, trust.value.statements, trust.value.unread) };
}

/**
 * What the cluster says of a CA held here for a signer, in one word (`certdesk health`'s LOCAL-CA column):
 * `trusted` (it, or a CA above it, is named), `untrusted` (others are named: ca-untrusted), `not-stated` (nothing
 * names a CA for the signer), `unread` (nothing readable names one, and some of it was forbidden), `error` (the
 * check could not be made). `message` says why for the last three.
 */
export interface LocalCaTrust {
  trust: 'trusted' | 'untrusted' | 'not-stated' | 'unread' | 'error';
  message?: string;
}

export async function localCaTrust(ctx: ClusterContext, ca: CaCertificates, signer: string): Promise<LocalCaTrust> {
  const read = await signerTrust(ctx, signer);
  if (!read.ok) return { trust: 'error', message: `could not read which CA the cluster trusts: ${read.error.message}` };
  const { statements, unread } = read.value;
  const finding = caTrustFinding(ca, signer, statements, unread);
  if (finding) return { trust: finding.level === 'fail' ? 'untrusted' : 'unread', message: finding.message };
  return { trust: statements.length ? 'trusted' : 'not-stated' };
}

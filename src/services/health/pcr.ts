// PodCertificateRequests' health in one context, per signer: how many wait (and since when), how many issued ones
// are overdue for refresh, and whether the signer's ClusterTrustBundles hold the CA that signed its newest issued
// chain. Shared by the TUI's Health pane and `certdesk health`. Strings are the cluster's: make them terminal-safe
// before display.
import { createPublicKey } from 'node:crypto';
import type { ContextSnapshot } from '../kube/api-types.js';
import { pcrState, type WireCtb, type WirePcr } from '../kube/pod-certificates.js';
import { certificateSignedBy, decodeCertificateSync, rawPartsOf } from '../pki/decode.js';
import { inputBlocks } from '../pki/pem.js';

/** Issued PCRs whose beginRefreshAt passed longer ago than this are overdue (the kubelet should have re-requested). */
export const REFRESH_OVERDUE_MS = 10 * 60_000;

export interface PcrSignerHealth {
  signerName: string;
  /** Pending PCRs, and the creationTimestamp of the oldest. */
  waiting: number;
  oldestWaiting?: string;
  /** Issued PCRs whose beginRefreshAt passed more than 10 minutes ago. */
  overdueForRefresh: number;
  /**
   * The signer's ClusterTrustBundles: `not-served` (the API is not served), `none`, `holds-ca` / `lacks-ca` (whether
   * they hold the CA that signed the newest issued chain), or `present` (no chain issued yet to check them against).
   */
  trustBundle: 'not-served' | 'none' | 'holds-ca' | 'lacks-ca' | 'present';
  trustBundles: string[];
}

function bundleHoldsIssuer(bundles: WireCtb[], pcr: WirePcr | undefined): boolean | undefined {
  const chain = pcr?.status?.certificateChain;
  if (!chain) return undefined;
  try {
    const certs = inputBlocks(chain, 'certificateChain')
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => decodeCertificateSync(b.der));
    const top = certs.at(-1);
    if (!top) return undefined;
    for (const bundle of bundles) {
      for (const b of inputBlocks(bundle.spec?.trustBundle ?? '', 'trustBundle')) {
        const ca = decodeCertificateSync(b.der);
        if (ca.sha256Fingerprint === top.sha256Fingerprint) return true;
        const spki = rawPartsOf(ca)?.spki;
        if (!spki || ca.subject.text !== top.issuer.text) continue;
        const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
        if (certificateSignedBy(top, key)) return true;
      }
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * When a PCR was issued, as text that sorts by time: its Issued condition's transition, else its certificate's
 * notBefore, else its creation. Not the creation alone: two requests made in the same second may be issued by two
 * CAs minutes apart (a rotation), and the bundle must be checked against the newer.
 */
function issuedAt(pcr: WirePcr): string {
  const issued = pcr.status?.conditions?.find((c) => c.type === 'Issued' && c.status === 'True');
  return `${issued?.lastTransitionTime ?? ''}|${pcr.status?.notBefore ?? ''}|${pcr.metadata?.creationTimestamp ?? ''}`;
}

/** Whether a signer's bundles hold the CA of its newest issued chain, by PCR UID and bundle content. */
const bundleMemo = new Map<string, boolean | undefined>();

/** Per signer, sorted by name; undefined when the context does not serve PodCertificateRequests (or has not listed). */
export function pcrSignerHealth(
  snap: Pick<ContextSnapshot, 'pcrs' | 'trustBundles' | 'podCertificateApis'>,
  now: number,
): PcrSignerHealth[] | undefined {
  if (!snap.pcrs || !snap.podCertificateApis?.podCertificateRequests) return undefined;
  const bySigner = new Map<string, { waiting: number; oldest: string; overdue: number; newestIssued?: WirePcr }>();
  for (const pcr of snap.pcrs.values()) {
    const signer = pcr.spec?.signerName ?? '?';
    const e = bySigner.get(signer) ?? { waiting: 0, oldest: '', overdue: 0 };
    bySigner.set(signer, e);
    const s = pcrState(pcr);
    const created = pcr.metadata?.creationTimestamp ?? '';
    if (s === 'Pending') {
      e.waiting++;
      if (!e.oldest || created < e.oldest) e.oldest = created;
    } else if (s === 'Issued') {
      const at = Date.parse(pcr.status?.beginRefreshAt ?? '');
      if (Number.isFinite(at) && now - at > REFRESH_OVERDUE_MS) e.overdue++;
      if (!e.newestIssued || issuedAt(pcr) > issuedAt(e.newestIssued)) e.newestIssued = pcr;
    }
  }
  const bundles = [...(snap.trustBundles?.values() ?? [])];
  const served = Boolean(snap.podCertificateApis.clusterTrustBundles);
  return [...bySigner]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([signerName, e]) => {
      const own = served ? bundles.filter((b) => b.spec?.signerName === signerName) : [];
      let trustBundle: PcrSignerHealth['trustBundle'];
      if (!served) trustBundle = 'not-served';
      else if (own.length === 0) trustBundle = 'none';
      else {
        const key = `${e.newestIssued?.metadata?.uid ?? ''}|${own.map((b) => b.spec?.trustBundle ?? '').join('|')}`;
        let holds = bundleMemo.get(key);
        if (!bundleMemo.has(key)) {
          holds = bundleHoldsIssuer(own, e.newestIssued);
          if (bundleMemo.size >= 64) bundleMemo.delete(bundleMemo.keys().next().value as string);
          bundleMemo.set(key, holds);
        }
        trustBundle = holds === undefined ? 'present' : holds ? 'holds-ca' : 'lacks-ca';
      }
      return {
        signerName,
        waiting: e.waiting,
        ...(e.oldest ? { oldestWaiting: e.oldest } : {}),
        overdueForRefresh: e.overdue,
        trustBundle,
        trustBundles: own.map((b) => b.metadata?.name ?? '?'),
      };
    });
}

/** Whether a signer's PCR health wants attention: overdue refreshes, or a trust bundle missing or without its CA. */
export function pcrSignerNeedsAttention(h: PcrSignerHealth): boolean {
  return h.overdueForRefresh > 0 || h.trustBundle === 'none' || h.trustBundle === 'lacks-ca';
}

/** The trust-bundle state in words (the TUI's Health line and `certdesk health`). */
export function trustBundleText(h: PcrSignerHealth): string {
  switch (h.trustBundle) {
    case 'not-served':
      return 'trust bundles not served';
    case 'none':
      return 'no trust bundle';
    case 'holds-ca':
      return 'trust bundle holds the signing CA';
    case 'lacks-ca':
      return 'trust bundle does not hold the CA that signs';
    case 'present':
      return `trust bundle ${h.trustBundles.join(', ')}`;
  }
}

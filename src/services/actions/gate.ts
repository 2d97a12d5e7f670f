// The findings gate every approval and signature passes, whichever face asks (TUI, commands, controller): a
// request with a failing finding is not approved or signed unless the person names each failing finding's code
// (--override, or the name typed in the TUI). Deny and mark-Failed never pass through here (docs/safety.md).
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { CsrBinding, KubeError } from '../kube/index.js';
import { checkSignerRules, type DecodedCsr, decodeCsr, digestsOf } from '../pki/index.js';
import {
  type ClusterFacts,
  DEFAULT_POLICY,
  evaluateCsr,
  type Finding,
  type PodLike,
  type Policy,
} from '../policy/index.js';
import { terminalSafe } from '../text/sanitize.js';

export interface GateOptions {
  /** @default the built-in policy */
  policy?: Policy;
  /** The cluster's pods, to link requestors to their pods. */
  pods?: Iterable<PodLike>;
  /** The cluster around the request (nodes, the other requests the desk has seen): the same facts as every face. */
  cluster?: ClusterFacts;
  /** Failing finding codes the person accepts; every failing code must be named. */
  overrides?: readonly string[];
  /** The built-in signers' rules. @default pki's checkSignerRules */
  checkSignerRules?: (signerName: string, csr: DecodedCsr, usages: string[]) => string | undefined;
}

/** The findings of a CSR; a request that cannot be decoded is one `fail` finding (code `decode`). */
export async function findingsFor(
  csr: V1CertificateSigningRequest,
  options: Pick<GateOptions, 'policy' | 'pods' | 'cluster' | 'checkSignerRules'> = {},
): Promise<{ findings: Finding[]; decoded?: DecodedCsr }> {
  let decoded: DecodedCsr;
  try {
    decoded = await decodeCsr(Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8'));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { findings: [{ level: 'fail', code: 'decode', message: `The request cannot be decoded: ${why}` }] };
  }
  // A decision is made on the DNS answers (at most the policy's timeout), never on `resolving…`.
  if (options.cluster?.dns && (options.policy ?? DEFAULT_POLICY).dns.enabled)
    await options.cluster.dns.settle(decoded.sans.dns.filter((d) => !d.includes('*')));
  const findings = evaluateCsr({
    csr: {
      metadata: {
        name: csr.metadata?.name ?? '',
        uid: csr.metadata?.uid ?? '',
        ...(csr.metadata?.creationTimestamp ? { creationTimestamp: csr.metadata.creationTimestamp } : {}),
      },
      spec: { ...csr.spec, signerName: csr.spec?.signerName ?? '' },
    },
    decoded,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.pods ? { pods: options.pods } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    checkSignerRules: options.checkSignerRules ?? checkSignerRules,
  });
  return { findings, decoded };
}

/** Codes of the findings at a level, in order, without repeats. */
export function codesAt(findings: readonly Finding[], level: Finding['level']): string[] {
  return [...new Set(findings.filter((f) => f.level === level).map((f) => f.code))];
}

/**
 * Failing findings no override accepts: `decode`, the request could not be read, so nothing else about it was checked
 * (a request padded past what certdesk decodes would otherwise pass every other check by naming this one).
 */
export const NOT_OVERRIDABLE: readonly string[] = ['decode'];

/** The first finding no override accepts, if any. */
export function blindFinding(findings: readonly Finding[]): Finding | undefined {
  return findings.find((f) => f.level === 'fail' && NOT_OVERRIDABLE.includes(f.code));
}

/** The refusal for a request that could not be read: what was not checked, and what can be done instead. */
export function blindRefusal(what: string, finding: Finding, deny: string): string {
  return `${what}: ${finding.code} (${terminalSafe(finding.message, { maxLength: 300 }).replace(/\.$/, '')}); nothing else about it could be checked, so no --override accepts it. ${deny}, or ask its requester for a request certdesk can read.`;
}

/** Why the findings stop an approval or signature, or undefined when they allow it (with these overrides). */
export function findingsRefusal(
  csr: V1CertificateSigningRequest,
  findings: readonly Finding[],
  overrides: readonly string[] | undefined,
  verb: 'approved' | 'signed',
  context: string,
): KubeError | undefined {
  const failing = codesAt(findings, 'fail');
  if (failing.length === 0) return undefined;
  const name = terminalSafe(csr.metadata?.name ?? '', { maxLength: 120 });
  const blind = blindFinding(findings);
  if (blind) {
    return {
      kind: 'refused',
      reason: 'FindingsFail',
      message: blindRefusal(`CSR "${name}" was not ${verb}`, blind, `Deny it (certdesk deny ${name})`),
      context,
    };
  }
  const accepted = new Set(overrides ?? []);
  const missing = failing.filter((c) => !accepted.has(c));
  if (missing.length === 0) return undefined;
  const said = findings
    .filter((f) => f.level === 'fail' && missing.includes(f.code))
    .map((f) => `${f.code} (${terminalSafe(f.message, { maxLength: 300 }).replace(/\.$/, '')})`)
    .join('; ');
  const partial = accepted.size > 0 ? ` --override named only ${[...accepted].join(',')};` : '';
  return {
    kind: 'refused',
    reason: 'FindingsFail',
    message: `CSR "${name}" was not ${verb}: failing findings ${said};${partial} review it (certdesk describe csr ${name}) and, to accept them, name every failing finding: --override ${failing.join(',')}`,
    context,
  };
}

/** The binding of a write to the object it was decided on. */
export function bindingOf(csr: V1CertificateSigningRequest): CsrBinding {
  return { uid: csr.metadata?.uid ?? '', resourceVersion: csr.metadata?.resourceVersion ?? '' };
}

/** What the audit log keeps of a decided request for key-reuse: who asked and the digest of its public key. */
export function keyFacts(
  csr: V1CertificateSigningRequest,
  decoded: DecodedCsr | undefined,
): { requester?: string; keySha256?: string } {
  const key = decoded ? digestsOf(decoded)?.key : undefined;
  return {
    ...(csr.spec?.username ? { requester: csr.spec.username } : {}),
    ...(key ? { keySha256: key } : {}),
  };
}

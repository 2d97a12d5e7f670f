// Lazy, cached knowledge about CSRs for the TUI: the decoded request and its findings (by uid + resourceVersion,
// decoded only when a row is on screen), the issued certificate, and can-i per signer. Work runs in the
// background; when results land, `onChange` fires once per batch so the frame redraws.
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { ClusterContext, SignerCapability } from '../services/kube/index.js';
import { canApprove, canAttest, canSign, canSignPcr, type KubeResult } from '../services/kube/index.js';
import { checkSignerRules, type DecodedCertificate, decodeCertificate, decodeCsr } from '../services/pki/index.js';
import {
  type ClusterFacts,
  DEFAULT_POLICY,
  evaluateCsr,
  type Policy,
  type PodLike,
  worstLevel,
} from '../services/policy/index.js';
import type { CsrInsight, CsrInsights } from './selectors.js';

export interface InsightCacheOptions {
  policy?: Policy;
  /** The cluster contexts by name, for can-i; omitted → capabilities stay unknown. */
  contexts?: ReadonlyMap<string, ClusterContext>;
  /** Pods of a context, for the findings that link a requestor to its pod. */
  pods?: (context: string) => Iterable<PodLike>;
  /**
   * Whether a context's pods have been listed (the store lists them after the CSRs). Until then findings are made
   * without pods and made again once they are in; a dialog that gates a write gets a warning saying so.
   */
  podsListed?: (context: string) => boolean;
  /** What else the findings know of a context's cluster (services/actions facts.ts), and a key that changes with it. */
  cluster?: (context: string) => ClusterFacts;
  clusterKey?: (context: string) => string;
  onChange: () => void;
  /** How many decodes run at once. @default 8 */
  concurrency?: number;
}

type Capability = { approve?: SignerCapability; sign?: SignerCapability };
type Asked = { value: SignerCapability | undefined; settled: Promise<void> };

/** How long a dialog waits for a can-i answer before it opens without it (the write then says why, if refused). */
const ASK_WAIT_MS = 2000;
const pcrQuestion = (signerName: string, namespace: string) =>
  [
    `pcr\u0000${signerName}\u0000${namespace}`,
    (ctx: ClusterContext) => canSignPcr(ctx, signerName, namespace),
  ] as const;
const attestQuestion = (signerName: string) =>
  [`attest\u0000${signerName}`, (ctx: ClusterContext) => canAttest(ctx, signerName)] as const;

function versionKey(context: string, csr: V1CertificateSigningRequest): string {
  return `${context}\u0000${csr.metadata?.uid ?? csr.metadata?.name ?? ''}\u0000${csr.metadata?.resourceVersion ?? ''}`;
}

/** Spec-only key: the request never changes after creation, so decoding is shared across resourceVersions. */
function requestKey(context: string, csr: V1CertificateSigningRequest): string {
  return `${context}\u0000${csr.metadata?.uid ?? csr.metadata?.name ?? ''}`;
}

export class InsightCache implements CsrInsights {
  private readonly insights = new Map<string, CsrInsight>();
  /** The newest insight of each CSR version, shown while findings are made again for new facts (no flicker). */
  private readonly latest = new Map<string, CsrInsight>();
  private readonly decoded = new Map<string, Promise<CsrInsight>>();
  private readonly certificates = new Map<string, DecodedCertificate | 'pending' | 'error'>();
  private readonly capabilities = new Map<string, Capability | 'pending'>();
  /** One can-i answer per context and question (value undefined until it is in, or when it could not be asked). */
  private readonly access = new Map<string, Asked>();
  private readonly queue: (() => Promise<void>)[] = [];
  private active = 0;
  private changeScheduled = false;
  private stopped = false;

  constructor(private readonly options: InsightCacheOptions) {}

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Forgets findings (not decodes), e.g. after a write, so they are re-evaluated with the current pods. */
  invalidate(context: string, name: string): void {
    for (const key of [...this.insights.keys()]) {
      if (key.startsWith(`${context}\u0000`) && key.includes(name)) this.insights.delete(key);
    }
  }

  /** The cache key of a CSR's findings: they are made again once the context's pods are listed. */
  private findingsKey(context: string, csr: V1CertificateSigningRequest): string {
    const early = this.options.podsListed?.(context) === false;
    const facts = this.options.clusterKey ? `\u0000${this.options.clusterKey(context)}` : '';
    return early ? `${versionKey(context, csr)}\u0000before-pods` : `${versionKey(context, csr)}${facts}`;
  }

  insight(context: string, csr: V1CertificateSigningRequest): CsrInsight | undefined {
    const key = this.findingsKey(context, csr);
    const hit = this.insights.get(key);
    if (hit) return hit;
    if (this.insights.size > 50_000) {
      this.insights.clear();
      this.latest.clear();
    }
    const rkey = requestKey(context, csr);
    let decode = this.decoded.get(rkey);
    if (!decode) {
      decode = new Promise<CsrInsight>((resolve) => {
        this.enqueue(async () => {
          resolve(await this.decode(csr));
        });
      });
      this.decoded.set(rkey, decode);
    }
    const vkey = versionKey(context, csr);
    void decode.then((base) => {
      if (this.insights.has(key) || this.stopped) return;
      const made = this.evaluate(context, csr, base);
      this.insights.set(key, made);
      // Findings made before the pods were listed are not shown once they are (the test of insights says why).
      if (!key.endsWith('\u0000before-pods')) this.latest.set(vkey, made);
      this.changed();
    });
    return this.options.podsListed?.(context) === false ? undefined : this.latest.get(vkey);
  }

  certificate(context: string, csr: V1CertificateSigningRequest): DecodedCertificate | undefined {
    const b64 = csr.status?.certificate;
    if (!b64) return undefined;
    const key = `${versionKey(context, csr)}\u0000cert`;
    const hit = this.certificates.get(key);
    if (hit && hit !== 'pending' && hit !== 'error') return hit;
    if (hit) return undefined;
    this.certificates.set(key, 'pending');
    this.enqueue(async () => {
      try {
        this.certificates.set(key, await decodeCertificate(Buffer.from(b64, 'base64').toString('utf8')));
      } catch {
        this.certificates.set(key, 'error');
      }
      this.changed();
    });
    return undefined;
  }

  capability(context: string, signerName: string): Capability | undefined {
    const ctx = this.options.contexts?.get(context);
    if (!ctx) return undefined;
    const key = `${context}\u0000${signerName}`;
    const hit = this.capabilities.get(key);
    if (hit && hit !== 'pending') return hit;
    if (hit) return undefined;
    this.capabilities.set(key, 'pending');
    void Promise.all([canApprove(ctx, signerName), canSign(ctx, signerName)]).then(([approve, sign]) => {
      if (this.stopped) return;
      // An unanswerable question (network, 403 on the review itself) leaves the verb enabled: the write says why.
      this.capabilities.set(key, {
        ...(approve.ok ? { approve: approve.value } : {}),
        ...(sign.ok ? { sign: sign.value } : {}),
      });
      this.changed();
    });
    return undefined;
  }

  /** May this context issue, deny or fail a PodCertificateRequest of this signer in this namespace (`sign` on the
   * signer and `update podcertificaterequests/status`: every status write needs both), when known (asks when not). */
  pcrCapability(context: string, signerName: string, namespace: string): SignerCapability | undefined {
    return this.ask(context, ...pcrQuestion(signerName, namespace)).value;
  }

  /** The same, waited for (a dialog says it before the person types): at most `waitMs`, then unknown. */
  pcrCapabilityNow(
    context: string,
    signerName: string,
    namespace: string,
    waitMs = ASK_WAIT_MS,
  ): Promise<SignerCapability | undefined> {
    return this.askNow(this.ask(context, ...pcrQuestion(signerName, namespace)), waitMs);
  }

  /** May this context publish the signer's ClusterTrustBundle (`attest` on the signer, `create` on the bundles). */
  attestCapability(context: string, signerName: string): SignerCapability | undefined {
    return this.ask(context, ...attestQuestion(signerName)).value;
  }

  attestCapabilityNow(
    context: string,
    signerName: string,
    waitMs = ASK_WAIT_MS,
  ): Promise<SignerCapability | undefined> {
    return this.askNow(this.ask(context, ...attestQuestion(signerName)), waitMs);
  }

  private ask(context: string, question: string, run: (ctx: ClusterContext) => Promise<KubeResult<SignerCapability>>) {
    const ctx = this.options.contexts?.get(context);
    if (!ctx) return { value: undefined, settled: Promise.resolve() };
    const key = `${context}\u0000${question}`;
    let entry = this.access.get(key);
    if (!entry) {
      const made: Asked = { value: undefined, settled: Promise.resolve() };
      // An unanswerable question (network, 403 on the review itself) stays unknown: the write says why.
      made.settled = run(ctx).then((r) => {
        if (this.stopped || !r.ok) return;
        made.value = r.value;
        this.changed();
      });
      this.access.set(key, made);
      entry = made;
    }
    return entry;
  }

  private async askNow(entry: Asked, waitMs: number): Promise<SignerCapability | undefined> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([entry.settled, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    return entry.value;
  }

  /** Decodes now (for dialogs that must know the findings before asking). */
  async insightNow(context: string, csr: V1CertificateSigningRequest): Promise<CsrInsight> {
    const key = this.findingsKey(context, csr);
    const early = key.endsWith('\u0000before-pods');
    const cached = early ? undefined : this.insights.get(key);
    if (cached) return cached;
    const base = await this.decode(csr);
    const insight = this.evaluate(context, csr, base);
    if (!early || !insight.decoded) {
      this.insights.set(key, insight);
      return insight;
    }
    const findings = [
      ...insight.findings,
      {
        level: 'warn' as const,
        code: 'pods-not-listed',
        message: "This cluster's pods are not listed yet, so the requestor's pod was not checked; wait a moment.",
      },
    ];
    return { ...insight, findings, worst: worstLevel(findings) };
  }

  private async decode(csr: V1CertificateSigningRequest): Promise<CsrInsight> {
    try {
      const pem = Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8');
      const decoded = await decodeCsr(pem);
      return { decoded, findings: [], worst: 'ok' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        error: message,
        findings: [{ level: 'fail', code: 'decode', message: `The request cannot be decoded: ${message}` }],
        worst: 'fail',
      };
    }
  }

  private evaluate(context: string, csr: V1CertificateSigningRequest, base: CsrInsight): CsrInsight {
    if (!base.decoded) return base;
    const listed = this.options.podsListed?.(context) !== false;
    const pods = listed ? this.options.pods?.(context) : undefined;
    const cluster = listed ? this.options.cluster?.(context) : undefined;
    try {
      const findings = evaluateCsr({
        csr: csr as Parameters<typeof evaluateCsr>[0]['csr'],
        decoded: base.decoded,
        policy: this.options.policy ?? DEFAULT_POLICY,
        ...(pods ? { pods } : {}),
        ...(cluster ? { cluster } : {}),
        checkSignerRules,
      });
      return { decoded: base.decoded, findings, worst: worstLevel(findings) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        decoded: base.decoded,
        findings: [{ level: 'warn', code: 'policy-error', message: `The findings could not be computed: ${message}` }],
        worst: 'warn',
      };
    }
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 8;
    while (!this.stopped && this.active < limit && this.queue.length > 0) {
      // Newest first: the rows on screen now matter more than those scrolled past.
      const job = this.queue.pop()!;
      this.active++;
      void job().finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private changed(): void {
    if (this.changeScheduled || this.stopped) return;
    this.changeScheduled = true;
    setImmediate(() => {
      this.changeScheduled = false;
      if (!this.stopped) this.options.onChange();
    });
  }
}

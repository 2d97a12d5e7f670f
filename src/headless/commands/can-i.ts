// `certdesk can-i`: per context and signer, whether this user may do what certdesk's verbs need (SelfSubjectAccess-
// Review, as the TUI asks before a dialog): approve and sign CSRs, issue/deny/fail PodCertificateRequests (`sign` on
// the signer + update podcertificaterequests/status) and publish the signer's ClusterTrustBundle (`attest` + create).
// Each `no` is followed by what is missing.
import { listCas } from '../../services/config/ca-registry.js';
import { canApprove, canAttest, canSign, canSignPcr, type SignerCapability } from '../../services/kube/index.js';
import { CliError } from '../cli-error.js';
import { parseOutputFormat, toJson, toYaml } from '../output/print.js';
import { renderTable } from '../output/table.js';
import { contextsFrom, type KubeCliOptions, namespaceFor, type OutputCliOptions, out, unwrap, warn } from './common.js';

export interface CanICliOptions extends KubeCliOptions, OutputCliOptions {
  signer?: string[];
  namespace?: string;
}

const VERBS = [
  ['approveCsr', 'APPROVE CSR'],
  ['signCsr', 'SIGN CSR'],
  ['signPcr', 'SIGN PCR'],
  ['attest', 'ATTEST'],
] as const;
type Verb = (typeof VERBS)[number][0];

export async function runCanI(opts: CanICliOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['json', 'yaml']);
  const signers = opts.signer?.length ? opts.signer : listCas().map((c) => c.signerName);
  if (signers.length === 0) {
    throw new CliError('no signer to ask about: pass --signer NAME (or register a CA with certdesk ca init)');
  }
  const contexts = contextsFrom(opts, true);
  const rows = await Promise.all(
    contexts.flatMap((ctx) =>
      signers.map(async (signer) => {
        const namespace = namespaceFor(ctx, opts.namespace);
        const [approveCsr, signCsr, signPcr, attest] = await Promise.all([
          canApprove(ctx, signer),
          canSign(ctx, signer),
          canSignPcr(ctx, signer, namespace),
          canAttest(ctx, signer),
        ]);
        const answers: Record<Verb, SignerCapability> = {
          approveCsr: unwrap(approveCsr),
          signCsr: unwrap(signCsr),
          signPcr: unwrap(signPcr),
          attest: unwrap(attest),
        };
        return { context: ctx.name, signer, namespace, ...answers };
      }),
    ),
  );
  if (format === 'json' || format === 'yaml') {
    out(format === 'json' ? toJson(rows) : toYaml(rows));
    return;
  }
  out(
    renderTable(
      ['CONTEXT', 'SIGNER', ...VERBS.map(([, h]) => h), 'PCR NAMESPACE'],
      rows.map((r) => [r.context, r.signer, ...VERBS.map(([v]) => (r[v].allowed ? 'yes' : 'no')), r.namespace]),
    ),
  );
  for (const r of rows) {
    for (const [v, h] of VERBS) {
      // warn and renderTable make every string terminal-safe.
      if (!r[v].allowed) warn(`${r.context}: ${h.toLowerCase()} ${r.signer}: missing ${r[v].missing.join(', ')}`);
    }
  }
}

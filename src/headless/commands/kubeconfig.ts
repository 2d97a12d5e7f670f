// `certdesk kubeconfig --csr NAME --key FILE`: the onboarding notes' last step — a kubeconfig for the new user.
import { buildKubeconfigForCsr } from '../../services/actions/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { contextFrom, type KubeCliOptions, out, readLocalFile, unwrap } from './common.js';

export interface KubeconfigCliOptions extends KubeCliOptions {
  csr: string;
  key: string;
  user?: string;
  out?: string;
}

export async function runKubeconfig(opts: KubeconfigCliOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const keyPem = await readLocalFile(opts.key, 'key file');
  const result = unwrap(
    await buildKubeconfigForCsr(ctx, {
      csrName: opts.csr,
      keyPem,
      ...(opts.user ? { user: opts.user } : {}),
      ...(opts.out ? { out: opts.out } : {}),
    }),
  );
  if (result.file) {
    out(`kubeconfig for user "${terminalSafe(result.user)}" written to ${terminalSafe(result.file)}\n`);
  } else out(result.yaml);
}

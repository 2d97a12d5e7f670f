// `certdesk kubeconfig --csr NAME --key FILE`: the onboarding notes' last step — a kubeconfig for the new user.
import { buildKubeconfigForCsr } from '../../services/actions/index.js';
import { terminalSafe } from '../../services/text/sanitize.js';
import { contextFrom, type KubeCliOptions, out, readLocalFile, unwrap } from './common.js';

export interface KubeconfigCliOptions extends KubeCliOptions {
  csr: string;
  key: string;
  user?: string;
  out?: string;
  force?: boolean;
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
      ...(opts.force ? { force: true } : {}),
    }),
  );
  if (result.file) {
    out(`kubeconfig for user "${terminalSafe(result.user)}" merged into ${terminalSafe(result.file)}\n`);
  } else out(result.yaml);
}

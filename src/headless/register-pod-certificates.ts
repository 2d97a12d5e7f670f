// Declares `get pcr`, `describe pcr`, `get trustbundles` and `describe trustbundle` (issue 20, first steps) under the
// `get` and `describe` groups of register-kube.ts; each action imports its implementation lazily.
import type { Command } from 'commander';
import { guard, withGetOutput, withKube } from './register-kube.js';

export function registerPodCertificateCommands(program: Command): void {
  const get = program.commands.find((c) => c.name() === 'get') ?? program.command('get');
  const describe = program.commands.find((c) => c.name() === 'describe') ?? program.command('describe');
  const lazy = () => import('./commands/pod-certificates.js');

  withGetOutput(
    withKube(
      get
        .command('pcr')
        .aliases(['pcrs', 'podcertificaterequest', 'podcertificaterequests'])
        .argument('[names...]', 'PodCertificateRequest names (default: all in the namespace)')
        .description('List PodCertificateRequests: NAME, AGE, SIGNERNAME, POD, SERVICEACCOUNT, NODE, STATE.')
        .option('-n, --namespace <ns>', "namespace (default: the context's, else default)")
        .option('-A, --all-namespaces', 'every namespace'),
    ),
  ).action(async (names: string[], opts) => {
    const { runGetPcr } = await lazy();
    await guard(() => runGetPcr(names, opts));
  });
  withKube(
    describe
      .command('pcr')
      .aliases(['pcrs', 'podcertificaterequest'])
      .argument('<names...>', 'PodCertificateRequest names')
      .description('Signer, pod/service account/node identity, key and proof of possession, conditions, issued chain.')
      .option('-n, --namespace <ns>', "namespace (default: the context's, else default)"),
  ).action(async (names: string[], opts) => {
    const { runDescribePcr } = await lazy();
    await guard(() => runDescribePcr(names, opts));
  });

  withGetOutput(
    withKube(
      get
        .command('trustbundles')
        .aliases(['trustbundle', 'ctb', 'clustertrustbundle', 'clustertrustbundles'])
        .argument('[names...]', 'ClusterTrustBundle names (default: all)')
        .description('List ClusterTrustBundles: NAME, SIGNERNAME, CERTIFICATES, AGE.'),
    ),
  ).action(async (names: string[], opts) => {
    const { runGetTrustBundles } = await lazy();
    await guard(() => runGetTrustBundles(names, opts));
  });
  withKube(
    describe
      .command('trustbundle')
      .aliases(['trustbundles', 'ctb', 'clustertrustbundle'])
      .argument('<names...>', 'ClusterTrustBundle names')
      .description('Signer and each certificate: subject and expiry.'),
  ).action(async (names: string[], opts) => {
    const { runDescribeTrustBundle } = await lazy();
    await guard(() => runDescribeTrustBundle(names, opts));
  });
}

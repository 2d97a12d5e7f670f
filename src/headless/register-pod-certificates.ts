// Declares `get pcr`, `describe pcr`, `get trustbundles`, `describe trustbundle`, `sign pcr`, `deny pcr`, `fail pcr`
// and `export trust-bundle` (issue 20) under the groups of register-kube.ts (`sign pcr` and `deny pcr` are
// subcommands of the CSR verbs: commander dispatches on the first word); each action imports its implementation lazily.
import type { Command } from 'commander';
import { withCaKeyOptions } from './ca-options.js';
import { guard, withGetOutput, withKube, withOutput } from './register-kube.js';

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
      .description(
        'Signer, pod/service account/node identity, key and proof of possession, findings, conditions, issued chain.',
      )
      .option('-n, --namespace <ns>', "namespace (default: the context's, else default)")
      .option('--policy <file>', 'policy YAML for the findings (default: built-in)'),
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

  const find = (name: string) => program.commands.find((c) => c.name() === name) ?? program.command(name);
  const actions = () => import('./commands/pcr-actions.js');
  withOutput(
    withKube(
      withCaKeyOptions(
        find('sign')
          .command('pcr')
          .aliases(['pcrs', 'podcertificaterequest'])
          .argument('<names...>', 'PodCertificateRequest names')
          .description(
            'Issue PodCertificateRequests with a local CA (the registry entry for each signer): findings gate, chain and times through /status.',
          )
          .option('-n, --namespace <ns>', "namespace (default: the context's, else default)")
          .option(
            '--signer <name>',
            "CA from the registry for this signerName (default: each request's own signerName)",
          ),
        true,
      )
        .option('--duration <d>', "shorter lifetime than the request's maxExpirationSeconds (at least 1h)")
        .option('--override <codes>', 'accept these failing findings (every failing code, comma-separated)')
        .option('--policy <file>', 'policy YAML for the findings (default: built-in)'),
    ),
    ['json', 'yaml', 'name'],
  ).action(async (names: string[], opts) => {
    const { runSignPcr } = await actions();
    await guard(() => runSignPcr(names, opts));
  });
  const failGroup = find('fail').description('Mark requests Failed: the signer cannot issue them.');
  for (const [group, type] of [
    [find('deny'), 'Denied'],
    [failGroup, 'Failed'],
  ] as const) {
    withOutput(
      withKube(
        group
          .command('pcr')
          .aliases(['pcrs', 'podcertificaterequest'])
          .argument('<names...>', 'PodCertificateRequest names')
          .description(
            type === 'Denied'
              ? 'Deny PodCertificateRequests through /status (the kubelet asks again after a back-off).'
              : 'Mark PodCertificateRequests Failed through /status (the signer cannot issue them).',
          )
          .option('-n, --namespace <ns>', "namespace (default: the context's, else default)")
          .requiredOption('--reason <Reason>', 'condition reason, one CamelCase word (e.g. UnsupportedKeyType)')
          .option('--message <text>', 'condition message'),
      ),
      ['json', 'yaml', 'name'],
    ).action(async (names: string[], opts) => {
      const { runDecidePcr } = await actions();
      await guard(() => runDecidePcr(type, names, opts));
    });
  }

  withOutput(
    withKube(
      find('export')
        .command('trust-bundle')
        .description(
          "Publish a signer's CA from the registry as the ClusterTrustBundle <signer with : for />:<name>; a new CA is added beside the old ones until --remove-old.",
        )
        .requiredOption('--signer <name>', 'signerName of a CA in the registry')
        .option('--name <suffix>', 'bundle name after the signer', 'live')
        .option('--ca-cert <file>', 'CA certificate PEM (instead of the registry)')
        .option('--remove-old', 'keep only this CA in the bundle (after a rotation)'),
    ),
    ['json', 'yaml', 'name'],
  ).action(async (opts) => {
    const { runExportTrustBundle } = await actions();
    await guard(() => runExportTrustBundle(opts));
  });
}

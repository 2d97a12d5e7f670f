// Declares the kube commands (get, describe, approve, deny, delete, sign, export, request, kubeconfig, calico, health,
// audit, completion); each action imports its implementation lazily so that `certdesk --help` stays fast.
import { Argument, type Command, Option } from 'commander';
import { withCaKeyOptions } from './ca-options.js';
import { KEY_ALGORITHMS } from '../services/pki/types.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { CliError } from './cli-error.js';

/** Errors the services throw with a sentence meant for a person: shown as one line, not as a crash. */
const PERSON_ERRORS = new Set(['AuditWriteError', 'PkiError', 'PolicyError', 'KubeConfigError', 'ExportError']);

export async function guard(fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Error && PERSON_ERRORS.has(err.name)) {
      const line = terminalSafe(err.message.split('\n')[0] ?? '').replace(/\.\s*$/, '');
      throw new CliError(/^[A-Z][a-z]/.test(line) ? line[0]?.toLowerCase() + line.slice(1) : line);
    }
    throw err;
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

function repeat(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --kubeconfig and --context (repeatable); --all-contexts where a command reads several clusters. */
export function withKube(cmd: Command, multi = false): Command {
  cmd
    .option('--kubeconfig <path>', 'kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)')
    .option(
      '--context <name>',
      multi
        ? 'context to use; repeat for several (default: current context)'
        : 'context to use (default: current context)',
      repeat,
    );
  if (multi) cmd.option('--all-contexts', 'every context in the kubeconfig');
  cmd.option('--request-timeout <duration>', 'deadline of each API request, e.g. 5s; 0: none (default 30s, lists 60s)');
  // Accepted after the subcommand too, as every global option is (headless output has no colours).
  cmd.addOption(new Option('--no-color', 'no colours').hideHelp());
  return cmd;
}

export function withOutput(cmd: Command, formats: string[] = ['json', 'yaml', 'wide', 'name']): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'output format').choices(formats));
}

/** Adds -o (with jsonpath= and custom-columns=), --no-headers and --sort-by to a `get` command. */
export function withGetOutput(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-o, --output <format>', 'json|yaml|wide|name|jsonpath=TEMPLATE|custom-columns=SPEC (kubectl syntax)'),
    )
    .option('--no-headers', 'no header line in table and custom-columns output')
    .option('--sort-by <jsonpath>', "sort by this field, kubectl's form: .metadata.creationTimestamp");
}

function withDryRun(cmd: Command): Command {
  return cmd.addOption(
    new Option('--dry-run <strategy>', 'client: print the object instead of sending it').choices(['none', 'client']),
  );
}

export function registerKubeCommands(program: Command): void {
  // get
  const get = program.command('get').description('List CSRs or pods waiting in Init, like kubectl get.');
  withGetOutput(
    withKube(
      get
        .command('csr')
        .aliases(['csrs', 'certificatesigningrequest', 'certificatesigningrequests'])
        .argument('[names...]', 'CSR names (default: all)')
        .description('List CertificateSigningRequests: NAME, AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION, CONDITION.')
        .option('-l, --selector <selector>', 'label selector, passed to the server (e.g. app=web,tier!=db)')
        .option('--field-selector <selector>', 'field selector, passed to the server: metadata.name, spec.signerName')
        .option('--signer <name>', 'only CSRs for this signerName (--field-selector spec.signerName=NAME)')
        .option('--pending', 'only CSRs that are neither approved nor denied')
        .option('-w, --watch', 'after the list, print a row per change until Ctrl-C'),
      true,
    ),
  ).action(async (names: string[], opts) => {
    const { runGetCsr } = await import('./commands/get.js');
    await guard(() => runGetCsr(names, opts));
  });
  withGetOutput(
    withKube(
      get
        .command('pods-in-init')
        .alias('pods')
        .description('List pods still in Init (e.g. waiting on a certificate) and the CSR each waits on.')
        .option('-n, --namespace <ns>', 'only this namespace')
        .option('-A, --all-namespaces', 'every namespace (default)'),
      true,
    ),
  ).action(async (opts) => {
    const { runGetPodsInInit } = await import('./commands/get.js');
    await guard(() => runGetPodsInInit(opts));
  });

  withOutput(
    withKube(
      program
        .command('health')
        .description('Per context: TigeraStatus, pods in Init linked to CSRs, pending and approved-but-unissued CSRs.'),
      true,
    ),
    ['json', 'yaml'],
  ).action(async (opts) => {
    const { runHealth } = await import('./commands/health.js');
    await guard(() => runHealth(opts));
  });

  withOutput(
    withKube(
      program
        .command('can-i')
        .description(
          'Per context and signer: may you approve and sign CSRs, issue/deny/fail PodCertificateRequests, publish the trust bundle (attest)?',
        )
        .option('--signer <name>', 'signerName to ask about; repeat for several (default: every registered CA)', repeat)
        .option(
          '-n, --namespace <ns>',
          "namespace of the PodCertificateRequests (default: the context's, else default)",
        ),
      true,
    ),
    ['json', 'yaml'],
  ).action(async (opts) => {
    const { runCanI } = await import('./commands/can-i.js');
    await guard(() => runCanI(opts));
  });

  // describe
  const describe = program.command('describe').description('Show one object in detail, like kubectl describe.');
  withKube(
    describe
      .command('csr')
      .aliases(['csrs', 'certificatesigningrequest'])
      .argument('<names...>', 'CSR names')
      .description('Decoded request, requestor, findings, linked pod, and the issued certificate.')
      .option('--policy <file>', 'policy YAML for the findings (default: built-in)')
      .addOption(new Option('-o, --output <format>', 'json|yaml: the CSR with its findings').choices(['json', 'yaml'])),
  ).action(async (names: string[], opts) => {
    const { runDescribeCsr } = await import('./commands/describe.js');
    await guard(() => runDescribeCsr(names, opts));
  });

  // policy test
  const policyCmd = program.command('policy').description('Try an approval policy before the controller gets it.');
  withKube(
    policyCmd
      .command('test')
      .description(
        'Judge every live CSR and every decision in the audit log under a policy (and the default); print where the decision would differ. Writes nothing.',
      )
      .option('--policy <file>', 'policy YAML to try (default: built-in)')
      .addOption(new Option('-o, --output <format>', 'json|yaml').choices(['json', 'yaml'])),
    true,
  ).action(async (opts) => {
    const { runPolicyTest } = await import('./commands/policy-test.js');
    await guard(() => runPolicyTest(opts));
  });

  // approve / deny
  for (const verb of ['approve', 'deny'] as const) {
    const cmd = withKube(
      program
        .command(verb)
        .argument('<names...>', 'CSR names')
        .description(
          verb === 'approve'
            ? 'Approve CSRs through /approval (a Denied CSR is refused; an Approved one is left alone unless --force).'
            : 'Deny CSRs through /approval (an Approved CSR is refused; a Denied one is left alone unless --force).',
        )
        .option(
          '--reason <reason>',
          'condition reason (default: Certdesk' + (verb === 'approve' ? 'Approve)' : 'Deny)'),
        )
        .option('--message <text>', 'condition message')
        .option('--force', 'write even when the CSR is already in that state'),
    );
    if (verb === 'approve') {
      cmd
        .option('--override <codes>', 'accept these failing findings (every failing code, comma-separated)')
        .option('--policy <file>', 'policy YAML for the findings (default: built-in)');
    }
    cmd.action(async (names: string[], opts) => {
      const { runApproval } = await import('./commands/approval.js');
      await guard(() => runApproval(verb, names, opts));
    });
  }

  // delete csr
  const del = program.command('delete').description('Delete objects, like kubectl delete.');
  withKube(
    del
      .command('csr')
      .aliases(['csrs', 'certificatesigningrequest', 'certificatesigningrequests'])
      .argument('<names...>', 'CSR names')
      .description(
        'Delete CSRs instead of denying them, so the requester asks again: only the object just checked (uid and resourceVersion preconditions), audited; an issued CSR only with --force.',
      )
      .option('--force', 'delete an issued CSR too (its requester may not have read the certificate yet)'),
  ).action(async (names: string[], opts) => {
    const { runDeleteCsr } = await import('./commands/delete.js');
    await guard(() => runDeleteCsr(names, opts));
  });

  // sign
  withOutput(
    withKube(
      withCaKeyOptions(
        program
          .command('sign')
          .argument('<names...>', 'CSR names')
          .description(
            'Sign Approved CSRs with a local CA and upload the certificate through /status; a request the signer must refuse is marked Failed.',
          )
          .option('--signer <name>', 'CA from the registry for this signerName (default: each CSR’s own signerName)'),
        true,
      )
        .option('--profile <name>', 'signing profile (usages allowed, default and maximum duration)')
        .option('--approve', 'approve first when the findings have no failure, then sign')
        .option('--override <codes>', 'accept these failing findings (every failing code, comma-separated)')
        .option('--policy <file>', 'policy YAML for the findings (default: built-in)'),
    ),
    ['json', 'yaml', 'name'],
  ).action(async (names: string[], opts) => {
    const { runSign } = await import('./commands/sign.js');
    await guard(() => runSign(names, opts));
  });

  // export
  const exp = program.command('export').description('Export an issued certificate or a CA: Secret, ConfigMap, files.');
  withDryRun(
    withOutput(
      withKube(
        exp
          .command('secret')
          .argument('<name>', 'Secret name')
          .description('A kubernetes.io/tls Secret from the CSR’s issued certificate and the requester’s key.')
          .requiredOption('--csr <name>', 'the issued CSR')
          .requiredOption('--key <file>', 'the requester’s private key (PEM)')
          .option('-n, --namespace <ns>', 'namespace (default: the context’s, else default)')
          .option('--overwrite', 'replace the Secret if it exists'),
      ),
      ['json', 'yaml', 'name'],
    ),
  ).action(async (name: string, opts) => {
    const { runExportSecret } = await import('./commands/export.js');
    await guard(() => runExportSecret(name, opts));
  });
  withDryRun(
    withOutput(
      withKube(
        exp
          .command('ca-configmap')
          .argument('<name>', 'ConfigMap name')
          .description('A ConfigMap holding the CA certificate of a signer from the registry (trust root for clients).')
          .option('--signer <name>', 'signerName of a CA in the registry')
          .option('--ca-cert <file>', 'CA certificate PEM (instead of the registry)')
          .option('--key <key>', 'data key', 'ca.crt')
          .option('-n, --namespace <ns>', 'namespace (default: the context’s, else default)')
          .option('--overwrite', 'replace the ConfigMap if it exists'),
      ),
      ['json', 'yaml', 'name'],
    ),
  ).action(async (name: string, opts) => {
    const { runExportCaConfigMap } = await import('./commands/export.js');
    await guard(() => runExportCaConfigMap(name, opts));
  });
  withKube(
    exp
      .command('files')
      .description('Write server.crt (the issued certificate) and ca.crt (its CA from the registry) to a directory.')
      .requiredOption('--csr <name>', 'the issued CSR')
      .requiredOption('--out-dir <dir>', 'directory to write to')
      .option('--signer <name>', 'registry CA for ca.crt (default: the CSR’s signerName)')
      .option('--ca-cert <file>', 'CA certificate PEM to copy as ca.crt')
      .option('--force', 'replace server.crt / ca.crt if they exist'),
  ).action(async (opts) => {
    const { runExportFiles } = await import('./commands/export.js');
    await guard(() => runExportFiles(opts));
  });

  // request
  withOutput(
    withKube(
      program
        .command('request')
        .description(
          'The requester’s side of "Manage TLS Certificates in a Cluster": key + CSR, the CertificateSigningRequest, wait for the certificate, save it.',
        )
        .option('--cn <name>', 'subject common name')
        .option('--host <name>', 'DNS name or IP address (repeatable, or comma-separated)', collect)
        .option('--org <name>', 'subject organization (repeatable)', repeat)
        .addOption(
          new Option('--key-algorithm <alg>', 'key to generate').choices(KEY_ALGORITHMS).default('ECDSAWithCurve256'),
        )
        .option('--csr <file>', 'submit this PKCS#10 file (e.g. from cfssl genkey) instead of generating a key')
        .requiredOption('--signer <name>', 'signerName, e.g. example.com/serving')
        .option('--usages <list>', 'comma-separated usages', collect)
        .option('--expiration <duration>', 'requested lifetime (expirationSeconds), e.g. 24h')
        .option('--name <name>', 'CSR object name (default: generated from the CN)')
        .option('--wait', 'wait until the certificate is issued (Denied or Failed → non-zero exit)')
        .option('--timeout <duration>', 'how long --wait waits', '5m')
        .option('--out-dir <dir>', 'where to write key, CSR and certificate', '.')
        .option('--file-prefix <prefix>', 'file names <prefix>-key.pem, <prefix>.csr, <prefix>.crt', 'server')
        .option('--force', 'replace an existing <prefix>.csr / <prefix>.crt (a key is never replaced)')
        .addOption(
          new Option(
            '--dry-run <strategy>',
            'client: write key and CSR, print the object instead of creating it',
          ).choices(['none', 'client']),
        ),
    ),
    ['json', 'yaml', 'name'],
  ).action(async (opts) => {
    const { runRequest } = await import('./commands/request.js');
    await guard(() => runRequest(opts));
  });

  // kubeconfig
  withKube(
    program
      .command('kubeconfig')
      .description(
        'A kubeconfig for a new user whose kube-apiserver-client certificate was issued (current context’s cluster).',
      )
      .requiredOption('--csr <name>', 'the issued CSR')
      .requiredOption('--key <file>', 'the user’s private key (PEM)')
      .option('--user <name>', 'user entry name (default: the certificate’s CN)')
      .option(
        '--out <file>',
        'merge into this kubeconfig (kept entries of other names; created 0600 if missing); default: stdout',
      )
      .option('--force', 'replace entries of the same name in --out that differ'),
  ).action(async (opts) => {
    const { runKubeconfig } = await import('./commands/kubeconfig.js');
    await guard(() => runKubeconfig(opts));
  });

  // calico snippet
  program
    .command('calico')
    .description('Calico helpers.')
    .command('snippet')
    .description(
      'Installation spec.certificateManagement (caCert, signerName, algorithms) for a CA in the registry, as YAML.',
    )
    .requiredOption('--signer <name>', 'signerName of a CA in the registry')
    .option('--block-only', 'print only the certificateManagement block')
    .action(async (opts) => {
      const { runCalicoSnippet } = await import('./commands/calico.js');
      await guard(() => runCalicoSnippet(opts));
    });

  // audit
  withOutput(
    program
      .command('audit')
      .description('Read the audit log of approvals, denials, signatures and exports.')
      .option('--since <duration>', 'only entries newer than this, e.g. 24h'),
    ['json', 'yaml'],
  ).action(async (opts) => {
    const { runAudit } = await import('./commands/audit.js');
    await guard(() => runAudit(opts));
  });

  // completion
  program
    .command('completion')
    .description('Print a shell completion script: source <(certdesk completion bash).')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action(async (shell: 'bash' | 'zsh') => {
      const { runCompletion } = await import('./commands/completion.js');
      runCompletion(shell, program);
    });
}

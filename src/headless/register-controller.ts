// Declares the controller commands; each action imports its implementation lazily.
import type { Command } from 'commander';

function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(/[\s,]+/)
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerControllerCommands(program: Command): void {
  program
    .command('controller')
    .description(
      'Run the signer/approver controller: approve, deny and sign the CSRs of your signers under a policy, leader-elected with a Lease.',
    )
    .requiredOption('--signer <name>', 'signer name to serve (repeatable)', collect)
    .option('--policy <file>', 'policy YAML (default: the built-in certdesk-default policy)')
    .option('--ca-cert <file>', 'CA certificate (PEM) for every --signer')
    .option('--ca-key <file|uri>', 'CA private key (PEM), or pkcs11: URI of a key in a token, for every --signer')
    .option(
      '--signer-ca <signer=cert,key>',
      'CA files (or cert file and pkcs11: URI) for one signer (repeatable)',
      collectRaw,
    )
    .option('--ca-passphrase-env <var>', 'environment variable holding the CA key passphrase')
    .option('--ca-passphrase-file <file>', 'file holding the CA key passphrase (e.g. a mounted Secret)')
    .option('--ca-pin-env <var>', "environment variable holding the CA token's PIN")
    .option('--ca-pin-file <file>', "file holding the CA token's PIN (e.g. a mounted Secret)")
    .option('--pkcs11-module <path>', 'PKCS#11 module for token keys (default: $CERTDESK_PKCS11_MODULE)')
    .option('--allow-insecure-key-file', 'accept a CA key file readable by group or others', false)
    .option('--profile <name-or-file>', 'signing profile (durations, allowed usages)')
    .option('--approve', 'approve or deny pending CSRs under the policy', false)
    .option('--sign', 'issue certificates for approved CSRs', false)
    .option('--pcr', "issue, deny or fail the signers' PodCertificateRequests under the policy", false)
    .option('--on-warn <action>', 'what to do when findings only warn: leave | approve | deny', 'leave')
    .option(
      '--lease-namespace <ns>',
      'namespace of the Lease (default: $POD_NAMESPACE, the context namespace, or default)',
    )
    .option('--lease-name <name>', 'name of the Lease', 'certdesk-controller')
    .option('--lease-duration <seconds>', 'lease duration', '15')
    .option('--renew-deadline <seconds>', 'renew deadline', '10')
    .option('--retry-period <seconds>', 'retry period', '2')
    .option('--identity <id>', 'holder identity (default: $POD_NAME or hostname, plus a random suffix)')
    .option('--no-leader-elect', 'act without a Lease (only ever run one replica like this)')
    .option('--metrics-port <port>', 'port for /metrics and /healthz (0: any free port)', '9090')
    .option('--metrics-address <host>', 'address for /metrics and /healthz', '0.0.0.0')
    .option('--pod-namespace <ns>', 'follow pods only in this namespace (repeatable; default: all)', collect)
    .option('--concurrency <n>', 'CSRs worked on in parallel', '8')
    .option('--audit-log <file>', 'audit log file (default: <state dir>/audit.jsonl; see docs/safety.md)')
    .option('--log-format <format>', 'text or json (one object per line)', 'text')
    .option('--dry-run', 'log decisions only: no writes, no lease', false)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('--in-cluster', 'use the pod’s service account (default when running in a pod without --kubeconfig)')
    .action(async (options: Record<string, unknown>) => {
      // Long-running over every CSR and pod, as the TUI: the young generation kept small (young-generation.ts).
      void import('../services/young-generation.js').then((m) => m.capYoungGeneration());
      const { runController } = await import('./controller/run.js');
      await runController(options);
    });
}

// Declares the offline PKI commands (ca init|import|list|show|remove, issue, inspect); each action imports its
// implementation lazily so that `certdesk --help` stays fast.
import { KEY_ALGORITHMS } from '../services/pki/types.js';
import { type Command, Option } from 'commander';
import { withCaKeyOptions, withTokenOptions } from './ca-options.js';

function usageList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

export function registerPkiCommands(program: Command): void {
  const ca = program.command('ca').description('CAs held on this workstation, one per signerName (offline).');

  const init = ca
    .command('init')
    .description('Create a self-signed CA for a signer (as `cfssl gencert -initca`); the key file is written 0600.')
    .requiredOption('--signer <name>', 'signerName the CA signs for, e.g. example.com/calico')
    .addOption(
      new Option('--key-algorithm <alg>', 'key algorithm (default: ECDSAWithCurve256)').choices(KEY_ALGORITHMS),
    )
    .option('--cn <name>', 'subject common name (default: "<signer> CA")')
    .option('--days <n>', 'lifetime in days (default: 1825)')
    .option('--encrypt', 'write the key file encrypted (PKCS#8, scrypt + AES-256); passphrase asked for unless given')
    .option(
      '--passphrase-env <VAR>',
      'encrypt the key with the passphrase in this environment variable (implies --encrypt)',
    )
    .option('--passphrase-file <file>', 'encrypt the key with the passphrase in this file (implies --encrypt)')
    .option('--key-uri <uri>', "make the key inside a PKCS#11 token instead, e.g. 'pkcs11:token=ca;object=ca-key'")
    .option('--use-existing-key', 'with --key-uri: sign the CA certificate with the key already in the token');
  withTokenOptions(init)
    .option('--profile <name>', 'signing profile to use for this signer by default')
    .option('--force', 'replace a CA already registered for this signer')
    .action(async (opts) => {
      const { runCaInit } = await import('./pki/ca.js');
      await runCaInit(opts);
    });

  const caImport = ca
    .command('import')
    .description('Register an existing CA (certificate, key and optional chain) for a signer, after checking it.')
    .requiredOption('--signer <name>', 'signerName the CA signs for')
    .requiredOption('--cert <file>', 'CA certificate (PEM)')
    .option('--key <file>', 'CA private key: PKCS#1, PKCS#8, SEC1 or encrypted PKCS#8 (PEM)')
    .option('--key-uri <uri>', "or the CA key in a PKCS#11 token, e.g. 'pkcs11:token=ca;object=ca-key'")
    .option('--chain <file>', 'certificates above this CA (intermediate chain, PEM)')
    .option('--passphrase-env <VAR>', 'environment variable holding the key passphrase (else asked on the terminal)')
    .option('--passphrase-file <file>', 'file holding the key passphrase');
  withTokenOptions(caImport)
    .option('--allow-insecure-key-file', 'accept a key file readable by group or others')
    .option('--allow-weak', 'accept a weak CA key (RSA under 2048 bits, ECDSA P-224)')
    .option('--profile <name>', 'signing profile to use for this signer by default')
    .option('--force', 'replace a CA already registered for this signer')
    .action(async (opts) => {
      const { runCaImport } = await import('./pki/ca.js');
      await runCaImport(opts);
    });

  ca.command('list')
    .description('List the registered CAs: SIGNER, SUBJECT, KEY, NOT AFTER, SOURCE.')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (opts) => {
      const { runCaList } = await import('./pki/ca.js');
      await runCaList(opts);
    });

  ca.command('show')
    .description('Describe a registered CA (never its key); -o pem prints the certificate for a CA bundle.')
    .argument('<signer>', 'signerName')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'pem']))
    .action(async (signer: string, opts) => {
      const { runCaShow } = await import('./pki/ca.js');
      await runCaShow(signer, opts);
    });

  ca.command('remove')
    .description('Forget a registered CA (its files are left in place).')
    .argument('<signer>', 'signerName')
    .action(async (signer: string) => {
      const { runCaRemove } = await import('./pki/ca.js');
      await runCaRemove(signer);
    });

  const issue = program
    .command('issue')
    .description(
      "Sign a CSR file with a registered CA, by kube-controller-manager's rules (offline twin of `cfssl sign`).",
    )
    .requiredOption('--csr <file>', 'the CSR: PEM, DER or base64 of PEM; - for stdin')
    .requiredOption('--signer <name>', 'signerName of a registered CA')
    .option(
      '--usages <list>',
      'comma-separated usages (default: the profile\'s, else "digital signature,key encipherment,server auth,client auth")',
      usageList,
    )
    .option('--duration <d>', 'requested lifetime such as 24h or 30d (like expirationSeconds; capped by the profile)')
    .option('--profile <name>', 'signing profile name or JSON file (default: the signer\'s, else "default")');
  withCaKeyOptions(issue, false)
    .option('--out <file>', 'write the certificate here instead of stdout')
    .option('--force', 'replace --out if it exists')
    .option('--override <codes>', 'accept these failing findings (every failing code, comma-separated)')
    .option('--policy <file>', 'policy YAML for the findings (default: built-in)')
    .action(async (opts) => {
      const { runIssue } = await import('./pki/issue.js');
      await runIssue(opts);
    });

  program
    .command('inspect')
    .description('Decode a CSR or certificate(s): PEM, DER, or base64 of PEM as in spec.request.')
    .argument('<file>', 'file to read, or - for stdin')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (file: string, opts) => {
      const { runInspect } = await import('./pki/inspect.js');
      await runInspect(file, opts);
    });
}

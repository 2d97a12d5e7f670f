// The options that reach a CA's private key, declared once for every command that signs or makes a CA (`sign`,
// `sign pcr`, `issue`, `ca init`, `ca import`): the PKCS#11 token's module and PIN, the key file's passphrase.
import type { Command } from 'commander';

/** --pkcs11-module, --pin-env, --pin-file. `registered`: the CA's registry entry may name the module. */
export function withTokenOptions(cmd: Command, registered = false): Command {
  return cmd
    .option(
      '--pkcs11-module <path>',
      `PKCS#11 module (default: ${registered ? 'the registered one, else ' : ''}$CERTDESK_PKCS11_MODULE)`,
    )
    .option('--pin-env <VAR>', "environment variable holding the token's PIN (else asked on the terminal)")
    .option('--pin-file <file>', "file holding the token's PIN");
}

/** Unlocking a registered CA's key to sign: its passphrase or its token's PIN; `caFiles` adds --ca-cert and
 * --ca-key, a CA given on the command line instead of the registry's. */
export function withCaKeyOptions(cmd: Command, caFiles: boolean): Command {
  if (caFiles) {
    cmd
      .option('--ca-cert <file>', 'CA certificate PEM (instead of the registry)')
      .option('--ca-key <file|uri>', 'CA private key PEM, or pkcs11: URI of a key in a token (with --ca-cert)');
  }
  cmd
    .option('--passphrase-env <VAR>', 'environment variable holding the CA key passphrase (else a prompt)')
    .option('--passphrase-file <file>', 'file holding the CA key passphrase');
  return withTokenOptions(cmd, true).option(
    '--allow-insecure-key-file',
    'accept a CA key file readable by group or others',
  );
}

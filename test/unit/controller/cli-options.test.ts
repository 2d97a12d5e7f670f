import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../../src/headless/cli-error.js';
import { parseSignerCa } from '../../../src/headless/controller/run.js';

describe('controller command options', () => {
  it('parses --signer-ca SIGNER=CERT,KEY', () => {
    assert.deepEqual(parseSignerCa('example.com/calico=/ca/tls.crt,/ca/tls.key'), {
      signer: 'example.com/calico',
      cert: '/ca/tls.crt',
      key: '/ca/tls.key',
    });
  });

  it('refuses malformed --signer-ca values with a usage error', () => {
    for (const bad of ['example.com/calico', '=a,b', 'example.com/calico=/ca.crt', 'x.io/y=a,b,c']) {
      assert.throws(
        () => parseSignerCa(bad),
        (err: unknown) =>
          err instanceof CliError && err.exitCode === 2 && /SIGNER=CERT_FILE,KEY_FILE/.test(err.message),
        bad,
      );
    }
  });
});

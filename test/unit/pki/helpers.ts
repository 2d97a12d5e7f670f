// Shared helpers of the PKI tests: temp dirs that clean themselves up and an openssl runner.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certdesk-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function openssl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const p = execFileAsync('openssl', args, { maxBuffer: 4 << 20 });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  return p;
}

export async function put(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** A self-signed CA (CN `<name> CA`, in `dir`) made by openssl with `-newkey <newkey>` (plus -pkeyopt options). */
export async function opensslCa(dir: string, name: string, newkey: string[]): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  await openssl([
    'req',
    '-x509',
    ...newkey,
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/**
 * An intermediate CA made by openssl (independent of our issuer): a P-256 key and a certificate with CA:TRUE,
 * keyCertSign, SKI and AKI, signed by `root`, valid `days`. Returns its certificate and key PEM, and the files of
 * its certificate and of the root's (for `openssl verify -CAfile ROOT -untrusted CERT`).
 */
export async function opensslIntermediate(
  dir: string,
  root: { certPem: string; keyPem: string },
  days: number,
): Promise<{ certPem: string; keyPem: string; certPath: string; rootPath: string }> {
  const rootPath = await put(dir, 'root.pem', root.certPem);
  const rootKey = await put(dir, 'root.key', root.keyPem);
  await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${dir}/int.key`,
    '-subj',
    '/CN=intermediate',
    '-out',
    `${dir}/int.csr`,
  ]);
  const ext = await put(
    dir,
    'ext.cnf',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    `${dir}/int.csr`,
    '-CA',
    rootPath,
    '-CAkey',
    rootKey,
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    ext,
    '-out',
    `${dir}/int.pem`,
  ]);
  return {
    certPem: (await openssl(['x509', '-in', `${dir}/int.pem`])).stdout,
    keyPem: (await openssl(['pkey', '-in', `${dir}/int.key`])).stdout,
    certPath: `${dir}/int.pem`,
    rootPath,
  };
}

// Go's crypto/x509 as a test oracle: test/go-oracle (standard library only) is built once per source version into
// ~/.cache/certdesk-test and answers, for each DER certificate request or certificate, whether Go parses it (and
// for a request, whether CheckSignature passes) and what it saw. Tests skip with the reason when `go` is missing.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const SOURCE = join(import.meta.dirname, '..', 'go-oracle');

export interface GoVerdict {
  parsed: boolean;
  parseError?: string;
  sigError?: string;
  subject?: string;
  dns?: string[];
  emails?: string[];
  ips?: string[];
  uris?: string[];
  keyAlgorithm?: string;
}

/** `verify`: DER certificates one after the other (leaf, intermediates, root): Go's Verify for any usage; its error
 * is `sigError`. */
export type OracleKind = 'csr' | 'cert' | 'verify';

export interface GoOracle {
  /** One verdict per item, in order (one Go process per call). */
  check(items: Array<{ kind: OracleKind; der: Uint8Array }>): Promise<GoVerdict[]>;
}

/** Go takes the request: ParseCertificateRequest and CheckSignature both pass. */
export const goAccepts = (v: GoVerdict): boolean => v.parsed && v.sigError === undefined;

let built: Promise<GoOracle | string> | undefined;

/** The oracle, or the reason it is missing (pass it to t.skip). */
export function goOracle(): Promise<GoOracle | string> {
  built ??= build();
  return built;
}

async function build(): Promise<GoOracle | string> {
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '' };
  let version: string;
  try {
    version = (await execFileAsync('go', ['version'], { env })).stdout;
  } catch {
    return 'go is not installed: the tests that compare with crypto/x509 need it (CI has it)';
  }
  const hash = createHash('sha256').update(version);
  for (const f of ['go.mod', 'main.go']) hash.update(await readFile(join(SOURCE, f)));
  const dir = join(homedir(), '.cache', 'certdesk-test');
  const bin = join(dir, `go-oracle-${hash.digest('hex').slice(0, 16)}`);
  try {
    await stat(bin);
  } catch {
    await mkdir(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    await execFileAsync('go', ['build', '-o', tmp, '.'], { cwd: SOURCE, env, timeout: 600_000 });
    await rename(tmp, bin);
  }
  return { check: (items) => run(bin, items) };
}

function run(bin: string, items: Array<{ kind: OracleKind; der: Uint8Array }>): Promise<GoVerdict[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`go-oracle exited with ${code}`));
      const lines = Buffer.concat(chunks).toString('utf8').trim().split('\n').filter(Boolean);
      if (lines.length !== items.length) return reject(new Error(`go-oracle answered ${lines.length}/${items.length}`));
      resolve(lines.map((l) => JSON.parse(l) as GoVerdict));
    });
    child.stdin.end(items.map((i) => `${i.kind} ${Buffer.from(i.der).toString('base64')}\n`).join(''));
  });
}

// `get csr` with kubectl's flags (issue 24), checked against the machine's kubectl on the same sandbox objects:
// -o jsonpath (range/end, [*], filters, slices, literals), -o custom-columns, --sort-by, --no-headers, -l,
// --field-selector; the missing-name line; several contexts in one List with the context annotation; -w.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, type E2eEnv, ok, startE2e } from './helpers.js';

const exec = promisify(execFile);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
let e: E2eEnv;

async function kubectl(args: string[]): Promise<string> {
  return (await exec('kubectl', args, { env: e.env })).stdout;
}

before(async () => {
  e = await startE2e({ clusters: ['east', 'west'], builtinSigners: false });
  const make = async (ctx: string, name: string, signer: string, extra: string[] = []) =>
    ok(
      await e.run([
        'request',
        '--context',
        ctx,
        '--cn',
        name,
        '--signer',
        signer,
        '--name',
        name,
        '--out-dir',
        join(e.dir, ctx, name),
        ...extra,
      ]),
    );
  await make('east', 'alpha', 'example.com/serving', ['--expiration', '24h']);
  await make('east', 'bravo', 'example.com/other');
  await make('east', 'charlie', 'example.com/serving', ['--expiration', '1h']);
  await make('west', 'delta', 'example.com/serving');
  ok(await e.run(['approve', 'bravo']));
  if (hasKubectl) await kubectl(['--context', 'east', 'label', 'csr', 'alpha', 'charlie', 'team=a']);
});
after(async () => {
  await e?.stop();
});

const templates = [
  '{.items[*].metadata.name}',
  '{range .items[*]}{.metadata.name}{"\\t"}{.spec.signerName}{"\\n"}{end}',
  '{.items[?(@.spec.signerName=="example.com/serving")].metadata.name}',
  '{.items[0].metadata}',
  '{.items[-1:].spec.usages}',
  '{range .items[*]}{.metadata.name}{","}{.status.conditions[*].type}{";"}{end}',
  '{.kind} {.items[1].spec.expirationSeconds} {.items[0].spec.nothing}',
  '{..username}',
];

test('-o jsonpath prints what kubectl prints', { skip: !hasKubectl && 'no kubectl' }, async () => {
  for (const t of templates) {
    const ours = ok(await e.run(['get', 'csr', '-o', `jsonpath=${t}`])).stdout;
    assert.equal(ours, await kubectl(['get', 'csr', '-o', `jsonpath=${t}`]), t);
  }
  const one = ok(await e.run(['get', 'csr', 'alpha', '-o', 'jsonpath={.spec.signerName}'])).stdout;
  assert.equal(one, await kubectl(['get', 'csr', 'alpha', '-o', 'jsonpath={.spec.signerName}']));
  // An index past the end is an error for both (exit 1), never an empty value; a filter on it just does not match.
  const past = await e.run(['get', 'csr', 'alpha', '-o', 'jsonpath={.spec.usages[5]}']);
  assert.equal(past.code, 1);
  assert.match(past.stderr, /array index out of bounds: index 5, length \d+/);
  const theirs = await exec('kubectl', ['get', 'csr', 'alpha', '-o', 'jsonpath={.spec.usages[5]}'], {
    env: e.env,
  }).catch((err: { code: number; stderr: string }) => err);
  assert.match(theirs.stderr, /array index out of bounds: index 5, length \d+/);
  const filtered = '{.items[?(@.status.conditions[0].type=="Approved")].metadata.name}';
  assert.equal(
    ok(await e.run(['get', 'csr', '-o', `jsonpath=${filtered}`])).stdout,
    await kubectl(['get', 'csr', '-o', `jsonpath=${filtered}`]),
  );
});

test('-o custom-columns, --sort-by, --no-headers, -l and --field-selector as kubectl', {
  skip: !hasKubectl && 'no kubectl',
}, async () => {
  const cc =
    'custom-columns=NAME:.metadata.name,SIGNER:.spec.signerName,TYPES:.status.conditions[*].type,EXP:{.spec.expirationSeconds}';
  for (const flags of [
    ['-o', cc],
    ['-o', cc, '--no-headers', '--sort-by=.metadata.name'],
    ['-o', cc, '--sort-by', '{.spec.signerName}', '-l', 'team=a'],
    ['-o', 'name', '--field-selector', 'spec.signerName=example.com/serving'],
    ['-o', cc, '--field-selector', 'metadata.name=bravo'],
    ['--no-headers', '-l', 'team'],
    ['--sort-by=.metadata.name', '-o', 'jsonpath={.items[*].metadata.name}'],
    // Lists and maps in a cell: Go's %v, as kubectl prints them.
    ['-o', 'custom-columns=NAME:.metadata.name,U:.spec.usages,L:.metadata.labels', '--sort-by=.metadata.name'],
  ]) {
    const ours = ok(await e.run(['get', 'csr', ...flags])).stdout;
    const theirs = await kubectl(['get', 'csr', ...flags]);
    // kubectl prints ages; ours are computed a moment later: compare with AGE blanked (and so column widths).
    const noAge = (s: string) => s.replace(/\b(\d+[smhd])+\b/g, 'AGE').replace(/ +/g, ' ');
    assert.equal(noAge(ours), noAge(theirs), flags.join(' '));
  }
});

test('a missing name is said as kubectl says it; unknown flags are one error line', async () => {
  const r = await e.run(['get', 'csr', 'nope']);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'Error from server (NotFound): certificatesigningrequests.certificates.k8s.io "nope" not found\n',
  );
  if (hasKubectl) {
    const k = await exec('kubectl', ['get', 'csr', 'nope'], { env: e.env }).catch((err: { stderr: string }) => err);
    assert.equal(k.stderr.trim(), r.stderr.trim());
  }
  // kubectl's -o=FORMAT, -l=SEL (pflag): the same as with a space.
  assert.equal(
    ok(await e.run(['get', 'csr', 'alpha', '-o=name'])).stdout,
    'certificatesigningrequest.certificates.k8s.io/alpha\n',
  );
  assert.equal(
    ok(await e.run(['get', 'csr', '-o=jsonpath={.items[*].metadata.name}', '--context=west'])).stdout,
    'delta',
  );
  // Names as `-o name` prints them, as kubectl takes them.
  assert.match(ok(await e.run(['describe', 'csr', 'csr/alpha'])).stdout, /^Name:\s+alpha$/m);
  assert.match(ok(await e.run(['get', 'csr', 'certificatesigningrequest.certificates.k8s.io/alpha'])).stdout, /alpha/);
  const wrongType = await e.run(['approve', 'pod/alpha']);
  assert.equal(wrongType.code, 1);
  assert.match(wrongType.stderr, /^error: "pod\/alpha" is not a CertificateSigningRequest name[^\n]*\n$/);
  const bad = await e.run(['get', 'csr', '--nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: unknown option '--nope'[^\n]*\n$/);
});

test('several contexts: -o json is one List whose items carry certdesk.dev/context', async () => {
  const list = JSON.parse(
    ok(await e.run(['get', 'csr', '--context', 'east', '--context', 'west', '-o', 'json'])).stdout,
  ) as {
    kind: string;
    items: { metadata: { name: string; annotations?: Record<string, string> } }[];
  };
  assert.equal(list.kind, 'List');
  const where = Object.fromEntries(
    list.items.map((i) => [i.metadata.name, i.metadata.annotations?.['certdesk.dev/context']]),
  );
  assert.deepEqual(where, { alpha: 'east', bravo: 'east', charlie: 'east', delta: 'west' });
  if (hasKubectl) {
    // kubectl reads the List as it reads its own output (a client-side dry run parses every item).
    const file = join(e.dir, 'list.json');
    writeFileSync(file, ok(await e.run(['get', 'csr', '--all-contexts', '-o', 'json'])).stdout);
    const read = await kubectl(['create', '--validate=false', '--dry-run=client', '-o', 'name', '-f', file]);
    assert.equal(read.trim().split('\n').length, list.items.length + 4 /* the viewer contexts see the same */);
  }
  const jp = ok(
    await e.run([
      'get',
      'csr',
      '--all-contexts',
      '-o',
      'jsonpath={range .items[*]}{.metadata.annotations.certdesk\\.dev/context}/{.metadata.name} {end}',
    ]),
  ).stdout;
  assert.match(jp, /east\/alpha .*west\/delta /);
});

test('-w prints the list, then a row per change, and Ctrl-C ends it with exit 0', async () => {
  const child = spawn(process.execPath, [BIN, 'get', 'csr', '-w', '--context', 'east'], {
    env: e.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until(() => /charlie/.test(stdout));
  ok(await e.run(['approve', 'charlie', '--context', 'east']));
  await until(() => /charlie\s.*Approved/.test(stdout));
  // A request made while watching: its age counts from now, not from when the watch began (`<invalid>` before).
  ok(
    await e.run([
      'request',
      '--cn',
      'echo',
      '--signer',
      'example.com/other',
      '--name',
      'echo',
      '--out-dir',
      join(e.dir, 'echo'),
    ]),
  );
  await until(() => /^echo\s+\d+s\s/m.test(stdout));
  assert.doesNotMatch(stdout, /<invalid>/);
  // A deletion is a row too, as kubectl get -w prints it.
  const rowsBefore = stdout.split('\n').filter((l) => /^echo\s/.test(l)).length;
  ok(await e.run(['delete', 'csr', 'echo', '--context', 'east']));
  await until(() => stdout.split('\n').filter((l) => /^echo\s/.test(l)).length > rowsBefore);
  const code = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  child.kill('SIGINT');
  assert.equal(await code, 0);
  assert.equal(stdout.split('\n').filter((l) => l.startsWith('NAME')).length, 1, stdout);
});

test('-w --request-timeout 2s watches for 2 s and ends with exit 0, as kubectl', async () => {
  const t0 = Date.now();
  const r = ok(await e.run(['get', 'csr', '-w', '--request-timeout', '2s', '--context', 'east']));
  const ms = Date.now() - t0;
  assert.match(r.stdout, /alpha/);
  assert.ok(ms >= 2000 && ms < 15_000, `ended after ${ms} ms`);
});

test('describe prints times as kubectl describe does (RFC 1123 with the local zone)', {
  skip: !hasKubectl && 'no kubectl',
}, async () => {
  for (const TZ of ['UTC', 'Asia/Kolkata', 'America/New_York']) {
    const line = (text: string) => /CreationTimestamp:\s+(.+)/.exec(text)?.[1]?.trim();
    const ours = line(ok(await e.run(['describe', 'csr', 'alpha'], { TZ })).stdout);
    const theirs = line((await exec('kubectl', ['describe', 'csr', 'alpha'], { env: { ...e.env, TZ } })).stdout);
    assert.ok(theirs, 'kubectl printed a CreationTimestamp');
    assert.equal(ours, theirs, TZ);
  }
});

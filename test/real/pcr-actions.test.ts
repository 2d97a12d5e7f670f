// Issuing, denying and failing PodCertificateRequests, and publishing trust bundles, on the real kube-apiserver 1.37
// (issue 20), through the built binary. A Node and Pods bound to it (no scheduler, no kubelet), PCRs created as the
// node (the Node authorizer and NodeRestriction judge them) with real keys; kube-apiserver's own status validation
// then judges what certdesk writes (the leaf's key is the requested one, notBefore within 5 minutes of its clock and
// equal to the leaf's, lifetime ≤ maxExpirationSeconds, beginRefreshAt inside [notBefore+10m, notAfter−10m]).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { signPcr } from '../../src/services/actions/pcr.js';
import { loadCaForSigner } from '../../src/services/config/ca-registry.js';
import { loadContexts } from '../../src/services/kube/contexts.js';
import { readPcr } from '../../src/services/kube/pod-certificates.js';
import { ok } from '../e2e/headless/helpers.js';
import {
  create,
  defaultServiceAccountUid,
  openssl,
  podCertificatePod,
  type RealEnv,
  startRealEnv,
  until,
} from './helpers.js';

const NODE = 'pcr-node-1';
const SIGNER = 'example.com/pod-identity';
let env: RealEnv;
let nodeUid = '';
let saUid = '';

const asNode = ['--as', `system:node:${NODE}`, '--as-group', 'system:nodes'];

/** A pod on NODE mounting a podCertificate volume for SIGNER, and a PCR for it made as the node with a new key. */
async function podWithPcr(
  pod: string,
  options: { key?: string[]; annotations?: Record<string, string>; maxExpirationSeconds?: number } = {},
): Promise<{ podUid: string; pcr: string }> {
  const podUid = await create(env, `pod-${pod}`, podCertificatePod(pod, NODE, SIGNER));
  openssl(env, [
    'genpkey',
    ...(options.key ?? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    '-out',
    `${pod}.key`,
  ]);
  openssl(env, ['req', '-new', '-key', `${pod}.key`, '-subj', '/', '-outform', 'DER', '-out', `${pod}.der`]);
  const pcr = `${pod}-cert`;
  await create(
    env,
    `pcr-${pod}`,
    {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'PodCertificateRequest',
      metadata: { name: pcr, namespace: 'default' },
      spec: {
        signerName: SIGNER,
        podName: pod,
        podUID: podUid,
        serviceAccountName: 'default',
        serviceAccountUID: saUid,
        nodeName: NODE,
        nodeUID: nodeUid,
        maxExpirationSeconds: options.maxExpirationSeconds ?? 86400,
        stubPKCS10Request: readFileSync(join(env.dir, `${pod}.der`)).toString('base64'),
        ...(options.annotations ? { unverifiedUserAnnotations: options.annotations } : {}),
      },
    },
    asNode,
  );
  return { podUid, pcr };
}

interface PcrJson {
  metadata: { uid: string };
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    certificateChain?: string;
    notBefore?: string;
    beginRefreshAt?: string;
    notAfter?: string;
  };
}

async function getPcr(name: string): Promise<PcrJson> {
  const r = await env.kubectl(['get', 'podcertificaterequests', name, '-n', 'default', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PcrJson;
}

before(async () => {
  env = await startRealEnv(['east']);
  nodeUid = await create(env, 'node', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  saUid = await defaultServiceAccountUid(env);
  ok(await env.run(['ca', 'init', '--signer', SIGNER, '--cn', 'pod identity CA']));
});
after(async () => {
  await env?.stop();
});

test('sign pcr: the findings pass, the certificate goes up and kube-apiserver accepts it; the pod key is certified', async () => {
  const { pcr } = await podWithPcr('web-0');
  const signed = ok(await env.run(['sign', 'pcr', pcr, '-n', 'default']));
  assert.match(
    signed.stdout,
    new RegExp(
      `^podcertificaterequest\\.certificates\\.k8s\\.io/${pcr} issued \\(serial [0-9A-F]+, valid until \\S+Z, refresh from \\S+Z\\)\\n$`,
    ),
  );
  const got = await getPcr(pcr);
  const [condition] = got.status?.conditions ?? [];
  assert.equal(condition?.type, 'Issued');
  assert.equal(condition?.status, 'True');
  assert.equal(condition?.reason, 'CertdeskIssued');
  const notBefore = Date.parse(got.status?.notBefore ?? '');
  const notAfter = Date.parse(got.status?.notAfter ?? '');
  const refresh = Date.parse(got.status?.beginRefreshAt ?? '');
  assert.equal(notAfter - notBefore, 86_400_000);
  assert.equal(refresh - notBefore, 43_200_000);
  assert.ok(Math.abs(notBefore - (Date.now() - 120_000)) < 60_000, 'notBefore is two minutes back');

  // The leaf: the pod's key, the SPIFFE identity, verified by openssl against the registry's CA.
  writeFileSync(join(env.dir, 'chain.pem'), got.status?.certificateChain ?? '');
  const ca = join(env.dir, 'config', 'cas', 'example.com_pod-identity', 'ca.pem');
  assert.match(openssl(env, ['verify', '-CAfile', ca, 'chain.pem']), /chain\.pem: OK/);
  const leafKey = openssl(env, ['x509', '-in', 'chain.pem', '-noout', '-pubkey']);
  assert.equal(leafKey, openssl(env, ['pkey', '-in', 'web-0.key', '-pubout']));
  assert.match(
    openssl(env, ['x509', '-in', 'chain.pem', '-noout', '-ext', 'subjectAltName']),
    /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/default/,
  );

  // describe shows the issued chain and the times; a second sign is refused: the status never changes.
  const described = ok(await env.run(['describe', 'pcr', pcr, '-n', 'default'])).stdout;
  assert.match(described, /State:\s+Issued/);
  assert.match(described, /Begin Refresh At:/);
  const again = await env.run(['sign', 'pcr', pcr, '-n', 'default']);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    /^error: podCertificateRequest "default\/web-0-cert" is already Issued; its status never changes after that\n$/,
  );

  // The audit: intent before, outcome after, naming the object and the certificate.
  const audit = JSON.parse(ok(await env.run(['audit', '-o', 'json'])).stdout) as Record<string, unknown>[];
  const lines = audit.filter((e) => e.kind === 'PodCertificateRequest' && e.csrName === pcr && e.action === 'sign');
  assert.deepEqual(
    lines.map((e) => [e.phase, e.outcome]),
    [
      ['intent', undefined],
      ['outcome', 'ok'],
      [undefined, 'refused'],
    ],
  );
  assert.equal(lines[0]?.csrUid, got.metadata.uid);
  assert.equal(lines[0]?.namespace, 'default');
  assert.match(String(lines[0]?.sha256Fingerprint), /^[0-9A-F:]+$/);
});

test('the findings gate: an unknown annotation is refused until overridden; --duration shortens the certificate', async () => {
  const { pcr } = await podWithPcr('web-1', { annotations: { 'example.com/tenant': 'blue' } });
  const refused = await env.run(['sign', 'pcr', pcr, '-n', 'default']);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /was not issued: failing findings annotations \(unverifiedUserAnnotations has keys the signer does not know: example\.com\/tenant/,
  );
  assert.match(refused.stderr, /--override annotations\n$/);
  assert.equal((await getPcr(pcr)).status?.conditions, undefined, 'nothing was written');
  const signed = ok(
    await env.run(['sign', 'pcr', pcr, '-n', 'default', '--override', 'annotations', '--duration', '2h']),
  );
  assert.match(
    signed.stderr,
    /warning: PodCertificateRequest "default\/web-1-cert": annotations accepted by --override/,
  );
  const got = await getPcr(pcr);
  assert.equal(Date.parse(got.status?.notAfter ?? '') - Date.parse(got.status?.notBefore ?? ''), 7_200_000);
});

test('deny pcr and fail pcr: reasons and messages reach the status; a decision is never reversed', async () => {
  const { pcr: denied } = await podWithPcr('web-2');
  const bad = await env.run(['deny', 'pcr', denied, '-n', 'default', '--reason', 'not a reason']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--reason "not a reason" is not a condition reason/);
  const d = ok(
    await env.run(['deny', 'pcr', denied, '-n', 'default', '--reason', 'UnknownWorkload', '--message', 'who are you']),
  );
  assert.equal(d.stdout, `podcertificaterequest.certificates.k8s.io/${denied} denied\n`);
  const dc = (await getPcr(denied)).status?.conditions ?? [];
  assert.deepEqual(
    dc.map((c) => [c.type, c.status, c.reason, c.message]),
    [['Denied', 'True', 'UnknownWorkload', 'who are you']],
  );
  const twice = ok(await env.run(['deny', 'pcr', denied, '-n', 'default', '--reason', 'UnknownWorkload']));
  assert.equal(twice.stdout, `podcertificaterequest.certificates.k8s.io/${denied} already Denied\n`);
  const flip = await env.run(['fail', 'pcr', denied, '-n', 'default', '--reason', 'Broken']);
  assert.equal(flip.code, 1);
  assert.match(flip.stderr, /is already Denied/);
  const sign = await env.run(['sign', 'pcr', denied, '-n', 'default']);
  assert.match(sign.stderr, /is already Denied/);

  const { pcr: failed } = await podWithPcr('web-3');
  ok(await env.run(['fail', 'pcr', failed, '-n', 'default', '--reason', 'UnsupportedKeyType']));
  const fc = (await getPcr(failed)).status?.conditions ?? [];
  assert.deepEqual(
    fc.map((c) => [c.type, c.reason, c.message]),
    [['Failed', 'UnsupportedKeyType', 'This request was marked Failed by certdesk.']],
  );
  const missing = await env.run(['deny', 'pcr', 'nope', '-n', 'default', '--reason', 'X']);
  assert.match(missing.stderr, /^error: podcertificaterequests\.certificates\.k8s\.io "nope" not found\n$/);
});

/** `certdesk health`'s word on SIGNER's trust bundle, as text and as JSON. */
async function bundleHealth(): Promise<{ text: string; json: string | undefined }> {
  const text = ok(await env.run(['health'])).stdout;
  const [h] = JSON.parse(ok(await env.run(['health', '-o', 'json'])).stdout) as {
    podCertificateRequests: { signerName: string; trustBundle: string }[];
  }[];
  const row = text.split('\n').find((l) => l.trim().startsWith(SIGNER)) ?? '';
  return { text: row, json: h?.podCertificateRequests.find((p) => p.signerName === SIGNER)?.trustBundle };
}

test('export trust-bundle: created, unchanged, rotated beside the old CA, then --remove-old; attest is required', async () => {
  const name = 'example.com:pod-identity:live';
  const none = await bundleHealth();
  assert.equal(none.json, 'none');
  assert.match(none.text, /no trust bundle$/);
  const first = ok(await env.run(['export', 'trust-bundle', '--signer', SIGNER]));
  assert.equal(first.stdout, `clustertrustbundle.certificates.k8s.io/${name} created (1 CA(s))\n`);
  // health: the bundle holds the CA that signed the newest issued chain (the PCRs issued above).
  const holds = await bundleHealth();
  assert.equal(holds.json, 'holds-ca');
  assert.match(holds.text, /trust bundle holds the signing CA$/);
  const audit = JSON.parse(ok(await env.run(['audit', '-o', 'json'])).stdout) as {
    action: string;
    phase?: string;
    outcome?: string;
    target?: { kind: string; name: string; fields: string[] };
  }[];
  const exported = audit.filter((e) => e.action === 'export-trust-bundle');
  assert.deepEqual(
    exported.map((e) => [e.phase, e.outcome, e.target?.kind, e.target?.name]),
    [
      ['intent', undefined, 'ClusterTrustBundle', name],
      ['outcome', 'ok', 'ClusterTrustBundle', name],
    ],
  );
  const same = ok(await env.run(['export', 'trust-bundle', '--signer', SIGNER]));
  assert.match(same.stdout, / unchanged \(1 CA\(s\)\)\n$/);

  openssl(
    env,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'next.key'].concat([
      '-subj',
      '/CN=next pod identity CA',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-out',
      'next.crt',
    ]),
  );
  const rotated = ok(
    await env.run(['export', 'trust-bundle', '--signer', SIGNER, '--ca-cert', join(env.dir, 'next.crt')]),
  );
  assert.match(rotated.stdout, / updated \(2 CA\(s\)\)\n$/);
  assert.match(rotated.stderr, /run again with --remove-old/);
  const two = ok(await env.run(['describe', 'trustbundle', name])).stdout;
  assert.match(two, /Certificates:\s+2 certificate\(s\)/);
  const dropped = ok(
    await env.run([
      'export',
      'trust-bundle',
      '--signer',
      SIGNER,
      '--ca-cert',
      join(env.dir, 'next.crt'),
      '--remove-old',
    ]),
  );
  assert.match(dropped.stdout, / updated \(1 CA\(s\)\)\n$/);
  assert.match(dropped.stderr, /removed CA CN=pod identity CA/);
  const one = ok(await env.run(['describe', 'trustbundle', name])).stdout;
  assert.match(one, /Certificates:\s+1 certificate\(s\)/);
  assert.match(one, /CN=next pod identity CA:/);
  // The old CA is gone from the bundle while the issued chains are still its: health says so.
  const lacks = await bundleHealth();
  assert.equal(lacks.json, 'lacks-ca');
  assert.match(lacks.text, /trust bundle does not hold the CA that signs$/);
  // And the registered (old) CA no longer issues: pods trust only the bundle's CA (ca-untrusted), until the
  // registered CA is published again beside it.
  const { pcr: rotatedPcr } = await podWithPcr('rot-0');
  const untrusted = await env.run(['sign', 'pcr', rotatedPcr, '-n', 'default']);
  assert.equal(untrusted.code, 1);
  assert.match(
    untrusted.stderr,
    /was not issued: failing findings ca-untrusted \(This CA \(CN=pod identity CA, .*ClusterTrustBundle example\.com:pod-identity:live trusts CN=next pod identity CA/,
  );
  assert.equal((await getPcr(rotatedPcr)).status?.conditions?.length ?? 0, 0);
  assert.match(ok(await env.run(['export', 'trust-bundle', '--signer', SIGNER])).stdout, / updated \(2 CA\(s\)\)\n$/);
  assert.match(ok(await env.run(['sign', 'pcr', rotatedPcr, '-n', 'default'])).stdout, / issued \(serial /);

  // A user who may write ClusterTrustBundles but not attest for the signer: refused, saying what is missing.
  const { certPem, keyPem } = env.cluster.clientCert('east', 'bundler');
  writeFileSync(join(env.dir, 'bundler.crt'), certPem);
  writeFileSync(join(env.dir, 'bundler.key'), keyPem);
  for (const args of [
    [
      'create',
      'clusterrole',
      'ctb-writer',
      '--verb=get,create,update',
      '--resource=clustertrustbundles.certificates.k8s.io',
    ],
    ['create', 'clusterrolebinding', 'ctb-writer', '--clusterrole=ctb-writer', '--user=bundler'],
    [
      'config',
      'set-credentials',
      'bundler',
      `--client-certificate=${join(env.dir, 'bundler.crt')}`,
      `--client-key=${join(env.dir, 'bundler.key')}`,
      '--embed-certs',
    ],
  ]) {
    const r = await env.kubectl(args);
    assert.equal(r.code, 0, r.stderr);
  }
  const cluster = (
    await env.kubectl(['config', 'view', '-o', 'jsonpath={.contexts[?(@.name=="east")].context.cluster}'])
  ).stdout;
  assert.equal(
    (await env.kubectl(['config', 'set-context', 'bundler', `--cluster=${cluster}`, '--user=bundler'])).code,
    0,
  );
  const forbidden = await env.run([
    'export',
    'trust-bundle',
    '--signer',
    'example.com/other',
    '--ca-cert',
    join(env.dir, 'next.crt'),
    '--context',
    'bundler',
  ]);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /not permitted to attest for signerName "example\.com\/other"/);
  assert.match(forbidden.stderr, /needs the attest verb on signers\.certificates\.k8s\.io "example\.com\/other"/);
});

test('controller --pcr: leader-elected, issues a good request, denies an unknown annotation; the API refuses a weak key', async (t) => {
  const caDir = join(env.dir, 'config', 'cas', 'example.com_pod-identity');
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      resolve('bin/certdesk.js'),
      'controller',
      '--signer',
      SIGNER,
      '--pcr',
      '--ca-cert',
      join(caDir, 'ca.pem'),
      '--ca-key',
      join(caDir, 'ca-key.pem'),
      '--lease-namespace',
      'default',
      '--identity',
      'pcr-replica',
      '--metrics-port',
      '0',
      '--metrics-address',
      '127.0.0.1',
    ],
    { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  t.after(() => {
    child.kill('SIGTERM');
  });
  await until('the Lease held', async () => {
    const r = await env.kubectl([
      '-n',
      'default',
      'get',
      'lease',
      'certdesk-controller',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    return r.stdout.trim() === 'pcr-replica';
  });
  const good = await podWithPcr('api-0');
  const annotated = await podWithPcr('api-1', { annotations: { 'example.com/tenant': 'blue' } });
  const weak = await podWithPcr('api-2', { key: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] }).catch(
    (err: Error) => err,
  );
  const conditionOf = async (name: string) => (await getPcr(name)).status?.conditions?.[0];
  const issued = await until(
    'the good request issued',
    async () => {
      const c = await conditionOf(good.pcr);
      return c?.type === 'Issued' && c;
    },
    60_000,
  );
  assert.equal(issued.reason, 'CertdeskIssued');
  const denied = await until(
    'the annotated request denied',
    async () => {
      const c = await conditionOf(annotated.pcr);
      return c?.type === 'Denied' && c;
    },
    60_000,
  );
  assert.equal(denied.reason, 'CertdeskPolicy');
  assert.match(
    denied.message,
    /annotations: unverifiedUserAnnotations has keys the signer does not know: example\.com\/tenant/,
  );
  // kube-apiserver refuses an RSA 2048 stub itself; the signer never sees it.
  assert.ok(weak instanceof Error && /RSA keys must have modulus size 3072 or 4096/.test(weak.message), String(weak));
  assert.match(log, /issued pcr=default\/api-0-cert signer=example\.com\/pod-identity serial=/);
  assert.match(log, /denied pcr=default\/api-1-cert/);
});

test('killed after the /status write: the next command reconciles the PCR intent as done (and one killed before as not done)', async () => {
  const { pcr: late } = await podWithPcr('crash-1');
  const { pcr: early } = await podWithPcr('crash-2');
  const killedLate = await env.run(['sign', 'pcr', late, '-n', 'default'], { CERTDESK_TEST_CRASH_AT: 'write' });
  assert.notEqual(killedLate.code, 0);
  assert.equal((await getPcr(late)).status?.conditions?.[0]?.type, 'Issued');
  const killedEarly = await env.run(['deny', 'pcr', early, '-n', 'default', '--reason', 'X'], {
    CERTDESK_TEST_CRASH_AT: 'intent',
  });
  assert.notEqual(killedEarly.code, 0);
  assert.equal((await getPcr(early)).status?.conditions, undefined);
  const next = ok(await env.run(['fail', 'pcr', early, '-n', 'default', '--reason', 'Gone']));
  const said = `${killedEarly.stderr}${next.stderr}`;
  assert.match(
    said,
    new RegExp(
      `reconciled on start: sign of PodCertificateRequest "default/${late}" \\(UID [^)]+\\) in east from \\S+ was done`,
    ),
  );
  assert.match(
    said,
    new RegExp(`reconciled on start: deny of PodCertificateRequest "default/${early}" .* was not done`),
  );
});

test('a request deleted and re-created after it was checked is never written; a newer version of it is checked again', async () => {
  const [ctx] = loadContexts({ kubeconfig: env.cluster.kubeconfigPath, contexts: ['east'] });
  assert.ok(ctx);
  const ca = await loadCaForSigner(SIGNER, { cwd: join(env.dir, 'config') });
  const { pcr } = await podWithPcr('swap-0');
  const checked = await readPcr(ctx, 'v1', 'default', pcr);
  assert.ok(checked.ok);
  const lines: Record<string, unknown>[] = [];
  const audit = async (e: Record<string, unknown>) => {
    lines.push(e);
  };
  // Same UID, newer resourceVersion (a label): checked again on the new version, then issued, bound to it.
  assert.equal((await env.kubectl(['label', 'podcertificaterequest', pcr, '-n', 'default', 'x=y'])).code, 0);
  const again = await signPcr(ctx, 'v1', 'default', pcr, { pcr: checked.value, ca, audit });
  assert.ok(again.ok, again.ok ? '' : again.error.message);
  assert.notEqual(again.value.pcr.metadata?.resourceVersion, checked.value.metadata?.resourceVersion);
  assert.deepEqual(
    lines.map((l) => [l.phase, l.outcome]),
    [
      ['intent', undefined],
      ['outcome', 'error'],
      ['intent', undefined],
      ['outcome', 'ok'],
    ],
  );
  assert.match(String(lines[1]?.detail), /changed after it was checked; check it again before acting on it/);
  assert.match(String(lines[3]?.detail), /^issued by CN=pod identity CA, valid until /);
  // Deleted and re-created under the same name (another pod, same name): the old check writes nothing.
  const { pcr: name } = await podWithPcr('swap-1');
  const old = await readPcr(ctx, 'v1', 'default', name);
  assert.ok(old.ok);
  assert.equal((await env.kubectl(['delete', 'podcertificaterequest', name, '-n', 'default'])).code, 0);
  writeFileSync(join(env.dir, 'again.json'), readFileSync(join(env.dir, 'pcr-swap-1.json')));
  const recreated = await env.kubectl(['create', '-f', join(env.dir, 'again.json'), ...asNode]);
  assert.equal(recreated.code, 0, recreated.stderr);
  const swapped = await signPcr(ctx, 'v1', 'default', name, { pcr: old.value, ca, audit });
  assert.equal(swapped.ok, false);
  assert.match(
    swapped.ok ? '' : swapped.error.message,
    /was replaced after it was checked \(UID \S+ is gone, \S+ is there now\); nothing was written/,
  );
  assert.equal((await getPcr(name)).status?.conditions, undefined);
});

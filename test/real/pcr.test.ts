// PodCertificateRequests and ClusterTrustBundles on the real kube-apiserver 1.37 (issue 20, first steps): a Node and a
// Pod bound to it (spec.nodeName; no scheduler, no kubelet) created as admin, a PCR created as that node
// (impersonating system:node:<name> in system:nodes, so the Node authorizer and NodeRestriction judge it) with a real
// P-256 key whose stubPKCS10Request proves possession; then `get pcr`, `describe pcr`, `-o json`, and trust bundles
// with and without a signerName, through the built binary.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCertWatch } from '../../src/services/certs/watch.js';
import { createClusterStore, loadContexts } from '../../src/services/kube/index.js';
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

before(async () => {
  env = await startRealEnv(['east']);
});
after(async () => {
  await env?.stop();
});

test('a PCR created as its node lists, describes and prints as JSON; trust bundles list and describe', async () => {
  // Before anything exists: empty, no complaint.
  const empty = ok(await env.run(['get', 'pcr', '-A']));
  assert.equal(empty.stdout, '');
  assert.match(empty.stderr, /^No resources found\.\n$/);

  const nodeUid = await create(env, 'node', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  const saUid = await defaultServiceAccountUid(env);
  const podUid = await create(env, 'pod', podCertificatePod('web-0', NODE, SIGNER));

  openssl(env, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'pod.key']);
  openssl(env, ['req', '-new', '-key', 'pod.key', '-subj', '/', '-outform', 'DER', '-out', 'stub.der']);
  const pcr = (name: string, nodeName: string) => ({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'PodCertificateRequest',
    metadata: { name, namespace: 'default' },
    spec: {
      signerName: SIGNER,
      podName: 'web-0',
      podUID: podUid,
      serviceAccountName: 'default',
      serviceAccountUID: saUid,
      nodeName,
      nodeUID: nodeUid,
      maxExpirationSeconds: 86400,
      stubPKCS10Request: readFileSync(join(env.dir, 'stub.der')).toString('base64'),
      unverifiedUserAnnotations: { 'example.com/tenant': 'blue\u001b[31mred' },
    },
  });
  const asNode = ['--as', `system:node:${NODE}`, '--as-group', 'system:nodes'];
  await create(env, 'pcr', pcr('web-0-cert', NODE), asNode);

  // NodeRestriction: another node may not ask for this pod's certificate.
  const other = await env.kubectl([
    'create',
    '-f',
    join(env.dir, 'pcr.json'),
    '--as',
    'system:node:elsewhere',
    '--as-group',
    'system:nodes',
  ]);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /which is not the requesting node "system:node:elsewhere"|not the requesting node/);

  const table = ok(await env.run(['get', 'pcr', '-A']));
  const lines = table.stdout.trimEnd().split('\n');
  assert.deepEqual(lines[0]?.split(/\s+/), [
    'NAMESPACE',
    'NAME',
    'AGE',
    'SIGNERNAME',
    'POD',
    'SERVICEACCOUNT',
    'NODE',
    'STATE',
  ]);
  assert.match(
    lines[1] ?? '',
    new RegExp(`^default\\s+web-0-cert\\s+\\S+\\s+${SIGNER}\\s+web-0\\s+default\\s+${NODE}\\s+Pending$`),
  );

  const inNs = ok(await env.run(['get', 'pcrs', '-n', 'default', '-o', 'name']));
  assert.equal(inNs.stdout, 'podcertificaterequest.certificates.k8s.io/web-0-cert\n');
  const cols = ok(await env.run(['get', 'pcr', '-n', 'default', '-o', 'custom-columns=POD:.spec.podUID']));
  assert.equal(cols.stdout, `POD\n${podUid}\n`);
  const none = ok(await env.run(['get', 'pcr', '-n', 'kube-system']));
  assert.match(none.stderr, /No resources found in kube-system namespace/);

  const json = JSON.parse(ok(await env.run(['get', 'pcr', '-A', '-o', 'json'])).stdout) as {
    kind: string;
    items: { apiVersion: string; kind: string; spec: Record<string, unknown> }[];
  };
  assert.equal(json.kind, 'List');
  assert.equal(json.items[0]?.apiVersion, 'certificates.k8s.io/v1');
  assert.equal(json.items[0]?.kind, 'PodCertificateRequest');
  assert.equal(json.items[0]?.spec.nodeUID, nodeUid);
  assert.equal(json.items[0]?.spec.pkixPublicKey, undefined, 'v1 has no pkixPublicKey');

  const described = ok(await env.run(['describe', 'pcr', 'web-0-cert', '-n', 'default'])).stdout;
  assert.match(described, new RegExp(`Signer:\\s+${SIGNER}`));
  assert.match(described, new RegExp(`Pod:\\s+web-0 \\(uid ${podUid}\\)`));
  assert.match(described, new RegExp(`Service Account:\\s+default \\(uid ${saUid}\\)`));
  assert.match(described, new RegExp(`Node:\\s+${NODE} \\(uid ${nodeUid}\\)`));
  assert.match(described, /Max Expiration:\s+24h \(86400s\)/);
  assert.match(described, /Public Key:\s+ECDSA P-256/);
  assert.match(described, /Proof of Possession:\s+verified/);
  assert.match(described, /example\.com\/tenant:\s+blue\\x1b\[31mred|example\.com\/tenant:\s+blue.*red/);
  assert.doesNotMatch(described, /\u001b/, 'the annotation value is terminal-safe');
  assert.match(described, /State:\s+Pending/);

  const missing = await env.run(['describe', 'pcr', 'nope', '-n', 'default']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: podcertificaterequests\.certificates\.k8s\.io "nope" not found\n$/);

  // Trust bundles: one for the signer (its name is the signer's with ':' for '/', then a suffix), one without.
  openssl(
    env,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key'].concat([
      '-subj',
      '/CN=certdesk-test-root',
      '-days',
      '2',
      '-out',
      'root.crt',
    ]),
  );
  const clusterCa = readFileSync(join(env.cluster.stateDir, 'east', 'ca.crt'), 'utf8');
  const root = readFileSync(join(env.dir, 'root.crt'), 'utf8');
  await create(env, 'ctb1', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'ClusterTrustBundle',
    metadata: { name: 'example.com:pod-identity:roots' },
    spec: { signerName: SIGNER, trustBundle: clusterCa + root },
  });
  await create(env, 'ctb2', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'ClusterTrustBundle',
    metadata: { name: 'plain-roots' },
    spec: { trustBundle: root },
  });
  const bundles = ok(await env.run(['get', 'trustbundles']))
    .stdout.trimEnd()
    .split('\n');
  assert.deepEqual(bundles[0]?.split(/\s+/), ['NAME', 'SIGNERNAME', 'CERTIFICATES', 'AGE']);
  assert.match(
    bundles.find((l) => l.startsWith('example.com:')) ?? '',
    new RegExp(`^example.com:pod-identity:roots\\s+${SIGNER}\\s+2\\s+`),
  );
  assert.match(bundles.find((l) => l.startsWith('plain-roots')) ?? '', /^plain-roots\s+<none>\s+1\s+/);
  const one = ok(await env.run(['describe', 'trustbundle', 'example.com:pod-identity:roots'])).stdout;
  assert.match(one, /Certificates:\s+2 certificate\(s\)/);
  assert.match(one, /CN=certdesk-test-root:\s+expires /);
  const ctbJson = JSON.parse(ok(await env.run(['get', 'ctb', 'plain-roots', '-o', 'json'])).stdout) as {
    kind: string;
    spec: { signerName?: string };
  };
  assert.equal(ctbJson.kind, 'ClusterTrustBundle');
  assert.equal(ctbJson.spec.signerName, undefined);
});

test("the desk's store follows them at v1 (one reflector each), and the radar reads the trust bundles from it", async (t) => {
  const contexts = loadContexts({ kubeconfig: env.cluster.kubeconfigPath, contexts: ['east'] });
  const store = createClusterStore(contexts, { tigera: false, backoff: { initialMs: 100, maxMs: 1000 } });
  const certs = createCertWatch(contexts, { store, backoff: { initialMs: 100, maxMs: 1000 } });
  t.after(() => {
    certs.stop();
    store.stop();
  });
  store.start();
  const snap = await until('the PCRs and trust bundles listed', async () => {
    const s = store.snapshot('east');
    return s.podCertificatesListed && s;
  });
  assert.deepEqual(snap.podCertificateApis, { podCertificateRequests: 'v1', clusterTrustBundles: 'v1' });
  assert.equal(snap.pcrs?.get('default/web-0-cert')?.spec?.podName, 'web-0');
  assert.deepEqual([...(snap.trustBundles?.keys() ?? [])].sort(), ['example.com:pod-identity:roots', 'plain-roots']);
  certs.start();
  await until('the radar synced', async () => certs.synced('east'));
  const fromBundles = certs.records().filter((r) => r.location.kind === 'ClusterTrustBundle');
  assert.deepEqual(
    fromBundles
      .map((r) => `${r.location.name} ${r.cert?.subject}`)
      .filter((x) => x.includes('certdesk-test-root'))
      .sort(),
    ['example.com:pod-identity:roots CN=certdesk-test-root', 'plain-roots CN=certdesk-test-root'],
  );
  // A bundle deleted is gone from the store (the watch), and from the radar after it.
  ok(await env.kubectl(['delete', 'clustertrustbundle', 'plain-roots']));
  await until('the bundle gone', async () => !store.snapshot('east').trustBundles?.has('plain-roots'));
  await until('and from the radar', async () => !certs.records().some((r) => r.location.name === 'plain-roots'));
});

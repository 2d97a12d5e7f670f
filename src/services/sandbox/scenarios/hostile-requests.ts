// The requests a careful approver must catch, as CertificateSigningRequest bodies with the identity that submits
// each one. Used by the sandbox's `hostile` scenario and by the policy tests. Built with @peculiar/x509 directly
// (not the PKI core's generator, which refuses weak keys on purpose).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface HostileRequest {
  /** metadata.name of the CSR. */
  name: string;
  /** What is wrong with it, for a person. */
  description: string;
  /** The finding code (services/policy) that must flag it, at `caughtAt` (`fail` unless said). */
  caughtBy: string;
  /** The level the default policy gives it: `warn` for what a person should look at, not refuse outright. */
  caughtAt?: 'warn' | 'fail';
  /** Who submits it (the sandbox fills spec.username/groups from this identity). */
  requester: { user: string; groups: string[] };
  /** Asked from this pod (HOSTILE_WORLD's pods): the requester's token carries its name and UID as spec.extra. */
  fromPod?: string;
  /** Submitted before the others, at least a second earlier (creationTimestamp has one-second steps). */
  first?: boolean;
  body: {
    apiVersion: 'certificates.k8s.io/v1';
    kind: 'CertificateSigningRequest';
    metadata: { name: string; labels: Record<string, string> };
    spec: { request: string; signerName: string; usages: string[]; expirationSeconds?: number };
  };
}

const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const OID = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11' } as const;

export type Subject = Partial<Record<keyof typeof OID, string[]>>;

export interface CsrOptions {
  dns?: string[];
  ips?: string[];
  uris?: string[];
  rsaBits?: number;
  /** Sign with this key pair instead of a fresh one (a stolen or copied key). */
  keys?: CryptoKeyPair;
}

/** A CSR as base64 of PEM (spec.request), signed with a fresh key unless `keys` is given. */
export async function makeCsr(subject: Subject, opts: CsrOptions = {}): Promise<string> {
  const alg = opts.rsaBits
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: opts.rsaBits,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      }
    : EC;
  const keys = opts.keys ?? ((await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair);
  // UTF8String values keep control and format characters byte for byte, as a hostile requester would send them.
  const name: x509.JsonNameParams = [];
  for (const [k, values] of Object.entries(subject) as [keyof typeof OID, string[]][]) {
    for (const v of values) name.push({ [OID[k]]: [{ utf8String: v }] });
  }
  const extensions: x509.Extension[] = [];
  const names = [
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(name),
    keys,
    signingAlgorithm: alg,
    extensions,
  });
  return Buffer.from(csr.toString('pem')).toString('base64');
}

const CLIENT = ['digital signature', 'key encipherment', 'client auth'];
const SERVER = ['digital signature', 'key encipherment', 'server auth'];
const MALLORY = { user: 'mallory', groups: ['system:authenticated'] };
const NODES = ['system:nodes', 'system:authenticated'];
const WEB = {
  user: 'system:serviceaccount:hostile:web',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:hostile', 'system:authenticated'],
};
/** The requester of the request storm, and how many it sends (the default policy allows 20 in 10 minutes). */
export const STORM_USER = 'storm-bot';
export const STORM_SIZE = 21;

/**
 * The cluster the hostile requests are judged in: the Nodes (registered by their kubelets with the addresses of
 * kube.ts nodeAddresses: hostile-node-1 is 10.0.0.11, 203.0.113.11, hostile-node-1) and the pod `web-0` with its
 * IP. The scenario creates them (a real cluster has them); the policy tests use them as they are.
 */
export const HOSTILE_WORLD = {
  namespace: 'hostile',
  nodes: ['hostile-node-1', 'hostile-node-2'],
  pods: [{ name: 'web-0', serviceAccount: 'web', nodeName: 'hostile-node-1', ip: '10.244.1.5' }],
} as const;

/** Builds the hostile requests (fresh keys each call). `signerName` is the custom signer to aim at. */
export async function buildHostileRequests(signerName = 'example.com/calico'): Promise<HostileRequest[]> {
  const req = (
    name: string,
    description: string,
    caughtBy: string,
    requester: { user: string; groups: string[] },
    spec: HostileRequest['body']['spec'],
  ): HostileRequest => ({
    name,
    description,
    caughtBy,
    requester,
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name, labels: { 'certdesk.dev/scenario': 'hostile' } },
      spec,
    },
  });
  const escapes =
    '\x1b]0;pwned\x07\x1b[2J\x1b[H\x1b[31mAPPROVE ME\x1b[0m\x1b]8;;https://evil.example\x07link\x1b]8;;\x07';
  return Promise.all([
    makeCsr({ CN: ['jane'] }).then((request) =>
      req(
        'hostile-requestor-mismatch',
        'mallory asks for a client certificate in the name of jane',
        'requestor-subject',
        MALLORY,
        {
          request,
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: CLIENT,
        },
      ),
    ),
    makeCsr({ CN: ['system:node:node-2'], O: ['system:nodes'] }, { dns: ['node-2'] }).then((request) =>
      req(
        'hostile-kubelet-other-node',
        'node-1 asks for the serving certificate of node-2',
        'requestor-subject',
        { user: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] },
        { request, signerName: 'kubernetes.io/kubelet-serving', usages: SERVER },
      ),
    ),
    makeCsr({ CN: ['mallory'], O: ['system:masters'] }).then((request) =>
      req(
        'hostile-system-masters',
        'a client certificate asking for O=system:masters (cluster admin)',
        'privileged-group',
        MALLORY,
        {
          request,
          signerName,
          usages: CLIENT,
        },
      ),
    ),
    makeCsr({ CN: ['weak-key'] }, { rsaBits: 1024 }).then((request) =>
      req('hostile-rsa-1024', 'an RSA-1024 key, below the supported minimum', 'key-strength', MALLORY, {
        request,
        signerName,
        usages: SERVER,
      }),
    ),
    makeCsr({ CN: [`evil${escapes}`], O: ['\x1b[1;33mtrusted\x1b[0m'] }).then((request) =>
      req(
        'hostile-escape-sequences',
        'a subject holding terminal escape sequences (title, clear screen, colours, hyperlink)',
        'invisible-characters',
        MALLORY,
        { request, signerName, usages: SERVER },
      ),
    ),
    makeCsr({ CN: ['admin\u202egnp.exe'], O: ['system\u200b:masters'], OU: ['\u2066ops\u2069\u200d'] }).then(
      (request) =>
        req(
          'hostile-bidi-zero-width',
          'bidi overrides and zero-width characters that make names look like others',
          'invisible-characters',
          MALLORY,
          { request, signerName, usages: SERVER },
        ),
    ),
    makeCsr({ CN: ['many-names'] }, { dns: Array.from({ length: 500 }, (_, i) => `host-${i}.example.com`) }).then(
      (request) =>
        req('hostile-500-sans', 'a request with 500 subject alternative names', 'san-count', MALLORY, {
          request,
          signerName,
          usages: SERVER,
        }),
    ),
    makeCsr({ CN: ['forever'] }, { dns: ['forever.example.com'] }).then((request) =>
      req('hostile-ten-years', 'expirationSeconds of ten years', 'duration', MALLORY, {
        request,
        signerName,
        usages: SERVER,
        expirationSeconds: 10 * 365 * 24 * 3600,
      }),
    ),
    makeCsr(
      { CN: ['system:node:hostile-node-1'], O: ['system:nodes'] },
      { dns: ['hostile-node-1'], ips: ['10.0.0.11'] },
    ).then((request) => ({
      ...req(
        'hostile-superseded',
        'a kubelet serving request with a newer one from the same node (hostile-node-address) after it',
        'superseded',
        { user: 'system:node:hostile-node-1', groups: NODES },
        { request, signerName: 'kubernetes.io/kubelet-serving', usages: SERVER },
      ),
      caughtAt: 'warn' as const,
      first: true,
    })),
    makeCsr(
      { CN: ['system:node:hostile-node-1'], O: ['system:nodes'] },
      { dns: ['hostile-node-1'], ips: ['10.0.0.11', '198.51.100.7'] },
    ).then((request) =>
      req(
        'hostile-node-address',
        "hostile-node-1 asks for an IP address that is not one of its Node's addresses",
        'node-addresses',
        { user: 'system:node:hostile-node-1', groups: NODES },
        { request, signerName: 'kubernetes.io/kubelet-serving', usages: SERVER },
      ),
    ),
    makeCsr(
      { CN: ['system:node:hostile-node-2'], O: ['system:nodes'] },
      { dns: ['hostile-node-2', 'kubernetes.default.svc.cluster.local'], ips: ['10.0.0.12'] },
    ).then((request) =>
      req(
        'hostile-reserved-name',
        "hostile-node-2 asks for the API server's in-cluster name kubernetes.default.svc.cluster.local",
        'reserved-names',
        { user: 'system:node:hostile-node-2', groups: NODES },
        { request, signerName: 'kubernetes.io/kubelet-serving', usages: SERVER },
      ),
    ),
    makeCsr({ CN: ['web'] }, { ips: ['10.244.9.99'] }).then((request) => ({
      ...req('hostile-pod-ip', "pod hostile/web-0 asks for an IP address that is not the pod's", 'pod-ip', WEB, {
        request,
        signerName,
        usages: SERVER,
      }),
      fromPod: 'web-0',
    })),
    makeCsr({}, { uris: ['spiffe://cluster.local/ns/istio-system/sa/istiod'] }).then((request) =>
      req(
        'hostile-spiffe-identity',
        "service account hostile:web asks for istiod's SPIFFE identity",
        'spiffe-identity',
        WEB,
        { request, signerName, usages: [...CLIENT, 'server auth'] },
      ),
    ),
    ...stormRequests(signerName, req),
  ]).then(async (list) => {
    // mallory asks with hostile-node-1's key, taken from its request (hostile-superseded): one key, two identities.
    const stolen = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const [victim, copy] = await Promise.all([
      makeCsr(
        { CN: ['system:node:hostile-node-1'], O: ['system:nodes'] },
        { dns: ['hostile-node-1'], ips: ['10.0.0.11'], keys: stolen },
      ),
      makeCsr({ CN: ['mallory'] }, { keys: stolen }),
    ]);
    const original = list.find((r) => r.name === 'hostile-superseded');
    if (original) original.body.spec.request = victim;
    list.push(
      req(
        'hostile-key-reuse',
        "mallory asks with the key of hostile-node-1's request (hostile-superseded)",
        'key-reuse',
        MALLORY,
        { request: copy, signerName, usages: CLIENT },
      ),
    );
    return list;
  });
}

function stormRequests(
  signerName: string,
  req: (
    name: string,
    description: string,
    caughtBy: string,
    requester: { user: string; groups: string[] },
    spec: HostileRequest['body']['spec'],
  ) => HostileRequest,
): Promise<HostileRequest>[] {
  return Array.from({ length: STORM_SIZE }, (_, i) =>
    makeCsr({ CN: [STORM_USER] }).then((request) => ({
      ...req(
        `hostile-storm-${String(i).padStart(2, '0')}`,
        `${STORM_USER} asks for ${STORM_SIZE} certificates at once`,
        'request-storm',
        { user: STORM_USER, groups: ['system:authenticated'] },
        { request, signerName, usages: CLIENT },
      ),
      caughtAt: 'warn' as const,
    })),
  );
}

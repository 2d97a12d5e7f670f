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
  /** The finding code (services/policy) that must flag it as `fail`. */
  caughtBy: string;
  /** Who submits it (the sandbox fills spec.username/groups from this identity). */
  requester: { user: string; groups: string[] };
  body: {
    apiVersion: 'certificates.k8s.io/v1';
    kind: 'CertificateSigningRequest';
    metadata: { name: string; labels: Record<string, string> };
    spec: { request: string; signerName: string; usages: string[]; expirationSeconds?: number };
  };
}

const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const OID = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11' } as const;

type Subject = Partial<Record<keyof typeof OID, string[]>>;

async function makeCsr(subject: Subject, opts: { dns?: string[]; rsaBits?: number } = {}): Promise<string> {
  const alg = opts.rsaBits
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: opts.rsaBits,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      }
    : EC;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  // UTF8String values keep control and format characters byte for byte, as a hostile requester would send them.
  const name: x509.JsonNameParams = [];
  for (const [k, values] of Object.entries(subject) as [keyof typeof OID, string[]][]) {
    for (const v of values) name.push({ [OID[k]]: [{ utf8String: v }] });
  }
  const extensions: x509.Extension[] = [];
  if (opts.dns?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(opts.dns.map((value) => ({ type: 'dns' as const, value }))),
    );
  }
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
  ]);
}

// The sandbox's cluster CA: an EC P-256 key and a self-signed CA certificate made synchronously with node:crypto,
// used to serve HTTPS and to mint client certificates (CN = user, O = groups) as a real cluster's client CA does.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  bitString,
  explicit,
  extension,
  integer,
  keyUsage,
  name,
  OID,
  oid,
  octets,
  sanNames,
  seq,
  time,
} from './der.js';

export interface ClusterCa {
  certPem: string;
  /** Never logged, never sent to a cluster. */
  keyPem: string;
  key: KeyObject;
  subject: Buffer;
  keyId: Buffer;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function newKey(): { privateKey: KeyObject; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

function keyIdOf(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b;
}

function certificate(
  subject: Buffer,
  issuer: Buffer,
  spki: Buffer,
  extensions: Buffer[],
  signer: KeyObject,
  days: number,
): Buffer {
  const now = Date.now();
  const alg = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial()),
    alg,
    issuer,
    seq(time(new Date(now - 5 * 60_000)), time(new Date(now + days * DAY))),
    subject,
    spki,
    explicit(3, seq(...extensions)),
  );
  return seq(tbs, alg, bitString(sign('sha256', tbs, signer)));
}

export function createClusterCa(clusterName: string): ClusterCa {
  const { privateKey, spki } = newKey();
  const subject = name(`certdesk-sandbox-${clusterName}-ca`);
  const keyId = keyIdOf(spki);
  const der = certificate(
    subject,
    subject,
    spki,
    [
      extension(OID.keyUsage, true, keyUsage([0, 5, 6])),
      extension(OID.basicConstraints, true, seq(Buffer.from([0x01, 0x01, 0xff]))),
      extension(OID.subjectKeyId, false, octets(keyId)),
    ],
    privateKey,
    3650,
  );
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    key: privateKey,
    subject,
    keyId,
  };
}

export interface IssueOptions {
  commonName: string;
  organizations?: string[];
  /** DNS names / IPs: makes a serving certificate. */
  hosts?: string[];
  days?: number;
}

/** Mints a leaf certificate (client auth, or server auth when `hosts` is given) with a fresh P-256 key. */
export function issueCert(ca: ClusterCa, options: IssueOptions): IssuedCert {
  const { privateKey, spki } = newKey();
  const hosts = options.hosts ?? [];
  const exts = [
    extension(OID.keyUsage, true, keyUsage([0])),
    extension(OID.extKeyUsage, false, seq(oid(hosts.length ? OID.serverAuth : OID.clientAuth))),
    extension(OID.basicConstraints, true, seq()),
    extension(OID.authorityKeyId, false, seq(Buffer.concat([Buffer.from([0x80, ca.keyId.length]), ca.keyId]))),
  ];
  if (hosts.length) exts.push(extension(OID.subjectAltName, false, sanNames(hosts)));
  const der = certificate(
    name(options.commonName, options.organizations ?? []),
    ca.subject,
    spki,
    exts,
    ca.key,
    options.days ?? 365,
  );
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

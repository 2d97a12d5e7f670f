// Certificates with any validity window, for the `certificates` scenario and the radar's tests: a CA (or a leaf
// signed by one) made with the PKI core's DER builders over node:crypto, so expired, not-yet-valid and mis-signed
// certificates are as easy to make as good ones.
import type { KeyObject } from 'node:crypto';
import {
  akiExtension,
  basicConstraintsExtension,
  buildCertificate,
  encodeName,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  publicKeyBitsOf,
  sanElementsFromHosts,
  sanExtension,
  skiExtension,
  spkiOf,
} from '../../pki/build.js';
import { randomSerial } from '../../pki/ca.js';
import { defaultSignatureFor, exportKeyPem, generateKey } from '../../pki/keys.js';
import { toPem } from '../../pki/pem.js';

export interface MadeCert {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  /** The subject Name's DER (the issuer field of what this CA signs). */
  subjectDer: Uint8Array;
  ski: Uint8Array;
}

export interface MakeCertOptions {
  cn: string;
  /** DNS names, IPs, e-mails or URIs. */
  hosts?: string[];
  notBefore: Date;
  notAfter: Date;
  /** Signed by this CA; self-signed when absent. */
  issuer?: MadeCert;
  /** A CA certificate (CA=true, keyCertSign). @default !issuer */
  ca?: boolean;
  /** @default 'ec' (P-256) */
  key?: 'ec' | 'rsa';
  /** Reuse this key instead of generating one (many leaves in bulk). */
  keyObject?: KeyObject;
}

const DAY = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** A certificate valid from `notBefore` to `notAfter`, self-signed or signed by `issuer`. */
export async function makeCert(opts: MakeCertOptions): Promise<MadeCert> {
  const key =
    opts.keyObject ??
    (await generateKey(opts.key === 'rsa' ? { algo: 'rsa', size: 2048 } : { algo: 'ecdsa', size: 256 }));
  const spki = spkiOf(key);
  const ski = keyIdentifier(publicKeyBitsOf(spki));
  const subjectDer = encodeName([], opts.cn);
  const isCa = opts.ca ?? !opts.issuer;
  const sans = sanElementsFromHosts(opts.hosts ?? []);
  const extensions = [
    keyUsageExtension(isCa ? ['digitalSignature', 'keyCertSign', 'cRLSign'] : ['digitalSignature', 'keyEncipherment']),
    ...(isCa ? [] : [extKeyUsageExtension([SERVER_AUTH, CLIENT_AUTH])]),
    basicConstraintsExtension(isCa),
    skiExtension(ski),
    akiExtension(opts.issuer?.ski ?? ski),
    ...(sans.elements.length ? [sanExtension(sans.elements, false)] : []),
  ];
  const signingKey = opts.issuer?.key ?? key;
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: opts.issuer?.subjectDer ?? subjectDer,
      subject: subjectDer,
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      spki,
      extensions,
    },
    signingKey,
    defaultSignatureFor(signingKey),
  );
  return { certPem: toPem('CERTIFICATE', der), keyPem: exportKeyPem(key), key, subjectDer, ski };
}

/** Validity from `fromDays` to `toDays` days relative to `now` (negative = in the past). */
export function window(now: number, fromDays: number, toDays: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now + fromDays * DAY), notAfter: new Date(now + toDays * DAY) };
}

// CA keys in PKCS#11 tokens (YubiKey PIV, Nitrokey, smart cards, SoftHSM, network HSMs), named by RFC 7512 URIs.
// The key never leaves the token: certdesk hashes, the token signs (CKM_ECDSA over the digest, CKM_RSA_PKCS over the
// DigestInfo), so every token that can sign at all can sign here. The pkcs11js addon (an optional dependency, a
// native build) is loaded only when a token is used. Every failure is a PkiError with one sentence saying what to do.
import { createHash, createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import type { CaKey } from './ca-key.js';
import { seq, uint } from './der.js';
import type { KeySpec } from './keys.js';
import { PkiError } from './types.js';

/** The environment variable naming the PKCS#11 module when neither a flag nor the registry does. */
export const PKCS11_MODULE_ENV = 'CERTDESK_PKCS11_MODULE';
/** Seconds a token stays logged in with nothing to do (default 300): then certdesk logs out and lets it go. */
export const PKCS11_IDLE_ENV = 'CERTDESK_PKCS11_IDLE_SECONDS';

// --- RFC 7512 URIs ---------------------------------------------------------------------------------------------

const PATH_ATTRS = new Set([
  'token',
  'manufacturer',
  'serial',
  'model',
  'library-manufacturer',
  'library-description',
  'library-version',
  'object',
  'type',
  'id',
  'slot-manufacturer',
  'slot-description',
  'slot-id',
]);
const QUERY_ATTRS = new Set(['pin-source', 'pin-value', 'module-name', 'module-path']);

export interface Pkcs11Uri {
  /** Path attributes, percent-decoded (id as bytes in `id`). */
  attrs: Record<string, string>;
  id?: Uint8Array;
  modulePath?: string;
}

function percentDecode(value: string, attr: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw badUri(`the ${attr} value has a % not followed by two hex digits`);
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Uint8Array.from(out);
}

const badUri = (why: string) =>
  new PkiError(
    'unsupported',
    `The PKCS#11 URI is not valid (${why}); write it as pkcs11:token=LABEL;object=NAME (RFC 7512), e.g. as p11tool --list-all prints it.`,
  );

/** Parses an RFC 7512 URI. Refuses a PIN in it (pin-value): a PIN never goes on a command line or into a file. */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  if (!/^pkcs11:/i.test(text)) throw badUri('it does not start with pkcs11:');
  const body = text.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const path = q >= 0 ? body.slice(0, q) : body;
  const query = q >= 0 ? body.slice(q + 1) : '';
  const uri: Pkcs11Uri = { attrs: {} };
  for (const part of path.split(';').filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = (eq >= 0 ? part.slice(0, eq) : part).toLowerCase();
    if (eq < 0 || !PATH_ATTRS.has(name)) throw badUri(`unknown attribute "${name}"`);
    if (name in uri.attrs) throw badUri(`${name} is given twice`);
    const bytes = percentDecode(part.slice(eq + 1), name);
    if (name === 'id') uri.id = bytes;
    uri.attrs[name] = Buffer.from(bytes).toString('utf8');
  }
  for (const part of query.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = (eq >= 0 ? part.slice(0, eq) : part).toLowerCase();
    if (!QUERY_ATTRS.has(name)) throw badUri(`unknown query attribute "${name}"`);
    if (name === 'pin-value') {
      throw new PkiError(
        'unsupported',
        'The PKCS#11 URI carries a PIN (pin-value); remove it and give the PIN with --pin-env VAR, --pin-file FILE or at the prompt.',
      );
    }
    if (name === 'module-path') uri.modulePath = Buffer.from(percentDecode(part.slice(eq + 1), name)).toString('utf8');
  }
  const type = uri.attrs.type;
  if (type && type !== 'private' && type !== 'public' && type !== 'cert') {
    throw badUri(`type=${type} names no key; use type=private or leave type out`);
  }
  if (!uri.attrs.object && !uri.id) throw badUri('it names no key: add object=NAME or id=%NN');
  return uri;
}

/** The URI back as text, path attributes in a fixed order (what the registry stores and `ca show` prints). */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const enc = (s: string | Uint8Array) =>
    Array.from(typeof s === 'string' ? Buffer.from(s, 'utf8') : s, (b) =>
      /[A-Za-z0-9\-._~ :]/.test(String.fromCharCode(b)) && b < 0x80
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    ).join('');
  const order = ['model', 'manufacturer', 'serial', 'token', 'slot-id', 'object', 'type'];
  const parts = order
    .filter((k) => uri.attrs[k] !== undefined && k !== 'type')
    .map((k) => `${k}=${enc(uri.attrs[k]!)}`);
  for (const [k, v] of Object.entries(uri.attrs)) if (!order.includes(k) && k !== 'id') parts.push(`${k}=${enc(v)}`);
  if (uri.id) parts.push(`id=${Array.from(uri.id, (b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`);
  if (uri.attrs.type) parts.push(`type=${uri.attrs.type}`);
  const query = uri.modulePath ? `?module-path=${enc(uri.modulePath)}` : '';
  return `pkcs11:${parts.join(';')}${query}`;
}

// --- the module (pkcs11js) --------------------------------------------------------------------------------------

type Handle = Buffer;
interface Attr {
  type: number;
  value?: number | boolean | string | Buffer;
}
interface TokenInfo {
  label: string;
  manufacturerID: string;
  model: string;
  serialNumber: string;
  flags: number;
}
/** The part of pkcs11js's PKCS11 class used here (declared here: the addon is optional). */
interface P11 {
  load(path: string): void;
  close(): void;
  C_Initialize(options?: { flags: number }): void;
  C_Finalize(): void;
  C_GetInfo(): { manufacturerID: string; libraryDescription: string };
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetSlotInfo(slot: Handle): { slotDescription: string; manufacturerID: string };
  C_GetTokenInfo(slot: Handle): TokenInfo;
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_CloseAllSessions(slot: Handle): void;
  C_GetSessionInfo(session: Handle): { state: number };
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_FindObjectsInit(session: Handle, template: Attr[]): void;
  C_FindObjects(session: Handle, max: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Attr[]): Array<{ type: number; value: Buffer }>;
  C_SignInit(session: Handle, mechanism: { mechanism: number }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer, cb: (err: Error | null, sig: Buffer) => void): void;
  C_GenerateKeyPair(
    session: Handle,
    mechanism: { mechanism: number },
    publicTemplate: Attr[],
    privateTemplate: Attr[],
  ): { publicKey: Handle; privateKey: Handle };
}

// PKCS#11 2.40 constants (pkcs11t.h).
const CKF_OS_LOCKING_OK = 0x2;
const CKF_RW_SESSION = 0x2;
const CKF_SERIAL_SESSION = 0x4;
const CKF_LOGIN_REQUIRED = 0x4;
const CKF_PROTECTED_AUTHENTICATION_PATH = 0x100;
const CKF_TOKEN_INITIALIZED = 0x400;
const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;
const CKU_USER = 1;
const CKU_CONTEXT_SPECIFIC = 2;
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;
const CKO_PUBLIC_KEY = 2;
const CKO_PRIVATE_KEY = 3;
const CKK_RSA = 0;
const CKK_EC = 3;
const CKA_CLASS = 0x0;
const CKA_TOKEN = 0x1;
const CKA_PRIVATE = 0x2;
const CKA_LABEL = 0x3;
const CKA_KEY_TYPE = 0x100;
const CKA_ID = 0x102;
const CKA_SENSITIVE = 0x103;
const CKA_SIGN = 0x108;
const CKA_VERIFY = 0x10a;
const CKA_MODULUS = 0x120;
const CKA_MODULUS_BITS = 0x121;
const CKA_PUBLIC_EXPONENT = 0x122;
const CKA_EXTRACTABLE = 0x162;
const CKA_EC_PARAMS = 0x180;
const CKA_EC_POINT = 0x181;
const CKA_ALWAYS_AUTHENTICATE = 0x202;
const CKM_RSA_PKCS_KEY_PAIR_GEN = 0x0;
const CKM_RSA_PKCS = 0x1;
const CKM_EC_KEY_PAIR_GEN = 0x1040;
const CKM_ECDSA = 0x1041;

const CKR_NAMES: Record<string, string> = {
  CKR_PIN_INCORRECT: 'wrong-pin',
  CKR_PIN_LEN_RANGE: 'wrong-pin',
  CKR_PIN_INVALID: 'wrong-pin',
  CKR_PIN_LOCKED: 'pin-locked',
  CKR_PIN_EXPIRED: 'pin-expired',
  CKR_TOKEN_NOT_PRESENT: 'removed',
  CKR_DEVICE_REMOVED: 'removed',
  CKR_SESSION_HANDLE_INVALID: 'removed',
  CKR_SESSION_CLOSED: 'removed',
  CKR_TOKEN_NOT_RECOGNIZED: 'removed',
  CKR_DEVICE_ERROR: 'removed',
};

let addon: { PKCS11: new () => P11 } | undefined;

function loadAddon(): { PKCS11: new () => P11 } {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)('pkcs11js') as { PKCS11: new () => P11 };
    return addon;
  } catch {
    throw new PkiError(
      'unsupported',
      "PKCS#11 tokens need the optional pkcs11js addon, which is not built here; install python3, make and a C++ compiler, then run `npm rebuild pkcs11js` in certdesk's directory (npm 11: allow its install script).",
    );
  }
}

const modules = new Map<string, P11>();

// A long-running TUI or controller does not keep a token logged in forever: after PKCS11_IDLE_ENV seconds with no
// token call in progress, every module's sessions are closed (which logs the token out) and the module finalised
// and unloaded; so also at exit. A key opened before (openTokenKey) opens its token again on its next signature,
// asking its PIN source again. `generation` counts the closes.
let generation = 0;
let busy = 0;
let idleTimer: NodeJS.Timeout | undefined;

function idleMs(): number {
  const seconds = Number(process.env[PKCS11_IDLE_ENV]);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 300) * 1000;
}

/** Runs a token operation; the idle period counts from when the last one ends. */
async function active<T>(operation: () => Promise<T>): Promise<T> {
  busy++;
  clearTimeout(idleTimer);
  try {
    return await operation();
  } finally {
    busy--;
    if (busy === 0 && modules.size > 0) {
      idleTimer = setTimeout(closePkcs11Modules, idleMs());
      idleTimer.unref();
    }
  }
}

/** Loads and initialises a PKCS#11 module once per process (again after an idle close). */
function moduleAt(path: string): P11 {
  const known = modules.get(path);
  if (known) return known;
  if (modules.size === 0 && generation === 0) {
    process.once('exit', () => {
      // Not under a signature still running on the threadpool (exit without waiting): the OS cleans up then.
      if (busy === 0) closePkcs11Modules();
    });
  }
  const { PKCS11 } = loadAddon();
  const p11 = new PKCS11();
  try {
    p11.load(path);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/\s+$/, '');
    throw new PkiError(
      'not-found',
      `The PKCS#11 module ${path} could not be loaded (${reason}); check --pkcs11-module or ${PKCS11_MODULE_ENV} (e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so, /usr/lib/softhsm/libsofthsm2.so).`,
    );
  }
  try {
    // Signing runs on libuv's threadpool: the module must lock for itself (with no arguments it may assume one thread).
    p11.C_Initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (err) {
    if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      p11.close();
      throw new PkiError(
        'unsupported',
        `The PKCS#11 module ${path} failed to start (${ckr(err) ?? 'error'}); check its configuration (SoftHSM: SOFTHSM2_CONF and its directories.tokendir).`,
      );
    }
  }
  modules.set(path, p11);
  return p11;
}

/**
 * Logs out of every token (closing all its sessions) and finalises and unloads every module: after the idle period,
 * at exit, and in tests (which switch SoftHSM configurations between tokens). Keys opened before open again.
 */
export function closePkcs11Modules(): void {
  clearTimeout(idleTimer);
  if (modules.size === 0) return;
  generation++;
  opened.clear();
  for (const p11 of modules.values()) {
    try {
      for (const slot of p11.C_GetSlotList(true)) p11.C_CloseAllSessions(slot);
    } catch {
      // The token may be gone; C_Finalize closes what is left.
    }
    try {
      p11.C_Finalize();
      p11.close();
    } catch {
      // Already gone.
    }
  }
  modules.clear();
}

/** How many modules are loaded (0 after an idle close): for the tests. */
export function loadedPkcs11Modules(): number {
  return modules.size;
}

function ckr(err: unknown): string | undefined {
  const m = /CKR_[A-Z_]+/.exec(err instanceof Error ? `${err.message} ${err.stack ?? ''}` : String(err));
  return m?.[0];
}

/** The module to use: --pkcs11-module (or the registry's), else $CERTDESK_PKCS11_MODULE, else the URI's module-path. */
export function resolveModulePath(uri: Pkcs11Uri, given?: string): string {
  const path = given || process.env[PKCS11_MODULE_ENV] || uri.modulePath;
  if (!path) {
    throw new PkiError(
      'not-found',
      `No PKCS#11 module is set for the CA key; pass --pkcs11-module PATH (e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so) or set ${PKCS11_MODULE_ENV}.`,
    );
  }
  return path;
}

// --- tokens, sessions, login ------------------------------------------------------------------------------------

const trim = (s: string) => s.replace(/[\s\0]+$/, '');

function tokenName(info: TokenInfo): string {
  return trim(info.label) || `serial ${trim(info.serialNumber)}`;
}

function uriTokenText(uri: Pkcs11Uri): string {
  const a = uri.attrs;
  return ['token', 'serial', 'model', 'manufacturer', 'slot-id']
    .filter((k) => a[k] !== undefined)
    .map((k) => `${k}=${a[k]}`)
    .join(';');
}

function findSlot(p11: P11, uri: Pkcs11Uri): { slot: Handle; info: TokenInfo } {
  const a = uri.attrs;
  let slots: Handle[];
  try {
    slots = p11.C_GetSlotList(true);
  } catch (err) {
    throw new PkiError('unsupported', `The PKCS#11 module could not list its slots (${ckr(err) ?? 'error'}).`);
  }
  const present = slots
    .map((slot) => ({ slot, info: p11.C_GetTokenInfo(slot) }))
    .filter(({ info }) => info.flags & CKF_TOKEN_INITIALIZED);
  const matching = present.filter(({ slot, info }) => {
    if (a.token !== undefined && trim(info.label) !== a.token) return false;
    if (a.serial !== undefined && trim(info.serialNumber) !== a.serial) return false;
    if (a.model !== undefined && trim(info.model) !== a.model) return false;
    if (a.manufacturer !== undefined && trim(info.manufacturerID) !== a.manufacturer) return false;
    if (a['slot-id'] !== undefined && slotId(slot) !== a['slot-id']) return false;
    return true;
  });
  if (matching.length === 1) return matching[0]!;
  const here = present.map((p) => `"${tokenName(p.info)}"`).join(', ');
  if (matching.length === 0) {
    throw new PkiError(
      'not-found',
      `No token matching ${uriTokenText(uri) || 'the URI'} is present (${present.length ? `tokens here: ${here}` : 'no token is present'}); insert it or fix the URI's token=.`,
    );
  }
  throw new PkiError(
    'unsupported',
    `${matching.length} tokens match ${uriTokenText(uri) || 'the URI'} (${here}); add token= or serial= to the URI.`,
  );
}

function slotId(slot: Handle): string {
  return slot.length >= 8 ? slot.readBigUInt64LE(0).toString() : String(slot.readUInt32LE(0));
}

/** Gives the PIN of the token labelled so, when it is needed (a variable, a file, a prompt); undefined: none. */
export type PinSource = (token: string) => Promise<string | undefined>;

function loggedIn(p11: P11, session: Handle): boolean {
  const state = p11.C_GetSessionInfo(session).state;
  return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
}

function pinFailure(p11: P11, slot: Handle, err: unknown, label: string): PkiError {
  const code = ckr(err);
  const kind = code ? CKR_NAMES[code] : undefined;
  let flags = 0;
  try {
    flags = p11.C_GetTokenInfo(slot).flags;
  } catch {
    // The token may be gone.
  }
  if (kind === 'pin-locked' || flags & CKF_USER_PIN_LOCKED) {
    return new PkiError(
      'bad-key',
      `The user PIN of token "${label}" is locked; unblock it with the PUK or SO PIN (e.g. \`ykman piv access unblock-pin\`, \`pkcs11-tool --init-pin --login --login-type so\`).`,
    );
  }
  if (kind === 'wrong-pin') {
    const left =
      flags & CKF_USER_PIN_FINAL_TRY
        ? ' (one try left before the PIN locks)'
        : flags & CKF_USER_PIN_COUNT_LOW
          ? ' (the token says few tries are left)'
          : '';
    return new PkiError('bad-key', `Wrong PIN for token "${label}"${left}; try again.`);
  }
  if (kind === 'pin-expired') return new PkiError('bad-key', `The PIN of token "${label}" has expired; change it.`);
  return tokenError(err, label, 'log in');
}

function tokenError(err: unknown, label: string, doing: string): PkiError {
  if (err instanceof PkiError) return err;
  const code = ckr(err);
  if (code && CKR_NAMES[code] === 'removed') {
    return new PkiError(
      'not-found',
      `The token "${label}" was removed or stopped answering (${code}); insert it and try again.`,
    );
  }
  return new PkiError(
    'unsupported',
    `The token "${label}" refused to ${doing} (${code ?? (err instanceof Error ? err.message.split('\n')[0] : 'error')}).`,
  );
}

/** Logs the application in to the token unless it already is or needs no login; the PIN is asked for only then. */
async function login(p11: P11, slot: Handle, session: Handle, info: TokenInfo, pin: PinSource): Promise<void> {
  const label = tokenName(info);
  if (!(info.flags & CKF_LOGIN_REQUIRED) || loggedIn(p11, session)) return;
  if (info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
    try {
      p11.C_Login(session, CKU_USER);
    } catch (err) {
      throw pinFailure(p11, slot, err, label);
    }
    return;
  }
  const value = await pin(label);
  if (value === undefined) {
    throw new PkiError(
      'bad-key',
      `Token "${label}" needs its PIN; give it with --pin-env VAR or --pin-file FILE, or run on a terminal to be asked.`,
    );
  }
  try {
    p11.C_Login(session, CKU_USER, value);
  } catch (err) {
    if (ckr(err) === 'CKR_USER_ALREADY_LOGGED_IN') return;
    throw pinFailure(p11, slot, err, label);
  }
}

function findObjects(p11: P11, session: Handle, template: Attr[]): Handle[] {
  p11.C_FindObjectsInit(session, template);
  try {
    return p11.C_FindObjects(session, 16);
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

function keyTemplate(uri: Pkcs11Uri, cls: number): Attr[] {
  const t: Attr[] = [{ type: CKA_CLASS, value: cls }];
  if (uri.attrs.object !== undefined) t.push({ type: CKA_LABEL, value: uri.attrs.object });
  if (uri.id) t.push({ type: CKA_ID, value: Buffer.from(uri.id) });
  return t;
}

const objectText = (uri: Pkcs11Uri) =>
  [
    uri.attrs.object !== undefined ? `object=${uri.attrs.object}` : '',
    uri.id ? `id=${Buffer.from(uri.id).toString('hex')}` : '',
  ]
    .filter(Boolean)
    .join(';');

function attr(p11: P11, session: Handle, object: Handle, type: number): Buffer | undefined {
  try {
    return p11.C_GetAttributeValue(session, object, [{ type }])[0]?.value;
  } catch {
    return undefined;
  }
}

// --- keys -------------------------------------------------------------------------------------------------------

const CURVES: Record<string, { oid: Buffer; crv: string; size: number }> = {
  'P-256': { oid: Buffer.from('06082a8648ce3d030107', 'hex'), crv: 'P-256', size: 32 },
  'P-384': { oid: Buffer.from('06052b81040022', 'hex'), crv: 'P-384', size: 48 },
  'P-521': { oid: Buffer.from('06052b81040023', 'hex'), crv: 'P-521', size: 66 },
};
const CURVE_BY_BITS: Record<number, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/** DigestInfo prefixes for CKM_RSA_PKCS (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** The public key of a public-key object (EC point and parameters, or RSA modulus and exponent). */
function publicKeyOf(p11: P11, session: Handle, object: Handle): KeyObject | undefined {
  const params = attr(p11, session, object, CKA_EC_PARAMS);
  const b64u = (b: Buffer) => b.toString('base64url');
  if (params) {
    const curve = Object.values(CURVES).find((c) => c.oid.equals(params));
    let point = attr(p11, session, object, CKA_EC_POINT);
    if (!curve || !point) return undefined;
    // CKA_EC_POINT is DER OCTET STRING { point } by the standard; some modules give the bare point.
    if (point[0] === 0x04 && point.length !== 2 * curve.size + 1)
      point = point.subarray(point[1]! & 0x80 ? 2 + (point[1]! & 0x7f) : 2);
    if (point[0] !== 0x04 || point.length !== 2 * curve.size + 1) return undefined;
    const x = point.subarray(1, 1 + curve.size);
    const y = point.subarray(1 + curve.size);
    return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' });
  }
  const n = attr(p11, session, object, CKA_MODULUS);
  const e = attr(p11, session, object, CKA_PUBLIC_EXPONENT);
  if (!n || !e) return undefined;
  return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
}

export interface TokenKeyOptions {
  uri: string;
  /** --pkcs11-module or the registry's; else $CERTDESK_PKCS11_MODULE, else the URI's module-path. */
  modulePath?: string;
  /** Asked only when the token needs a login; for keys that need the PIN for every signature, kept until exit. */
  pin: PinSource;
}

interface OpenToken {
  p11: P11;
  slot: Handle;
  info: TokenInfo;
  session: Handle;
  label: string;
  uri: Pkcs11Uri;
}

async function openToken(opts: TokenKeyOptions, rw = false): Promise<OpenToken> {
  const uri = parsePkcs11Uri(opts.uri);
  const p11 = moduleAt(resolveModulePath(uri, opts.modulePath));
  const { slot, info } = findSlot(p11, uri);
  const label = tokenName(info);
  let session: Handle;
  try {
    session = p11.C_OpenSession(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0));
  } catch (err) {
    throw tokenError(err, label, 'open a session');
  }
  try {
    await login(p11, slot, session, info, opts.pin);
  } catch (err) {
    p11.C_CloseSession(session);
    throw err;
  }
  return { p11, slot, info, session, label, uri };
}

/** Keys opened since the last close, by module, URI and public key: opening one again reuses its sessions. */
const opened = new Map<string, CaKey>();

/**
 * Opens the private key the URI names for signing, checked against `publicKey` (the CA certificate's): a test
 * signature must verify with it. Throws PkiError: token absent, key not found, wrong PIN, not the certificate's key.
 * The key outlives an idle close: its next signature opens the token again (the PIN asked of `opts.pin` again).
 */
export async function openTokenKey(opts: TokenKeyOptions, publicKey?: KeyObject): Promise<CaKey> {
  const spki = publicKey?.export({ type: 'spki', format: 'der' }).toString('hex') ?? '';
  const id = [resolveModulePath(parsePkcs11Uri(opts.uri), opts.modulePath), opts.uri, spki].join('\n');
  const known = opened.get(id);
  if (known) return known;
  let key = await active(() => openTokenKeyNow(opts, publicKey));
  let keyGeneration = generation;
  let reopening: Promise<CaKey> | undefined;
  const current = (): Promise<CaKey> => {
    if (keyGeneration === generation) return Promise.resolve(key);
    reopening ??= openTokenKeyNow(opts, key.publicKey)
      .then((k) => {
        key = k;
        keyGeneration = generation;
        return k;
      })
      .finally(() => {
        reopening = undefined;
      });
    return reopening;
  };
  const reopenable: CaKey = {
    publicKey: key.publicKey,
    location: key.location,
    sign: (hash, data) => active(async () => (await current()).sign(hash, data)),
  };
  opened.set(id, reopenable);
  return reopenable;
}

async function openTokenKeyNow(opts: TokenKeyOptions, publicKey?: KeyObject): Promise<CaKey> {
  const t = await openToken(opts);
  const { p11, session, label, uri } = t;
  try {
    const found = findObjects(p11, session, keyTemplate(uri, CKO_PRIVATE_KEY));
    if (found.length === 0) {
      throw new PkiError(
        'not-found',
        `No private key matching ${objectText(uri)} in token "${label}"; list its keys with \`p11tool --list-privkeys --login\` or \`pkcs11-tool --list-objects --login\`.`,
      );
    }
    if (found.length > 1) {
      throw new PkiError(
        'unsupported',
        `${found.length} private keys match ${objectText(uri)} in token "${label}"; add id= to the URI to name one.`,
      );
    }
    const handle = found[0]!;
    let pub = publicKey;
    if (!pub) {
      const pubs = findObjects(p11, session, keyTemplate(uri, CKO_PUBLIC_KEY));
      pub = pubs.length === 1 ? publicKeyOf(p11, session, pubs[0]!) : undefined;
      if (!pub) {
        throw new PkiError(
          'not-found',
          `Token "${label}" holds no public key for ${objectText(uri)}, so certdesk cannot tell the key's type; import the CA with its certificate (ca import --cert).`,
        );
      }
    }
    const key = tokenCaKey(t, handle, pub, opts.pin);
    const challenge = randomBytes(32);
    const hash = pub.asymmetricKeyType === 'rsa' ? 'sha256' : hashForCurve(pub);
    const sig = await key.sign(hash, challenge);
    if (!verify(hash, challenge, pub, sig)) {
      throw new PkiError(
        'bad-key',
        `The key ${formatPkcs11Uri(uri)} does not belong to the CA certificate; name the token key that matches it.`,
      );
    }
    return key;
  } catch (err) {
    try {
      p11.C_CloseSession(session);
    } catch {
      // Gone already.
    }
    throw err;
  }
}

function hashForCurve(pub: KeyObject): string {
  const c = pub.asymmetricKeyDetails?.namedCurve;
  return c === 'secp384r1' ? 'sha384' : c === 'secp521r1' ? 'sha512' : 'sha256';
}

/** A CaKey that signs in the token: a few sessions, each signing one request at a time on libuv's threadpool. */
function tokenCaKey(t: OpenToken, handle: Handle, publicKey: KeyObject, pinSource: PinSource): CaKey {
  const { p11, slot, label } = t;
  const rsa = publicKey.asymmetricKeyType === 'rsa';
  const alwaysAuth = attr(p11, t.session, handle, CKA_ALWAYS_AUTHENTICATE)?.[0] === 1;
  // A key with CKA_ALWAYS_AUTHENTICATE (PIV slot 9c) needs the PIN for each signature: asked once, then held.
  let heldPin: Promise<string | undefined> | undefined;
  const idle: Handle[] = [t.session];
  let open = 1;
  const waiting: Array<(s: Handle) => void> = [];
  const MAX_SESSIONS = 4;
  const acquire = (): Promise<Handle> => {
    const s = idle.pop();
    if (s) return Promise.resolve(s);
    if (open < MAX_SESSIONS) {
      try {
        const fresh = p11.C_OpenSession(slot, CKF_SERIAL_SESSION);
        open++;
        return Promise.resolve(fresh);
      } catch (err) {
        if (open === 0) return Promise.reject(tokenError(err, label, 'open a session'));
      }
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (s: Handle) => {
    const next = waiting.shift();
    if (next) next(s);
    else idle.push(s);
  };
  const uri = formatPkcs11Uri({ ...t.uri, modulePath: undefined } as Pkcs11Uri);
  return {
    publicKey,
    location: { kind: 'pkcs11', uri },
    sign: (hash, data) =>
      active(async () => {
        const name = hash ?? 'sha256';
        const digest = createHash(name).update(data).digest();
        const input = rsa ? Buffer.concat([DIGEST_INFO[name] ?? Buffer.alloc(0), digest]) : digest;
        const session = await acquire();
        try {
          p11.C_SignInit(session, { mechanism: rsa ? CKM_RSA_PKCS : CKM_ECDSA }, handle);
          if (alwaysAuth) {
            heldPin ??= pinSource(label);
            const pin = await heldPin;
            try {
              p11.C_Login(session, CKU_CONTEXT_SPECIFIC, pin);
            } catch (err) {
              heldPin = undefined;
              throw pinFailure(p11, slot, err, label);
            }
          }
          const sig = await new Promise<Buffer>((resolve, reject) =>
            p11.C_Sign(session, input, Buffer.alloc(1024), (err, out) => (err ? reject(err) : resolve(out))),
          );
          return rsa ? sig : ecdsaDer(sig);
        } catch (err) {
          throw tokenError(err, label, 'sign');
        } finally {
          release(session);
        }
      }),
  };
}

/** PKCS#11's ECDSA signature (r ‖ s, each the curve's size) as X.509's DER SEQUENCE { r INTEGER, s INTEGER }. */
function ecdsaDer(raw: Buffer): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}

/**
 * Generates a key pair inside the token, the private key non-extractable and sensitive, labelled with the URI's
 * object= (and id=, else a random 16-byte id). Refuses a label or id already in use. Returns the key, ready to sign,
 * and the URI that names it exactly (token, object, id).
 */
export function generateTokenKey(opts: TokenKeyOptions, spec: KeySpec): Promise<{ key: CaKey; uri: string }> {
  return active(() => generateTokenKeyNow(opts, spec));
}

async function generateTokenKeyNow(opts: TokenKeyOptions, spec: KeySpec): Promise<{ key: CaKey; uri: string }> {
  const t = await openToken(opts, true);
  const { p11, session, label, uri } = t;
  try {
    if (!uri.attrs.object) throw badUri('a key made in the token needs a name: add object=NAME');
    const taken = findObjects(p11, session, [{ type: CKA_LABEL, value: uri.attrs.object }]).length
      ? `object=${uri.attrs.object}`
      : uri.id && findObjects(p11, session, [{ type: CKA_ID, value: Buffer.from(uri.id) }]).length
        ? `id=${Buffer.from(uri.id).toString('hex')}`
        : undefined;
    if (taken) {
      throw new PkiError(
        'unsupported',
        `Token "${label}" already holds an object with ${taken}; choose another name, or register that key with \`ca init --use-existing-key\` or \`ca import --key-uri\`.`,
      );
    }
    const id = uri.id ?? randomBytes(16);
    const common: Attr[] = [
      { type: CKA_TOKEN, value: true },
      { type: CKA_LABEL, value: uri.attrs.object },
      { type: CKA_ID, value: Buffer.from(id) },
    ];
    let mechanism: number;
    const pubT: Attr[] = [...common, { type: CKA_CLASS, value: CKO_PUBLIC_KEY }, { type: CKA_VERIFY, value: true }];
    const privT: Attr[] = [
      ...common,
      { type: CKA_CLASS, value: CKO_PRIVATE_KEY },
      { type: CKA_PRIVATE, value: true },
      { type: CKA_SENSITIVE, value: true },
      { type: CKA_EXTRACTABLE, value: false },
      { type: CKA_SIGN, value: true },
    ];
    if (spec.algo === 'ecdsa') {
      const curve = CURVES[CURVE_BY_BITS[spec.size] ?? ''];
      if (!curve)
        throw new PkiError('unsupported', `ECDSA keys of ${spec.size} bits are not supported; use 256, 384 or 521.`);
      mechanism = CKM_EC_KEY_PAIR_GEN;
      pubT.push({ type: CKA_KEY_TYPE, value: CKK_EC }, { type: CKA_EC_PARAMS, value: curve.oid });
      privT.push({ type: CKA_KEY_TYPE, value: CKK_EC });
    } else {
      if (![2048, 3072, 4096].includes(spec.size))
        throw new PkiError(
          'unsupported',
          `RSA keys of ${spec.size} bits cannot be made in a token here; use 2048, 3072 or 4096.`,
        );
      mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pubT.push(
        { type: CKA_KEY_TYPE, value: CKK_RSA },
        { type: CKA_MODULUS_BITS, value: spec.size },
        { type: CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      );
      privT.push({ type: CKA_KEY_TYPE, value: CKK_RSA });
    }
    let pair: { publicKey: Handle; privateKey: Handle };
    try {
      pair = p11.C_GenerateKeyPair(session, { mechanism }, pubT, privT);
    } catch (err) {
      throw tokenError(err, label, 'generate the key pair');
    }
    const pub = publicKeyOf(p11, session, pair.publicKey);
    if (!pub) throw new PkiError('unsupported', `Token "${label}" made a key whose public half certdesk cannot read.`);
    const named: Pkcs11Uri = { attrs: { token: trim(t.info.label), object: uri.attrs.object }, id };
    if (uri.attrs.serial) named.attrs.serial = uri.attrs.serial;
    return { key: tokenCaKey({ ...t, uri: named }, pair.privateKey, pub, opts.pin), uri: formatPkcs11Uri(named) };
  } catch (err) {
    try {
      p11.C_CloseSession(session);
    } catch {
      // Gone already.
    }
    throw err;
  }
}

/** CKA_SENSITIVE and CKA_EXTRACTABLE of the key the URI names (for `ca show` and the tests). */
export function tokenKeyProtection(opts: TokenKeyOptions): Promise<{ sensitive: boolean; extractable: boolean }> {
  return active(() => tokenKeyProtectionNow(opts));
}

async function tokenKeyProtectionNow(opts: TokenKeyOptions): Promise<{ sensitive: boolean; extractable: boolean }> {
  const t = await openToken(opts);
  try {
    const [h] = findObjects(t.p11, t.session, keyTemplate(t.uri, CKO_PRIVATE_KEY));
    if (!h) throw new PkiError('not-found', `No private key matching ${objectText(t.uri)} in token "${t.label}".`);
    return {
      sensitive: attr(t.p11, t.session, h, CKA_SENSITIVE)?.[0] === 1,
      extractable: attr(t.p11, t.session, h, CKA_EXTRACTABLE)?.[0] === 1,
    };
  } finally {
    t.p11.C_CloseSession(t.session);
  }
}

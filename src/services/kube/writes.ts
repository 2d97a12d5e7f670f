// Reads and writes of CSRs, Secrets and ConfigMaps with kubectl's rules, each returning a typed KubeResult.
// Subresource writes replace the whole object: read, change, PUT with the read UID and resourceVersion. A write is
// bound to the object it was decided on (CsrBinding): a 409 never moves it to another object (docs/safety.md).
import type { V1CertificateSigningRequest, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { terminalSafe } from '../text/sanitize.js';
import type {
  AppliedConfigMap,
  AppliedSecret,
  ApplyOptions,
  ApprovalOptions,
  ClusterContext,
  CsrBinding,
  CsrWriteOutcome,
  UploadOptions,
  PendingWrite,
  WriteHook,
} from './api-types.js';
import { deserialize, type ModelSet } from './deserialize.js';
import { configMapType, csrType, secretType } from './models-csr.js';
import { fail, KubeHttpError, ok, refused, toKubeError, withRetry } from './errors.js';
import { getIfPresent, type RawObject } from './list.js';
import { requestJson, watchStream } from './transport.js';
import type { KubeError, KubeResult } from './types.js';

export const CERTDESK_APPROVE_REASON = 'CertdeskApprove';
export const CERTDESK_APPROVE_MESSAGE = 'This CSR was approved by certdesk.';
export const CERTDESK_DENY_REASON = 'CertdeskDeny';
export const CERTDESK_DENY_MESSAGE = 'This CSR was denied by certdesk.';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** kubectl retries approval conflicts up to 10 times. */
const CONFLICT_ATTEMPTS = 10;

interface RawCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

interface RawCsr {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  spec: { signerName?: string; [k: string]: unknown };
  status?: { conditions?: RawCondition[]; certificate?: string; [k: string]: unknown };
  [k: string]: unknown;
}

function csrPath(name: string, sub?: 'approval' | 'status'): string {
  return `${CSR_PATH}/${encodeURIComponent(name)}${sub ? `/${sub}` : ''}`;
}

function nowTime(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function quoted(name: string): string {
  return `"${terminalSafe(name, { maxLength: 120 })}"`;
}

function rawHas(csr: RawCsr, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type);
}

function toCsr(raw: RawCsr): V1CertificateSigningRequest {
  return deserialize<V1CertificateSigningRequest>(raw, csrType);
}

async function readRaw(ctx: ClusterContext, name: string): Promise<KubeResult<RawCsr>> {
  return withRetry(() => requestJson<RawCsr>(ctx, { path: csrPath(name) }), { context: ctx.name });
}

function isConflict(error: KubeError): boolean {
  return error.kind === 'conflict';
}

/** Reads one CSR. */
export async function getCsr(ctx: ClusterContext, name: string): Promise<KubeResult<V1CertificateSigningRequest>> {
  const r = await readRaw(ctx, name);
  return r.ok ? ok(toCsr(r.value)) : r;
}

/** Lists CSRs (all pages), optionally for one signer (field selector spec.signerName). */
export async function listCsrs(
  ctx: ClusterContext,
  options: { signerName?: string } = {},
): Promise<KubeResult<V1CertificateSigningRequest[]>> {
  return withRetry(
    async () => {
      const out: V1CertificateSigningRequest[] = [];
      let cont: string | undefined;
      do {
        const page = await requestJson<{ metadata?: { continue?: string }; items?: RawCsr[] }>(ctx, {
          path: CSR_PATH,
          query: {
            limit: 500,
            continue: cont,
            fieldSelector: options.signerName ? `spec.signerName=${options.signerName}` : undefined,
          },
          timeoutMs: 60_000,
        });
        for (const item of page.items ?? []) out.push(toCsr(item));
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return out;
    },
    { context: ctx.name },
  );
}

export type WriteStep<R, T> = { put: R } | { result: KubeResult<T> };

/** An object a bound write reads and PUTs: its metadata is all boundWrite looks at. */
export interface BoundObject {
  metadata: { uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Where a bound write reads and writes, and how it names the object in its sentences. */
export interface WriteTarget<R extends BoundObject> {
  read(): Promise<KubeResult<R>>;
  /** The PUT's path (a subresource: /approval, /status). */
  putPath: string;
  /** e.g. `Certificate signing request "x"`, `PodCertificateRequest "ns/x"` (terminal-safe). */
  what: string;
  /** Runs around the PUT (an export's audit: auditedWrites). */
  onWrite?: WriteHook;
}

/** The object was deleted, or deleted and re-created under its name, after it was checked: never acted on. */
export function objectReplaced(ctx: ClusterContext, what: string, uid: string, now: string | undefined): KubeError {
  return refused(
    now
      ? `${what} was replaced after it was checked (UID ${uid} is gone, ${terminalSafe(now)} is there now); nothing was written: check the new request before acting on it.`
      : `${what} was deleted after it was checked (UID ${uid}); nothing was written.`,
    'Replaced',
    ctx.name,
  );
}

export function csrReplaced(ctx: ClusterContext, name: string, uid: string, now: string | undefined): KubeError {
  return objectReplaced(ctx, `Certificate signing request ${quoted(name)}`, uid, now);
}

/** Same object, newer resourceVersion: the caller evaluates it again before deciding again. */
function changed(ctx: ClusterContext, what: string): KubeError {
  return {
    kind: 'conflict',
    status: 409,
    reason: 'Changed',
    message: `${what} changed after it was checked; check it again before acting on it.`,
    context: ctx.name,
  };
}

function csrTarget(ctx: ClusterContext, name: string, sub: 'approval' | 'status'): WriteTarget<RawCsr> {
  return {
    read: () => readRaw(ctx, name),
    putPath: csrPath(name, sub),
    what: `Certificate signing request ${quoted(name)}`,
  };
}

/**
 * One subresource write bound to an object. The PUT body is the object as read, so it carries its metadata.uid
 * (a precondition for the server) and its resourceVersion (the optimistic lock). Bound (`bind`): the read must be
 * that very object, there is one attempt, and a 409 ends in Replaced (another UID, or none) or Changed (same UID,
 * newer version: the caller re-evaluates). Unbound: bound to the first read; a 409 re-reads and re-applies the
 * state rules to the same UID only (up to kubectl's 10 attempts).
 */
export async function boundWrite<R extends BoundObject, T>(
  ctx: ClusterContext,
  target: WriteTarget<R>,
  bind: CsrBinding | undefined,
  step: (object: R) => WriteStep<R, T>,
  done: (written: R) => T,
): Promise<KubeResult<T>> {
  const { what } = target;
  let uid = bind?.uid;
  let last: KubeError | undefined;
  for (let attempt = 0; attempt < (bind ? 1 : CONFLICT_ATTEMPTS); attempt++) {
    const read = await target.read();
    if (!read.ok)
      return uid && read.error.kind === 'not-found' ? fail(objectReplaced(ctx, what, uid, undefined)) : read;
    const object = read.value;
    const readUid = typeof object.metadata.uid === 'string' ? object.metadata.uid : '';
    if (uid && readUid !== uid) return fail(objectReplaced(ctx, what, uid, readUid));
    uid = readUid;
    if (bind && object.metadata.resourceVersion !== bind.resourceVersion) return fail(changed(ctx, what));
    const next = step(object);
    if ('result' in next) return next.result;
    const put = () =>
      withRetry(() => requestJson<R>(ctx, { method: 'PUT', path: target.putPath, body: next.put }), {
        context: ctx.name,
      });
    const written = target.onWrite
      ? ((await hooked(
          target.onWrite,
          { op: 'update', path: target.putPath, uid: readUid, resourceVersion: object.metadata.resourceVersion ?? '' },
          put as () => Promise<KubeResult<RawObject>>,
        )) as KubeResult<R>)
      : await put();
    if (written.ok) return ok(done(written.value));
    last = written.error;
    if (!isConflict(written.error)) return fail(written.error);
  }
  if (bind && uid) {
    const again = await target.read();
    if (!again.ok && again.error.kind !== 'not-found') return again;
    const now = again.ok && typeof again.value.metadata.uid === 'string' ? again.value.metadata.uid : undefined;
    return fail(now === uid ? changed(ctx, what) : objectReplaced(ctx, what, uid, now));
  }
  return fail(last ?? toKubeError(new Error('conflict'), ctx.name));
}

async function setApproval(
  ctx: ClusterContext,
  name: string,
  type: 'Approved' | 'Denied',
  options: ApprovalOptions,
): Promise<KubeResult<CsrWriteOutcome>> {
  const opposite = type === 'Approved' ? 'Denied' : 'Approved';
  const reason = options.reason ?? (type === 'Approved' ? CERTDESK_APPROVE_REASON : CERTDESK_DENY_REASON);
  const message = options.message ?? (type === 'Approved' ? CERTDESK_APPROVE_MESSAGE : CERTDESK_DENY_MESSAGE);
  return boundWrite<RawCsr, CsrWriteOutcome>(
    ctx,
    csrTarget(ctx, name, 'approval'),
    options.bind,
    (csr) => {
      if (rawHas(csr, opposite)) {
        const verb = type === 'Approved' ? 'approve' : 'deny';
        return {
          result: fail(
            refused(
              `Certificate signing request ${quoted(name)} is already ${opposite}; a decision cannot be reversed, so certdesk will not ${verb} it (ask the requester for a new CSR).`,
              `Already${opposite}`,
              ctx.name,
            ),
          ),
        };
      }
      const conditions = [...(csr.status?.conditions ?? [])];
      const index = conditions.findIndex((c) => c.type === type);
      if (index >= 0 && !options.force) return { result: ok({ csr: toCsr(csr), changed: false }) };
      const condition: RawCondition = { type, status: 'True', reason, message, lastUpdateTime: nowTime() };
      if (index >= 0) conditions[index] = { ...conditions[index]!, ...condition };
      else conditions.push(condition);
      return { put: { ...csr, status: { ...csr.status, conditions } } };
    },
    (written) => ({ csr: toCsr(written), changed: true }),
  );
}

/** Adds Approved through /approval; refuses a Denied CSR; no write when already Approved unless force. */
export async function approveCsr(
  ctx: ClusterContext,
  name: string,
  options: ApprovalOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  return setApproval(ctx, name, 'Approved', options);
}

/** Adds Denied through /approval; refuses an Approved CSR; no write when already Denied unless force. */
export async function denyCsr(
  ctx: ClusterContext,
  name: string,
  options: ApprovalOptions = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  return setApproval(ctx, name, 'Denied', options);
}

function signingRefusal(
  ctx: ClusterContext,
  name: string,
  csr: RawCsr,
  allowUnapproved: boolean,
): KubeError | undefined {
  if (csr.status?.certificate) {
    return refused(
      `Certificate signing request ${quoted(name)} already has a certificate; certdesk never replaces an issued certificate.`,
      'AlreadyIssued',
      ctx.name,
    );
  }
  if (rawHas(csr, 'Denied')) {
    return refused(`Certificate signing request ${quoted(name)} is Denied; it must not be signed.`, 'Denied', ctx.name);
  }
  if (rawHas(csr, 'Failed')) {
    return refused(
      `Certificate signing request ${quoted(name)} is marked Failed; it must not be signed (ask for a new CSR).`,
      'Failed',
      ctx.name,
    );
  }
  if (!allowUnapproved && !rawHas(csr, 'Approved')) {
    return refused(
      `Certificate signing request ${quoted(name)} is not Approved yet; approve it before signing.`,
      'NotApproved',
      ctx.name,
    );
  }
  return undefined;
}

/** Sets status.certificate through /status; refuses if one is there already, never overwrites. */
export async function uploadCertificate(
  ctx: ClusterContext,
  name: string,
  certificatePem: string,
  options: UploadOptions = {},
): Promise<KubeResult<V1CertificateSigningRequest>> {
  const certificate = Buffer.from(certificatePem, 'utf8').toString('base64');
  return boundWrite<RawCsr, V1CertificateSigningRequest>(
    ctx,
    csrTarget(ctx, name, 'status'),
    options.bind,
    (csr) => {
      const refusal = signingRefusal(ctx, name, csr, options.allowUnapproved ?? false);
      if (refusal) return { result: fail(refusal) };
      return { put: { ...csr, status: { ...csr.status, certificate } } };
    },
    toCsr,
  );
}

/** Adds Failed (status True) with reason and message through /status, as kube-controller-manager does. */
export async function markFailed(
  ctx: ClusterContext,
  name: string,
  reason: string,
  message: string,
  options: { bind?: CsrBinding } = {},
): Promise<KubeResult<CsrWriteOutcome>> {
  return boundWrite<RawCsr, CsrWriteOutcome>(
    ctx,
    csrTarget(ctx, name, 'status'),
    options.bind,
    (csr) => {
      if (rawHas(csr, 'Failed')) return { result: ok({ csr: toCsr(csr), changed: false }) };
      if (csr.status?.certificate) {
        return {
          result: fail(
            refused(
              `Certificate signing request ${quoted(name)} already has a certificate; it cannot be marked Failed.`,
              'AlreadyIssued',
              ctx.name,
            ),
          ),
        };
      }
      const conditions = [
        ...(csr.status?.conditions ?? []),
        { type: 'Failed', status: 'True', reason, message, lastUpdateTime: nowTime() },
      ];
      return { put: { ...csr, status: { ...csr.status, conditions } } };
    },
    (written) => ({ csr: toCsr(written), changed: true }),
  );
}

/** Creates a CSR (metadata.generateName allowed). Only 429 is retried: a create that may have happened is not repeated. */
export async function createCsr(
  ctx: ClusterContext,
  body: V1CertificateSigningRequest,
  options: Pick<ApplyOptions, 'onWrite'> = {},
): Promise<KubeResult<V1CertificateSigningRequest>> {
  const payload = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', ...body };
  const name = body.metadata?.name;
  const r = await hooked(options.onWrite, { op: 'create', path: name ? csrPath(name) : CSR_PATH }, () =>
    withRetry(() => requestJson<RawObject>(ctx, { method: 'POST', path: CSR_PATH, body: payload }), {
      context: ctx.name,
      retryable: (e) => e.kind === 'too-many-requests',
    }),
  );
  return r.ok ? ok(toCsr(r.value as unknown as RawCsr)) : r;
}

/**
 * Deletes a CSR. Bound (`bind`): only that object, by the DELETE's preconditions (uid and resourceVersion); a 409
 * or 404 ends in Replaced (another UID, or none) or Changed (same UID, newer version: the caller checks it again),
 * and only 429 is retried (a delete that may have happened is not repeated).
 */
export async function deleteCsr(
  ctx: ClusterContext,
  name: string,
  options: { bind?: CsrBinding } = {},
): Promise<KubeResult<void>> {
  const { bind } = options;
  const body = bind ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: bind } : undefined;
  const r = await withRetry(() => requestJson(ctx, { method: 'DELETE', path: csrPath(name), body }), {
    context: ctx.name,
    ...(bind ? { retryable: (e: KubeError) => e.kind === 'too-many-requests' } : {}),
  });
  if (r.ok) return ok(undefined);
  if (!bind || (r.error.kind !== 'conflict' && r.error.kind !== 'not-found')) return r;
  const now = await readRaw(ctx, name);
  if (!now.ok) return now.error.kind === 'not-found' ? fail(csrReplaced(ctx, name, bind.uid, undefined)) : r;
  const uid = now.value.metadata.uid;
  if (uid !== bind.uid) return fail(csrReplaced(ctx, name, bind.uid, uid ?? ''));
  return fail(changed(ctx, `Certificate signing request ${quoted(name)}`));
}

/** Watches one CSR until `until(csr)` is true (e.g. issued), or the deadline; a deletion while waiting is not-found. */
export async function waitForCsr(
  ctx: ClusterContext,
  name: string,
  until: (csr: V1CertificateSigningRequest) => boolean,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<KubeResult<V1CertificateSigningRequest>> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const fieldSelector = `metadata.name=${name}`;
  try {
    while (!abort.signal.aborted) {
      const listed = await withRetry(
        () =>
          requestJson<{ metadata?: { resourceVersion?: string }; items?: RawCsr[] }>(ctx, {
            path: CSR_PATH,
            query: { fieldSelector },
            signal: abort.signal,
          }),
        { context: ctx.name, signal: abort.signal },
      );
      if (!listed.ok) {
        if (abort.signal.aborted) break;
        return listed;
      }
      const item = listed.value.items?.[0];
      if (!item) {
        return fail({
          kind: 'not-found',
          status: 404,
          message: `Certificate signing request ${quoted(name)} does not exist in context ${terminalSafe(ctx.name)}; it may have been deleted.`,
          context: ctx.name,
        });
      }
      let current = toCsr(item);
      if (until(current)) return ok(current);
      let resourceVersion = listed.value.metadata?.resourceVersion;
      let matched: V1CertificateSigningRequest | undefined;
      let deleted = false;
      try {
        while (!abort.signal.aborted && !matched && !deleted) {
          await watchStream(
            ctx,
            {
              path: CSR_PATH,
              query: {
                fieldSelector,
                resourceVersion,
                allowWatchBookmarks: true,
                timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000)),
              },
              signal: abort.signal,
            },
            (event) => {
              if (event.type === 'ERROR') {
                const status = event.object as { code?: number };
                throw new KubeHttpError(status.code ?? 500, event.object);
              }
              const rv = (event.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
              if (rv) resourceVersion = rv;
              if (event.type === 'BOOKMARK') return;
              if (event.type === 'DELETED') {
                deleted = true;
                throw new KubeHttpError(404, { message: 'deleted' });
              }
              current = toCsr(event.object as RawCsr);
              if (until(current)) {
                matched = current;
                throw new KubeHttpError(200, undefined);
              }
            },
          );
        }
      } catch (err) {
        if (matched) return ok(matched);
        if (deleted) {
          return fail({
            kind: 'not-found',
            status: 404,
            message: `Certificate signing request ${quoted(name)} was deleted while certdesk waited for it.`,
            context: ctx.name,
          });
        }
        if (abort.signal.aborted) break;
        const error = toKubeError(err, ctx.name);
        if (error.kind !== 'gone' && error.kind !== 'unreachable' && error.kind !== 'timeout') return fail(error);
        // relist and continue
      }
    }
    return fail({
      kind: 'timeout',
      message: `Certificate signing request ${quoted(name)} did not reach the expected state within ${Math.round(timeoutMs / 1000)}s.`,
      context: ctx.name,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Sends one write with the caller's hook around it (the audit intent before, the outcome after). */
/** Sends a write with the audit hook around it (the intent before, the outcome after). */
export async function hooked(
  hook: WriteHook | undefined,
  step: PendingWrite,
  send: () => Promise<KubeResult<RawObject>>,
): Promise<KubeResult<RawObject>> {
  const after = await hook?.(step);
  const result = await send();
  await after?.(result);
  return result;
}

async function applyObject<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }>(
  ctx: ClusterContext,
  namespace: string,
  plural: 'secrets' | 'configmaps',
  kind: 'Secret' | 'ConfigMap',
  object: T,
  options: ApplyOptions,
  typeName: ModelSet,
): Promise<KubeResult<{ object: T; action: 'created' | 'updated' }>> {
  const name = object.metadata?.name ?? '';
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const where = `${quoted(`${namespace}/${name}`)} in context ${terminalSafe(ctx.name)}`;
  const body = {
    apiVersion: 'v1',
    kind,
    ...object,
    metadata: { ...object.metadata, namespace },
  };
  let last: KubeError | undefined;
  // Overwriting reads first, so that the PUT names the object it replaces (its uid and resourceVersion); a create
  // or update that loses a race is decided again on a fresh read.
  for (let attempt = 0; attempt < 5; attempt++) {
    let existing: RawObject | undefined;
    if (options.overwrite) {
      const read = await getIfPresent(ctx, path);
      if (!read.ok) return read;
      existing = read.value;
    }
    if (!existing) {
      const created = await hooked(options.onWrite, { op: 'create', path }, () =>
        withRetry(() => requestJson<RawObject>(ctx, { method: 'POST', path: collection, body }), {
          context: ctx.name,
          retryable: (e) => e.kind === 'too-many-requests',
        }),
      );
      if (created.ok) return ok({ object: deserialize<T>(created.value, typeName), action: 'created' });
      if (created.error.kind !== 'already-exists') return created;
      if (!options.overwrite) {
        return fail({
          ...created.error,
          message: `${kind} ${where} already exists; allow overwriting (--overwrite) to replace it.`,
        });
      }
      last = created.error;
      continue;
    }
    const existingType = (existing as { type?: string }).type;
    const wantedType = (object as { type?: string }).type;
    if (kind === 'Secret' && existingType && wantedType && existingType !== wantedType) {
      return fail(
        refused(
          `Secret ${where} has type ${terminalSafe(existingType)}, not ${terminalSafe(wantedType)}; a Secret's type cannot change, so delete it first.`,
          'TypeMismatch',
          ctx.name,
        ),
      );
    }
    const { uid, resourceVersion } = (existing.metadata ?? {}) as { uid?: string; resourceVersion?: string };
    const update = { ...body, metadata: { ...body.metadata, uid, resourceVersion } };
    const written = await hooked(options.onWrite, { op: 'update', path, uid, resourceVersion }, () =>
      withRetry(() => requestJson<RawObject>(ctx, { method: 'PUT', path, body: update }), { context: ctx.name }),
    );
    if (written.ok) return ok({ object: deserialize<T>(written.value, typeName), action: 'updated' });
    last = written.error;
    // Changed or replaced since the read (409), or deleted (404): read again and decide again.
    if (!isConflict(written.error) && written.error.kind !== 'not-found') return written;
  }
  return fail(last ?? toKubeError(new Error('conflict'), ctx.name));
}

/** Creates the Secret, or replaces it when it exists and overwrite is set; else kind 'already-exists'. */
export async function applySecret(
  ctx: ClusterContext,
  namespace: string,
  secret: V1Secret,
  options: ApplyOptions = {},
): Promise<KubeResult<AppliedSecret>> {
  return applyObject(ctx, namespace, 'secrets', 'Secret', secret, options, secretType);
}

/** Creates the ConfigMap, or replaces it when it exists and overwrite is set; else kind 'already-exists'. */
export async function applyConfigMap(
  ctx: ClusterContext,
  namespace: string,
  configMap: V1ConfigMap,
  options: ApplyOptions = {},
): Promise<KubeResult<AppliedConfigMap>> {
  return applyObject(ctx, namespace, 'configmaps', 'ConfigMap', configMap, options, configMapType);
}

// Runs the effects the reducer queues (approve, deny, delete, sign, export, reconnect) through the shared actions in
// services/actions, which apply the rules and write the audit log; returns one status sentence for the footer.
import { PEM_FILE_LIMIT, readBoundedText } from '../services/files/read-bounded.js';
import { stringify } from 'yaml';
import {
  approveAndSignCsr,
  approveWithAudit,
  buildKubeconfigForCsr,
  deleteWithAudit,
  denyWithAudit,
  exportCaConfigMap,
  exportTlsSecret,
  signCsr,
} from '../services/actions/index.js';
import { decidePcr, signPcr } from '../services/actions/pcr.js';
import { exportTrustBundle } from '../services/actions/trust-bundle.js';
import { podCertificateApis } from '../services/kube/pod-certificates.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { appendAudit, readAudit } from '../services/config/audit.js';
import { type PolicyTrial, policyTest, policyTestNote } from '../services/actions/policy-test.js';
import { FileExistsError, writeFileSafely } from '../services/export/write-file.js';
import type { ClusterContext, ClusterStore, KubeResult } from '../services/kube/index.js';
import { type ClusterFacts, loadPolicy, type Policy } from '../services/policy/index.js';
import type { Tone } from '../views/models.js';
import type { CsrRef, Effect, PcrTarget, PcrVerb } from './store.js';
import { caRegistry } from './lazy.js';
import { SecretNeeded, type SigningCa, signingCa } from './signing-ca.js';

export interface EffectDeps {
  contexts: ReadonlyMap<string, ClusterContext>;
  store: Pick<ClusterStore, 'reconnect' | 'snapshot'>;
  policy?: Policy;
  registryDir?: string;
  /** Called after a write so findings are re-evaluated. */
  invalidate?: (context: string, name: string) => void;
  /** What else the findings gate knows of a context (the same facts as inspect's). */
  cluster?: (context: string) => ClusterFacts;
}

export interface EffectStatus {
  text: string;
  tone: Tone;
  /** `:policy test FILE`: the dry run, kept in the state and shown in the Health pane. */
  trial?: PolicyTrial;
  /** CA key secrets needed and not typed (SecretNeeded): signer, the words to ask with. */
  ask?: Array<[signer: string, needs: string]>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function perTarget<T>(
  targets: CsrRef[],
  deps: EffectDeps,
  run: (ctx: ClusterContext, ref: CsrRef) => Promise<KubeResult<T>>,
  done: (ok: number, total: number) => string,
): Promise<EffectStatus> {
  let ok = 0;
  const errors: string[] = [];
  for (const ref of targets) {
    const ctx = deps.contexts.get(ref.context);
    if (!ctx) {
      errors.push(`context ${ref.context} is not loaded`);
      continue;
    }
    try {
      const result = await run(ctx, ref);
      if (result.ok) ok++;
      else errors.push(result.error.message);
    } catch (err) {
      errors.push(message(err));
    }
    deps.invalidate?.(ref.context, ref.name);
  }
  const first = errors[0];
  if (!first) return { text: done(ok, targets.length), tone: 'ok' };
  const more = errors.length > 1 ? ` (${errors.length - 1} more failed)` : '';
  return { text: `${done(ok, targets.length)} ${first}${more}`, tone: ok > 0 ? 'warn' : 'bad' };
}

const count = (ok: number, total: number, verb: string) =>
  total === 1 ? (ok === 1 ? `${verb}.` : `Not ${verb.toLowerCase()}:`) : `${verb} ${ok} of ${total}.`;

/** The signer's CA, loaded once per effect (a failure too: a wrong PIN is tried once, not once per CSR), its key
 * unlocked with the secret typed in the dialog when it asks for one. */
function caFor(
  signer: string,
  deps: EffectDeps,
  cache: Map<string, Promise<SigningCa>>,
  secrets: Record<string, string> = {},
): Promise<SigningCa> {
  let loading = cache.get(signer);
  if (!loading) {
    loading = signingCa(signer, deps.registryDir, { secret: secrets[signer] });
    cache.set(signer, loading);
  }
  return loading;
}

/** The secrets the signers' keys asked for that the dialog had no field for: it comes back asking for them. */
async function asked(cache: Map<string, Promise<SigningCa>>): Promise<Array<[string, string]>> {
  const ask: Array<[string, string]> = [];
  for (const [signer, loading] of cache) {
    const err = await loading.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err instanceof SecretNeeded) ask.push([signer, err.needs]);
  }
  return ask;
}

/** The object the person confirmed (writes are bound to it), the codes the typed name accepted, and the
 * policy and pods the findings gate evaluates with (docs/safety.md). */
function bound(ref: CsrRef, deps: EffectDeps) {
  return {
    ...(ref.csr ? { csr: ref.csr } : {}),
    ...(ref.overrides ? { overrides: ref.overrides } : {}),
    ...(deps.policy ? { policy: deps.policy } : {}),
    pods: deps.store.snapshot(ref.context).pods.values(),
    ...(deps.cluster ? { cluster: deps.cluster(ref.context) } : {}),
  };
}

/** `:policy test FILE`: the dry run of `certdesk policy test` on the store's snapshots (nothing is written). */
async function tryPolicy(file: string, deps: EffectDeps): Promise<EffectStatus> {
  let policy: Policy;
  try {
    policy = await loadPolicy(file);
  } catch (err) {
    return { text: `${message(err).replace(/\.$/, '')}: nothing tried.`, tone: 'bad' };
  }
  const snapshots = [...deps.contexts.keys()].map((c) => deps.store.snapshot(c));
  const audit = await readAudit().catch(() => []);
  const { rows, judged, gone } = await policyTest(snapshots, policy, audit);
  const trial = { policy: policy.name, file, judged, gone, rows };
  return { text: policyTestNote(trial), tone: rows.length ? 'warn' : 'ok', trial };
}

export async function runEffect(effect: Effect, deps: EffectDeps): Promise<EffectStatus | undefined> {
  switch (effect.kind) {
    case 'approve':
      return perTarget(
        effect.targets,
        deps,
        (ctx, ref) => approveWithAudit(ctx, ref.name, bound(ref, deps)),
        (ok, total) => count(ok, total, 'Approved'),
      );
    case 'deny':
      return perTarget(
        effect.targets,
        deps,
        (ctx, ref) =>
          denyWithAudit(ctx, ref.name, {
            ...(ref.csr ? { csr: ref.csr } : {}),
            ...(effect.reason ? { reason: effect.reason } : {}),
            ...(effect.message ? { message: effect.message } : {}),
          }),
        (ok, total) => count(ok, total, 'Denied'),
      );
    case 'policy-test':
      return tryPolicy(effect.file, deps);
    case 'delete':
      return perTarget(
        effect.targets,
        deps,
        (ctx, ref) => deleteWithAudit(ctx, ref.name, ref.csr ? { csr: ref.csr } : {}),
        (ok, total) => count(ok, total, 'Deleted'),
      );
    case 'sign': {
      const cas = new Map<string, Promise<SigningCa>>();
      let failed = 0;
      const status = await perTarget(
        effect.targets,
        deps,
        async (ctx, ref) => {
          const signer = deps.store.snapshot(ref.context).csrs.get(ref.name)?.spec?.signerName ?? '';
          const { ca, profile } = await caFor(signer, deps, cas, effect.secrets);
          const options = { ca, signerName: signer, profile, ...bound(ref, deps) };
          const result = effect.approveFirst
            ? await approveAndSignCsr(ctx, ref.name, options)
            : await signCsr(ctx, ref.name, options);
          if (result.ok && result.value.kind === 'marked-failed') failed++;
          return result;
        },
        (ok, total) => count(ok - failed, total, effect.approveFirst ? 'Approved and signed' : 'Signed'),
      );
      const done: EffectStatus =
        failed > 0
          ? { text: `${status.text} ${failed} refused by the signer's rules and marked Failed.`, tone: 'warn' }
          : status;
      const ask = await asked(cas);
      return ask.length > 0 ? { ...done, ask } : done;
    }
    case 'export-secret': {
      const ctx = deps.contexts.get(effect.target.context);
      if (!ctx) return { text: `Context ${effect.target.context} is not loaded.`, tone: 'bad' };
      let keyPem: string;
      try {
        keyPem = await readBoundedText(effect.keyFile, { what: 'key', limit: PEM_FILE_LIMIT });
      } catch (err) {
        return { text: (err as Error).message, tone: 'bad' };
      }
      const result = await exportTlsSecret(ctx, {
        name: effect.name,
        namespace: effect.namespace,
        csrName: effect.target.name,
        ...(effect.target.csr ? { inspected: effect.target.csr } : {}),
        keyPem,
        dryRun: effect.outFile !== '',
      });
      if (!result.ok) return { text: result.error.message, tone: 'bad' };
      if (effect.outFile) {
        // The Secret holds a private key: the file is 0600.
        const refused = await writeNewFile(effect.outFile, stringify(result.value.object), 0o600);
        if (refused) return refused;
        await appendAudit({
          context: ctx.name,
          action: 'export-secret',
          csrName: effect.target.name,
          outcome: 'ok',
          detail: `secret ${effect.namespace}/${effect.name} written to ${effect.outFile}`,
        });
        return { text: `Secret ${effect.namespace}/${effect.name} written to ${effect.outFile} (0600).`, tone: 'ok' };
      }
      return { text: `Secret ${effect.namespace}/${effect.name} ${result.value.action}.`, tone: 'ok' };
    }
    case 'export-configmap': {
      const ctx = deps.contexts.get(effect.context);
      if (!ctx) return { text: `Context ${effect.context} is not loaded.`, tone: 'bad' };
      let caPem: string;
      try {
        const { caCertificatePem } = await caRegistry();
        caPem = await caCertificatePem(effect.signer, deps.registryDir ? { cwd: deps.registryDir } : {});
      } catch (err) {
        return { text: message(err), tone: 'bad' };
      }
      const result = await exportCaConfigMap(ctx, {
        name: effect.name,
        namespace: effect.namespace,
        caPem,
        signer: effect.signer,
        dryRun: effect.outFile !== '',
      });
      if (!result.ok) return { text: result.error.message, tone: 'bad' };
      if (effect.outFile) {
        const refused = await writeNewFile(effect.outFile, stringify(result.value.object), 0o644);
        if (refused) return refused;
        await appendAudit({
          context: ctx.name,
          action: 'export-configmap',
          signer: effect.signer,
          outcome: 'ok',
          detail: `configmap ${effect.namespace}/${effect.name} written to ${effect.outFile}`,
        });
        return { text: `ConfigMap ${effect.namespace}/${effect.name} written to ${effect.outFile}.`, tone: 'ok' };
      }
      return { text: `ConfigMap ${effect.namespace}/${effect.name} ${result.value.action}.`, tone: 'ok' };
    }
    case 'kubeconfig': {
      const ctx = deps.contexts.get(effect.target.context);
      if (!ctx) return { text: `Context ${effect.target.context} is not loaded.`, tone: 'bad' };
      let keyPem: string;
      try {
        keyPem = await readBoundedText(effect.keyFile, { what: 'key', limit: PEM_FILE_LIMIT });
      } catch (err) {
        return { text: message(err), tone: 'bad' };
      }
      const result = await buildKubeconfigForCsr(ctx, {
        csrName: effect.target.name,
        keyPem,
        out: effect.outFile,
        ...(effect.user ? { user: effect.user } : {}),
      });
      if (!result.ok) return { text: result.error.message, tone: 'bad' };
      return { text: `kubeconfig for user "${result.value.user}" written to ${effect.outFile} (0600).`, tone: 'ok' };
    }
    case 'reconnect':
      deps.store.reconnect(effect.context);
      return undefined;
    case 'pcr':
      return runPcrEffect(effect, deps);
    case 'export-trust-bundle': {
      const ctx = deps.contexts.get(effect.context);
      if (!ctx) return { text: `Context ${effect.context} is not loaded.`, tone: 'bad' };
      try {
        const apis = await podCertificateApis(ctx);
        if (!apis.ok) return { text: apis.error.message, tone: 'bad' };
        const version = apis.value.clusterTrustBundles;
        if (!version) return { text: `Context ${effect.context} does not serve ClusterTrustBundles.`, tone: 'bad' };
        const { caCertificatePem } = await caRegistry();
        const caPem = await caCertificatePem(effect.signer, deps.registryDir ? { cwd: deps.registryDir } : {});
        const r = await exportTrustBundle(ctx, {
          version,
          signerName: effect.signer,
          name: effect.name,
          caPem,
          ...(effect.removeOld ? { removeOld: true } : {}),
        });
        if (!r.ok) return { text: r.error.message, tone: 'bad' };
        const name = terminalSafe(r.value.ctb.metadata?.name ?? '');
        const rotation =
          r.value.kept.length > 1 ? ' (once no certificate of the old CA lives: E again, remove the others)' : '';
        return {
          text: `ClusterTrustBundle ${name} ${r.value.action} in ${terminalSafe(ctx.name)}: ${r.value.kept.length} CA(s)${rotation}.`,
          tone: 'ok',
        };
      } catch (err) {
        return { text: message(err), tone: 'bad' };
      }
    }
  }
}

const PCR_DONE: Record<PcrVerb, string> = { issue: 'Issued', deny: 'Denied', fail: 'Marked Failed' };

/** One PCR of a `s`, `x`, `f` in the PCR view: the same gated, audited actions as `certdesk sign|deny|fail pcr`, bound to the
 * object the dialog showed (its uid + resourceVersion). */
async function runPcrOne(
  effect: Extract<Effect, { kind: 'pcr' }>,
  target: PcrTarget,
  deps: EffectDeps,
  cas: Map<string, Promise<SigningCa>>,
): Promise<EffectStatus> {
  const { context, namespace, name, pcr, overrides } = target;
  const ctx = deps.contexts.get(context);
  if (!ctx) return { text: `Context ${context} is not loaded.`, tone: 'bad' };
  const what = `PodCertificateRequest ${terminalSafe(`${namespace}/${name}`, { maxLength: 200 })}`;
  try {
    const apis = await podCertificateApis(ctx);
    if (!apis.ok) return { text: apis.error.message, tone: 'bad' };
    const version = apis.value.podCertificateRequests;
    if (!version) return { text: `Context ${context} does not serve PodCertificateRequests.`, tone: 'bad' };
    const bound = pcr ? { pcr } : {};
    let result: KubeResult<unknown>;
    if (effect.verb === 'issue') {
      const signer = pcr?.spec?.signerName ?? '';
      const { ca } = await caFor(signer, deps, cas, effect.secrets);
      result = await signPcr(ctx, version, namespace, name, {
        ca,
        signerName: signer,
        ...bound,
        ...(overrides ? { overrides } : {}),
        ...(deps.policy ? { policy: deps.policy } : {}),
      });
    } else {
      const reason = effect.reason || (effect.verb === 'deny' ? 'CertdeskDeny' : 'CertdeskFailed');
      result = await decidePcr(effect.verb === 'deny' ? 'Denied' : 'Failed', ctx, version, namespace, name, {
        ...bound,
        reason,
        ...(effect.message ? { message: effect.message } : {}),
      });
    }
    if (!result.ok) return { text: result.error.message, tone: 'bad' };
    return { text: `${PCR_DONE[effect.verb]} ${what}.`, tone: 'ok' };
  } catch (err) {
    return { text: `${what}: ${message(err)}`, tone: 'bad' };
  }
}

/** `s`, `x`, `f` on one PCR or on the marked ones: each written on its own (its context, its object), in turn; one
 * sentence for all (`Issued 2 of 3.` and the first error). */
async function runPcrEffect(effect: Extract<Effect, { kind: 'pcr' }>, deps: EffectDeps): Promise<EffectStatus> {
  const cas = new Map<string, Promise<SigningCa>>();
  const status = await pcrStatus(effect, deps, cas);
  const ask = await asked(cas);
  return ask.length > 0 ? { ...status, ask } : status;
}

async function pcrStatus(
  effect: Extract<Effect, { kind: 'pcr' }>,
  deps: EffectDeps,
  cas: Map<string, Promise<SigningCa>>,
): Promise<EffectStatus> {
  const [only, ...more] = effect.targets;
  if (only && more.length === 0) return runPcrOne(effect, only, deps, cas);
  let ok = 0;
  const errors: string[] = [];
  for (const target of effect.targets) {
    const r = await runPcrOne(effect, target, deps, cas);
    if (r.tone === 'ok') ok++;
    else errors.push(r.text);
  }
  const done = count(ok, effect.targets.length, PCR_DONE[effect.verb]);
  if (!errors.length) return { text: done, tone: 'ok' };
  const rest = errors.length > 1 ? ` (${errors.length - 1} more failed)` : '';
  return { text: `${done} ${errors[0]}${rest}`, tone: ok > 0 ? 'warn' : 'bad' };
}

/** Writes a file the person named in a dialog; an existing file is never replaced (nothing is lost). */
async function writeNewFile(path: string, data: string, mode: number): Promise<EffectStatus | undefined> {
  try {
    await writeFileSafely(path, data, mode);
    return undefined;
  } catch (err) {
    if (err instanceof FileExistsError) {
      return { text: `${path} already exists; certdesk does not replace it: choose another file name.`, tone: 'bad' };
    }
    return { text: message(err), tone: 'bad' };
  }
}

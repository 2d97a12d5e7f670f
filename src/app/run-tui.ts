// Starts the TUI on a terminal: loads the contexts, starts the live store, enters the alternate screen, renders,
// and restores the terminal on every way out (quit, Ctrl-C, an error, SIGTERM/SIGHUP).
import { auditLogPath, readAudit } from '../services/config/audit.js';
import { configDir } from '../services/config/paths.js';
import { createClusterStore, loadContexts } from '../services/kube/index.js';
import { dnsChecksFor, type FactsSource, factsKey, factsOf, needsNodes } from '../services/actions/facts.js';
import { auditedRequests, loadPolicy, type Policy, RequestIndexCache } from '../services/policy/index.js';
import { InsightCache } from './insights.js';

export interface TuiOptions {
  /** A kubeconfig path (or path list); default: $KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** Contexts to show (repeatable --context); default: the current context. */
  contexts?: string[];
  allContexts?: boolean;
  /** Follow pods in this namespace only (-n). */
  namespace?: string;
  /** Colours; false with --no-color or NO_COLOR. @default true unless NO_COLOR is set */
  color?: boolean;
  /** A policy file for the findings; default: the built-in policy. */
  policyFile?: string;
  /** CA registry directory (tests). */
  registryDir?: string;
  /** `certdesk demo`: where its kubeconfig and jane's key are (shown in `?` and on the first frame). */
  demo?: { kubeconfig: string; janeKey: string };
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** Ink's frame throttle. Data redraws are already coalesced in app.tsx (at most ~5 a second), so this only bounds
 * how long a key press can wait behind the previous frame: 60 → at most 17 ms. */
export const MAX_FPS = 60;

const ENTER_ALT = '\x1b[?1049h\x1b[H\x1b[2J';
const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

/** React is CommonJS: Node's import() gives its exports both as named exports and as `default`; the bundle (React
 * inside, scripts/build.mjs) as `default` only. */
const loadReact = () => import('react').then((m) => m.default ?? m);

/**
 * The findings as the TUI makes them: the same facts as the controller's (services/actions facts.ts), the audit
 * log's decided keys set on `facts.audited` when read. bench/tui.bench.ts measures the same.
 */
export function tuiInsights(options: {
  store: FactsSource['store'] & Pick<ReturnType<typeof createClusterStore>, 'snapshot'>;
  policy: Policy;
  nodes: boolean;
  contexts?: ConstructorParameters<typeof InsightCache>[0]['contexts'];
  onChange: () => void;
}): { facts: FactsSource; insights: InsightCache } {
  const { store, policy, nodes } = options;
  // The policy's DNS check (opt-in): answers arrive in the background and the findings are made again.
  const dns = dnsChecksFor(policy, () => options.onChange());
  const facts: FactsSource = { store, index: new RequestIndexCache(), nodes, ...(dns ? { dns } : {}) };
  const insights = new InsightCache({
    policy,
    ...(options.contexts ? { contexts: options.contexts } : {}),
    pods: (context) => store.snapshot(context).pods.values(),
    podsListed: (context) => store.snapshot(context).synced,
    cluster: (context) => factsOf(facts, context).cluster,
    clusterKey: (context) => `${factsKey(facts, context)}/${facts.audited ? 'a' : ''}`,
    onChange: options.onChange,
  });
  return { facts, insights };
}

/**
 * Ends the process soon after the TUI has: a context whose server accepts connections and never answers keeps a
 * request (and its deadline, up to the connect and request timeouts) open after everything was stopped, and the
 * person who quit should not wait for it. Nothing is left to do by then (quit waits for running actions, and every
 * write is audited before it is made); the timer does not itself keep the process alive.
 */
export function exitSoonAfterTui(): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
}

/** Runs the TUI until the person quits. Throws (one sentence) when it cannot start. */
export async function runTui(options: TuiOptions = {}): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  if (!stdout.isTTY || !stdin.isTTY) {
    throw new Error('certdesk needs a terminal for its TUI; use `certdesk get csr` and friends in scripts.');
  }
  const color = options.color ?? !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
  // Read by Ink's dependencies when first imported (below): colours off, and a real terminal is not CI (Ink
  // draws only the last frame when it believes it runs in CI).
  if (!color) process.env.FORCE_COLOR = '0';
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false';
  const contexts = loadContexts({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.contexts?.length ? { contexts: options.contexts } : {}),
    ...(options.allContexts ? { allContexts: true } : {}),
  });
  const policy: Policy = await loadPolicy(options.policyFile);
  // The lists start now, so the first pages are on their way while React, Ink and the views load.
  // Nodes only when the policy's node-addresses finding is on (a Node is kept as its name and addresses).
  const nodes = needsNodes(policy);
  const store = createClusterStore(contexts, {
    ...(options.namespace ? { namespaces: [options.namespace] } : {}),
    nodes,
    holdRest: true,
  });
  store.start();
  // The renewal radar starts once the CSRs and pods are in (or after a few seconds), so it never slows the first
  // frame; it decodes in slices of a few milliseconds, so keys stay quick while 10,000 Secrets arrive.
  const { createCertWatch } = await import('../services/certs/watch.js');
  const certs = createCertWatch(contexts, {
    // The CSRs come from the store's watch (one per context, shared).
    store,
    ...(options.namespace ? { namespaces: [options.namespace] } : {}),
    ...(options.registryDir ? { registry: { cwd: options.registryDir } } : {}),
  });
  void store.whenSynced(undefined, 5000).then(() => certs.start());
  // React's production build: the development one is several times slower and heavier at 20,000 rows.
  process.env.NODE_ENV ??= 'production';
  let ui: [Awaited<ReturnType<typeof loadReact>>, typeof import('ink'), typeof import('./app.js'), boolean];
  try {
    ui = await Promise.all([
      loadReact(),
      import('ink'),
      import('./app.js'),
      // One cache of tokenised lines across frames instead of one per frame (src/views/ink-line-cache.ts).
      import('../views/ink-line-cache.js').then((m) => m.installInkLineCache()),
    ]);
  } catch (err) {
    certs.stop();
    store.stop();
    throw err;
  }
  const [{ createElement }, { render }, { App, notifyInsights }] = ui;
  const byName = new Map(contexts.map((c) => [c.name, c]));
  // Audit intents a killed run left without an outcome: recorded as done or not done (docs/safety.md).
  void import('../services/actions/reconcile.js')
    .then((m) => m.reconcileAudit((name) => byName.get(name)))
    .catch(() => undefined);
  const { facts, insights } = tuiInsights({ store, policy, nodes, contexts: byName, onChange: notifyInsights });
  void readAudit()
    .then((entries) => {
      facts.audited = auditedRequests(entries);
    })
    .catch(() => undefined);

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    insights.stop();
    certs.stop();
    store.stop();
    stdout.write(LEAVE_ALT);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(1);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  process.once('SIGINT', onSignal);
  process.once('exit', restore);
  process.once('uncaughtException', onCrash);
  process.once('unhandledRejection', onCrash);

  stdout.write(ENTER_ALT);
  try {
    const instance = render(
      createElement(App, {
        store,
        certs,
        insights,
        effects: {
          contexts: byName,
          store,
          policy,
          invalidate: (context, name) => insights.invalidate(context, name),
          cluster: (context) => factsOf(facts, context).cluster,
          ...(options.registryDir ? { registryDir: options.registryDir } : {}),
        },
        places: {
          config: configDir(),
          auditLog: auditLogPath(),
          caRegistry: options.registryDir ?? configDir(),
          ...(options.demo ? { demo: options.demo } : {}),
        },
        // Contexts that reach the same cluster (same server and CA) are shown as one.
        clusters: Object.fromEntries(
          contexts.map((c) => {
            const cluster = c.kubeConfig.getCurrentCluster();
            return [c.name, `${cluster?.server ?? c.server}\n${cluster?.caData ?? cluster?.caFile ?? ''}`];
          }),
        ),
        color,
        ...(options.namespace ? { scope: { namespace: options.namespace } } : {}),
        ...(options.registryDir ? { registryDir: options.registryDir } : {}),
      }),
      { stdout, stdin, exitOnCtrlC: true, patchConsole: true, maxFps: MAX_FPS, incrementalRendering: true },
    );
    await instance.waitUntilExit();
  } finally {
    restore();
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('SIGINT', onSignal);
    process.off('exit', restore);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
}

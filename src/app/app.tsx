// The TUI's root component: wires the cluster store, the clock, the keys and the effect runner to the reducer,
// and hands one ScreenVm per frame to the pure views. Layout lives in src/views/main-screen.tsx.
import { appendFileSync } from 'node:fs';
import { useApp, useInput, useStdin, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react';
import { type ContextHealth, computeHealth } from '../services/health/index.js';
import type { CertWatch } from '../services/certs/watch.js';
import {
  type ClusterStore,
  type ConnectionState,
  type ContextSnapshot,
  readPodLog,
  type StoreBatch,
} from '../services/kube/index.js';
import { MainScreen } from '../views/main-screen.js';
import { ColorContext } from '../views/theme.js';
import { certsKey, certsOnScreen } from './certs.js';
import { pcrsKey } from './pcrs.js';
import { openVerb } from './dialogs.js';
import { type EffectDeps, runEffect } from './effects.js';
import type { InsightCache } from './insights.js';
import { dialogSwitchKey, type Intent, type KeyLike, keyIntent, plainChar, splitKeys, takesText } from './keymap.js';
import { type Places, selectScreen } from './selectors.js';
import { waitingInitContainer } from './pods.js';
import {
  type Action,
  type CsrRef,
  csrKey,
  focusedPodKey,
  initialState,
  parseCsrKey,
  reducer,
  type Scope,
  type TuiState,
} from './store.js';

export interface AppProps {
  store: ClusterStore;
  /** The renewal radar's live records (the Certificates view and Health's count). */
  certs?: CertWatch;
  insights: InsightCache;
  effects: EffectDeps;
  places: Places;
  color: boolean;
  scope?: Scope;
  registryDir?: string;
  /** Each context's cluster identity (server and CA): contexts sharing one are grouped. */
  clusters?: Record<string, string>;
  /** Called on every render with its state, before Ink draws it (benchmarks measure key-to-frame with it). */
  onFrame?: (state: TuiState) => void;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** Coalesce store batches: at most this often into the reducer. Every frame costs Ink a full layout of the
 * screen, so data redraws stay few and key presses find Ink idle. */
const FEED_MS = 250;
/** Redraw interval while a context is still listing. */
const SYNC_FEED_MS = 1000;
/** While certificates are being decoded, their redraw waits until no key came for this long… */
const KEY_QUIET_MS = 300;
/** …but never longer than this since the last one. */
const CERTS_KEY_WAIT_MS = 3000;
/** A key's frame takes ~10 ms and keys come ≥ 100 ms apart: a redraw that cannot wait goes in between. */
const AFTER_KEY_MS = 30;
/**
 * How long a context's rows wait for its first CSR list to complete before they are drawn as they arrive: a list
 * shown page by page costs a full sort, layout and output per frame (and decodes rows that later pages push off
 * screen), all on the thread that parses the pages, and its order is not final until the last page.
 */
const FIRST_LIST_HOLD_MS = 3000;
const HEALTH_MS = 1000;
/** Said when ⏎ was typed before the dialog it would have confirmed was on screen. */
export const EARLY_ENTER =
  '⏎ was pressed before this dialog was on screen, so it did not confirm it: read it, then press ⏎.';

export function App(props: AppProps) {
  const { store, insights } = props;
  const now = props.now ?? Date.now;
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [state, dispatch] = useReducer(reducer, undefined, () =>
    initialState({
      contexts: store.contexts(),
      columns: stdout.columns || 80,
      rows: stdout.rows || 24,
      now: now(),
      ...(props.scope ? { scope: props.scope } : {}),
      ...(props.clusters ? { clusters: props.clusters } : {}),
      ...(props.places.demo
        ? {
            status: {
              text: `demo: kubeconfig ${props.places.demo.kubeconfig} · jane's key ${props.places.demo.janeKey} · ? shows them again`,
              tone: 'info' as const,
            },
          }
        : {}),
    }),
  );
  const stateRef = useRef(state);
  stateRef.current = state;

  // Terminal size.
  useEffect(() => {
    const onResize = () => dispatch({ type: 'resize', columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  // Everything that redraws without a key press (store batches, the clock, health, lazily decoded rows) goes
  // through one feed that dispatches at most once per FEED_MS, all in one turn so React renders it as one frame.
  // A key press takes what is pending along with it (feed.current), so while someone types, data costs no frames
  // of its own: each frame is a full layout and output pass for Ink, and its garbage is most of the TUI's memory.
  const feed = useRef<(fromKey?: boolean) => void>(() => {});
  useEffect(() => {
    // CSR names per synced context, kept from the batches' key lists, to notice new CSRs without asking the store
    // for a snapshot (a copy of its maps) on every batch.
    const names = new Map<string, Set<string>>();
    // Connection phase per context (from the batches): a context that is retrying or unreachable is not listing,
    // and must not hold the others' redraws at the slow rate.
    const phases = new Map<string, ConnectionState['phase']>();
    const listing = () =>
      store.contexts().some((c) => !names.has(c) && (phases.get(c) ?? 'connecting') === 'connecting');
    // Contexts whose CSRs are listed (the store lists them before pods): when the last of them is in, the table is
    // whole and is drawn at once, without waiting for the pods or the next slow redraw.
    const csrsIn = new Set<string>();
    const listingCsrs = () =>
      store.contexts().some((c) => !csrsIn.has(c) && (phases.get(c) ?? 'connecting') === 'connecting');
    const mounted = performance.now();
    const heldBack = (c: string) =>
      !csrsIn.has(c) &&
      (phases.get(c) ?? 'connecting') === 'connecting' &&
      performance.now() - mounted < FIRST_LIST_HOLD_MS;
    const dirty = new Set<string>();
    // Contexts whose listed CSRs went to the reducer (are on screen, or about to be); whether any rows did.
    const drawn = new Set<string>();
    let rowsShown = false;
    /** Starts a health pass after `ms` (set below). */
    let countNow = (_ms: number) => {};
    /** Lets the store start the other kinds, just after the table's first frame. */
    let releaseSoon: NodeJS.Timeout | undefined;
    const fresh: CsrRef[] = [];
    let clock = false;
    let decoded = false;
    const certs = props.certs;
    let certsDirty = certs !== undefined;
    let health: Record<string, ContextHealth> | undefined;
    let healthDirty = true;
    let timer: NodeJS.Timeout | undefined;
    let lastFlush = 0;
    let lastKey = Number.NEGATIVE_INFINITY;
    /** When the certificates' feed was last dispatched (how long a waiting one has waited). */
    let certsSince = performance.now();
    /** A key found the certificates' feed overdue: it goes on the timer just after that key's frame. */
    let certsAfterKey = false;
    const flush = (fromKey?: boolean) => {
      if (fromKey) lastKey = performance.now();
      // A key takes pending data along only when the data has waited a while: new snapshots cost a pass over the
      // lists, and keys come faster than FEED_MS when someone holds j.
      if (fromKey && (!timer || performance.now() - lastFlush < FEED_MS / 2)) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      lastFlush = performance.now();
      if (dirty.size > 0) {
        const snapshots: Record<string, ContextSnapshot> = {};
        let any = false;
        for (const context of dirty) {
          if (heldBack(context)) continue;
          const snap = store.snapshot(context);
          snapshots[context] = snap;
          if (csrsIn.has(context) && !drawn.has(context)) {
            drawn.add(context);
            // After the table's frame is written (Ink writes a frame within 1000 / MAX_FPS ms of the render): the
            // health pass, and the other kinds' lists and watches (their connections and first pages were
            // ~30-50 ms of CPU inside that frame; the store starts them 2 s after the first CSRs at the latest).
            if (!listingCsrs()) {
              countNow(50);
              releaseSoon ??= setTimeout(() => store.releaseRest(), 50);
            }
          }
          if (snap.csrs.size > 0) rowsShown = true;
          dirty.delete(context);
          any = true;
        }
        const newCsrs = any ? fresh.splice(0) : [];
        if (any) dispatch({ type: 'snapshots', snapshots, ...(newCsrs.length ? { newCsrs } : {}) });
      }
      // While every table is still listing and none is drawn, nothing on screen ages: the clock waits for the
      // first rows (a frame a second of an empty screen cost ~50 ms of CPU each before the first full one).
      if (clock && (rowsShown || !listingCsrs())) {
        clock = false;
        dispatch({ type: 'tick', now: now() });
      }
      if (health) {
        dispatch({ type: 'health', health });
        health = undefined;
      }
      if (decoded) {
        decoded = false;
        dispatch({ type: 'decoded' });
      }
      if (certsDirty && certs) {
        // A feed of the certificates re-sorts and redraws most rows when many changed (a heavy frame, tens of ms
        // while thousands are being decoded): a key's frame stays light without it, and while keys keep coming it
        // waits, up to CERTS_KEY_WAIT_MS, so that a key press rarely lands behind one. One that has waited that long
        // is drawn just after a key's frame (AFTER_KEY_MS), in the gap before the next key, never inside it.
        // (Keys faster than the feed do not flush it at all: then it goes at twice CERTS_KEY_WAIT_MS regardless.)
        const typing = performance.now() - lastKey < KEY_QUIET_MS;
        const waited = performance.now() - certsSince;
        // The timer it waits on is the feed's own: at FEED_MS, never later, so the rest of the data (new CSRs, the
        // clock) keeps its pace while the certificates wait.
        if (fromKey) {
          certsAfterKey = waited >= CERTS_KEY_WAIT_MS;
          schedule(certsAfterKey ? AFTER_KEY_MS : FEED_MS);
        } else if (typing && !certsAfterKey && waited < 2 * CERTS_KEY_WAIT_MS) schedule(FEED_MS);
        else {
          certsAfterKey = false;
          certsDirty = false;
          certsSince = performance.now();
          const scanning = store.contexts().filter((c) => !certs.synced(c));
          dispatch({
            type: 'certs-feed',
            feed: {
              records: certs.records(),
              version: certs.version(),
              skipped: [...certs.skipped()],
              ...(scanning.length ? { scanning } : {}),
            },
          });
        }
      }
    };
    const schedule = (ms: number) => {
      timer ??= setTimeout(() => flush(), ms);
    };
    feed.current = flush;
    const onBatch = (batch: StoreBatch) => {
      let justSynced = false;
      let csrsJustIn = false;
      for (const change of batch.changes) {
        const context = change.context;
        if (change.connection) phases.set(context, change.connection.phase);
        if (change.csrsListed && !csrsIn.has(context)) {
          csrsIn.add(context);
          csrsJustIn = true;
        }
        let known = names.get(context);
        if (known) {
          for (const name of change.upserted.csrs ?? []) {
            if (!known.has(name)) {
              known.add(name);
              fresh.push({ key: csrKey(context, name), context, name });
            }
          }
          for (const name of change.deleted.csrs ?? []) known.delete(name);
        } else if (change.synced === true) {
          known = new Set(store.snapshot(context).csrs.keys());
          names.set(context, known);
          justSynced = true;
          countNow(0);
        }
        dirty.add(context);
        healthDirty = true;
      }
      const stillListing = listing();
      if (justSynced) {
        // A context just finished its first full list: show it now, or, while another is still listing, within
        // FEED_MS: contexts of similar size finish close together, and one frame then shows both (each frame
        // with 20,000 fresh rows costs a full pass over the lists, ~150 ms of a cold start).
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => flush(), stillListing ? FEED_MS : 0);
      } else if (csrsJustIn && !listingCsrs()) {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => flush(), 0);
      } else {
        // While lists are still arriving page by page, redraw rarely: the pages would only slow the sync down.
        schedule(stillListing ? SYNC_FEED_MS : FEED_MS);
      }
    };
    const unsubscribe = store.subscribe(onBatch);
    const unsubscribeCerts = certs?.subscribe(() => {
      certsDirty = true;
      // While thousands of certificates are still being decoded, each feed re-sorts them all: redraw rarely.
      const decoding = store.contexts().some((c) => !certs.synced(c));
      schedule(listing() || decoding ? SYNC_FEED_MS : FEED_MS);
    });
    for (const context of store.contexts()) {
      const snap = store.snapshot(context);
      phases.set(context, snap.connection.phase);
      if (snap.csrsListed) csrsIn.add(context);
      if (snap.synced) names.set(context, new Set(snap.csrs.keys()));
      dirty.add(context);
    }
    flush();
    let lastHealth = 0;
    let healthSlice: NodeJS.Immediate | undefined;
    // Contexts counted once their CSRs were in, before their pods were: the CSRs' counts (pending, stalled) show
    // then, `init …` until the pods are listed (ContextHealth.podsListed); one such pass, not one a second, and only
    // once every context's CSRs are drawn (a pass over 10,000 CSRs must not delay the table's first frame).
    const countedEarly = new Set<string>();
    const healthOf = (context: string): ContextHealth | undefined => {
      const snap = store.snapshot(context);
      if (snap.synced) {
        countedEarly.delete(context);
        return computeHealth(snap, now());
      }
      if (!snap.csrsListed || countedEarly.has(context) || !drawn.has(context) || listingCsrs()) return undefined;
      countedEarly.add(context);
      return computeHealth(snap, now());
    };
    const healthPass = (t: number) => {
      if (!healthSlice && (healthDirty || t - lastHealth > 5000)) {
        healthDirty = false;
        lastHealth = t;
        const pass: Record<string, ContextHealth> = {};
        // One context per turn of the event loop: a health pass walks every object of a context, and a key press
        // waiting behind two of them would wait twice as long.
        const pending = [...store.contexts()];
        const next = () => {
          healthSlice = undefined;
          const context = pending.shift();
          if (context === undefined) {
            if (Object.keys(pass).length) {
              health = { ...health, ...pass };
              schedule(FEED_MS);
            }
            return;
          }
          // A context still listing shows "waiting for the first sync" instead of costing a health pass a second.
          const h = healthOf(context);
          if (h) pass[context] = h;
          if (!store.snapshot(context).synced) healthDirty = true;
          healthSlice = setImmediate(next);
        };
        next();
      }
    };
    // A context just synced, or every context's CSRs just went to the screen: counted now, not at the next tick.
    let countSoon: NodeJS.Timeout | undefined;
    countNow = (ms) => {
      healthDirty = true;
      const run = () => {
        // A pass under way (one context per turn) would make this one wait for the next tick: go right after it.
        if (healthSlice) {
          countSoon = setTimeout(run, 10);
          return;
        }
        countSoon = undefined;
        healthPass(now());
      };
      countSoon ??= setTimeout(run, ms);
    };
    const tick = setInterval(() => {
      clock = true;
      // (Pages held back by FIRST_LIST_HOLD_MS go out through this too, once the hold is over.)
      if (rowsShown || !listingCsrs() || dirty.size > 0) schedule(FEED_MS);
      healthPass(now());
    }, HEALTH_MS);
    // First health right away for what is listed, so the panes are not empty for a second. Nothing is counted
    // before its list is in: the header shows `…` until then, never a 0 beside rows still arriving.
    const first = setImmediate(() => {
      const pass: Record<string, ContextHealth> = {};
      for (const context of store.contexts()) {
        const h = healthOf(context);
        if (h) pass[context] = h;
      }
      if (Object.keys(pass).length) dispatch({ type: 'health', health: pass });
    });
    // Decoded CSRs landing → redraw their badges (with the next feed).
    const onDecoded = () => {
      decoded = true;
      schedule(FEED_MS);
    };
    insightsListeners.add(onDecoded);
    return () => {
      feed.current = () => {};
      unsubscribe();
      unsubscribeCerts?.();
      insightsListeners.delete(onDecoded);
      clearInterval(tick);
      clearTimeout(countSoon);
      clearTimeout(releaseSoon);
      clearImmediate(first);
      if (healthSlice) clearImmediate(healthSlice);
      if (timer) clearTimeout(timer);
    };
  }, [store, now, props.certs]);

  // Effects queued by the reducer.
  useEffect(() => {
    if (state.outbox.length === 0) return;
    const effects = state.outbox;
    dispatch({ type: 'effects-taken', upTo: effects[effects.length - 1]!.id });
    for (const effect of effects) {
      void runEffect(effect, props.effects)
        .then((status) => {
          if (status) dispatch({ type: 'effect-done', status, id: effect.id });
        })
        .catch((err: unknown) => {
          dispatch({
            type: 'effect-done',
            status: { text: err instanceof Error ? err.message : String(err), tone: 'bad' },
            id: effect.id,
          });
        });
    }
  }, [state.outbox, props.effects]);

  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  // The certificates on screen get their chains verified before the others (after every render: a slice of the
  // memoized list, and the watch only keeps the array).
  useEffect(() => {
    props.certs?.focus(state.mode.kind === 'certs' ? certsOnScreen(state, state.mode.view) : []);
  });

  // Keys can arrive faster than frames: the mode that owns a key is read from the state as of the last key,
  // kept here synchronously (the reducer is pure, so running it here too is safe), not from the last render.
  const send = useCallback((action: Action) => {
    stateRef.current = reducer(stateRef.current, action);
    dispatch(action);
  }, []);
  const demoKey = props.places.demo?.janeKey;
  const opening = useRef(false);
  const heldKeys = useRef<[string, KeyLike][]>([]);
  // `l`: the logs of the init container the selected pod waits on (Calico's key-cert-provisioner).
  const showLogs = () => {
    const s = stateRef.current;
    const key = focusedPodKey(s);
    if (!key) {
      send({
        type: 'status',
        text: 'l shows the logs of a pod in Init: select one (Tab to Pods in Init).',
        tone: 'warn',
      });
      return;
    }
    const { context, name: podPath } = parseCsrKey(key);
    const [namespace = '', name = ''] = podPath.split('/');
    const container = waitingInitContainer(s.snapshots[context]?.pods.get(podPath));
    const ctx = props.effects.contexts.get(context);
    if (!container || !ctx) {
      send({ type: 'status', text: `No init container to show for ${podPath}.`, tone: 'warn' });
      return;
    }
    send({ type: 'open-logs', key, container });
    void readPodLog(ctx, { namespace, name, container }).then((result) =>
      send(
        result.ok
          ? { type: 'logs-loaded', key, lines: result.value.replace(/\n$/, '').split('\n') }
          : { type: 'logs-loaded', key, error: result.error.message },
      ),
    );
  };
  const runIntent = (intent: Intent | undefined) => {
    if (!intent) return;
    if (intent.kind === 'action') send(intent.action);
    else if (intent.kind === 'reconnect') {
      const s = stateRef.current;
      send({
        type: 'request-effect',
        effect: { kind: 'reconnect', ...(s.scope.context ? { context: s.scope.context } : {}) },
        status: 'Reconnecting now…',
      });
    } else if (intent.kind === 'logs') {
      showLogs();
    } else {
      if (intent.replacesDialog && stateRef.current.mode.kind === 'dialog') send({ type: 'back' });
      opening.current = true;
      send({ type: 'status', text: 'Checking…', tone: 'info' });
      void openVerb(intent.verb, stateRef.current, {
        insights,
        contexts: props.effects.contexts,
        ...(props.effects.policy ? { policy: props.effects.policy } : {}),
        now: () => new Date(now()),
        ...(props.registryDir ? { registryDir: props.registryDir } : {}),
        ...(props.places.demo ? { keyFileFor: (name: string) => (name === 'jane' ? demoKey : undefined) } : {}),
      })
        .then((result) => {
          if ('status' in result) send({ type: 'status', text: result.status, tone: 'warn' });
          else {
            send({ type: 'status', text: '', tone: 'plain' });
            send({ type: 'open-dialog', dialog: result });
          }
        })
        .catch((err: unknown) => {
          send({ type: 'status', text: err instanceof Error ? err.message : String(err), tone: 'bad' });
        })
        .finally(() => {
          opening.current = false;
          // Keys typed while the dialog was being prepared go to the dialog, in order, except ⏎: a dialog is
          // confirmed only by a ⏎ pressed once it is on screen, so typing ahead never confirms what nobody read.
          const held = heldKeys.current.splice(0);
          const dialog = stateRef.current.mode.kind === 'dialog';
          const dropped = dialog && held.some(([, key]) => key.return);
          for (const [input, key] of held) if (!(dialog && key.return)) routeKey(input, key);
          if (dropped && stateRef.current.mode.kind === 'dialog')
            send({ type: 'status', text: EARLY_ENTER, tone: 'warn' });
        });
    }
  };
  const routeKey = (input: string, key: KeyLike) => {
    if (opening.current) {
      heldKeys.current.push([input, key]);
      return;
    }
    const mode = stateRef.current.mode;
    runIntent(
      mode.kind === 'certs'
        ? certsKey(mode.view, input, key)
        : mode.kind === 'pcrs'
          ? pcrsKey(mode.view, input, key)
          : ((mode.kind === 'dialog' ? dialogSwitchKey(mode.dialog, input, key) : undefined) ??
            keyIntent(mode.kind, input, key)),
    );
  };
  // Ink hands a burst of typed or pasted characters over as one string (Ink itself splits off escape sequences):
  // each character is its own key press, except that a run of plain characters typed into a text field is one
  // piece of text. The owner is read before each key, so `/abc⏎` opens the filter, types `abc`, submits.
  // The raw text of each input event, kept before useInput's handler runs (prepended, so it is called first): Ink
  // reads ESC ESC or ESC ESC [B as one key with meta set, and only the raw text says an Esc came first.
  const { internal_eventEmitter: inputEvents } = useStdin();
  const rawInput = useRef('');
  useEffect(() => {
    const remember = (raw: string) => {
      rawInput.current = raw;
    };
    inputEvents.prependListener('input', remember);
    return () => {
      inputEvents.removeListener('input', remember);
    };
  }, [inputEvents]);
  useInput((input, key) => {
    if (keyLog) {
      // A PIN or passphrase being typed is never written down, not even for debugging.
      const m = stateRef.current.mode;
      const masked = m.kind === 'dialog' && m.dialog.fields[m.dialog.field]?.secret;
      keyLog(
        `${JSON.stringify(masked ? { secret: true, mode: m.kind } : { raw: rawInput.current, input, key, mode: m.kind, opening: opening.current })}\n`,
      );
    }
    // Pending data rides along with this key's frame (React renders both in one pass).
    feed.current(true);
    const keys = splitKeys(input, key, rawInput.current);
    for (let i = 0; i < keys.length; i++) {
      const [ch, k] = keys[i]!;
      if (!opening.current && plainChar(ch, k) && takesText(stateRef.current.mode)) {
        let text = ch;
        while (i + 1 < keys.length && plainChar(...keys[i + 1]!)) text += keys[++i]![0];
        routeKey(text, {});
      } else routeKey(ch, k);
    }
  });

  // A new state object on every change (decodedVersion included, when lazily decoded rows land).
  const screen = useMemo(() => selectScreen(state, insights, props.places), [state, insights, props.places]);

  // Before Ink draws this render (benchmarks time key-to-frame from here to the terminal write).
  props.onFrame?.(state);

  return (
    <ColorContext.Provider value={props.color}>
      <MainScreen screen={screen} />
    </ColorContext.Provider>
  );
}

/** CERTDESK_TUI_KEYLOG=FILE appends every key as Ink hands it over (for debugging key handling). */
const keyLog = process.env.CERTDESK_TUI_KEYLOG
  ? (line: string) => appendFileSync(process.env.CERTDESK_TUI_KEYLOG ?? '', line)
  : undefined;

/** Listeners for "new insights are ready" (the InsightCache's onChange fans out here). */
export const insightsListeners = new Set<() => void>();

export function notifyInsights(): void {
  for (const listener of insightsListeners) listener();
}

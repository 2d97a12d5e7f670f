// Scenario options from the command line: `--set SCENARIO.KEY=VALUE` (as `helm --set`), checked against the options
// each scenario reads, with numbers parsed, into startSandbox's scenarioOptions.
import { KEY_ALGORITHMS, SIGNATURE_ALGORITHMS } from '../../pki/types.js';

type OptionType = 'int' | 'string';

interface OptionSpec {
  type: OptionType;
  /** Smallest and largest accepted value (int). */
  min?: number;
  max?: number;
  /** Accepted values (string). */
  oneOf?: readonly string[];
  help: string;
}

/** The options each scenario reads (see docs/scenarios.md). */
export const SCENARIO_OPTIONS: Record<string, Record<string, OptionSpec>> = {
  'calico-rollout': {
    nodes: { type: 'int', min: 1, max: 500, help: 'nodes, one calico-node pod each (default 3)' },
    signerName: { type: 'string', help: 'Installation signerName (default example.com/calico)' },
    caCertPem: { type: 'string', help: 'Installation caCert, PEM (default: a fresh CA whose key is discarded)' },
    keyAlgorithm: {
      type: 'string',
      oneOf: KEY_ALGORITHMS,
      help: 'key algorithm (default ECDSAWithCurve256)',
    },
    signatureAlgorithm: {
      type: 'string',
      oneOf: SIGNATURE_ALGORITHMS,
      help: 'signature algorithm (default: matches the key)',
    },
    backoffMs: { type: 'int', min: 0, max: 3_600_000, help: 'CrashLoopBackOff before a retry, ms (default 2000)' },
    podInitializingMs: { type: 'int', min: 0, max: 3_600_000, help: 'time in PodInitializing, ms (default 300)' },
  },
  'istio-signers': {
    ttlSeconds: { type: 'int', min: 600, help: 'expirationSeconds of the workload CSRs (default 86400)' },
    deleteAfterMs: { type: 'int', min: 0, help: 'istiod deletes an issued CSR after this many ms (default 3000)' },
  },
  onboarding: {
    keyOut: { type: 'string', help: "where to write jane's private key (0600)" },
  },
  hostile: {
    signerName: { type: 'string', help: 'signer of the hostile requests that are not kubernetes.io ones' },
  },
  'pod-certificates': {
    signerName: { type: 'string', help: 'signer of the podCertificate volumes (default example.com/pod-identity)' },
    pods: { type: 'int', min: 0, max: 200, help: 'pods with a podCertificate volume (default 3)' },
    backoffMs: {
      type: 'int',
      min: 0,
      max: 3_600_000,
      help: 'first back-off after a Denied or Failed request, ms (default 2000)',
    },
  },
  scale: {
    csrs: { type: 'int', min: 0, help: 'CSRs to preload (default 10000)' },
    pods: { type: 'int', min: 0, help: 'pods to preload (default 5000)' },
  },
};

export class ScenarioOptionError extends Error {}

/** `calico-rollout.nodes, calico-rollout.signerName, …` for help and errors. */
export function scenarioOptionKeys(scenario?: string): string {
  return Object.entries(SCENARIO_OPTIONS)
    .filter(([name]) => scenario === undefined || name === scenario)
    .flatMap(([name, opts]) => Object.keys(opts).map((k) => `${name}.${k}`))
    .join(', ');
}

/**
 * Parses `SCENARIO.KEY=VALUE` settings (later ones win) for the scenarios that will run. Throws a
 * ScenarioOptionError with a one-line message for an unknown scenario or key, a scenario not being run, or a value
 * of the wrong type or range.
 */
export function parseScenarioSettings(
  settings: readonly string[],
  running: readonly string[],
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    const path = eq >= 0 ? setting.slice(0, eq) : setting;
    const value = eq >= 0 ? setting.slice(eq + 1) : '';
    const dot = path.indexOf('.');
    if (eq < 0 || dot <= 0 || dot === path.length - 1) {
      throw new ScenarioOptionError(`--set ${setting}: give SCENARIO.KEY=VALUE, e.g. calico-rollout.nodes=10.`);
    }
    const scenario = path.slice(0, dot);
    const key = path.slice(dot + 1);
    const specs = SCENARIO_OPTIONS[scenario];
    if (!specs) {
      throw new ScenarioOptionError(
        `--set ${setting}: no scenario "${scenario}"; the scenarios are ${Object.keys(SCENARIO_OPTIONS).join(', ')}.`,
      );
    }
    const spec = specs[key];
    if (!spec) {
      throw new ScenarioOptionError(
        `--set ${setting}: ${scenario} has no option "${key}"; its options are ${scenarioOptionKeys(scenario)}.`,
      );
    }
    if (!running.includes(scenario)) {
      throw new ScenarioOptionError(
        `--set ${setting}: the scenario ${scenario} is not run; add --scenario ${scenario}.`,
      );
    }
    const target = out[scenario] ?? {};
    out[scenario] = target;
    if (spec.type === 'int') {
      const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
      const min = spec.min ?? Number.MIN_SAFE_INTEGER;
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        const range = spec.max === undefined ? `${min} or more` : `from ${min} to ${max}`;
        throw new ScenarioOptionError(`--set ${setting}: ${scenario}.${key} must be a whole number ${range}.`);
      }
      target[key] = n;
    } else {
      if (value === '') throw new ScenarioOptionError(`--set ${setting}: ${scenario}.${key} needs a value.`);
      if (spec.oneOf && !spec.oneOf.includes(value)) {
        throw new ScenarioOptionError(`--set ${setting}: ${scenario}.${key} must be one of ${spec.oneOf.join(', ')}.`);
      }
      target[key] = value;
    }
  }
  return out;
}

// The registry of sandbox scenarios. A scenario acts on one simulated cluster like real requesters and
// controllers would (over HTTPS with its own identities), until its signal aborts.
import { calicoRollout } from './calico-rollout.js';
import { certificates } from './certificates.js';
import { hostile } from './hostile.js';
import { istioSigners } from './istio-signers.js';
import { onboarding } from './onboarding.js';
import { podCertificates } from './pod-certificates.js';
import { scale } from './scale.js';
import type { ScenarioCluster } from './types.js';

export type { Identity, ScenarioCluster } from './types.js';

export interface ScenarioContext {
  cluster: ScenarioCluster;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Scenario-specific options, e.g. { nodes: 3 } for calico-rollout. */
  options: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Resolves once the scenario's initial objects exist; keeps acting in the background until signal aborts. */
  start(ctx: ScenarioContext): Promise<void>;
}

export const scenarios: Record<string, Scenario> = {
  [calicoRollout.name]: calicoRollout,
  [istioSigners.name]: istioSigners,
  [onboarding.name]: onboarding,
  [hostile.name]: hostile,
  [certificates.name]: certificates,
  [podCertificates.name]: podCertificates,
  [scale.name]: scale,
};

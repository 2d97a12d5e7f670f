// The controller's public face: the reconcile loop, its decisions, Lease leader election and metrics. See docs/controller.md.
export {
  type Controller,
  type ControllerOptions,
  type ControllerStats,
  createController,
  defaultIdentity,
  type SignerCa,
} from './controller.js';
export { APPROVE_REASON, type Decision, DENY_REASON, decide, findingsFor, type WarnAction } from './decide.js';
export {
  createLeaderElector,
  createLeaseApi,
  DEFAULT_TIMINGS,
  type LeaderElectionOptions,
  type LeaderElectionTimings,
  type LeaderElector,
  type LeaseApi,
} from './leader-election.js';
export { ControllerMetrics, type MetricsServer, startMetricsServer } from './metrics.js';

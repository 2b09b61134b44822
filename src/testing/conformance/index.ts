// The backend-author conformance kit: the plain rule checks (the vitest suite is in testing/vitest/).
export type { BackendConformanceOptions, ConformanceSetupResult } from './backend-conformance-options.js';
export { checkEndpointDescriptor } from './check-endpoint-descriptor.js';
export { checkHealthStatus } from './check-health-status.js';
export { checkInstanceKey } from './check-instance-key.js';
export { checkManifest } from './check-manifest.js';
export { checkManifestTruthfulness } from './check-manifest-truthfulness.js';
export {
  checkInstanceKeyHidesSecrets,
  checkNoSecretLeak,
  type SecretExposure,
} from './check-no-secret-leak.js';
export { checkReadiness } from './check-readiness.js';
export { checkStopLeavesDaemonAlive, checkStopLeavesNoProcess } from './check-stop.js';
export {
  type ConformanceRun,
  type ConformanceStart,
  type StartConformanceRunOptions,
  startConformanceRun,
} from './conformance-run.js';
export { CONFORMANCE_RULES, type ConformanceRule, ConformanceViolation } from './conformance-violation.js';
export {
  CONFORMANCE_MARKER_ENV,
  canFindMarkedProcesses,
  findMarkedProcesses,
  type MarkedProcess,
} from './find-marked-processes.js';
export { type ReadyRun, requireReady } from './require-ready.js';

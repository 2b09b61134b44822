// Public API of self-hosted-inference-core. Everything a caller or backend author needs is exported here.
export type {
  Backend,
  HealthResult,
  InstanceTarget,
  PlanContext,
  ProbeContext,
  ProcessEvent,
  ProcessEventVerdict,
  ProgressReport,
  ReadinessResult,
} from './backend/backend.js';
export { isBackendV1 } from './backend/backend.js';
export { BackendRegistry, type RegisteredBackend } from './backend/backend-registry.js';
export { checkCompatibility } from './compatibility/check-compatibility.js';
export {
  type ConfigIssue,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfigFile,
  parseConfigObject,
  parseConfigText,
} from './config/load-config.js';
export {
  type Deployment,
  type ShicConfig,
  type ShicConfigInput,
  shicConfigJsonSchema,
  shicConfigSchema,
} from './config/shic-config.js';
export * from './contracts/backend-manifest.js';
export * from './contracts/compatibility-result.js';
export * from './contracts/consumer-manifest.js';
export { type Contract, defineContract } from './contracts/define-contract.js';
export * from './contracts/endpoint-descriptor.js';
export * from './contracts/endpoint-request.js';
export * from './contracts/instance-spec.js';
export * from './contracts/lease.js';
export * from './contracts/plan-policy.js';
export * from './contracts/runtime-snapshot.js';
export * from './contracts/startup-plan.js';
export { valueAt } from './contracts/value-at.js';
export * from './contracts/vocabulary.js';
export { ControlClient, type ControlClientOptions, type ControlSseEvent } from './control/control-client.js';
export type { EnsuredEndpoint, LeaseInstanceOptions, LeaseStats } from './endpoint/endpoint-service.js';
export * from './errors/error-catalog.js';
export { errorMessage } from './errors/error-message.js';
export { KernelError, type KernelErrorContext } from './errors/kernel-error.js';
export { clientHost } from './http/client-host.js';
export { type HttpProbeOptions, type HttpProbeResponse, httpProbe } from './http/http-probe.js';
export { createKernel } from './kernel/create-kernel.js';
export { Kernel } from './kernel/kernel.js';
export { defaultStateDir, type KernelOptions } from './kernel/kernel-options.js';
export type { EnsureInstanceOptions } from './lifecycle/instance-manager.js';
export {
  STARTUP_PLAN_CHECKS,
  type StartupPlanCheck,
  validateStartupPlan,
} from './plan/validate-startup-plan.js';
export { type LogEntry, LogRing, type LogRingOptions } from './process/log-ring.js';
export { type ResolvedCommand, resolveCommand } from './process/resolve-command.js';
export type { ExitInfo, ManagedProcess, SpawnOptions } from './process/spawn-process.js';
export { exposeSecret, Secret } from './secret/secret.js';
export { EventBus } from './telemetry/event-bus.js';
export type * from './telemetry/kernel-events.js';

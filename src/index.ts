// Public API of self-hosted-inference-core: a deliberate list. Contracts are exported as their types and
// parseX/safeParseX functions; the zod schemas behind them stay internal so they can change without a major.
export type {
  Backend,
  HealthResult,
  InstanceTarget,
  MemoryEstimate,
  PlanContext,
  ProbeContext,
  ProcessEvent,
  ProcessEventVerdict,
  ProgressReport,
  ReadinessResult,
  SpecIssue,
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
  type GatewayConfig,
  type GatewayConfigInput,
  type GatewayTimeouts,
  type ShicConfig,
  type ShicConfigInput,
  shicConfigJsonSchema,
  shicConfigSchema,
} from './config/shic-config.js';
export {
  type BackendManifest,
  type BackendManifestInput,
  parseBackendManifest,
  safeParseBackendManifest,
} from './contracts/backend-manifest.js';
export {
  type CompatibilityFailure,
  type CompatibilityReason,
  type CompatibilityResult,
  parseCompatibilityResult,
  safeParseCompatibilityResult,
} from './contracts/compatibility-result.js';
export {
  type ConsumerManifest,
  type ConsumerManifestInput,
  parseConsumerManifest,
  safeParseConsumerManifest,
} from './contracts/consumer-manifest.js';
export { type Contract, defineContract } from './contracts/define-contract.js';
export {
  type EndpointDescriptor,
  parseEndpointDescriptor,
  safeParseEndpointDescriptor,
} from './contracts/endpoint-descriptor.js';
export {
  type EndpointRequest,
  type EndpointRequestInput,
  type EnsureEndpointOptions,
  type EnsureEndpointOptionsInput,
  type ExecutionContext,
  type ExecutionContextInput,
  parseEndpointRequest,
  parseEnsureEndpointOptions,
  parseExecutionContext,
  safeParseEndpointRequest,
  safeParseExecutionContext,
} from './contracts/endpoint-request.js';
export {
  type InstanceSpec,
  type InstanceSpecInput,
  parseInstanceSpec,
  safeParseInstanceSpec,
} from './contracts/instance-spec.js';
export { type Lease, parseLease, safeParseLease } from './contracts/lease.js';
export {
  type PlanPolicy,
  type PlanPolicyInput,
  parsePlanPolicy,
  type RestartPolicyOverride,
  safeParsePlanPolicy,
} from './contracts/plan-policy.js';
export {
  type HealthStatus,
  type InstanceState,
  parseRuntimeSnapshot,
  type RuntimeSnapshot,
  safeParseRuntimeSnapshot,
} from './contracts/runtime-snapshot.js';
export {
  type EndpointTemplate,
  parseStartupPlan,
  type RestartPolicy,
  type StartupPlan,
  type StartupPlanInput,
  safeParseStartupPlan,
  type Transport,
} from './contracts/startup-plan.js';
export { valueAt } from './contracts/value-at.js';
export {
  type BackendId,
  type Capabilities,
  type CapabilityValue,
  CONTRACT_VERSION,
  type ExecutionSurface,
  type Headers,
  MANAGEMENT_MODE_FOR_STARTUP_KIND,
  type ManagementMode,
  type Metadata,
  type Protocol,
  type RuntimeKind,
  type StartupKind,
} from './contracts/vocabulary.js';
export { ControlClient, type ControlClientOptions, type ControlSseEvent } from './control/control-client.js';
export type { EnsuredEndpoint, LeaseInstanceOptions, LeaseStats } from './endpoint/endpoint-service.js';
export {
  AbortedError,
  BackendFailedError,
  BinaryNotFoundError,
  CapacityExhaustedError,
  type ContractIssue,
  ContractValidationError,
  CrashLoopError,
  DaemonRunningError,
  DaemonUnreachableError,
  DuplicateBackendError,
  GatewayTimeoutError,
  type GatewayTimeoutPhase,
  IncompatibleError,
  InstanceNotFoundError,
  InstanceStoppedError,
  InsufficientMemoryError,
  InvalidBootSpecError,
  InvalidConfigError,
  InvalidModelError,
  InvalidStartupPlanError,
  KernelClosedError,
  LeaseNotFoundError,
  type MemoryHolder,
  ModelNotFoundError,
  PlatformUnsupportedError,
  PortUnavailableError,
  ProcessExitedError,
  QueueFullError,
  ReadinessTimeoutError,
  ServiceUnreachableError,
  SpawnFailedError,
  UnknownBackendError,
  UnknownDeploymentError,
  UnknownModelError,
  UpstreamFailedError,
} from './errors/error-catalog.js';
export { errorMessage } from './errors/error-message.js';
export { KernelError, type KernelErrorContext } from './errors/kernel-error.js';
export {
  createGateway,
  type Gateway,
  type GatewayEvent,
  type GatewayOptions,
} from './gateway/create-gateway.js';
export type {
  GatewayEventMap,
  RequestEventBase,
  RequestOutcome,
  RequestRecord,
} from './gateway/gateway-events.js';
export type { GatewayKernel } from './gateway/gateway-kernel.js';
export {
  type GatewayServer,
  type GatewayServerOptions,
  startGatewayServer,
} from './gateway/gateway-server.js';
export type { ModelListEntry, ModelState } from './gateway/model-router.js';
export type { OpenAiErrorBody } from './gateway/openai-error.js';
export { RequestLog, type RequestLogQuery } from './gateway/request-log.js';
export {
  type FolderDeployment,
  type ModelsFolderDefaults,
  scanModelsFolder,
} from './gateway/scan-models-folder.js';
export {
  GGML_TYPE,
  GGML_TYPE_LAYOUT,
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
  ggmlTensorBytes,
} from './gguf/gguf-types.js';
export { parseGguf } from './gguf/parse-gguf.js';
export { readGgufHeader } from './gguf/read-gguf-header.js';
export { authHeaders } from './http/auth-headers.js';
export { clientHost } from './http/client-host.js';
export { errorCode, isConnectionRefused } from './http/error-code.js';
export { type HttpProbeOptions, type HttpProbeResponse, httpProbe } from './http/http-probe.js';
export type { AdoptionRefusal, AdoptionReport } from './kernel/adopt-instances.js';
export { createKernel } from './kernel/create-kernel.js';
export { Kernel } from './kernel/kernel.js';
export {
  type AdoptionOptions,
  defaultStateDir,
  type KernelOptions,
  type ResidencyOptionsInput,
} from './kernel/kernel-options.js';
export type { EnsureInstanceOptions } from './lifecycle/instance-manager.js';
export {
  STARTUP_PLAN_CHECKS,
  type StartupPlanCheck,
  validateStartupPlan,
} from './plan/validate-startup-plan.js';
export { type LogEntry, LogRing, type LogRingOptions } from './process/log-ring.js';
export { type ResolvedCommand, resolveCommand } from './process/resolve-command.js';
export type { ExitInfo, ManagedProcess, SpawnOptions } from './process/spawn-process.js';
export {
  type DeviceBudget,
  detectMemoryBudget,
  type MemoryBudget,
  type MemoryBudgetOptions,
} from './residency/memory-budget.js';
export { type NvidiaGpu, parseNvidiaSmiCsv, queryNvidiaGpus } from './residency/nvidia-smi.js';
export type { DeviceUsage, MemoryNeed, ResidencySnapshot } from './residency/residency.js';
export { exposeSecret, Secret } from './secret/secret.js';
export {
  type AttemptQuery,
  type AttemptRetention,
  StateStore,
  type StateStoreOptions,
  type StoredInstance,
  type StoredLease,
} from './store/state-store.js';
export { EventBus, type EventOf } from './telemetry/event-bus.js';
export type {
  InstanceEventBase,
  KernelEvent,
  KernelEventListener,
  KernelEventMap,
  KernelEventName,
  LeaseEventBase,
  StopReason,
} from './telemetry/kernel-events.js';

import { randomUUID } from 'node:crypto';
import { type Deployment, deploymentSchema } from '../config/shic-config.js';
import type { ConsumerManifestInput } from '../contracts/consumer-manifest.js';
import type {
  EndpointRequestInput,
  EnsureEndpointOptionsInput,
  ExecutionContextInput,
} from '../contracts/endpoint-request.js';
import type { InstanceSpecInput } from '../contracts/instance-spec.js';
import type { PlanPolicy } from '../contracts/plan-policy.js';
import { UnknownDeploymentError } from '../errors/error-catalog.js';

/** The consumer `ensure <deployment>` uses when the deployment declares none: any OpenAI chat endpoint. */
export const DEFAULT_CONSUMER: ConsumerManifestInput = {
  consumer: 'shic',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed', 'externally_managed'],
  acceptedProtocols: ['openai_chat_completions'],
};

// Only the policy fields a deployment sets: an absent one must keep the backend's own value.
function deploymentPolicy(d: Deployment): PlanPolicy | undefined {
  const policy: PlanPolicy = {
    ...(d.idleShutdownMs === undefined ? {} : { idleShutdownMs: d.idleShutdownMs }),
    ...(d.maxLeases === undefined ? {} : { maxLeases: d.maxLeases }),
    ...(d.restartPolicy === undefined ? {} : { restartPolicy: d.restartPolicy }),
    ...(d.pin === undefined ? {} : { pin: d.pin }),
    ...(d.priority === undefined ? {} : { priority: d.priority }),
    ...(d.memory === undefined
      ? {}
      : { memoryBytes: typeof d.memory === 'number' ? { system: d.memory } : { ...d.memory } }),
  };
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** Lease options an `ensure <deployment>` call may set. */
export interface DeploymentEnsureOptions {
  ownerRef?: string;
  ttlMs?: number;
  exclusive?: boolean;
  capacityWaitMs?: number;
  context?: ExecutionContextInput;
}

/** Everything `kernel.ensureEndpoint` needs, built from a deployment. */
export interface EndpointCall {
  request: EndpointRequestInput;
  consumer: ConsumerManifestInput;
  context: ExecutionContextInput;
  options: EnsureEndpointOptionsInput;
}

/**
 * The deployments of a config, with each one's backend resolved to a registered backend id; turns a
 * deployment name into an instance spec (eager start) or an `ensureEndpoint` call (same instance key).
 */
export class DeploymentCatalog {
  #deployments: Map<string, Deployment>;
  #backendIds: ReadonlyMap<string, string>;
  #version = 0;

  /** @param backendIds config `backend` value → registered backend id (a package name maps to its backend's id). */
  constructor(deployments: Record<string, Deployment>, backendIds: ReadonlyMap<string, string>) {
    this.#deployments = new Map(Object.entries(deployments));
    this.#backendIds = backendIds;
  }

  /**
   * A catalog of deployments written as in shic.yaml, validated with its schema (defaults applied); each
   * `backend` is taken as a registered backend id.
   * @throws ZodError naming the bad field.
   */
  static fromConfig(deployments: Record<string, unknown>): DeploymentCatalog {
    const parsed = Object.fromEntries(
      Object.entries(deployments).map(([name, d]) => [name, deploymentSchema.parse(d)]),
    );
    return new DeploymentCatalog(parsed, new Map());
  }

  /**
   * Adds a deployment at run time (a model reference the gateway resolved); its `backend` is taken as a
   * registered backend id. Validated with the shic.yaml schema.
   * @throws ZodError naming the bad field.
   */
  add(name: string, deployment: unknown): Deployment {
    const parsed = deploymentSchema.parse(deployment);
    this.#deployments.set(name, parsed);
    this.#version += 1;
    return parsed;
  }

  /** Replaces every deployment (`shic reload`); readers that cache by name see a new `version`. */
  replace(deployments: Record<string, Deployment>, backendIds: ReadonlyMap<string, string>): void {
    this.#deployments = new Map(Object.entries(deployments));
    this.#backendIds = backendIds;
    this.#version += 1;
  }

  /** Changes whenever the deployments do. */
  get version(): number {
    return this.#version;
  }

  /** Deployment names in config order. */
  /** True when a deployment of that name is declared. */
  has(name: string): boolean {
    return this.#deployments.has(name);
  }

  names(): string[] {
    return [...this.#deployments.keys()];
  }

  /** @throws UnknownDeploymentError listing the declared names. */
  get(name: string): Deployment {
    const deployment = this.#deployments.get(name);
    if (!deployment) throw new UnknownDeploymentError(name, this.names());
    return deployment;
  }

  /** The registered backend id a deployment runs on. */
  backendId(name: string): string {
    const configured = this.get(name).backend;
    return this.#backendIds.get(configured) ?? configured;
  }

  /**
   * The instance spec of a deployment (for eager starts). Its `idleShutdownMs`, `maxLeases` and
   * `restartPolicy` become the spec's `policy` (absent when the deployment sets none of them).
   */
  instanceSpec(name: string): InstanceSpecInput {
    const d = this.get(name);
    const policy = deploymentPolicy(d);
    return {
      backend: this.backendId(name),
      ...(d.startupKind ? { startupKind: d.startupKind } : {}),
      backendOptions: d.backendOptions,
      ...(d.bootSpec ? { bootSpec: d.bootSpec } : {}),
      ...(d.modelIdentity ? { modelIdentity: d.modelIdentity } : {}),
      metadata: { ...d.metadata, deployment: name },
      ...(policy ? { policy } : {}),
    };
  }

  /** The `ensureEndpoint` arguments for a deployment; TTL defaults to the deployment's `lease.ttlMs`. */
  endpointCall(name: string, options: DeploymentEnsureOptions = {}): EndpointCall {
    const d = this.get(name);
    const spec = this.instanceSpec(name);
    const requestId = randomUUID();
    return {
      request: {
        requestId,
        targetPreference: {
          backend: spec.backend,
          ...(spec.startupKind ? { startupKind: spec.startupKind } : {}),
          backendOptions: spec.backendOptions ?? {},
          ...(spec.bootSpec ? { bootSpec: spec.bootSpec } : {}),
          metadata: spec.metadata ?? {},
          ...(spec.policy ? { policy: spec.policy } : {}),
        },
        ...(d.modelIdentity ? { modelPreference: { id: d.modelIdentity } } : {}),
      },
      consumer: d.consumer ?? DEFAULT_CONSUMER,
      context: options.context ?? { runId: `shic-${name}`, attemptId: requestId },
      options: {
        ownerRef: options.ownerRef ?? 'shic-cli',
        ttlMs: options.ttlMs ?? d.lease.ttlMs,
        ...(options.exclusive === undefined ? {} : { exclusive: options.exclusive }),
        ...(options.capacityWaitMs === undefined ? {} : { capacityWaitMs: options.capacityWaitMs }),
      },
    };
  }
}

import type { Logger } from 'pino';
import type { BackendRegistry } from '../backend/backend-registry.js';
import { checkCompatibility } from '../compatibility/check-compatibility.js';
import { checkAbortSignal } from '../contracts/check-abort-signal.js';
import type { CompatibilityResult } from '../contracts/compatibility-result.js';
import { type ConsumerManifestInput, parseConsumerManifest } from '../contracts/consumer-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import {
  type EndpointRequestInput,
  type EnsureEndpointOptionsInput,
  type ExecutionContextInput,
  parseEndpointRequest,
  parseEnsureEndpointOptions,
  parseExecutionContext,
} from '../contracts/endpoint-request.js';
import type { InstanceSpec } from '../contracts/instance-spec.js';
import type { Lease } from '../contracts/lease.js';
import { IncompatibleError, InstanceNotFoundError, InstanceStoppedError } from '../errors/error-catalog.js';
import { IdleTracker } from '../lease/idle-tracker.js';
import { LeaseTable, type LeaseTableStats } from '../lease/lease-table.js';
import type { InstanceManager } from '../lifecycle/instance-manager.js';
import type { RuntimeInstance } from '../lifecycle/runtime-instance.js';
import type { Residency } from '../residency/residency.js';
import type { EventBus } from '../telemetry/event-bus.js';

/** What `ensureEndpoint` returns. */
export interface EnsuredEndpoint {
  /** Where to send requests, with the lease reference filled in. */
  endpoint: EndpointDescriptor;
  /** The verdict that allowed it. */
  compatibility: CompatibilityResult;
  lease: Lease;
}

/** Lease-table counters: live leases, callers waiting for a slot, and expiry work (O(expired) per tick). */
export type LeaseStats = LeaseTableStats & {
  /** Live leases across all instances. */
  live: number;
  /** Callers queued for a lease slot across all instances. */
  waiting: number;
};

/** Options of `leaseInstance`. */
export interface LeaseInstanceOptions {
  ownerRef: string;
  /** Lease TTL in ms. @default the kernel's `defaultLeaseTtlMs` */
  ttlMs?: number;
  exclusive?: boolean;
  /** Wait this long for a free slot when the instance is at `maxLeases`, in ms. @default 0 */
  capacityWaitMs?: number;
  metadata?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface EndpointServiceOptions {
  registry: BackendRegistry;
  manager: InstanceManager;
  events: EventBus;
  logger: Logger;
  clock: { now(): number };
  /** @default 60000 */
  defaultLeaseTtlMs: number;
  /** Told when an instance is used or may have become evictable. */
  residency?: Residency;
}

/**
 * The kernel's front door (guides/leases.md): checks compatibility before anything starts, ensures the
 * instance, leases it and publishes its endpoint; revokes leases when instances die and stops instances
 * that stay unleased for their `idleShutdownMs`.
 */
export class EndpointService {
  readonly #o: EndpointServiceOptions;
  readonly leases: LeaseTable;
  readonly #idle: IdleTracker;
  readonly #unsubscribe: Array<() => void>;
  // Instances a reload retired: no new caller; stopped when their last lease and claim are gone.
  readonly #retiring = new Map<string, { done: Promise<void>; resolve: () => void }>();

  constructor(options: EndpointServiceOptions) {
    this.#o = options;
    this.#idle = new IdleTracker({
      clock: options.clock,
      logger: options.logger,
      onIdle: (instanceId) => this.#stopIdle(instanceId),
    });
    this.leases = new LeaseTable({
      clock: options.clock,
      logger: options.logger,
      defaultTtlMs: options.defaultLeaseTtlMs,
      defaultCapacityWaitMs: 0,
      onEvent: (name, payload) => options.events.emit(name, payload),
      onInstanceBusy: (instanceId) => {
        this.#idle.markBusy(instanceId);
        options.residency?.touch(instanceId);
      },
      onInstanceEmpty: (instanceId) => {
        if (this.#stopIfRetired(instanceId)) return;
        this.#markIdle(instanceId);
        options.residency?.touch(instanceId);
        options.residency?.changed();
      },
    });
    const gone = (reason: string) => (event: { instanceId: string }) => {
      this.leases.revokeInstance(event.instanceId, reason);
      this.#idle.forget(event.instanceId);
    };
    const retired = (event: { instanceId: string }) => {
      this.#retiring.get(event.instanceId)?.resolve();
      this.#retiring.delete(event.instanceId);
    };
    this.#unsubscribe = [
      // A claimed instance is about to be leased (or `settle` marks it idle): no timer armed just to be disarmed.
      options.events.on('instance.ready', (event) => {
        if (this.leases.count(event.instanceId) === 0 && options.manager.claims(event.instanceId) === 0) {
          this.#markIdle(event.instanceId);
        }
      }),
      options.events.on('instance.exited', (event) => {
        if (!event.expected) gone('instance exited')(event);
      }),
      options.events.on('instance.failed', gone('instance failed')),
      options.events.on('instance.stopped', gone('instance stopped')),
      options.events.on('instance.failed', retired),
      options.events.on('instance.stopped', retired),
    ];
  }

  /**
   * Validates the request, checks compatibility (incompatible → nothing starts), ensures the instance,
   * leases it and returns the endpoint. If leasing fails, an instance this call started is stopped unless
   * another caller holds or is about to hold it.
   */
  async ensureEndpoint(
    requestInput: EndpointRequestInput,
    consumerInput: ConsumerManifestInput,
    contextInput: ExecutionContextInput,
    optionsInput: EnsureEndpointOptionsInput,
  ): Promise<EnsuredEndpoint> {
    const request = parseEndpointRequest(requestInput);
    const consumer = parseConsumerManifest(consumerInput);
    const context = parseExecutionContext(contextInput);
    const { signal, ...rest } = optionsInput ?? ({} as EnsureEndpointOptionsInput);
    const options = parseEnsureEndpointOptions(rest);
    checkAbortSignal(signal, 'EnsureEndpointOptions');
    const target = request.targetPreference;
    const { manifest } = this.#o.registry.get(target.backend);
    const compatibility = checkCompatibility(manifest, consumer);
    if (!compatibility.compatible) {
      throw new IncompatibleError(
        `Consumer "${consumer.consumer}" cannot use backend "${manifest.backend}": ${compatibility.reason}` +
          ` (${compatibility.metadata.allFailures.map((f) => f.message).join('; ')})`,
        compatibility,
        { backend: manifest.backend },
      );
    }
    const trace = {
      requestId: request.requestId,
      runId: context.runId,
      attemptId: context.attemptId,
      ...(context.boundaryRef === undefined ? {} : { boundaryRef: context.boundaryRef }),
      ...(context.observability.traceId === undefined ? {} : { traceId: context.observability.traceId }),
    };
    const spec: InstanceSpec = {
      backend: target.backend,
      backendOptions: target.backendOptions,
      metadata: { ...target.metadata, ...trace },
      ...(target.startupKind === undefined ? {} : { startupKind: target.startupKind }),
      ...(target.bootSpec === undefined ? {} : { bootSpec: target.bootSpec }),
      ...(target.executionSurface === undefined ? {} : { executionSurface: target.executionSurface }),
      ...(request.modelPreference === undefined ? {} : { modelIdentity: request.modelPreference.id }),
      ...(target.policy === undefined ? {} : { policy: target.policy }),
    };
    // The result carries a claim (src/lifecycle/instance-manager.ts): it keeps the instance from idle stop and
    // eviction until the lease below holds it, and is given back in `settle` either way.
    const { instance, reused } = await this.#o.manager.ensureParsed(spec, signal ? { signal } : {});
    let lease: Lease;
    try {
      lease = await this.#lease(instance, {
        ownerRef: options.ownerRef,
        exclusive: options.exclusive,
        capacityWaitMs: options.capacityWaitMs,
        metadata: { ...options.metadata, ...trace },
        ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      this.settle(instance, !reused);
      throw error;
    }
    this.settle(instance, false);
    const endpoint = this.#describe(instance, lease, context.boundaryRef ?? null);
    return { endpoint, compatibility, lease };
  }

  /**
   * Leases a ready instance by id.
   * @throws InstanceNotFoundError; InstanceStoppedError when it is not serving; CapacityExhaustedError; AbortedError.
   */
  // async so an unknown or stopped instance rejects like every other failure instead of throwing synchronously.
  async leaseInstance(instanceId: string, options: LeaseInstanceOptions): Promise<Lease> {
    return this.#lease(this.#serving(instanceId), options);
  }

  /** The endpoint of a serving instance, without a lease (or with the given lease's reference). */
  publishEndpoint(instanceId: string, lease?: Lease): EndpointDescriptor {
    return this.#describe(this.#serving(instanceId), lease ?? null, null);
  }

  /** A snapshot of the lease counters. */
  stats(): LeaseStats {
    let waiting = 0;
    for (const instance of this.#o.manager.list()) waiting += this.leases.waiting(instance.id);
    return { ...this.leases.stats, live: this.leases.size, waiting };
  }

  /**
   * Stops an instance, revoking its leases as the stop begins (not when it ends), so no caller is handed an
   * endpoint that is going away.
   * @throws InstanceNotFoundError (`instance_not_found`).
   */
  async stopInstance(instanceId: string): Promise<void> {
    if (!this.#o.manager.get(instanceId)) throw new InstanceNotFoundError(instanceId);
    this.leases.revokeInstance(instanceId, 'instance stopping');
    this.#idle.forget(instanceId);
    await this.#o.manager.stop(instanceId, 'requested');
  }

  /** Why residency may not evict the instance now: `leased`, `claimed` (a caller is about to lease it), or none. */
  holdReason(instanceId: string): string | undefined {
    if (this.leases.count(instanceId) > 0) return 'leased';
    if (this.#o.manager.claims(instanceId) > 0) return 'claimed';
    return undefined;
  }

  /** Stops an idle instance to make room for another (residency's eviction). */
  async evictInstance(instanceId: string): Promise<void> {
    if (!this.#o.manager.get(instanceId)) return;
    this.leases.revokeInstance(instanceId, 'instance evicted');
    this.#idle.forget(instanceId);
    await this.#o.manager.stop(instanceId, 'evicted');
  }

  /**
   * Retires an instance (a reload removed or changed its deployment): at once with `now` (its leases are
   * revoked), else it takes no new caller and stops when its last lease and claim end. Resolves when it is gone.
   */
  retireInstance(instanceId: string, options: { now?: boolean } = {}): Promise<void> {
    if (!this.#o.manager.get(instanceId)) return Promise.resolve();
    if (options.now) return this.stopInstance(instanceId).catch(() => {});
    let entry = this.#retiring.get(instanceId);
    if (!entry) {
      let resolve: () => void = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      entry = { done, resolve };
      this.#retiring.set(instanceId, entry);
    }
    this.#stopIfRetired(instanceId);
    return entry.done;
  }

  /** Resolves when a retiring instance is gone; undefined when it is not retiring. */
  retiring(instanceId: string): Promise<void> | undefined {
    return this.#retiring.get(instanceId)?.done;
  }

  // A retiring instance with no lease and no claim left is stopped now.
  #stopIfRetired(instanceId: string): boolean {
    if (!this.#retiring.has(instanceId)) return false;
    if (this.leases.count(instanceId) > 0 || this.#o.manager.claims(instanceId) > 0) return true;
    this.#idle.forget(instanceId);
    this.#o.manager.stop(instanceId, 'requested').catch((error: unknown) => {
      this.#o.logger.warn({ err: error, instanceId }, 'stopping a retired instance failed');
    });
    return true;
  }

  /** Stops idle timers and lease expiry; waiters fail with `kernel_closed`. */
  close(): void {
    for (const off of this.#unsubscribe) off();
    this.leases.close();
    this.#idle.close();
  }

  #serving(instanceId: string): RuntimeInstance {
    const instance = this.#o.manager.get(instanceId);
    if (!instance) throw new InstanceNotFoundError(instanceId);
    if (!instance.isUp) {
      throw new InstanceStoppedError(`Instance "${instanceId}" is ${instance.state}, not serving.`, {
        instanceId,
        backend: instance.backend.id,
      });
    }
    return instance;
  }

  async #lease(instance: RuntimeInstance, options: LeaseInstanceOptions): Promise<Lease> {
    const request = {
      instanceId: instance.id,
      backend: instance.backend.id,
      ownerRef: options.ownerRef,
      exclusive: options.exclusive ?? false,
      capacityWaitMs: options.capacityWaitMs ?? 0,
      metadata: options.metadata ?? {},
      ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
      ...(instance.plan.maxLeases === undefined ? {} : { maxLeases: instance.plan.maxLeases }),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const lease = this.leases.tryAcquire(request) ?? (await this.leases.acquire(request));
    if (instance.backend.onLease) this.#notifyLease(instance, lease);
    return lease;
  }

  // Backend lease hooks (e.g. Ollama keep-alive warm-up) run in the background; failures are logged only.
  #notifyLease(instance: RuntimeInstance, lease: Lease): void {
    const plan = instance.plan;
    const context = {
      signal: AbortSignal.timeout(plan.probeTimeoutMs),
      logger: this.#o.logger,
      reportProgress: () => {},
    };
    instance.backend.onLease?.(instance.target(), lease, context).catch((error: unknown) => {
      this.#o.logger.warn({ err: error, instanceId: instance.id }, 'backend onLease hook failed');
    });
  }

  #describe(instance: RuntimeInstance, lease: Lease | null, boundaryRef: string | null): EndpointDescriptor {
    return { ...instance.endpoint(), leaseRef: lease?.leaseRef ?? null, boundaryRef };
  }

  /**
   * Gives back an ensure result's claim. Unleased and unclaimed, a serving instance goes idle — or is stopped
   * when this caller started it and failed to lease it.
   */
  settle(instance: RuntimeInstance, startedHere: boolean): void {
    this.#o.manager.unclaim(instance);
    const left = this.#o.manager.claims(instance.id);
    if (left === 0) this.#o.residency?.changed();
    if (left === 0 && this.leases.count(instance.id) === 0 && this.#stopIfRetired(instance.id)) return;
    if (left > 0 || this.leases.count(instance.id) > 0 || !instance.isUp) return;
    if (!startedHere) {
      this.#markIdle(instance.id);
      return;
    }
    this.#o.manager.stop(instance.id, 'aborted').catch((error: unknown) => {
      this.#o.logger.warn({ err: error, instanceId: instance.id }, 'stopping an unclaimed instance failed');
    });
  }

  #markIdle(instanceId: string): void {
    const instance = this.#o.manager.get(instanceId);
    if (instance?.isUp) this.#idle.markIdle(instanceId, instance.plan.idleShutdownMs);
  }

  #stopIdle(instanceId: string): void {
    const instance = this.#o.manager.get(instanceId);
    if (!instance || this.leases.count(instanceId) > 0 || this.#o.manager.claims(instanceId) > 0) return;
    this.#o.logger.info({ instanceId, backend: instance.backend.id }, 'stopping idle instance');
    this.#o.manager.stop(instanceId, 'idle').catch((error: unknown) => {
      this.#o.logger.warn({ err: error, instanceId }, 'idle stop failed');
    });
  }
}

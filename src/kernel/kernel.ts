import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { BackendRegistry } from '../backend/backend-registry.js';
import { checkCompatibility } from '../compatibility/check-compatibility.js';
import type { BackendManifest } from '../contracts/backend-manifest.js';
import type { CompatibilityResult } from '../contracts/compatibility-result.js';
import { type ConsumerManifestInput, parseConsumerManifest } from '../contracts/consumer-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import type {
  EndpointRequestInput,
  EnsureEndpointOptionsInput,
  ExecutionContextInput,
} from '../contracts/endpoint-request.js';
import type { InstanceSpecInput } from '../contracts/instance-spec.js';
import type { Lease } from '../contracts/lease.js';
import type { RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import {
  EndpointService,
  type EnsuredEndpoint,
  type LeaseInstanceOptions,
  type LeaseStats,
} from '../endpoint/endpoint-service.js';
import { InstanceNotFoundError, KernelClosedError } from '../errors/error-catalog.js';
import { type EnsureInstanceOptions, InstanceManager } from '../lifecycle/instance-manager.js';
import type { RuntimeInstance } from '../lifecycle/runtime-instance.js';
import type { LogEntry } from '../process/log-ring.js';
import { OrphanWatchdog } from '../process/orphan-watchdog.js';
import { readProcessStartTime } from '../process/proc-info.js';
import { ProcessRecords } from '../process/process-records.js';
import { detectMemoryBudget } from '../residency/memory-budget.js';
import { measureGpuFree } from '../residency/nvidia-smi.js';
import { Residency, type ResidencySnapshot } from '../residency/residency.js';
import { PlanSecretFiles } from '../store/plan-secrets.js';
import { EventBus } from '../telemetry/event-bus.js';
import type { KernelEvent, KernelEventListener, KernelEventName } from '../telemetry/kernel-events.js';
import { type AdoptionReport, adoptInstances, WATCHDOG_META } from './adopt-instances.js';
import { KernelJournal } from './kernel-journal.js';
import type { ResolvedKernelOptions } from './kernel-options.js';

/** Owner tag of servers kept for adoption: only a kernel on the same state directory may reap them. */
function keepTagOf(stateDir: string): string {
  return `keep-${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}`;
}

/**
 * The lifecycle kernel (guides/architecture.md): backends, instances, and their telemetry. Create it with
 * `createKernel()`; every method is a thin front over the backend registry and the instance manager.
 */
export class Kernel {
  /** Directory holding process records. */
  readonly stateDir: string;
  readonly logger: Logger;
  readonly #events: EventBus;
  readonly #registry = new BackendRegistry();
  readonly #manager: InstanceManager;
  readonly #endpoints: EndpointService;
  readonly #watchdog: OrphanWatchdog | undefined;
  readonly #residency: Residency | undefined;
  readonly #init: Promise<void>;
  readonly #options: ResolvedKernelOptions;
  readonly #journal: KernelJournal | undefined;
  #adoption: AdoptionReport | null = null;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedKernelOptions) {
    this.stateDir = options.stateDir;
    this.logger = options.logger;
    this.#events = new EventBus((error) => this.logger.warn({ err: error }, 'event listener threw'));
    for (const backend of options.backends) this.#registry.register(backend);
    this.#options = options;
    const records = new ProcessRecords(options.stateDir);
    const keepTag = keepTagOf(options.stateDir);
    const adoption = options.adoption;
    this.#watchdog = options.watchdog
      ? new OrphanWatchdog({
          logger: this.logger,
          ...(adoption ? { keepGraceMs: adoption.graceMs, ownerTag: keepTag } : {}),
        })
      : undefined;
    const residencyOptions = options.residency;
    this.#residency = residencyOptions
      ? new Residency({
          budget: { devices: {} },
          events: this.#events,
          logger: this.logger,
          now: () => options.clock.now(),
          queueTimeoutMs: residencyOptions.queueTimeoutMs,
          recoveryTimeoutMs: residencyOptions.recoveryTimeoutMs,
          fairnessMs: residencyOptions.fairnessMs,
          holdReason: (instanceId) => this.#endpoints.holdReason(instanceId),
          evict: (instanceId) => this.#endpoints.evictInstance(instanceId),
          measureFree: measureGpuFree(residencyOptions.queryGpus),
        })
      : undefined;
    // Budget detection, adoption and reaping run once, in the background, in that order (adopted servers are charged
    // against the budget, and must not be reaped); every ensure waits for them before spawning.
    const secrets = new PlanSecretFiles(options.stateDir);
    const adopt = async (): Promise<ReadonlySet<number>> => {
      const store = options.store;
      if (!store || !this.#journal) return new Set();
      try {
        this.#adoption = await adoptInstances({
          store,
          registry: this.#registry,
          manager: this.#manager,
          leases: this.#endpoints.leases,
          journal: this.#journal,
          secrets,
          records,
          watchdog: this.#watchdog,
          logger: this.logger,
          now: () => options.clock.now(),
          resolveSpec: adoption ? (row) => adoption.resolveSpec(row) : undefined,
          readyTimeoutMs: adoption ? adoption.readyTimeoutMs : 0,
          stopTimeoutMs: 5000,
        });
      } catch (error) {
        this.logger.error({ err: error }, 'adopting recorded servers failed');
      }
      if (adoption && this.#watchdog) {
        // A successor must be able to stop this watchdog's grace: it finds it here.
        await this.#watchdog.start();
        const pid = this.#watchdog.pid;
        const startTime = pid === undefined ? null : readProcessStartTime(pid);
        if (pid !== undefined && startTime !== null)
          store.setMeta(WATCHDOG_META, JSON.stringify({ pid, startTime }));
      }
      return new Set((this.#adoption?.adopted ?? []).map((a) => a.pid));
    };
    const budgetDetected =
      residencyOptions && this.#residency
        ? detectMemoryBudget(residencyOptions).then(
            (budget) => {
              this.#residency?.setBudget(budget);
              this.logger.info({ devices: budget.devices }, 'memory budget');
            },
            // Without a budget nothing is enforced: better than a kernel that can start nothing.
            (error: unknown) => this.logger.error({ err: error }, 'detecting the memory budget failed'),
          )
        : Promise.resolve();
    const reap = (spare: ReadonlySet<number>) =>
      records.reapStale(this.logger, { keepTag, spare }).then(
        ({ killed }) => {
          if (killed.length) this.logger.warn({ killed }, 'reaped processes left by a dead kernel');
        },
        (error: unknown) => this.logger.error({ err: error }, 'reaping stale processes failed'),
      );
    // Without a store there is nothing to adopt: reaping need not wait for the budget.
    this.#init = options.store
      ? budgetDetected.then(adopt).then(reap)
      : Promise.all([budgetDetected, reap(new Set())]).then(() => undefined);
    this.#manager = new InstanceManager({
      registry: this.#registry,
      events: this.#events,
      logger: this.logger,
      now: () => options.clock.now(),
      spawnExtras: { records, ...(this.#watchdog ? { watchdog: this.#watchdog } : {}) },
      ...(adoption ? { outputDir: path.join(options.stateDir, 'logs') } : {}),
      beforeEnsure: () => this.#init,
      ...(this.#residency ? { residency: this.#residency } : {}),
      holdBack: (instanceId) => this.#endpoints.retiring(instanceId) ?? this.#residency?.drained(instanceId),
    });
    this.#endpoints = new EndpointService({
      registry: this.#registry,
      manager: this.#manager,
      events: this.#events,
      logger: this.logger,
      clock: options.clock,
      defaultLeaseTtlMs: options.defaultLeaseTtlMs,
      ...(this.#residency ? { residency: this.#residency } : {}),
    });
    this.#journal = options.store
      ? new KernelJournal({
          store: options.store,
          events: this.#events,
          instance: (id) => this.#manager.get(id),
          lease: (ref) => this.#endpoints.leases.get(ref),
          ownerMarker: () => this.#watchdog?.ownerMarker,
          secrets: adoption ? secrets : undefined,
          now: () => options.clock.now(),
        })
      : undefined;
    const release = (event: { instanceId: string }) => this.#residency?.release(event.instanceId);
    this.#events.on('instance.stopped', release);
    this.#events.on('instance.failed', release);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Registers a backend (its manifest is validated).
   * @throws ContractValidationError (`invalid_manifest`); DuplicateBackendError unless `replace`.
   */
  registerBackend(backend: Backend, options: { replace?: boolean } = {}): BackendManifest {
    this.#assertOpen();
    return this.#registry.register(backend, options).manifest;
  }

  /** Removes a backend; running instances keep running. Returns false when it was not registered. */
  unregisterBackend(id: string): boolean {
    this.#assertOpen();
    return this.#registry.unregister(id);
  }

  /** Registered backend ids, sorted. */
  listBackends(): string[] {
    this.#assertOpen();
    return this.#registry.list();
  }

  /** @throws UnknownBackendError (`unknown_backend`) listing the known ids. */
  getBackendManifest(id: string): BackendManifest {
    this.#assertOpen();
    return this.#registry.getManifest(id);
  }

  /**
   * Whether a consumer can use a backend (guides/backend-packages.md); nothing is started.
   * @throws UnknownBackendError; ContractValidationError for a bad consumer manifest.
   */
  compatibility(backendId: string, consumer: ConsumerManifestInput): CompatibilityResult {
    this.#assertOpen();
    return checkCompatibility(this.#registry.getManifest(backendId), parseConsumerManifest(consumer));
  }

  /**
   * Returns a ready instance for the spec, starting it if needed (single-flight per instance key).
   * @param options.signal aborts this caller's wait (`aborted`); the start stops when every caller aborted.
   * @param options.readyTimeoutMs replaces the plan's `readyTimeoutMs`, in ms.
   * @throws KernelError: `invalid_request`, `unknown_backend`, `invalid_startup_plan`, `crash_loop`,
   *   `binary_not_found`, `spawn_failed`, `port_unavailable`, `readiness_timeout`, `process_exited`, `aborted`.
   */
  async ensureInstance(
    spec: InstanceSpecInput,
    options: EnsureInstanceOptions = {},
  ): Promise<{ instance: RuntimeSnapshot; reused: boolean }> {
    this.#assertOpen();
    const { instance, reused } = await this.#manager.ensure(spec, options);
    // No lease follows: give the claim back at once (the instance idles out unless someone leases it).
    this.#endpoints.settle(instance, false);
    return { instance: this.#snapshot(instance), reused };
  }

  /**
   * The front door: validates the request, checks the consumer against the backend (incompatible → nothing
   * starts), finds or starts a fitting instance, leases it and returns its endpoint.
   * @param options.ownerRef who holds the lease; `ttlMs` (default `defaultLeaseTtlMs`), `exclusive`,
   *   `capacityWaitMs` (default 0), `metadata`, `signal` (aborting stops a start nobody else waits for).
   * @throws KernelError: `invalid_request`, `invalid_manifest`, `unknown_backend`, `incompatible` (with the full
   *   CompatibilityResult), `invalid_startup_plan`, the start's errors, `capacity_exhausted`, `aborted`.
   */
  async ensureEndpoint(
    request: EndpointRequestInput,
    consumer: ConsumerManifestInput,
    context: ExecutionContextInput,
    options: EnsureEndpointOptionsInput,
  ): Promise<EnsuredEndpoint> {
    this.#assertOpen();
    return this.#endpoints.ensureEndpoint(request, consumer, context, options);
  }

  /**
   * Leases a serving instance by id.
   * @throws InstanceNotFoundError; InstanceStoppedError (`instance_stopped`); CapacityExhaustedError; AbortedError.
   */
  async leaseInstance(instanceId: string, options: LeaseInstanceOptions): Promise<Lease> {
    this.#assertOpen();
    return this.#endpoints.leaseInstance(instanceId, options);
  }

  /**
   * Extends a live lease to now + `ttlMs` (default: its current TTL).
   * @throws LeaseNotFoundError (`lease_not_found`) for an unknown, expired, released or revoked lease.
   */
  renewLease(leaseRef: string, ttlMs?: number): Lease {
    this.#assertOpen();
    return this.#endpoints.leases.renew(leaseRef, ttlMs);
  }

  /** Ends a lease. Unknown or already ended leases are a no-op success (returns false). */
  releaseLease(leaseRef: string): boolean {
    this.#assertOpen();
    return this.#endpoints.leases.release(leaseRef);
  }

  /** The live lease with this reference, if any. */
  lookupLease(leaseRef: string): Lease | undefined {
    this.#assertOpen();
    return this.#endpoints.leases.get(leaseRef);
  }

  /** Live leases of an instance. */
  listLeases(instanceId: string): Lease[] {
    this.#assertOpen();
    return this.#endpoints.leases.listByInstance(instanceId);
  }

  /** Lease counters: live leases, queued callers, and expiry work (ticks, leases expired, heap ops last tick). */
  leaseStats(): LeaseStats {
    this.#assertOpen();
    return this.#endpoints.stats();
  }

  /**
   * The endpoint of a serving instance without taking a lease (SHIC's `publish_endpoint`).
   * @throws InstanceNotFoundError; InstanceStoppedError when it is not serving.
   */
  publishEndpoint(instanceId: string): EndpointDescriptor {
    this.#assertOpen();
    return this.#endpoints.publishEndpoint(instanceId);
  }

  /** A snapshot of the instance, or undefined when the kernel holds none with that id. */
  lookupInstance(instanceId: string): RuntimeSnapshot | undefined {
    this.#assertOpen();
    const instance = this.#manager.get(instanceId);
    return instance ? this.#snapshot(instance) : undefined;
  }

  /** Snapshots of every instance the kernel holds. */
  listInstances(): RuntimeSnapshot[] {
    this.#assertOpen();
    return this.#manager.list().map((instance) => this.#snapshot(instance));
  }

  /**
   * Stops an instance (an attached daemon only in the kernel's books) and clears a crash loop on its key.
   * @throws InstanceNotFoundError (`instance_not_found`).
   */
  async stopInstance(instanceId: string): Promise<void> {
    this.#assertOpen();
    await this.#endpoints.stopInstance(instanceId);
  }

  /**
   * Retires an instance: at once with `now` (leases revoked), else it takes no new caller and stops when its last
   * lease ends (`shic reload` retires the instances of removed and changed deployments). Resolves when it is gone.
   */
  retireInstance(instanceId: string, options: { now?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    return this.#endpoints.retireInstance(instanceId, options);
  }

  /** Forgets a crash loop for an instance key, so the next ensure starts afresh. */
  resetInstance(instanceKey: string): void {
    this.#assertOpen();
    this.#manager.resetInstance(instanceKey);
  }

  /**
   * The last `n` output lines of an instance's process (all kept lines when omitted).
   * @throws InstanceNotFoundError (`instance_not_found`).
   */
  instanceLogs(instanceId: string, n?: number): string[] {
    return this.#instance(instanceId).logs(n);
  }

  /**
   * Calls `listener` for each new output line of an instance (log follow); returns the unsubscribe function.
   * @throws InstanceNotFoundError (`instance_not_found`).
   */
  followInstanceLogs(instanceId: string, listener: (entry: LogEntry) => void): () => void {
    return this.#instance(instanceId).onLogLine(listener);
  }

  /**
   * Memory per device (budget, reserve, charged, free), what each instance is charged and the starts waiting for
   * memory; `null` when the kernel runs without residency.
   */
  memory(): ResidencySnapshot | null {
    this.#assertOpen();
    return this.#residency?.snapshot() ?? null;
  }

  /** Subscribes to a telemetry event (or `'*'` for all); returns the unsubscribe function. */
  on<K extends KernelEventName>(event: K, listener: KernelEventListener<K>): () => void;
  on(event: '*', listener: (event: KernelEvent) => void): () => void;
  on(event: string, listener: (event: never) => void): () => void {
    this.#assertOpen();
    return this.#events.on(event as '*', listener as (event: KernelEvent) => void);
  }

  /**
   * What this kernel did at start with the servers its predecessor on the state directory recorded (adopted,
   * stopped, forgotten); null without a store. Resolves once adoption is over.
   */
  async adoption(): Promise<AdoptionReport | null> {
    await this.#init;
    return this.#adoption;
  }

  /** When and how often an instance was adopted from a previous daemon; undefined when this kernel started it. */
  adoptionOf(instanceId: string): { adoptedAt: number; adoptions: number } | undefined {
    const instance = this.#manager.get(instanceId);
    const mark = instance?.adopted ? this.#journal?.adoption(instanceId) : undefined;
    return mark ? { adoptedAt: mark.adoptedAt, adoptions: mark.adoptions } : undefined;
  }

  /**
   * Stops every instance the kernel owns (attached daemons are left alone), closes the watchdog and drops
   * every listener. Idempotent; afterwards every method throws `KernelClosedError`.
   * @param options.keep with adoption on: leave the servers running for the next kernel on this state directory
   *   (their leases and records stay in the store; the watchdog kills them if none adopts them within the grace).
   */
  close(options: { keep?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      await this.#init;
      this.#residency?.close();
      const keep = options.keep === true && this.#options.adoption !== false;
      if (keep) {
        this.#journal?.detach();
        const kept = await this.#manager.handOverAll();
        this.logger.info({ instances: kept.map((i) => i.id) }, 'servers kept running for the next daemon');
      } else {
        await this.#manager.closeAll();
      }
      this.#endpoints.close();
      await this.#watchdog?.close({ keep });
      if (!keep) this.#options.store?.setMeta(WATCHDOG_META, null);
      this.#options.store?.flush();
      this.#events.clear();
    })();
    return this.#closing;
  }

  #snapshot(instance: RuntimeInstance): RuntimeSnapshot {
    return instance.snapshot(this.#endpoints.leases.count(instance.id));
  }

  #instance(instanceId: string) {
    this.#assertOpen();
    const instance = this.#manager.get(instanceId);
    if (!instance) throw new InstanceNotFoundError(instanceId);
    return instance;
  }

  #assertOpen(): void {
    if (this.#closing) throw new KernelClosedError();
  }
}

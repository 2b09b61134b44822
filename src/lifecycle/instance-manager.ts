import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import type { BackendRegistry } from '../backend/backend-registry.js';
import type { BackendManifest } from '../contracts/backend-manifest.js';
import { checkAbortSignal } from '../contracts/check-abort-signal.js';
import { MAX_DURATION_MS } from '../contracts/duration-ms.js';
import { type InstanceSpec, type InstanceSpecInput, parseInstanceSpec } from '../contracts/instance-spec.js';
import type { PlanPolicy } from '../contracts/plan-policy.js';
import type { StartupPlan } from '../contracts/startup-plan.js';
import {
  AbortedError,
  ContractValidationError,
  InstanceNotFoundError,
  InvalidStartupPlanError,
  KernelClosedError,
  ReadinessTimeoutError,
} from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import { validateStartupPlan } from '../plan/validate-startup-plan.js';
import type { LogRing } from '../process/log-ring.js';
import type { ManagedProcess, SpawnOptions } from '../process/spawn-process.js';
import type { MemoryNeed, Residency } from '../residency/residency.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { StopReason } from '../telemetry/kernel-events.js';
import { allocatePort } from './port-allocator.js';
import { RuntimeInstance, type RuntimeInstanceOptions } from './runtime-instance.js';

/** The fields of an object whose value is not `undefined` (a parsed `{ x: undefined }` must not erase a plan's `x`). */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// The caller's policy beats the backend's plan, field by field (restart policy too); the merged plan is then
// validated as a whole, so an override can never make an invalid plan pass.
function applyPlanPolicy(planInput: unknown, policy: PlanPolicy | undefined): unknown {
  if (!policy || planInput === null || typeof planInput !== 'object' || Array.isArray(planInput)) {
    return planInput;
  }
  const { restartPolicy, ...rest } = policy;
  const base = planInput as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...base, ...defined(rest) };
  const own = base.restartPolicy;
  // A backend's malformed restart policy is left as it is, for validation to name.
  if (
    restartPolicy &&
    (own === undefined || (own !== null && typeof own === 'object' && !Array.isArray(own)))
  ) {
    merged.restartPolicy = { ...(own as object | undefined), ...defined(restartPolicy) };
  }
  return merged;
}

/** Options of {@link InstanceManager}. */
export interface InstanceManagerOptions {
  registry: BackendRegistry;
  events: EventBus;
  logger: Logger;
  /** Epoch ms. */
  now: () => number;
  /** @default spawnProcess */
  spawn?: (options: SpawnOptions) => Promise<ManagedProcess>;
  spawnExtras?: Pick<SpawnOptions, 'watchdog' | 'records'>;
  /**
   * Directory spawned servers write their output to (`<instanceId>.log`) instead of pipes, so they can outlive the
   * kernel (guides/durable-state.md). @default pipes
   */
  outputDir?: string;
  /** @default get-port on 127.0.0.1 */
  allocatePort?: (host?: string) => Promise<number>;
  /** Awaited before planning anything (e.g. the kernel's reaping of stale processes). */
  beforeEnsure?: () => Promise<void>;
  /** Random source for backoff jitter. @default Math.random */
  random?: () => number;
  /** Memory-aware admission; absent = every start is admitted. */
  residency?: Residency;
  /**
   * A serving instance that must take no new caller (residency drains it, a reload retires it): the promise to
   * wait for before ensuring again; `undefined` = hand it out.
   */
  holdBack?: (instanceId: string) => Promise<void> | undefined;
}

/** Options of {@link InstanceManager.ensure}. */
export interface EnsureInstanceOptions {
  /** This caller gives up (`AbortedError`); the start itself is aborted only when every caller gave up. */
  signal?: AbortSignal;
  /** Replaces `plan.readyTimeoutMs`, in ms: for the start when this call begins it, else for this caller. */
  readyTimeoutMs?: number;
}

/** Result of {@link InstanceManager.ensure}. */
export interface EnsureInstanceResult {
  instance: RuntimeInstance;
  /** True when the instance existed already (ready, or started by another caller). */
  reused: boolean;
}
// Every result carries a claim on its instance (see InstanceManager.claims): the caller turns it into a lease,
// then calls `unclaim`, or just calls `unclaim`.

/**
 * Owns the runtime instances: keys them by `plan.instanceKey`, starts each key once however many callers
 * ask at the same time (single-flight), reuses ready instances, and remembers crash loops so further
 * ensures of that key fail fast until `stop` or `resetInstance`.
 */
export class InstanceManager {
  readonly #o: InstanceManagerOptions;
  readonly #byId = new Map<string, RuntimeInstance>();
  readonly #byKey = new Map<string, RuntimeInstance>();
  readonly #crashLoops = new Map<string, KernelError>();
  // Callers between "ensure asked" and "done with the result" (waiting for a start, or about to lease): while an
  // instance has claims it is neither idle-stopped nor evicted, and a first start nobody claims any more is aborted.
  readonly #claims = new Map<RuntimeInstance, number>();
  #closed = false;

  constructor(options: InstanceManagerOptions) {
    this.#o = options;
  }

  /** How many callers hold a claim on the instance (an ensure result not yet leased or given back). */
  claims(instanceId: string): number {
    const instance = this.#byId.get(instanceId);
    return instance ? (this.#claims.get(instance) ?? 0) : 0;
  }

  /** Gives back the claim an ensure result carries (after leasing it, or instead of leasing it). */
  unclaim(instance: RuntimeInstance): void {
    const left = (this.#claims.get(instance) ?? 1) - 1;
    if (left > 0) this.#claims.set(instance, left);
    else this.#claims.delete(instance);
  }

  // This caller's wait for a held-back instance to go; its signal ends only its own wait.
  #heldBack(instance: RuntimeInstance, gone: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return gone;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(
          new AbortedError(`Waiting for instance "${instance.id}" to make way was aborted.`, {
            instanceId: instance.id,
            backend: instance.backend.id,
          }),
        );
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void gone.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  #claim(instance: RuntimeInstance): void {
    this.#claims.set(instance, (this.#claims.get(instance) ?? 0) + 1);
  }

  // A returned endpoint must be serving: a server that died a moment ago is waited out, then the ensure runs
  // again (and waits for the restart). A live one is returned, claimed, without an extra tick.
  #reuse(
    instance: RuntimeInstance,
    spec: InstanceSpec,
    options: EnsureInstanceOptions,
  ): EnsureInstanceResult | Promise<EnsureInstanceResult> {
    // Drained for a start that waited past the fairness bound, or retired by a reload: no new caller; look again
    // once it is gone.
    const held = this.#o.holdBack?.(instance.id);
    if (held)
      return this.#heldBack(instance, held, options.signal).then(() => this.ensureParsed(spec, options));
    const dying = instance.deadProcessExit();
    if (!dying) {
      this.#claim(instance);
      return { instance, reused: true };
    }
    return dying.then(() => this.ensureParsed(spec, options));
  }

  /**
   * Returns a ready instance for the spec, starting one when none with the plan's key is up. The plan is
   * built and validated before any side effect.
   * @throws ContractValidationError (`invalid_request`) for a bad spec; UnknownBackendError; InvalidStartupPlanError.
   * @throws CrashLoopError when the key is in a crash loop; AbortedError; the start's KernelError.
   * @throws KernelClosedError after `closeAll()`.
   */
  async ensure(
    specInput: InstanceSpecInput,
    options: EnsureInstanceOptions = {},
  ): Promise<EnsureInstanceResult> {
    this.#assertOpen();
    const spec = parseInstanceSpec(specInput);
    const timeoutMs = options.readyTimeoutMs;
    if (
      timeoutMs !== undefined &&
      !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_DURATION_MS)
    ) {
      throw new ContractValidationError('invalid_request', 'EnsureInstanceOptions', [
        {
          path: 'readyTimeoutMs',
          message: `must be a whole number of ms between 0 and 2147483647 (received ${typeof timeoutMs} ${String(timeoutMs)})`,
          received: timeoutMs,
        },
      ]);
    }
    checkAbortSignal(options.signal, 'EnsureInstanceOptions');
    return this.ensureParsed(spec, options);
  }

  /**
   * `ensure` for a spec and options already validated at the edge (the endpoint service builds its spec from a
   * parsed request): no second parse on the warm path.
   */
  async ensureParsed(spec: InstanceSpec, options: EnsureInstanceOptions = {}): Promise<EnsureInstanceResult> {
    this.#assertOpen();
    const queuedAt = this.#o.now();
    const { backend, manifest } = this.#o.registry.get(spec.backend);
    const signal = options.signal;
    if (signal?.aborted)
      throw new AbortedError('ensureInstance was aborted before it began.', { backend: backend.id });
    // Fast path: a backend that can name the key without planning lets a warm ensure skip the plan entirely.
    const knownKey = backend.instanceKey?.(spec);
    if (knownKey !== undefined) {
      const crashLoop = this.#crashLoops.get(knownKey);
      if (crashLoop) throw crashLoop;
      const known = this.#byKey.get(knownKey);
      if (known?.isUp) return this.#reuse(known, spec, options);
      if (known?.state === 'starting') {
        await this.#wait(known, signal, options.readyTimeoutMs);
        return { instance: known, reused: true };
      }
    }
    await this.#o.beforeEnsure?.();
    const plan = await this.#plan(backend, manifest, spec, signal ?? new AbortController().signal);
    this.#assertOpen();
    if (signal?.aborted)
      throw new AbortedError('ensureInstance was aborted before it began.', { backend: backend.id });
    const crashLoop = this.#crashLoops.get(plan.instanceKey);
    if (crashLoop) throw crashLoop;

    const existing = this.#byKey.get(plan.instanceKey);
    if (existing?.isUp) return this.#reuse(existing, spec, options);
    if (existing?.state === 'starting') {
      await this.#wait(existing, signal, options.readyTimeoutMs);
      return { instance: existing, reused: true };
    }
    if (existing) this.#forget(existing);
    const instance = this.#create(spec, plan, backend, manifest);
    instance.start({
      queuedAt,
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
    await this.#wait(instance, signal);
    return { instance, reused: false };
  }

  /**
   * Takes over a server a previous kernel started (guides/durable-state.md): a new instance with the recorded id and
   * plan whose first start uses `process` instead of spawning, and must pass the plan's readiness probe (else the
   * server is stopped and the start's error thrown). Residency charges it `memory` at once.
   * @throws the readiness KernelError; KernelClosedError after `closeAll()`.
   */
  async adopt(
    spec: InstanceSpec,
    plan: StartupPlan,
    options: {
      instanceId: string;
      process: (ring: LogRing) => Promise<ManagedProcess>;
      ownerMarker: string;
      memory: MemoryNeed;
      readyTimeoutMs: number;
    },
  ): Promise<RuntimeInstance> {
    this.#assertOpen();
    const { backend, manifest } = this.#o.registry.get(spec.backend);
    const instance = this.#create(spec, plan, backend, manifest, {
      instanceId: options.instanceId,
      adopt: { process: options.process, ownerMarker: options.ownerMarker },
      memory: options.memory,
    });
    instance.start({ readyTimeoutMs: options.readyTimeoutMs });
    await instance.waitUntilReady();
    return instance;
  }

  /**
   * Hands every serving server over to a successor (a planned stop with `keep`): they keep running, this manager
   * forgets them and refuses new work. Instances still starting (nothing recorded for a successor yet) are stopped.
   */
  async handOverAll(): Promise<RuntimeInstance[]> {
    this.#closed = true;
    const all = [...this.#byId.values()];
    const kept = all.filter((instance) => instance.isUp);
    for (const instance of kept) instance.handOver();
    await Promise.all(all.filter((instance) => !instance.isUp).map((instance) => instance.stop('close')));
    this.#byId.clear();
    this.#byKey.clear();
    this.#claims.clear();
    return kept;
  }

  /** The instance with this id, if the manager holds it (stopped instances are dropped). */
  get(instanceId: string): RuntimeInstance | undefined {
    return this.#byId.get(instanceId);
  }

  /** Every held instance (starting, serving, stopping or failed). */
  list(): RuntimeInstance[] {
    return [...this.#byId.values()];
  }

  /**
   * Stops an instance and forgets it; a failed one is just forgotten. Clears a remembered crash loop.
   * @throws InstanceNotFoundError (`instance_not_found`).
   */
  async stop(instanceId: string, reason: StopReason = 'requested'): Promise<void> {
    const instance = this.#byId.get(instanceId);
    if (!instance) throw new InstanceNotFoundError(instanceId);
    this.#crashLoops.delete(instance.key);
    if (instance.state === 'failed') {
      this.#forget(instance);
      return;
    }
    await instance.stop(reason);
  }

  /** Forgets a crash loop (and a failed instance) for a key, so the next ensure starts afresh. */
  resetInstance(instanceKey: string): void {
    this.#crashLoops.delete(instanceKey);
    const instance = this.#byKey.get(instanceKey);
    if (instance?.state === 'failed') this.#forget(instance);
  }

  /** Stops every instance (attached daemons are left alone) and refuses new work. Idempotent. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#byId.values()].map((instance) => instance.stop('close')));
    this.#byId.clear();
    this.#byKey.clear();
    this.#crashLoops.clear();
    this.#claims.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new KernelClosedError();
  }

  async #plan(
    backend: Backend,
    manifest: BackendManifest,
    spec: InstanceSpec,
    signal: AbortSignal,
  ): Promise<StartupPlan> {
    const allocate = this.#o.allocatePort ?? allocatePort;
    const input = await backend.startupPlan(spec, { allocatePort: allocate, signal, logger: this.#o.logger });
    const plan = validateStartupPlan(manifest, spec, applyPlanPolicy(input, spec.policy));
    const knownKey = backend.instanceKey?.(spec);
    if (knownKey !== undefined && knownKey !== plan.instanceKey) {
      throw new InvalidStartupPlanError(
        'instance_key',
        `Backend "${backend.id}" names instance key "${knownKey}" but its plan says "${plan.instanceKey}"; they must be equal.`,
        { backend: backend.id, details: { declared: knownKey, actual: plan.instanceKey } },
      );
    }
    return plan;
  }

  #create(
    spec: InstanceSpec,
    plan: StartupPlan,
    backend: Backend,
    manifest: BackendManifest,
    adoption?: { instanceId: string; adopt: RuntimeInstanceOptions['adopt']; memory: MemoryNeed },
  ): RuntimeInstance {
    const instanceId =
      adoption?.instanceId ??
      `${backend.id.replace(/[^A-Za-z0-9._-]/g, '-')}-${randomBytes(4).toString('hex')}`;
    const residency = this.#o.residency;
    const instance: RuntimeInstance = new RuntimeInstance({
      instanceId,
      spec,
      plan,
      backend,
      manifest,
      events: this.#o.events,
      logger: this.#o.logger.child({ instanceId }),
      now: this.#o.now,
      replan: (signal) => this.#plan(backend, manifest, spec, signal),
      ...(this.#o.spawn ? { spawn: this.#o.spawn } : {}),
      ...(this.#o.spawnExtras ? { spawnExtras: this.#o.spawnExtras } : {}),
      ...(this.#o.random ? { random: this.#o.random } : {}),
      onTerminal: (done) => this.#onTerminal(done),
      ...(residency ? this.#residencyHooks(residency, () => instance) : {}),
      ...(this.#o.outputDir === undefined
        ? {}
        : { outputFile: path.join(this.#o.outputDir, `${instanceId}.log`) }),
      ...(adoption
        ? {
            adopt: adoption.adopt,
            adoptedAt: this.#o.now(),
            ...(residency ? { admit: async () => residency.adopt(instance, adoption.memory) } : {}),
          }
        : {}),
    });
    this.#byId.set(instanceId, instance);
    this.#byKey.set(plan.instanceKey, instance);
    return instance;
  }

  #residencyHooks(
    residency: Residency,
    self: () => RuntimeInstance,
  ): Pick<RuntimeInstanceOptions, 'admit' | 'onMeasured' | 'memory'> {
    return {
      admit: async (signal) => {
        const instance = self();
        await residency.admit(instance, await this.#need(instance, residency, signal), signal);
      },
      onMeasured: (bytes) => residency.calibrate(self(), bytes),
      memory: () => residency.chargeOf(self().id) ?? null,
    };
  }

  // The configured figure wins, then what the server reported on an earlier start of the key, then the
  // backend's estimate; without any, the instance is admitted uncharged (guides/residency.md).
  async #need(instance: RuntimeInstance, residency: Residency, signal: AbortSignal): Promise<MemoryNeed> {
    const plan = instance.plan;
    if (plan.memoryBytes) return { bytes: { ...plan.memoryBytes }, source: 'configured' };
    const calibrated = residency.calibratedNeed(plan.instanceKey);
    if (calibrated) return { bytes: calibrated, source: 'calibrated' };
    if (!instance.backend.estimateMemory) return { bytes: {}, source: 'none' };
    try {
      const estimate = await instance.backend.estimateMemory(plan, { signal, logger: this.#o.logger });
      return estimate ? { bytes: { ...estimate.bytes }, source: 'estimated' } : { bytes: {}, source: 'none' };
    } catch (error) {
      // A typed failure (e.g. the model file is missing) is the start's failure; anything else is a backend bug.
      if (KernelError.isInstance(error)) throw error;
      this.#o.logger.warn(
        { err: error, instanceId: instance.id },
        'estimateMemory threw; admitting uncharged',
      );
      return { bytes: {}, source: 'none' };
    }
  }

  #onTerminal(instance: RuntimeInstance): void {
    if (instance.state === 'failed' && instance.lastError?.code === 'crash_loop') {
      this.#crashLoops.set(instance.key, instance.lastError);
    }
    if (instance.state === 'stopped') this.#forget(instance);
  }

  #forget(instance: RuntimeInstance): void {
    if (this.#byId.get(instance.id) === instance) this.#byId.delete(instance.id);
    if (this.#byKey.get(instance.key) === instance) this.#byKey.delete(instance.key);
    this.#claims.delete(instance);
  }

  // One caller's wait, under its claim: kept when the instance is ready (the caller leases it), given back when the
  // wait fails; when the last claim of a first start goes because its callers gave up, that start is aborted.
  #wait(instance: RuntimeInstance, signal: AbortSignal | undefined, callerTimeoutMs?: number): Promise<void> {
    this.#claim(instance);
    if (instance.isUp) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (error?: unknown, abandon = false) => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        if (error === undefined) {
          resolve();
          return;
        }
        this.unclaim(instance);
        if (
          abandon &&
          !this.#claims.has(instance) &&
          instance.state === 'starting' &&
          instance.restarts === 0
        ) {
          void instance.stop('aborted');
        }
        reject(error);
      };
      let settled = false;
      const once = (error?: unknown, abandon = false) => {
        if (settled) return;
        settled = true;
        leave(error, abandon);
      };
      const context = { instanceId: instance.id, backend: instance.backend.id };
      const onAbort = () =>
        once(new AbortedError(`Waiting for instance "${instance.id}" was aborted.`, context), true);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (callerTimeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            once(
              new ReadinessTimeoutError(
                `Instance "${instance.id}" was not ready within this caller's readyTimeoutMs (${callerTimeoutMs} ms).`,
                { ...context, details: { reason: 'timeout', readyTimeoutMs: callerTimeoutMs } },
              ),
              true,
            ),
          callerTimeoutMs,
        );
      }
      instance.waitUntilReady().then(
        () => once(),
        (error: unknown) => once(error),
      );
    });
  }
}

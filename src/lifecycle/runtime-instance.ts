import type { Logger } from 'pino';
import type { Backend, InstanceTarget, ProbeContext } from '../backend/backend.js';
import type { BackendManifest } from '../contracts/backend-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import type { InstanceSpec } from '../contracts/instance-spec.js';
import type { InstanceState, RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import type { StartupPlan } from '../contracts/startup-plan.js';
import {
  AbortedError,
  BackendFailedError,
  InstanceStoppedError,
  ProcessExitedError,
} from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import { type LogEntry, LogRing } from '../process/log-ring.js';
import { type ManagedProcess, type SpawnOptions, spawnProcess } from '../process/spawn-process.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { KernelEventMap, KernelEventName, StopReason } from '../telemetry/kernel-events.js';
import { buildEndpointDescriptor } from './build-endpoint-descriptor.js';
import { CrashLoopBreaker } from './crash-loop-breaker.js';
import { judgeHealth } from './health-judgement.js';
import { HealthMonitor, type HealthObservation } from './health-monitor.js';
import {
  applyInstanceChange,
  type InstanceChange,
  type InstanceRecord,
  initialInstanceRecord,
} from './instance-record.js';
import { type StartAttemptEnv, startWithPortRetries } from './start-attempt.js';
import { runStopSequence } from './stop-sequence.js';

/** Options of {@link RuntimeInstance}. */
export interface RuntimeInstanceOptions {
  instanceId: string;
  spec: InstanceSpec;
  /** The validated first plan; its `instanceKey` is the instance's key for life. */
  plan: StartupPlan;
  backend: Backend;
  manifest: BackendManifest;
  events: EventBus;
  logger: Logger;
  now: () => number;
  /** Asks the backend for a fresh, validated plan (new port) for a port retry or a restart. */
  replan(signal: AbortSignal): Promise<StartupPlan>;
  /** @default spawnProcess */
  spawn?: (options: SpawnOptions) => Promise<ManagedProcess>;
  spawnExtras?: Pick<SpawnOptions, 'watchdog' | 'records'>;
  /** Called once the instance is `failed` or `stopped`. */
  onTerminal?: (instance: RuntimeInstance) => void;
  /** Residency's admission, awaited before the first start spawns anything (restarts keep their charge). */
  admit?: (signal: AbortSignal) => Promise<void>;
  /** What the server reported allocating, per device, summed over the attempt that became ready. */
  onMeasured?: (bytes: Record<string, number>) => void;
  /** The memory this instance is charged, shown in snapshots. */
  memory?: () => RuntimeSnapshot['memory'];
  /** Random source for backoff jitter. @default Math.random */
  random?: () => number;
  /**
   * A running server to take over instead of spawning one for the first start (adoption after a daemon restart,
   * guides/durable-state.md); it must answer the readiness probe of `plan` or it is stopped. Restarts spawn.
   */
  adopt?: { process: (ring: LogRing) => Promise<ManagedProcess>; ownerMarker: string };
  /** When the server was adopted, epoch ms (shown in snapshots while the adopted process serves). */
  adoptedAt?: number;
  /** Where spawned processes write their output (instead of pipes), so they can outlive the kernel. */
  outputFile?: string;
}

type Waiter = { resolve: () => void; reject: (error: unknown) => void };

function toKernelError(error: unknown, context: { instanceId: string; backend: string }): KernelError {
  if (KernelError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : 'a non-Error value was thrown';
  return new BackendFailedError(`Backend "${context.backend}" failed: ${message}`, {
    ...context,
    cause: error,
  });
}

/**
 * One instance of a backend and its lifecycle (guides/readiness-and-health.md): `starting → ready ⇄ degraded →
 * stopping → stopped`, and `starting|ready|degraded → failed`. Spawns and watches the process (spawned plans) or only
 * probes (attached plans), monitors health, restarts after crashes under the restart policy, and emits
 * every transition on the kernel's event bus.
 */
export class RuntimeInstance {
  readonly id: string;
  readonly key: string;
  readonly backend: Backend;
  readonly manifest: BackendManifest;
  readonly spec: InstanceSpec;
  readonly #o: RuntimeInstanceOptions;
  readonly #ring = new LogRing();
  readonly #breaker: CrashLoopBreaker;
  readonly #startAbort = new AbortController();
  readonly #waiters = new Set<Waiter>();
  readonly #expectedExits = new WeakSet<ManagedProcess>();
  #readyMetadata: Record<string, unknown> = {};
  #endpointCache: { plan: StartupPlan; descriptor: EndpointDescriptor } | undefined;
  #plan: StartupPlan;
  #record: InstanceRecord;
  #proc: ManagedProcess | null = null;
  // The typed error behind `record.lastError`, rethrown to callers (a crash loop fails every further ensure).
  #lastError: KernelError | null = null;
  #startTask: Promise<void> | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #monitor: HealthMonitor | undefined;
  #stopPromise: Promise<void> | undefined;
  #adoptTaken = false;
  #adopted: ManagedProcess | undefined;

  constructor(options: RuntimeInstanceOptions) {
    this.#o = options;
    this.id = options.instanceId;
    this.key = options.plan.instanceKey;
    this.backend = options.backend;
    this.manifest = options.manifest;
    this.spec = options.spec;
    this.#plan = options.plan;
    this.#record = initialInstanceRecord({
      instanceId: this.id,
      instanceKey: this.key,
      backend: this.backend.id,
    });
    this.#breaker = new CrashLoopBreaker(options.plan.restartPolicy, options.random);
  }

  /** Current lifecycle state. */
  get state(): InstanceState {
    return this.#record.state;
  }

  /** The instance's changing state as one plain record (what snapshots project and a store can persist). */
  get record(): InstanceRecord {
    return this.#record;
  }

  /** The server process of the current start (spawned or adopted); null for attached plans or between starts. */
  get process(): ManagedProcess | null {
    return this.#proc;
  }

  /** The plan of the current (or last) start. */
  get plan(): StartupPlan {
    return this.#plan;
  }

  /** The error that failed the instance, or the last crash. */
  get lastError(): KernelError | null {
    return this.#lastError;
  }

  /** Restarts after crashes so far. */
  get restarts(): number {
    return this.#record.restarts;
  }

  /** True while ready or degraded (serving). */
  get isUp(): boolean {
    const { state } = this.#record;
    return state === 'ready' || state === 'degraded';
  }

  /**
   * For an up instance whose process has just died but whose exit is not handled yet (e.g. a kill -9 a moment
   * ago): resolves once the exit has been handled, so the caller can ensure again and wait for the restart.
   * Undefined when the process is alive (or the instance is attached).
   */
  deadProcessExit(): Promise<void> | undefined {
    const proc = this.#proc;
    if (!proc?.isDefunct()) return undefined;
    // The instance's own exit handler was registered first, so it runs before this continuation.
    return proc.exited.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  }

  /**
   * Begins the first start (once). Its outcome reaches callers through `waitUntilReady`.
   * @param options.readyTimeoutMs replaces `plan.readyTimeoutMs` for this start, in ms.
   * @param options.queuedAt epoch ms when the first caller asked, for `queuedMs`.
   */
  start(options: { readyTimeoutMs?: number; queuedAt?: number } = {}): void {
    if (this.#startTask || this.#stopPromise) return;
    this.#startTask = this.#runStart(false, options.readyTimeoutMs, options.queuedAt);
  }

  /**
   * Resolves once the instance is ready or degraded.
   * @throws the start's KernelError when it fails; `InstanceStoppedError`/`AbortedError` when it is stopped.
   */
  waitUntilReady(): Promise<void> {
    if (this.isUp) return Promise.resolve();
    const { state } = this.#record;
    if (state === 'failed') return Promise.reject(this.#lastError);
    if (state === 'stopping' || state === 'stopped') return Promise.reject(this.#stoppedError());
    return new Promise((resolve, reject) => this.#waiters.add({ resolve, reject }));
  }

  /**
   * Stops the instance: aborts a start in progress, cancels a pending restart, stops health checks, calls
   * the backend's `shutdown` hook, then stops the process group (SIGTERM, `plan.stopTimeoutMs`, SIGKILL).
   * An attached daemon is never signalled. Idempotent; concurrent calls share one promise.
   */
  stop(reason: StopReason = 'requested'): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#record.state === 'failed' || this.#record.state === 'stopped') return Promise.resolve();
    this.#stopPromise = this.#stop(reason);
    return this.#stopPromise;
  }

  /** The last `n` output lines of the process (all kept lines when omitted), oldest first. */
  logs(n?: number): string[] {
    return this.#ring.lines(n);
  }

  /** Subscribes to new output lines (for log follow); returns the unsubscribe function. */
  onLogLine(listener: (entry: LogEntry) => void): () => void {
    return this.#ring.onLine(listener);
  }

  /** A JSON-safe view of the instance now; the lease layer above knows `leaseCount` and passes it in. */
  snapshot(leaseCount = 0): RuntimeSnapshot {
    const plan = this.#plan;
    const r = this.#record;
    return {
      instanceId: r.instanceId,
      instanceKey: r.instanceKey,
      backend: r.backend,
      startupKind: plan.startupKind,
      managementMode: plan.managementMode,
      state: r.state,
      health: r.health,
      healthDetail: r.healthDetail,
      leaseCount,
      endpoint: this.isUp ? this.endpoint() : null,
      ...(this.#proc && this.#proc.exitInfo === null ? { pid: this.#proc.pid } : {}),
      ...(plan.port === undefined ? {} : { port: plan.port }),
      restarts: r.restarts,
      startedAt: r.startedAt,
      readyAt: r.readyAt,
      stoppedAt: r.stoppedAt,
      lastError: r.lastError ? { ...r.lastError } : null,
      timings: { ...r.timings },
      memory: this.#o.memory?.() ?? null,
      adoptedAt: this.adopted ? (this.#o.adoptedAt ?? null) : null,
      metadata: { ...this.spec.metadata },
    };
  }

  /**
   * The published endpoint (no lease fields), with the metadata the readiness probe reported merged in.
   * Frozen and cached per plan: callers copy it to add lease fields.
   */
  endpoint(): EndpointDescriptor {
    const plan = this.#plan;
    if (this.#endpointCache?.plan !== plan) {
      const built = buildEndpointDescriptor(this.id, this.manifest, plan);
      const descriptor: EndpointDescriptor = Object.freeze({
        ...built,
        headers: Object.freeze(built.headers),
        capabilities: Object.freeze(built.capabilities),
        metadata: Object.freeze({ ...built.metadata, ...this.#readyMetadata }),
      });
      this.#endpointCache = { plan, descriptor };
    }
    return this.#endpointCache.descriptor;
  }

  /** What probes and hooks see. */
  target(plan: StartupPlan = this.#plan, pid: number | undefined = this.#proc?.pid): InstanceTarget {
    return { instanceId: this.id, plan, baseUrl: plan.endpointTemplate.baseUrl, ...(pid ? { pid } : {}) };
  }

  // The one way the record changes; the event that tells the world comes with it.
  #transition<K extends KernelEventName>(
    change: InstanceChange,
    event?: K,
    payload?: Omit<KernelEventMap[K], 'instanceId' | 'instanceKey' | 'backend' | 'at'>,
  ): void {
    this.#record = applyInstanceChange(this.#record, change);
    if (event && payload) this.#emit(event, payload);
  }

  #emit<K extends KernelEventName>(
    name: K,
    payload: Omit<KernelEventMap[K], 'instanceId' | 'instanceKey' | 'backend' | 'at'>,
  ): void {
    const base = { instanceId: this.id, instanceKey: this.key, backend: this.backend.id, at: this.#o.now() };
    this.#o.events.emit(name, { ...base, ...payload } as KernelEventMap[K]);
  }

  #probeContext(signal: AbortSignal): ProbeContext {
    return {
      signal,
      logger: this.#o.logger,
      reportProgress: (progress) => this.#emit('instance.progress', progress),
    };
  }

  #stoppedError(): KernelError {
    return new InstanceStoppedError(`Instance "${this.id}" was stopped.`, {
      instanceId: this.id,
      backend: this.backend.id,
    });
  }

  #settleWaiters(error?: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  #attemptEnv(): StartAttemptEnv {
    return {
      instanceId: this.id,
      backend: this.backend,
      ring: this.#ring,
      logger: this.#o.logger,
      now: this.#o.now,
      spawn: (options) => this.#spawn(options),
      spawnExtras: {
        ...this.#o.spawnExtras,
        ...(this.#o.outputFile === undefined ? {} : { outputFile: this.#o.outputFile }),
      },
      target: (plan, pid) => this.target(plan, pid),
      probeContext: (signal) => this.#probeContext(signal),
      adopt: (proc) => this.#adopt(proc),
      discard: async (proc) => {
        this.#expectedExits.add(proc);
        await proc.stop({ timeoutMs: this.#plan.stopTimeoutMs });
      },
      report: (event) => {
        if (event.type === 'spawned' && event.proc === this.#adopted) {
          const { proc, plan } = event;
          this.#emit('instance.adopted', {
            pid: proc.pid,
            ...(plan.port === undefined ? {} : { port: plan.port }),
            ownerMarker: this.#o.adopt?.ownerMarker ?? '',
          });
        } else if (event.type === 'spawned') {
          const { proc, plan, spawnMs } = event;
          this.#emit('instance.spawned', {
            pid: proc.pid,
            spawnMs,
            ...(plan.port === undefined ? {} : { port: plan.port }),
          });
        } else if (event.type === 'progress') this.#emit('instance.progress', event.progress);
        else this.#emit('probe.failed', { probe: 'readiness', detail: event.detail });
      },
    };
  }

  // The first start takes over the adopted server (once); every other start spawns.
  #spawn(options: SpawnOptions): Promise<ManagedProcess> {
    const adopt = this.#o.adopt;
    if (adopt && !this.#adoptTaken) {
      this.#adoptTaken = true;
      return adopt.process(this.#ring).then((proc) => {
        this.#adopted = proc;
        return proc;
      });
    }
    return (this.#o.spawn ?? spawnProcess)(options);
  }

  /** True when this instance's server was adopted from a previous daemon (and has not been restarted since). */
  get adopted(): boolean {
    return this.#adopted !== undefined && this.#proc === this.#adopted;
  }

  /**
   * Hands the server over to a successor (a planned daemon stop with `keep`): health checks and timers stop, the
   * process keeps running and is no longer followed. The instance is `stopped` in this kernel's books only.
   */
  handOver(): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#monitor?.stop();
    this.#monitor = undefined;
    this.#startAbort.abort();
    const proc = this.#proc;
    if (proc) this.#expectedExits.add(proc);
    proc?.handOver?.();
  }

  // Every exit of every process this instance spawned passes here, so `instance.exited` is emitted once.
  #adopt(proc: ManagedProcess): void {
    this.#proc = proc;
    void proc.exited.then((exit) => {
      const expected = this.#expectedExits.has(proc);
      this.#emit('instance.exited', {
        pid: proc.pid,
        exitCode: exit.exitCode,
        signal: exit.signal,
        expected,
      });
      const wasCurrent = this.#proc === proc;
      if (wasCurrent) this.#proc = null;
      if (expected || !wasCurrent || !this.isUp) return;
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
      const lines = this.#ring.lines(20);
      this.#crash(
        new ProcessExitedError(`Instance "${this.id}" (${this.backend.id}) ${how} while serving.`, exit, {
          instanceId: this.id,
          backend: this.backend.id,
          lastLogLines: lines,
        }),
      );
    });
  }

  async #runStart(isRestart: boolean, readyTimeoutMs?: number, queuedAt?: number): Promise<void> {
    const signal = this.#startAbort.signal;
    this.#transition({ startedAt: this.#o.now() });
    try {
      if (!isRestart && this.#o.admit) await this.#o.admit(signal);
      // The wait for memory counts as queueing, not as loading.
      const began = this.#o.now();
      this.#transition({ startedAt: began });
      const plan = isRestart ? await this.#replan(signal) : this.#plan;
      const started = await startWithPortRetries(this.#attemptEnv(), plan, {
        signal,
        ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
        replan: (s) => this.#replan(s),
        onAttempt: (attemptPlan) => {
          const attempt = this.#record.attempt + 1;
          this.#transition({ attempt }, 'instance.starting', {
            attempt,
            ...(attemptPlan.port === undefined ? {} : { port: attemptPlan.port }),
          });
        },
      });
      this.#readyMetadata = started.outcome.metadata ?? {};
      this.#endpointCache = undefined;
      this.#markReady(started.spawnMs, began, queuedAt, started.outcome.detail, started.memory);
    } catch (error) {
      if (this.#stopPromise) return;
      const failure = toKernelError(error, { instanceId: this.id, backend: this.backend.id });
      if (isRestart && failure.retryable) this.#crash(failure);
      else this.#fail(failure);
    }
  }

  async #replan(signal: AbortSignal): Promise<StartupPlan> {
    const plan = await this.#o.replan(signal);
    if (plan.instanceKey !== this.key) {
      this.#o.logger.warn(
        { instanceId: this.id, key: this.key, newKey: plan.instanceKey },
        'replan changed the key',
      );
    }
    this.#plan = plan;
    return plan;
  }

  #markReady(
    spawnMs: number | null,
    began: number,
    queuedAt: number | undefined,
    detail: string | undefined,
    memory: Record<string, number>,
  ): void {
    const now = this.#o.now();
    const queuedMs = queuedAt === undefined ? 0 : Math.max(0, began - queuedAt);
    const pid = this.#proc?.pid;
    const port = this.#plan.port;
    this.#transition({
      state: 'ready',
      health: 'healthy',
      healthDetail: detail ?? null,
      readyAt: now,
      timings: { readyMs: now - began, queuedMs, ...(spawnMs === null ? {} : { spawnMs }) },
    });
    // Measured before the event: whoever reacts to it sees the instance charged what it really holds.
    if (Object.keys(memory).length > 0) this.#o.onMeasured?.({ ...memory });
    this.#emit('instance.ready', {
      readyMs: now - began,
      queuedMs,
      ...(pid === undefined ? {} : { pid }),
      ...(port === undefined ? {} : { port }),
    });
    this.#startMonitor();
    this.#settleWaiters();
  }

  #startMonitor(): void {
    const plan = this.#plan;
    const functional = this.backend.checkFunctional?.bind(this.backend);
    this.#monitor = new HealthMonitor({
      healthIntervalMs: plan.healthIntervalMs,
      functionalHealthIntervalMs: plan.functionalHealthIntervalMs,
      probeTimeoutMs: plan.probeTimeoutMs,
      check: (signal) => this.backend.checkHealth(this.target(), this.#probeContext(signal)),
      ...(functional
        ? { functional: (signal: AbortSignal) => functional(this.target(), this.#probeContext(signal)) }
        : {}),
      onObservation: (observation) => this.#onHealth(observation),
    });
    this.#monitor.start();
  }

  #onHealth(observation: HealthObservation): void {
    const monitor = this.#monitor;
    if (!monitor || !this.isUp) return;
    const verdict = judgeHealth({
      state: this.#record.state === 'degraded' ? 'degraded' : 'ready',
      observation,
      failures: { health: monitor.failures('health'), functional: monitor.failures('functional') },
      threshold: this.#plan.healthFailureThreshold,
    });
    if (verdict.health) this.#transition({ health: verdict.health, healthDetail: observation.detail });
    if (observation.status !== 'healthy') {
      this.#emit('probe.failed', {
        probe: observation.probe,
        detail: observation.detail ?? observation.status,
      });
    }
    if (verdict.transition === 'degrade') {
      this.#transition({ state: 'degraded', degradedAt: this.#o.now() }, 'instance.degraded', {
        detail: observation.detail ?? observation.status,
        consecutiveFailures: observation.consecutiveFailures,
      });
    } else if (verdict.transition === 'recover') {
      const now = this.#o.now();
      this.#transition({ state: 'ready', degradedAt: null }, 'instance.recovered', {
        degradedMs: now - (this.#record.degradedAt ?? now),
      });
    }
  }

  // An unexpected exit (or a failed restart): restart after backoff, or fail when the breaker trips.
  #crash(error: KernelError): void {
    this.#monitor?.stop();
    this.#monitor = undefined;
    this.#lastError = error;
    this.#transition({ lastError: { code: error.code, message: error.message } });
    const decision = this.#breaker.recordCrash(this.#o.now());
    if (decision.action === 'fail') {
      const context = { instanceId: this.id, backend: this.backend.id, lastLogLines: this.#ring.lines(20) };
      this.#fail(
        decision.reason === 'crash_loop' ? this.#breaker.error(context, decision.crashesInWindow) : error,
      );
      return;
    }
    const restart = this.#record.restarts + 1;
    this.#transition(
      {
        state: 'starting',
        health: 'unavailable',
        healthDetail: `restarting after: ${error.message}`,
        readyAt: null,
        restarts: restart,
      },
      'instance.restarting',
      { restart, delayMs: decision.delayMs },
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#startTask = this.#runStart(true);
    }, decision.delayMs);
  }

  #fail(error: KernelError): void {
    this.#monitor?.stop();
    this.#monitor = undefined;
    clearTimeout(this.#restartTimer);
    this.#lastError = error;
    const lastError = { code: error.code, message: error.message };
    this.#transition(
      {
        state: 'failed',
        health: 'unavailable',
        healthDetail: error.message,
        lastError,
        stoppedAt: this.#o.now(),
      },
      'instance.failed',
      { error: lastError },
    );
    this.#settleWaiters(error);
    this.#o.onTerminal?.(this);
  }

  async #stop(reason: StopReason): Promise<void> {
    const upSince = this.#record.readyAt;
    this.#transition({ state: 'stopping' });
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#monitor?.stop();
    this.#monitor = undefined;
    this.#startAbort.abort();
    this.#settleWaiters(
      reason === 'aborted'
        ? new AbortedError(`Start of instance "${this.id}" was aborted.`, {
            instanceId: this.id,
            backend: this.backend.id,
          })
        : this.#stoppedError(),
    );
    await this.#startTask?.catch(() => {});
    const proc = this.#proc;
    if (proc) this.#expectedExits.add(proc);
    await runStopSequence({
      backend: this.backend,
      target: this.target(),
      proc,
      stopTimeoutMs: this.#plan.stopTimeoutMs,
      probeContext: (signal) => this.#probeContext(signal),
      logger: this.#o.logger,
    });
    const stoppedAt = this.#o.now();
    this.#transition(
      { state: 'stopped', health: 'unavailable', healthDetail: 'stopped', stoppedAt },
      'instance.stopped',
      { reason, uptimeMs: upSince === null ? null : stoppedAt - upSince },
    );
    this.#o.onTerminal?.(this);
  }
}

import type { Logger } from 'pino';
import type {
  Backend,
  InstanceTarget,
  ProbeContext,
  ProcessEvent,
  ProgressReport,
} from '../backend/backend.js';
import type { StartupPlan } from '../contracts/startup-plan.js';
import { PortUnavailableError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import type { LogRing } from '../process/log-ring.js';
import type { ManagedProcess, SpawnOptions } from '../process/spawn-process.js';
import { type ReadinessOutcome, waitForReadiness } from './readiness-waiter.js';

/** Lines that mean the server lost the race for its port. */
export const ADDRESS_IN_USE_PATTERN =
  /address already in use|address in use|couldn't bind|could not bind|EADDRINUSE/i;

/** How many of an attempt's last lines go into its errors. */
const ERROR_LOG_LINES = 20;

/** Internal: the attempt lost the bind race; the instance retries on a new port. */
export class BindRaceLostError extends Error {
  override name = 'BindRaceLostError';
  readonly port: number | undefined;
  constructor(port: number | undefined, cause: unknown) {
    super(`port ${port ?? '(unknown)'} was taken before the server could bind it`, { cause });
    this.port = port;
  }
}

/** What a start attempt needs from its instance. */
export interface StartAttemptEnv {
  instanceId: string;
  backend: Backend;
  ring: LogRing;
  logger: Logger;
  now(): number;
  spawn(options: SpawnOptions): Promise<ManagedProcess>;
  spawnExtras: Pick<SpawnOptions, 'watchdog' | 'records' | 'outputFile'>;
  target(plan: StartupPlan, pid?: number): InstanceTarget;
  probeContext(signal: AbortSignal): ProbeContext;
  /** Takes ownership of a freshly spawned process (exit tracking). */
  adopt(proc: ManagedProcess, plan: StartupPlan): void;
  /** Stops a process the kernel no longer wants; its exit counts as expected. */
  discard(proc: ManagedProcess): Promise<void>;
  /** What happens while the attempt runs, as it happens (the instance turns each into a telemetry event). */
  report(event: AttemptEvent): void;
}

/** Something a start attempt saw while it ran. */
export type AttemptEvent =
  | { type: 'spawned'; proc: ManagedProcess; plan: StartupPlan; spawnMs: number }
  | { type: 'progress'; progress: ProgressReport }
  | { type: 'probe-failed'; detail: string };

/** A started, ready attempt. */
export interface StartedAttempt {
  proc: ManagedProcess | null;
  outcome: ReadinessOutcome;
  /** Spawn duration in ms (spawned plans only). */
  spawnMs: number | null;
  /** What the server reported allocating while it loaded (`memoryReport` verdicts), summed per device, in bytes. */
  memory: Record<string, number>;
}

// A backend hook that throws must not take the kernel down; its verdict is then "nothing learned".
function askBackend(env: StartAttemptEnv, event: ProcessEvent, target: InstanceTarget) {
  try {
    return env.backend.onProcessEvent?.(event, target);
  } catch (error) {
    env.logger.warn({ err: error, instanceId: env.instanceId }, 'backend onProcessEvent threw');
    return undefined;
  }
}

/**
 * One start attempt on one plan: spawn (spawned plans) and wait for readiness. Output lines go to the
 * backend's `onProcessEvent`; a `ready` verdict triggers an immediate confirming probe, an `addressInUse`
 * verdict (or an early exit whose output says so) ends the attempt with `BindRaceLostError`.
 * Every failure path stops the process before it throws.
 * @throws BindRaceLostError, or the readiness/spawn `KernelError`.
 */
export async function runStartAttempt(
  env: StartAttemptEnv,
  plan: StartupPlan,
  options: { signal: AbortSignal; readyTimeoutMs?: number },
): Promise<StartedAttempt> {
  const readyHints = new Set<() => void>();
  const bindRace = new AbortController();
  const linesAtStart = env.ring.totalLines;
  const attemptLines = () => env.ring.lines(Math.min(ERROR_LOG_LINES, env.ring.totalLines - linesAtStart));
  const probe = (signal: AbortSignal) =>
    env.backend.probeReadiness(env.target(plan, proc?.pid), env.probeContext(signal));
  let proc: ManagedProcess | undefined;
  let spawnMs: number | null = null;
  const memory: Record<string, number> = {};

  if (plan.transport) {
    const transport = plan.transport;
    const spawnStarted = env.now();
    proc = await env.spawn({
      command: transport.command,
      args: transport.args,
      env: transport.env,
      unsetEnv: transport.unsetEnv,
      ...(transport.cwd === undefined ? {} : { cwd: transport.cwd }),
      logger: env.logger,
      logRing: env.ring,
      instanceId: env.instanceId,
      ...env.spawnExtras,
      onLine: (stream, line) => {
        const verdict = askBackend(env, { type: stream, line }, env.target(plan, proc?.pid));
        if (!verdict) return;
        if (verdict.progress) env.report({ type: 'progress', progress: verdict.progress });
        const buffer = verdict.memoryReport;
        if (buffer) memory[buffer.device] = (memory[buffer.device] ?? 0) + buffer.bytes;
        if (verdict.addressInUse) bindRace.abort();
        if (verdict.ready) for (const hint of readyHints) hint();
      },
    });
    spawnMs = env.now() - spawnStarted;
    const spawned = proc;
    env.adopt(spawned, plan);
    void spawned.exited.then((exit) =>
      askBackend(
        env,
        { type: 'exit', exitCode: exit.exitCode, signal: exit.signal },
        env.target(plan, spawned.pid),
      ),
    );
    env.report({ type: 'spawned', proc: spawned, plan, spawnMs });
  }

  try {
    const outcome = await waitForReadiness({
      instanceId: env.instanceId,
      backend: env.backend.id,
      plan,
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      probe,
      ...(proc ? { exited: proc.exited, onActivity: (fn: () => void) => env.ring.onLine(fn) } : {}),
      lastLogLines: attemptLines,
      onReadyHint: (fn) => {
        readyHints.add(fn);
        return () => readyHints.delete(fn);
      },
      onProbeFailed: (detail) => env.report({ type: 'probe-failed', detail }),
      signal: AbortSignal.any([options.signal, bindRace.signal]),
      now: env.now,
    });
    return { proc: proc ?? null, outcome, spawnMs, memory };
  } catch (error) {
    if (proc) await env.discard(proc);
    const exitedWithBindError =
      KernelError.isInstance(error) &&
      error.code === 'process_exited' &&
      (error.lastLogLines ?? []).some((line) => ADDRESS_IN_USE_PATTERN.test(line));
    if (!options.signal.aborted && (bindRace.signal.aborted || exitedWithBindError)) {
      throw new BindRaceLostError(plan.port, error);
    }
    throw error;
  }
}

/**
 * A whole start: the backend's preflight (once), then start attempts, each on a fresh plan (new port) after
 * a lost bind race, up to `plan.portRetries` retries.
 * @throws PortUnavailableError (`port_unavailable`) when every attempt lost the race; the preflight's,
 *   spawn's or readiness's KernelError otherwise.
 */
export async function startWithPortRetries(
  env: StartAttemptEnv,
  firstPlan: StartupPlan,
  options: {
    signal: AbortSignal;
    readyTimeoutMs?: number;
    replan(signal: AbortSignal): Promise<StartupPlan>;
    /** Called before each attempt (for `instance.starting`). */
    onAttempt(plan: StartupPlan): void;
  },
): Promise<StartedAttempt & { plan: StartupPlan }> {
  let plan = firstPlan;
  for (let retry = 0; ; retry += 1) {
    if (retry > 0) plan = await options.replan(options.signal);
    options.onAttempt(plan);
    if (retry === 0 && env.backend.preflight)
      await env.backend.preflight(plan, env.probeContext(options.signal));
    try {
      return { ...(await runStartAttempt(env, plan, options)), plan };
    } catch (error) {
      if (!(error instanceof BindRaceLostError)) throw error;
      env.logger.warn({ instanceId: env.instanceId, port: error.port, retry }, 'lost the bind race');
      if (retry >= plan.portRetries) {
        throw new PortUnavailableError(
          `Instance "${env.instanceId}" (${env.backend.id}) could not bind a port after ${retry + 1} attempts (plan.portRetries is ${plan.portRetries}); the last port, ${error.port ?? 'unknown'}, was in use. Free the port range or raise portRetries.`,
          {
            instanceId: env.instanceId,
            backend: env.backend.id,
            cause: error.cause,
            details: { port: error.port },
          },
        );
      }
    }
  }
}

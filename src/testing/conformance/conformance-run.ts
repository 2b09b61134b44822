import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Backend, InstanceTarget } from '../../backend/backend.js';
import type { EndpointDescriptor } from '../../contracts/endpoint-descriptor.js';
import type { InstanceSpecInput } from '../../contracts/instance-spec.js';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import type { StartupPlanInput } from '../../contracts/startup-plan.js';
import { createKernel } from '../../kernel/create-kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { CONFORMANCE_MARKER_ENV } from './find-marked-processes.js';

/** How the start went: ready, or the error the kernel raised. */
export type ConformanceStart =
  | { ok: true; elapsedMs: number }
  | { ok: false; elapsedMs: number; error: unknown; guardExpired: boolean };

/** One instance of the backend under test, started through a real kernel with every log line captured. */
export interface ConformanceRun {
  backend: Backend;
  kind: 'spawned' | 'attached';
  kernel: Kernel;
  /** Marker in the environment of every spawned process (`SHIC_CONFORMANCE_RUN`). */
  marker: string;
  /** Every pino line the kernel and backend logged, at trace level. */
  logLines: string[];
  start: ConformanceStart;
  /** The plan's ready timeout the kit held the start to, in ms. */
  readyTimeoutMs: number;
  snapshot?: RuntimeSnapshot;
  /** The published endpoint (no lease). */
  descriptor?: EndpointDescriptor;
  /** What the kernel handed the backend's last readiness probe. */
  target?: InstanceTarget;
  leaseRef?: string;
  /** Stops the kernel (idempotent) and removes its state directory. */
  dispose(): Promise<void>;
}

/** Options of `startConformanceRun`. */
export interface StartConformanceRunOptions {
  kind: 'spawned' | 'attached';
  /** The plan's `readyTimeoutMs` (from the truthfulness check), in ms; the kit waits that plus a grace. */
  readyTimeoutMs: number;
  /** Added to the ready timeout before the kit gives up on the kernel itself, in ms. @default 15000 */
  graceMs?: number;
}

// The kernel hands probes the live target; the kit keeps the last one, and marks spawned processes so
// that a descendant which escapes the process group can still be found.
function observed(backend: Backend, marker: string, onTarget: (t: InstanceTarget) => void): Backend {
  return new Proxy(backend, {
    get(subject, property) {
      const value = Reflect.get(subject, property, subject) as unknown;
      if (property === 'probeReadiness' || property === 'checkHealth') {
        return (target: InstanceTarget, context: unknown) => {
          onTarget(target);
          return (value as (t: InstanceTarget, c: unknown) => unknown).call(subject, target, context);
        };
      }
      if (property === 'startupPlan') {
        return async (...args: unknown[]) => {
          const plan = (await (value as (...a: unknown[]) => unknown).apply(
            subject,
            args,
          )) as StartupPlanInput;
          if (!plan?.transport) return plan;
          const env = { ...plan.transport.env, [CONFORMANCE_MARKER_ENV]: marker };
          return { ...plan, transport: { ...plan.transport, env } };
        };
      }
      return typeof value === 'function' ? value.bind(subject) : value;
    },
  });
}

/**
 * Starts `spec` through a real kernel (trace-level logs captured), leases it so it does not idle out, and
 * records the snapshot, endpoint and probe target. Never throws for a backend failure: the outcome is in
 * `run.start` for the checks to judge.
 */
export async function startConformanceRun(
  backend: Backend,
  spec: InstanceSpecInput,
  options: StartConformanceRunOptions,
): Promise<ConformanceRun> {
  const marker = randomUUID();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  const stateDir = await mkdtemp(join(tmpdir(), 'shic-conformance-'));
  let target: InstanceTarget | undefined;
  const kernel = createKernel({
    stateDir,
    logger: pino({ level: 'trace' }, sink),
    backends: [observed(backend, marker, (t) => (target ??= t))],
    watchdog: false,
  });
  const run: ConformanceRun = {
    backend,
    kind: options.kind,
    kernel,
    marker,
    logLines,
    readyTimeoutMs: options.readyTimeoutMs,
    start: { ok: false, elapsedMs: 0, error: new Error('not started'), guardExpired: false },
    get target() {
      return target;
    },
    async dispose() {
      await kernel.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  const guard = AbortSignal.timeout(options.readyTimeoutMs + (options.graceMs ?? 15_000));
  const started = performance.now();
  try {
    const { instance } = await kernel.ensureInstance(spec, { signal: guard });
    run.start = { ok: true, elapsedMs: performance.now() - started };
    const lease = await kernel.leaseInstance(instance.instanceId, {
      ownerRef: 'conformance-kit',
      ttlMs: 3_600_000,
    });
    run.leaseRef = lease.leaseRef;
    run.descriptor = kernel.publishEndpoint(instance.instanceId);
    run.snapshot = kernel.lookupInstance(instance.instanceId);
  } catch (error) {
    run.start = { ok: false, elapsedMs: performance.now() - started, error, guardExpired: guard.aborted };
  }
  return run;
}

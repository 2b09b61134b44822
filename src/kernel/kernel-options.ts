import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { MAX_DURATION_MS } from '../contracts/duration-ms.js';
import type { InstanceSpecInput } from '../contracts/instance-spec.js';
import { ContractValidationError } from '../errors/error-catalog.js';
import type { MemoryBudgetOptions } from '../residency/memory-budget.js';
import type { StateStore, StoredInstance } from '../store/state-store.js';

/** Options of `createKernel`. */
export interface KernelOptions {
  /**
   * Directory for process records (and, for `shic up`, the control API's address and token). Created on first
   * use, mode 0700.
   * @default `$SHIC_STATE_DIR`, else `$XDG_STATE_HOME/shic`, else `~/.local/state/shic` ({@link defaultStateDir})
   */
  stateDir?: string;
  /** Structured logger. @default pino({ level: 'silent' }) */
  logger?: Logger;
  /** Backends registered at creation. @default [] */
  backends?: Backend[];
  /** Clock for timestamps in events and snapshots, epoch ms. @default Date */
  clock?: { now(): number };
  /** Run an orphan watchdog so spawned processes die with the kernel, even on SIGKILL. @default true */
  watchdog?: boolean;
  /** Lease TTL when a caller gives none, in ms. @default 60000 */
  defaultLeaseTtlMs?: number;
  /**
   * Memory-aware admission and eviction (guides/residency.md); `false` starts whatever is asked, like before.
   * @default detected budgets (system memory, NVIDIA GPUs), no reserve, 120000 ms queue, 30000 ms recovery
   */
  residency?: ResidencyOptionsInput | false;
  /**
   * Durable state (guides/durable-state.md): the kernel writes its instances and leases to this store
   * (`StateStore.open(stateDir)`); the caller closes it after the kernel. @default none (nothing is written)
   */
  store?: StateStore;
  /**
   * Adoption across restarts (needs `store`): servers write their output to files, survive `close({ keep: true })`
   * and a crash of this process for `graceMs`, and the next kernel on the state directory adopts them. @default off
   */
  adoption?: AdoptionOptions | false;
}

/** The `adoption` kernel option. */
export interface AdoptionOptions {
  /**
   * The spec a recorded instance should run now (e.g. its deployment's in shic.yaml), or undefined when it is no
   * longer wanted (it is stopped). An instance is adopted only when this spec still gives it the same instance key.
   */
  resolveSpec(stored: StoredInstance): InstanceSpecInput | undefined;
  /** After this kernel dies without stopping its servers, how long its watchdog waits for a successor, ms. @default 60000 */
  graceMs?: number;
  /** How long an adopted server gets to answer its readiness probe, ms. @default 10000 */
  readyTimeoutMs?: number;
}

/** The `residency` kernel option. */
export interface ResidencyOptionsInput extends MemoryBudgetOptions {
  /** How long a start may wait for memory before `insufficient_memory`, in ms. @default 120000 */
  queueTimeoutMs?: number;
  /** After an eviction, how long to wait for a GPU's free memory (nvidia-smi) to come back, in ms. @default 30000 */
  recoveryTimeoutMs?: number;
  /**
   * Fairness bound: after a start has waited this long for memory held under lease, the holders take no new
   * leases and are evicted when their current ones end, in ms. @default 10000
   */
  fairnessMs?: number;
}

/** Kernel options with every default applied. */
export interface ResolvedKernelOptions {
  stateDir: string;
  logger: Logger;
  backends: Backend[];
  clock: { now(): number };
  watchdog: boolean;
  defaultLeaseTtlMs: number;
  residency:
    | (ResidencyOptionsInput & { queueTimeoutMs: number; recoveryTimeoutMs: number; fairnessMs: number })
    | false;
  store: StateStore | undefined;
  adoption: (AdoptionOptions & { graceMs: number; readyTimeoutMs: number }) | false;
}

/**
 * The one default state directory of the kernel, `shic up` and every `shic` command: `$SHIC_STATE_DIR`, else
 * `$XDG_STATE_HOME/shic`, else `~/.local/state/shic`.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHIC_STATE_DIR) return path.resolve(env.SHIC_STATE_DIR);
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'shic');
}

/**
 * Applies every default in one place; nothing downstream re-checks.
 * @throws ContractValidationError (`invalid_argument`) naming `defaultLeaseTtlMs` when it is not a positive integer.
 */
export function resolveKernelOptions(options: KernelOptions = {}): ResolvedKernelOptions {
  const ttl = options.defaultLeaseTtlMs;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= MAX_DURATION_MS)) {
    throw new ContractValidationError('invalid_argument', 'KernelOptions', [
      {
        path: 'defaultLeaseTtlMs',
        message: `must be a whole number of ms between 1 and 2147483647 (received ${typeof ttl} ${String(ttl)})`,
        received: ttl,
      },
    ]);
  }
  if (options.adoption && !options.store) {
    throw new ContractValidationError('invalid_argument', 'KernelOptions', [
      { path: 'adoption', message: 'needs a store (store: await StateStore.open(stateDir))' },
    ]);
  }
  return {
    store: options.store,
    adoption: options.adoption
      ? {
          ...options.adoption,
          graceMs: options.adoption.graceMs ?? 60_000,
          readyTimeoutMs: options.adoption.readyTimeoutMs ?? 10_000,
        }
      : false,
    stateDir: path.resolve(options.stateDir ?? defaultStateDir()),
    logger: options.logger ?? pino({ level: 'silent' }),
    backends: options.backends ?? [],
    clock: options.clock ?? { now: () => Date.now() },
    watchdog: options.watchdog ?? true,
    defaultLeaseTtlMs: options.defaultLeaseTtlMs ?? 60_000,
    residency:
      options.residency === false
        ? false
        : {
            ...options.residency,
            queueTimeoutMs: options.residency?.queueTimeoutMs ?? 120_000,
            recoveryTimeoutMs: options.residency?.recoveryTimeoutMs ?? 30_000,
            fairnessMs: options.residency?.fairnessMs ?? 10_000,
          },
  };
}

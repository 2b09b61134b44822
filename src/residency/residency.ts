import type { Logger } from 'pino';
import {
  AbortedError,
  InsufficientMemoryError,
  KernelClosedError,
  type MemoryHolder,
} from '../errors/error-catalog.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { KernelEventMap, MemorySource, StopReason } from '../telemetry/kernel-events.js';
import type { MemoryBudget } from './memory-budget.js';

/** What residency needs to know about an instance (a RuntimeInstance satisfies it). */
export interface ResidentInstance {
  readonly id: string;
  readonly key: string;
  readonly backend: { readonly id: string };
  readonly plan: { readonly pin: boolean; readonly priority: number };
  readonly state: string;
  readonly isUp: boolean;
}

/** An instance's memory need per device and where the figure came from. */
export interface MemoryNeed {
  bytes: Record<string, number>;
  source: MemorySource;
}

/** Options of {@link Residency}. */
export interface ResidencyOptions {
  budget: MemoryBudget;
  events: EventBus;
  logger: Logger;
  now: () => number;
  /** How long a start may wait in the queue for memory before `insufficient_memory`, in ms. */
  queueTimeoutMs: number;
  /** After an eviction, how long to wait for a device's measured free memory to come back, in ms. */
  recoveryTimeoutMs: number;
  /**
   * Fairness bound: once the head of the queue has waited this long for memory held under lease, the instances
   * holding it take no new leases (they drain) and are evicted when their last lease ends. In ms.
   */
  fairnessMs: number;
  /** Why an instance may not be evicted right now (`leased`, `claimed`), or `undefined` when nothing holds it. */
  holdReason: (instanceId: string) => string | undefined;
  /** Stops an instance to make room; resolves when its process is gone. */
  evict: (instanceId: string, reason: StopReason) => Promise<void>;
  /** Measured free bytes of a device (GPUs through nvidia-smi), for the recovery wait; `undefined` = not measurable. */
  measureFree?: (device: string) => Promise<number | undefined>;
}

/** A device in {@link ResidencySnapshot}. Bytes. */
export interface DeviceUsage {
  device: string;
  /** Budget after the reserve. */
  capacityBytes: number;
  reserveBytes: number;
  chargedBytes: number;
  freeBytes: number;
  source: string;
  name?: string;
}

/** What residency holds and who waits, for `/v1/memory`, `shic ps` and the dashboard. */
export interface ResidencySnapshot {
  devices: DeviceUsage[];
  residents: Array<{
    instanceId: string;
    backend: string;
    bytes: Record<string, number>;
    source: MemorySource;
    lastUsedAt: number;
    pinned: boolean;
    priority: number;
  }>;
  queue: Array<{
    instanceId: string;
    backend: string;
    bytes: Record<string, number>;
    position: number;
    waitedMs: number;
  }>;
}

interface Resident {
  instance: ResidentInstance;
  bytes: Record<string, number>;
  source: MemorySource;
  lastUsedAt: number;
  /** Order of last use: a clock tick can hold several uses, and LRU must still tell them apart. */
  usedSeq: number;
  evicting: boolean;
}

interface Drain {
  forWaiter: Waiter;
  done: Promise<void>;
  resolve: () => void;
}

interface Waiter {
  instance: ResidentInstance;
  need: MemoryNeed;
  enqueuedAt: number;
  evicted: string[];
  position: number;
  settle: (error?: unknown) => void;
}

const sum = (values: Iterable<number>) => {
  let total = 0;
  for (const value of values) total += value;
  return total;
};

const MIB = 1024 * 1024;
const formatBytes = (bytes: Record<string, number>) =>
  Object.entries(bytes)
    .map(([device, n]) => `${device} ${(n / MIB).toFixed(0)} MiB`)
    .join(', ') || 'nothing';

/**
 * Decides which instances may hold memory at once (guides/residency.md). A start is admitted when its need
 * fits every budgeted device; otherwise idle instances (no lease, no caller about to lease, not pinned) are
 * evicted, lowest priority then least recently used first, and the start waits until their processes are
 * gone; when leased, pinned or loading instances hold the memory, it queues (first come, first served) until
 * its deadline, then fails with `insufficient_memory` naming the need, the budget and the holders. A need
 * larger than a whole device fails at once. Charges are taken at admission (before the process starts), so
 * concurrent starts can never overcommit a budget.
 */
export class Residency {
  readonly #o: ResidencyOptions;
  readonly #residents = new Map<string, Resident>();
  readonly #queue: Waiter[] = [];
  readonly #calibrated = new Map<string, Record<string, number>>();
  readonly #draining = new Map<string, Drain>();
  #budget: MemoryBudget;
  #pumping = false;
  #again = false;
  #useSeq = 0;
  #closed = false;

  constructor(options: ResidencyOptions) {
    this.#o = options;
    this.#budget = options.budget;
  }

  /** The budget admission decides against. */
  get budget(): MemoryBudget {
    return this.#budget;
  }

  /** Replaces the budget (the kernel detects it once, after construction); the queue is looked at again. */
  setBudget(budget: MemoryBudget): void {
    this.#budget = budget;
    void this.#pump();
  }

  /**
   * Waits until the instance's need fits, evicting idle instances if that makes it fit, then charges it.
   * @throws InsufficientMemoryError at once when the need exceeds a whole device, or at the queue deadline.
   * @throws AbortedError when `signal` aborts first; KernelClosedError after `close()`.
   */
  admit(instance: ResidentInstance, need: MemoryNeed, signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new KernelClosedError());
    const capacity = this.#capacity();
    const tooBig = Object.entries(need.bytes).filter(
      ([d, n]) => capacity[d] !== undefined && n > capacity[d]!,
    );
    if (tooBig.length > 0) {
      const error = this.#insufficient(instance, need, 0, true);
      this.#refused(instance, need, error, true, 0);
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const context = { instanceId: instance.id, backend: instance.backend.id };
      let timer: NodeJS.Timeout | undefined;
      let fairness: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        instance,
        need,
        enqueuedAt: this.#o.now(),
        evicted: [],
        position: 0,
        settle: (error) => {
          clearTimeout(timer);
          clearTimeout(fairness);
          signal.removeEventListener('abort', onAbort);
          const at = this.#queue.indexOf(waiter);
          if (at >= 0) this.#queue.splice(at, 1);
          // Instances drained for a waiter that gave up take leases again.
          for (const [id, drain] of this.#draining) {
            if (drain.forWaiter !== waiter || error === undefined) continue;
            this.#draining.delete(id);
            drain.resolve();
          }
          if (error === undefined) resolve();
          else reject(error);
          // Whoever was behind may fit now (or moved up a place).
          if (at >= 0) void this.#pump();
        },
      };
      const onAbort = () =>
        waiter.settle(new AbortedError(`Waiting for memory for "${instance.id}" was aborted.`, context));
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        const waited = this.#o.now() - waiter.enqueuedAt;
        const error = this.#insufficient(instance, need, waited, false);
        this.#refused(instance, need, error, false, waited);
        waiter.settle(error);
      }, this.#o.queueTimeoutMs);
      timer.unref?.();
      // Look again when the fairness bound is reached: leased holders may have to drain by then.
      fairness = setTimeout(() => void this.#pump(), this.#o.fairnessMs);
      fairness.unref?.();
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  /**
   * Charges a server that already runs (adopted from a previous daemon) at once, without queueing or evicting: its
   * memory is already taken. A detected budget was measured with that memory in use, so it grows by the same bytes.
   */
  adopt(instance: ResidentInstance, need: MemoryNeed): void {
    const devices = { ...this.#budget.devices };
    for (const [device, bytes] of Object.entries(need.bytes)) {
      const budget = devices[device];
      if (budget && budget.source !== 'configured')
        devices[device] = { ...budget, totalBytes: budget.totalBytes + bytes };
    }
    this.#budget = { ...this.#budget, devices };
    this.#charge({ instance, need, enqueuedAt: this.#o.now(), evicted: [], position: 0, settle: () => {} });
  }

  /** The instance stopped or failed: its memory is free again. */
  release(instanceId: string): void {
    const drain = this.#draining.get(instanceId);
    this.#draining.delete(instanceId);
    drain?.resolve();
    if (this.#residents.delete(instanceId)) void this.#pump();
  }

  /**
   * Resolves when the draining instance is gone (or drains no more because its waiter left); an ensure then
   * looks again and queues for memory like any other start. Undefined when it does not drain.
   */
  drained(instanceId: string): Promise<void> | undefined {
    return this.#draining.get(instanceId)?.done;
  }

  /** The instance was used (leased or released): it becomes the most recently used. */
  touch(instanceId: string): void {
    const resident = this.#residents.get(instanceId);
    if (resident) {
      resident.lastUsedAt = this.#o.now();
      resident.usedSeq = ++this.#useSeq;
    }
  }

  /** Something that held memory may be evictable now (a lease ended, a claim went away): retry the queue. */
  changed(): void {
    if (this.#queue.length > 0) void this.#pump();
  }

  /** The need measured for an instance key on an earlier start, if any. */
  calibratedNeed(instanceKey: string): Record<string, number> | undefined {
    return this.#calibrated.get(instanceKey);
  }

  /**
   * The server reported what it allocated: keep it for the key's next start and charge the instance that figure
   * from now on (it is what the memory really holds).
   */
  calibrate(instance: ResidentInstance, reported: Record<string, number>): void {
    if (Object.keys(reported).length === 0) return;
    this.#calibrated.set(instance.key, { ...reported });
    const resident = this.#residents.get(instance.id);
    const estimated = resident?.bytes ?? {};
    if (resident) {
      resident.bytes = { ...reported };
      resident.source = 'calibrated';
    }
    this.#emit('residency.calibrated', instance, { bytes: { ...reported }, estimated: { ...estimated } });
    void this.#pump();
  }

  /** What the instance is charged, if anything. */
  chargeOf(instanceId: string): MemoryNeed | undefined {
    const resident = this.#residents.get(instanceId);
    return resident ? { bytes: { ...resident.bytes }, source: resident.source } : undefined;
  }

  snapshot(): ResidencySnapshot {
    const charged = this.#charged();
    const now = this.#o.now();
    return {
      devices: Object.values(this.#budget.devices).map((d) => {
        const capacityBytes = Math.max(0, d.totalBytes - d.reserveBytes);
        const chargedBytes = charged[d.device] ?? 0;
        return {
          device: d.device,
          capacityBytes,
          reserveBytes: d.reserveBytes,
          chargedBytes,
          freeBytes: capacityBytes - chargedBytes,
          source: d.source,
          ...(d.name === undefined ? {} : { name: d.name }),
        };
      }),
      residents: [...this.#residents.values()].map((r) => ({
        instanceId: r.instance.id,
        backend: r.instance.backend.id,
        bytes: { ...r.bytes },
        source: r.source,
        lastUsedAt: r.lastUsedAt,
        pinned: r.instance.plan.pin,
        priority: r.instance.plan.priority,
      })),
      queue: this.#queue.map((w, i) => ({
        instanceId: w.instance.id,
        backend: w.instance.backend.id,
        bytes: { ...w.need.bytes },
        position: i + 1,
        waitedMs: now - w.enqueuedAt,
      })),
    };
  }

  /** Fails every waiter with `kernel_closed`; later admissions are refused. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#queue]) waiter.settle(new KernelClosedError());
  }

  #capacity(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of Object.values(this.#budget.devices))
      out[d.device] = Math.max(0, d.totalBytes - d.reserveBytes);
    return out;
  }

  #charged(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.#residents.values())
      for (const [device, bytes] of Object.entries(r.bytes)) out[device] = (out[device] ?? 0) + bytes;
    return out;
  }

  #free(): Record<string, number> {
    const capacity = this.#capacity();
    const charged = this.#charged();
    const out: Record<string, number> = {};
    for (const [device, bytes] of Object.entries(capacity)) out[device] = bytes - (charged[device] ?? 0);
    return out;
  }

  // Per budgeted device, what is missing for `bytes`; devices without a budget are never enforced.
  #deficits(bytes: Record<string, number>, free: Record<string, number>): Map<string, number> {
    const deficits = new Map<string, number>();
    for (const [device, need] of Object.entries(bytes)) {
      const room = free[device];
      if (room !== undefined && need > room) deficits.set(device, need - room);
    }
    return deficits;
  }

  #holdOf(resident: Resident): string | undefined {
    if (resident.evicting) return 'evicting';
    if (!resident.instance.isUp)
      return resident.instance.state === 'starting' ? 'starting' : resident.instance.state;
    if (resident.instance.plan.pin) return 'pinned';
    return this.#o.holdReason(resident.instance.id);
  }

  // Lowest priority first, then least recently used; just enough of them to cover every deficit, or null.
  #chooseVictims(deficits: Map<string, number>): Resident[] | null {
    const candidates = [...this.#residents.values()]
      .filter((r) => this.#holdOf(r) === undefined)
      .sort((a, b) => a.instance.plan.priority - b.instance.plan.priority || a.usedSeq - b.usedSeq);
    const left = new Map(deficits);
    const victims: Resident[] = [];
    for (const candidate of candidates) {
      if (sum(left.values()) <= 0) break;
      const helps = [...left].some(([device, missing]) => missing > 0 && (candidate.bytes[device] ?? 0) > 0);
      if (!helps) continue;
      victims.push(candidate);
      for (const [device, missing] of left) left.set(device, missing - (candidate.bytes[device] ?? 0));
    }
    return [...left.values()].every((missing) => missing <= 0) ? victims : null;
  }

  #holders(devices: Iterable<string>): MemoryHolder[] {
    const wanted = new Set(devices);
    const holders: MemoryHolder[] = [];
    for (const r of this.#residents.values()) {
      if (!Object.keys(r.bytes).some((d) => wanted.has(d) && (r.bytes[d] ?? 0) > 0)) continue;
      holders.push({
        instanceId: r.instance.id,
        backend: r.instance.backend.id,
        bytes: { ...r.bytes },
        reason: this.#holdOf(r) ?? 'idle',
      });
    }
    return holders;
  }

  // One pump at a time: admissions are decided in queue order and an eviction is awaited before the next look.
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        while (this.#queue.length > 0 && !this.#closed) {
          const head = this.#queue[0]!;
          const deficits = this.#deficits(head.need.bytes, this.#free());
          if (deficits.size === 0) {
            this.#charge(head);
            continue;
          }
          const victims = this.#chooseVictims(deficits);
          if (!victims) {
            if (this.#o.now() - head.enqueuedAt >= this.#o.fairnessMs) this.#drainFor(head, deficits);
            this.#reportQueue(deficits);
            break;
          }
          await this.#evict(victims, head);
        }
      } while (this.#again && !this.#closed);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'residency pump failed');
    } finally {
      this.#pumping = false;
    }
  }

  // The fairness bound: leased holders (never pinned or loading ones), lowest priority then least recently used,
  // just enough to cover the waiter's deficit together with what is idle, stop taking leases. Their current
  // leases run to the end; the last release makes them evictable, and the queue evicts them for this waiter.
  #drainFor(waiter: Waiter, deficits: Map<string, number>): void {
    const left = new Map(deficits);
    for (const r of this.#residents.values()) {
      if (this.#holdOf(r) !== undefined && !this.#draining.has(r.instance.id)) continue;
      for (const [device, missing] of left) left.set(device, missing - (r.bytes[device] ?? 0));
    }
    const leased = [...this.#residents.values()]
      .filter(
        (r) => !this.#draining.has(r.instance.id) && ['leased', 'claimed'].includes(this.#holdOf(r) ?? ''),
      )
      .sort((a, b) => a.instance.plan.priority - b.instance.plan.priority || a.usedSeq - b.usedSeq);
    for (const r of leased) {
      if ([...left.values()].every((missing) => missing <= 0)) break;
      if (![...left].some(([device, missing]) => missing > 0 && (r.bytes[device] ?? 0) > 0)) continue;
      for (const [device, missing] of left) left.set(device, missing - (r.bytes[device] ?? 0));
      let resolve: () => void = () => {};
      const done = new Promise<void>((r2) => {
        resolve = r2;
      });
      this.#draining.set(r.instance.id, { forWaiter: waiter, done, resolve });
      this.#emit('residency.draining', r.instance, {
        forInstanceId: waiter.instance.id,
        forBackend: waiter.instance.backend.id,
        waitedMs: this.#o.now() - waiter.enqueuedAt,
      });
    }
  }

  #charge(waiter: Waiter): void {
    const now = this.#o.now();
    this.#residents.set(waiter.instance.id, {
      instance: waiter.instance,
      bytes: { ...waiter.need.bytes },
      source: waiter.need.source,
      lastUsedAt: now,
      usedSeq: ++this.#useSeq,
      evicting: false,
    });
    this.#emit('residency.admitted', waiter.instance, {
      bytes: { ...waiter.need.bytes },
      source: waiter.need.source,
      waitedMs: now - waiter.enqueuedAt,
      evicted: waiter.evicted,
    });
    waiter.settle();
  }

  async #evict(victims: Resident[], forWaiter: Waiter): Promise<void> {
    const now = this.#o.now();
    for (const victim of victims) {
      victim.evicting = true;
      forWaiter.evicted.push(victim.instance.id);
      this.#emit('residency.evicting', victim.instance, {
        reason: 'memory',
        bytes: { ...victim.bytes },
        forInstanceId: forWaiter.instance.id,
        forBackend: forWaiter.instance.backend.id,
        idleMs: now - victim.lastUsedAt,
      });
    }
    await Promise.all(
      victims.map((victim) =>
        this.#o.evict(victim.instance.id, 'evicted').catch((error: unknown) => {
          this.#o.logger.warn({ err: error, instanceId: victim.instance.id }, 'eviction stop failed');
        }),
      ),
    );
    // The stop resolved: the process is gone. Its charge goes even if the stopped event was missed.
    for (const victim of victims) this.#residents.delete(victim.instance.id);
    await this.#awaitRecovery(victims, forWaiter.need.bytes);
  }

  // A GPU driver can report memory as used for a while after the process exited (Ollama waits for it too):
  // poll the measured free memory until the need fits, up to `recoveryTimeoutMs`.
  async #awaitRecovery(victims: Resident[], need: Record<string, number>): Promise<void> {
    const measure = this.#o.measureFree;
    if (!measure) return;
    const devices = new Set(victims.flatMap((v) => Object.keys(v.bytes)).filter((d) => d !== 'system'));
    const deadline = this.#o.now() + this.#o.recoveryTimeoutMs;
    for (const device of devices) {
      for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
        const free = await measure(device);
        if (free === undefined || free >= (need[device] ?? 0)) break;
        if (this.#o.now() >= deadline) {
          this.#o.logger.warn(
            { device, free, need: need[device] },
            'memory did not come back before recoveryTimeoutMs',
          );
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
      }
    }
  }

  #reportQueue(deficits: Map<string, number>): void {
    const blocking = this.#holders(deficits.keys());
    this.#queue.forEach((waiter, i) => {
      if (waiter.position === i + 1) return;
      waiter.position = i + 1;
      this.#emit('residency.queued', waiter.instance, {
        bytes: { ...waiter.need.bytes },
        position: i + 1,
        blocking,
      });
    });
  }

  #insufficient(
    instance: ResidentInstance,
    need: MemoryNeed,
    waitedMs: number,
    never: boolean,
  ): InsufficientMemoryError {
    const capacity = this.#capacity();
    const free = this.#free();
    const devices = Object.keys(need.bytes).filter((d) => capacity[d] !== undefined);
    const holders = never ? [] : this.#holders(devices);
    const budget = Object.fromEntries(devices.map((d) => [d, capacity[d]!]));
    const freeNow = Object.fromEntries(devices.map((d) => [d, free[d]!]));
    const held = holders.map((h) => `${h.instanceId} (${h.reason}, ${formatBytes(h.bytes)})`).join('; ');
    const message = never
      ? `Instance "${instance.id}" (${instance.backend.id}) needs ${formatBytes(need.bytes)}, more than the whole budget (${formatBytes(budget)}): it can never start here. Lower its context or parallel slots, or raise resources.`
      : `Instance "${instance.id}" (${instance.backend.id}) needs ${formatBytes(need.bytes)}; after ${waitedMs} ms only ${formatBytes(freeNow)} of ${formatBytes(budget)} is free, held by ${held || 'nothing evictable'}. Release leases or raise resources.`;
    return new InsufficientMemoryError(
      message,
      { need: { ...need.bytes }, budget, free: freeNow, holders, never, waitedMs },
      { instanceId: instance.id, backend: instance.backend.id },
    );
  }

  #refused(
    instance: ResidentInstance,
    need: MemoryNeed,
    error: InsufficientMemoryError,
    never: boolean,
    waitedMs: number,
  ): void {
    this.#emit('residency.refused', instance, {
      bytes: { ...need.bytes },
      never,
      waitedMs,
      message: error.message,
    });
  }

  #emit<
    K extends
      | 'residency.draining'
      | 'residency.admitted'
      | 'residency.queued'
      | 'residency.evicting'
      | 'residency.refused'
      | 'residency.calibrated',
  >(
    name: K,
    instance: ResidentInstance,
    payload: Omit<KernelEventMap[K], 'instanceId' | 'instanceKey' | 'backend' | 'at'>,
  ): void {
    const base = {
      instanceId: instance.id,
      instanceKey: instance.key,
      backend: instance.backend.id,
      at: this.#o.now(),
    };
    this.#o.events.emit(name, { ...base, ...payload } as KernelEventMap[K]);
  }
}

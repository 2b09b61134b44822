import type { Lease } from '../contracts/lease.js';
import type { RuntimeInstance } from '../lifecycle/runtime-instance.js';
import type { PlanSecretFiles } from '../store/plan-secrets.js';
import { splitPlanSecrets } from '../store/plan-secrets.js';
import type { StateStore, StoredInstance } from '../store/state-store.js';
import type { EventBus } from '../telemetry/event-bus.js';

/** How an instance came to this kernel, when it was adopted. */
export interface AdoptionMark {
  ownerMarker: string;
  adoptedAt: number;
  adoptions: number;
}

/** What the journal needs from its kernel. */
export interface KernelJournalOptions {
  store: StateStore;
  events: EventBus;
  instance: (instanceId: string) => RuntimeInstance | undefined;
  lease: (leaseRef: string) => Lease | undefined;
  /** The owner marker of processes this kernel spawns. */
  ownerMarker: () => string | undefined;
  /** Where plan secrets go for a successor; absent = they are not kept (no adoption). */
  secrets: PlanSecretFiles | undefined;
  now: () => number;
}

/**
 * Writes the kernel's instances and leases to the state store as their events happen (guides/durable-state.md). The
 * store queues the writes and commits them together a moment later, so this costs the warm path a map insert.
 */
export class KernelJournal {
  readonly #o: KernelJournalOptions;
  readonly #adopted = new Map<string, AdoptionMark>();
  // The plan whose secrets are on disk, per instance: they change only with the plan (a restart), not per event.
  readonly #secretsOf = new Map<string, unknown>();
  readonly #off: (() => void)[] = [];
  #detached = false;

  constructor(options: KernelJournalOptions) {
    this.#o = options;
    const { events } = options;
    const put = (event: { instanceId: string }) => this.#putInstance(event.instanceId);
    for (const name of [
      'instance.ready',
      'instance.degraded',
      'instance.recovered',
      'instance.restarting',
      'residency.calibrated',
    ] as const) {
      this.#off.push(events.on(name, put));
    }
    const remove = (event: { instanceId: string }) => this.#removeInstance(event.instanceId);
    this.#off.push(events.on('instance.stopped', remove), events.on('instance.failed', remove));
    const putLease = (event: { leaseRef: string }) => {
      const lease = this.#o.lease(event.leaseRef);
      if (lease && !this.#detached) this.#o.store.putLease({ ...lease, backend: this.#backendOf(lease) });
    };
    const removeLease = (event: { leaseRef: string }) => {
      if (!this.#detached) this.#o.store.removeLease(event.leaseRef);
    };
    this.#off.push(
      events.on('lease.acquired', putLease),
      events.on('lease.renewed', putLease),
      events.on('lease.released', removeLease),
      events.on('lease.expired', removeLease),
      events.on('lease.revoked', removeLease),
    );
  }

  /** Marks an instance as adopted (its process carries its first kernel's owner marker). */
  markAdopted(instanceId: string, mark: AdoptionMark): void {
    this.#adopted.set(instanceId, mark);
  }

  /** How an instance was adopted, if it was. */
  adoption(instanceId: string): AdoptionMark | undefined {
    return this.#adopted.get(instanceId);
  }

  /** Stops writing (a handover: what is in the store is what the successor adopts) and commits what is queued. */
  detach(): void {
    this.#detached = true;
    for (const off of this.#off) off();
    this.#o.store.flush();
  }

  #backendOf(lease: Lease): string {
    return this.#o.instance(lease.instanceId)?.backend.id ?? 'unknown';
  }

  #putInstance(instanceId: string): void {
    const instance = this.#o.instance(instanceId);
    if (!instance || this.#detached) return;
    const proc = instance.process;
    const record = instance.record;
    const mark = instance.adopted ? this.#adopted.get(instanceId) : undefined;
    const { plan, secrets } = splitPlanSecrets(instance.plan);
    const deployment = instance.spec.metadata.deployment;
    const row: StoredInstance = {
      instanceId,
      instanceKey: instance.key,
      backend: instance.backend.id,
      deployment: typeof deployment === 'string' ? deployment : null,
      state: record.state,
      pid: proc?.pid ?? null,
      processStart: proc?.startedAt ?? null,
      ownerMarker: proc ? (mark?.ownerMarker ?? this.#o.ownerMarker() ?? null) : null,
      port: instance.plan.port ?? null,
      restarts: record.restarts,
      memory: instance.snapshot().memory?.bytes ?? null,
      plan,
      metadata: { ...instance.spec.metadata },
      logFile: proc?.outputFile ?? null,
      startedAt: record.startedAt,
      readyAt: record.readyAt,
      adoptedAt: mark?.adoptedAt ?? null,
      adoptions: mark?.adoptions ?? 0,
      updatedAt: this.#o.now(),
    };
    if (this.#o.secrets && this.#secretsOf.get(instanceId) !== instance.plan) {
      this.#o.secrets.write(instanceId, secrets);
      this.#secretsOf.set(instanceId, instance.plan);
    }
    this.#o.store.putInstance(row);
  }

  #removeInstance(instanceId: string): void {
    if (this.#detached) return;
    this.#adopted.delete(instanceId);
    this.#secretsOf.delete(instanceId);
    this.#o.store.removeInstance(instanceId);
    this.#o.secrets?.remove(instanceId);
  }
}

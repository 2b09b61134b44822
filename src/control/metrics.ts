import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeviceUsage, ResidencySnapshot } from '../residency/residency.js';
import type { KernelEvent } from '../telemetry/kernel-events.js';

const STATES = ['starting', 'ready', 'degraded', 'stopping', 'failed'] as const;
type TrackedState = (typeof STATES)[number];

/**
 * Prometheus metrics of the control plane, built only from kernel telemetry events (guides/telemetry.md), so they
 * count what the kernel reported rather than sampling it. One registry per daemon (never the global one).
 */
export class ControlMetrics {
  /** The registry `/metrics` serializes. */
  readonly registry = new Registry();
  readonly #states = new Map<string, TrackedState>();
  readonly #leases = new Set<string>();
  readonly #instances: Gauge;
  readonly #leaseGauge: Gauge;
  readonly #starts: Counter;
  readonly #restarts: Counter;
  readonly #readiness: Histogram;
  readonly #leaseEvents: Counter;
  readonly #evictions: Counter;
  readonly #refused: Counter;

  /**
   * @param inFlight reads how many control requests are being answered (event streams excluded).
   * @param streams reads how many event and log streams are open.
   */
  constructor(
    inFlight: () => number = () => 0,
    streams: () => number = () => 0,
    memory: () => ResidencySnapshot | null = () => null,
  ) {
    const registers = [this.registry];
    // Read from residency at scrape time: charges change with calibration, not only with events.
    const perDevice = (name: string, help: string, pick: (d: DeviceUsage) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['device'],
        registers,
        collect() {
          this.reset();
          for (const device of memory()?.devices ?? []) this.set({ device: device.device }, pick(device));
        },
      });
    perDevice(
      'shic_memory_budget_bytes',
      'Memory residency may hand out per device (after the reserve).',
      (d) => d.capacityBytes,
    );
    perDevice(
      'shic_memory_charged_bytes',
      'Memory charged to admitted instances per device.',
      (d) => d.chargedBytes,
    );
    new Gauge({
      name: 'shic_memory_queue',
      help: 'Starts waiting for memory.',
      registers,
      collect() {
        this.set(memory()?.queue.length ?? 0);
      },
    });
    new Gauge({
      name: 'shic_instance_memory_bytes',
      help: 'Memory charged to each instance per device.',
      labelNames: ['instance', 'backend', 'device'],
      registers,
      collect() {
        this.reset();
        for (const r of memory()?.residents ?? [])
          for (const [device, bytes] of Object.entries(r.bytes))
            this.set({ instance: r.instanceId, backend: r.backend, device }, bytes);
      },
    });
    this.#evictions = new Counter({
      name: 'shic_evictions_total',
      help: 'Idle instances stopped to make room for another.',
      labelNames: ['backend'],
      registers,
    });
    this.#refused = new Counter({
      name: 'shic_admissions_refused_total',
      help: 'Starts refused with insufficient_memory (never fits, or queue deadline).',
      labelNames: ['backend', 'never'],
      registers,
    });
    new Gauge({
      name: 'shic_control_streams_open',
      help: 'Open event and log-follow streams (SSE) of the control API.',
      registers,
      collect() {
        this.set(streams());
      },
    });
    new Gauge({
      name: 'shic_control_requests_in_flight',
      help: 'Control API requests being answered (event and log streams excluded).',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    this.#instances = new Gauge({
      name: 'shic_instances',
      help: 'Instances by lifecycle state (stopped instances are not counted).',
      labelNames: ['state'],
      registers,
    });
    this.#leaseGauge = new Gauge({
      name: 'shic_leases',
      help: 'Live leases.',
      registers,
    });
    this.#starts = new Counter({
      name: 'shic_instance_starts_total',
      help: 'Start attempts (first starts and restarts).',
      labelNames: ['backend'],
      registers,
    });
    this.#restarts = new Counter({
      name: 'shic_instance_restarts_total',
      help: 'Restarts after an unexpected exit.',
      labelNames: ['backend'],
      registers,
    });
    this.#readiness = new Histogram({
      name: 'shic_readiness_seconds',
      help: 'Time from the start of an attempt to ready, in seconds.',
      labelNames: ['backend'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.#leaseEvents = new Counter({
      name: 'shic_lease_events_total',
      help: 'Lease events by type (acquired, renewed, released, expired, revoked).',
      labelNames: ['event', 'backend'],
      registers,
    });
    this.#refreshGauges();
  }

  /** Feeds one kernel event (subscribe with `kernel.on('*', metrics.observe)`). */
  readonly observe = (event: KernelEvent): void => {
    const { backend } = event;
    switch (event.type) {
      case 'instance.starting':
        this.#starts.inc({ backend });
        this.#setState(event.instanceId, 'starting');
        break;
      case 'instance.ready':
      case 'instance.recovered':
        if (event.type === 'instance.ready') this.#readiness.observe({ backend }, event.readyMs / 1000);
        this.#setState(event.instanceId, 'ready');
        break;
      case 'instance.degraded':
        this.#setState(event.instanceId, 'degraded');
        break;
      case 'instance.restarting':
        this.#restarts.inc({ backend });
        break;
      case 'instance.failed':
        this.#setState(event.instanceId, 'failed');
        break;
      case 'instance.stopped':
        this.#setState(event.instanceId, undefined);
        break;
      case 'lease.acquired':
        this.#leases.add(event.leaseRef);
        this.#leaseEvents.inc({ event: 'acquired', backend });
        break;
      case 'lease.renewed':
        this.#leaseEvents.inc({ event: 'renewed', backend });
        break;
      case 'lease.released':
      case 'lease.expired':
      case 'lease.revoked':
        this.#leases.delete(event.leaseRef);
        this.#leaseEvents.inc({ event: event.type.slice('lease.'.length), backend });
        break;
      case 'residency.evicting':
        this.#evictions.inc({ backend });
        return;
      case 'residency.refused':
        this.#refused.inc({ backend, never: String(event.never) });
        return;
      default:
        return;
    }
    this.#refreshGauges();
  };

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #setState(instanceId: string, state: TrackedState | undefined): void {
    if (state === undefined) this.#states.delete(instanceId);
    else this.#states.set(instanceId, state);
  }

  #refreshGauges(): void {
    const counts = new Map<TrackedState, number>(STATES.map((s) => [s, 0]));
    for (const state of this.#states.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
    for (const [state, n] of counts) this.#instances.set({ state }, n);
    this.#leaseGauge.set(this.#leases.size);
  }
}

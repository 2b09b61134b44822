// The soak's invariant checker. It compares what the kernel says (leases, instances, pids) with what /proc
// shows. The kernel learns of a SIGKILLed process a few ms after it dies, and a stopping instance keeps its
// leases until it is gone, so a mismatch only counts as a violation when it lasts longer than `graceMs`;
// `strictCheck()` (for a quiet kernel) allows none at all. Crash revocation is checked exactly, from events
// (`observe`): no lease acquired before a crash may still be held when the instance serves again.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { KernelEvent } from '../../../src/telemetry/kernel-events.js';
import { descendantsOf, isRunning, roleOf } from '../../support/process-census.js';

/** One invariant that failed, with what was seen. */
export interface Violation {
  invariant: string;
  detail: string;
  /** How long the mismatch lasted, ms (0 for a strict check). */
  lastedMs: number;
}

/** Invariant names, as printed in the report. */
export const INVARIANTS = [
  'lease → serving instance',
  'serving instance → running pid',
  'kernel process → known pid',
  'known pid → running process',
  'one watchdog at most',
  'stateDir modes 0600/0700',
] as const;
type Invariant = (typeof INVARIANTS)[number];

const SERVER_ROLES = new Set(['stand-in', 'llama-server']);

/** Options of {@link SoakMonitor}. */
export interface SoakMonitorOptions {
  kernel: Kernel;
  stateDir: string;
  /** Every lease reference ever granted (the monitor drops the ones the kernel no longer holds). */
  leaseRefs: Set<string>;
  /** A mismatch lasting longer than this is a violation, ms. @default 15000 */
  graceMs?: number;
}

/** Checks the soak invariants; counts checks, transient mismatches and violations. */
export class SoakMonitor {
  readonly #o: Required<SoakMonitorOptions>;
  /** Checks run per invariant. */
  readonly checks = new Map<Invariant, number>(INVARIANTS.map((name) => [name, 0]));
  /** Mismatches seen that healed within the grace period (or have not yet), per invariant. */
  readonly transient = new Map<Invariant, number>(INVARIANTS.map((name) => [name, 0]));
  readonly violations: Violation[] = [];
  /** The first few transient mismatches per invariant, for the report. */
  readonly samples = new Map<Invariant, string[]>();
  readonly #firstSeen = new Map<string, number>();
  /** Leases revoked because their instance's process exited (the crash invariant is not vacuous when > 0). */
  crashRevocations = 0;
  /** Event sequence number, for "acquired before the crash". */
  #seq = 0;
  /** Live leases by ref, as lease events report them: instance and the sequence number it was acquired at. */
  readonly #held = new Map<string, { instanceId: string; seq: number }>();
  /** Instances that crashed and have not served again: the sequence number of the crash. */
  readonly #crashedAt = new Map<string, number>();

  constructor(options: SoakMonitorOptions) {
    this.#o = { graceMs: 15_000, ...options };
  }

  /**
   * Exact, with no grace: every lease acquired before an instance crashed must be revoked by the time that
   * instance is serving again (`instance.ready` after the restart). Feed every kernel event, synchronously.
   */
  readonly observe = (event: KernelEvent): void => {
    const seq = ++this.#seq;
    switch (event.type) {
      case 'lease.acquired':
        this.#held.set(event.leaseRef, { instanceId: event.instanceId, seq });
        break;
      case 'lease.revoked':
        if (this.#held.has(event.leaseRef) && /exited/.test(event.reason)) this.crashRevocations++;
        this.#held.delete(event.leaseRef);
        break;
      case 'lease.released':
      case 'lease.expired':
        this.#held.delete(event.leaseRef);
        break;
      case 'instance.exited':
        if (!event.expected) this.#crashedAt.set(event.instanceId, seq);
        break;
      case 'instance.ready': {
        const crashedAt = this.#crashedAt.get(event.instanceId);
        if (crashedAt === undefined) break;
        this.#crashedAt.delete(event.instanceId);
        for (const [ref, held] of this.#held) {
          if (held.instanceId !== event.instanceId || held.seq > crashedAt) continue;
          if (this.#o.kernel.lookupLease(ref)) {
            this.violations.push({
              invariant: 'crash → leases revoked before serving again',
              detail: `${ref} on ${event.instanceId} survived its crash into the restarted instance`,
              lastedMs: 0,
            });
          }
        }
        break;
      }
      default:
        break;
    }
  };

  /** Current mismatches, keyed `invariant|subject`. */
  mismatches(): Map<string, { invariant: Invariant; detail: string }> {
    const found = new Map<string, { invariant: Invariant; detail: string }>();
    const note = (invariant: Invariant, subject: string, detail: string) => {
      found.set(`${invariant}|${subject}`, { invariant, detail });
    };
    const count = (invariant: Invariant) => this.checks.set(invariant, (this.checks.get(invariant) ?? 0) + 1);
    const { kernel } = this.#o;
    const instances = new Map(kernel.listInstances().map((s) => [s.instanceId, s]));

    for (const ref of [...this.#o.leaseRefs]) {
      const lease = kernel.lookupLease(ref);
      if (!lease) {
        this.#o.leaseRefs.delete(ref);
        continue;
      }
      count('lease → serving instance');
      const instance = instances.get(lease.instanceId);
      if (!instance || (instance.state !== 'ready' && instance.state !== 'degraded')) {
        note('lease → serving instance', ref, `${ref} on ${lease.instanceId} (${instance?.state ?? 'gone'})`);
      }
    }

    const known = new Map<number, string>();
    for (const s of instances.values()) {
      if (s.pid !== undefined) known.set(s.pid, s.instanceId);
      if (s.state !== 'ready' && s.state !== 'degraded') continue;
      count('serving instance → running pid');
      if (s.managementMode === 'kernel_managed' && (s.pid === undefined || !isRunning(s.pid))) {
        note('serving instance → running pid', s.instanceId, `${s.instanceId} is ${s.state}, pid ${s.pid}`);
      }
    }

    const census = descendantsOf(process.pid);
    for (const p of census) {
      const role = roleOf(p);
      if (SERVER_ROLES.has(role)) {
        count('kernel process → known pid');
        if (!known.has(p.pid)) note('kernel process → known pid', String(p.pid), `${role} pid ${p.pid}`);
      } else if (role === 'stand-in-grandchild') {
        count('kernel process → known pid');
        if (!known.has(p.pgid)) {
          note('kernel process → known pid', String(p.pid), `grandchild ${p.pid} of group ${p.pgid}`);
        }
      }
    }
    for (const [pid, instanceId] of known) {
      count('known pid → running process');
      if (!isRunning(pid)) note('known pid → running process', String(pid), `${instanceId} pid ${pid}`);
    }

    count('one watchdog at most');
    const watchdogs = census.filter((p) => roleOf(p) === 'watchdog');
    if (watchdogs.length > 1) {
      note(
        'one watchdog at most',
        'watchdog',
        `${watchdogs.length} watchdogs: ${watchdogs.map((p) => p.pid)}`,
      );
    }

    count('stateDir modes 0600/0700');
    for (const bad of badModes(this.#o.stateDir)) note('stateDir modes 0600/0700', bad, bad);
    return found;
  }

  /** One tolerant pass: new mismatches start a clock; one older than `graceMs` becomes a violation. */
  check(now = Date.now()): void {
    const current = this.mismatches();
    for (const [key, { invariant, detail }] of current) {
      const since = this.#firstSeen.get(key);
      if (since === undefined) {
        this.#firstSeen.set(key, now);
        this.transient.set(invariant, (this.transient.get(invariant) ?? 0) + 1);
        const samples = this.samples.get(invariant) ?? [];
        if (samples.length < 3) this.samples.set(invariant, [...samples, detail]);
      } else if (now - since > this.#o.graceMs) {
        this.violations.push({ invariant, detail, lastedMs: now - since });
        this.#firstSeen.set(key, Number.POSITIVE_INFINITY);
      }
    }
    for (const key of [...this.#firstSeen.keys()]) if (!current.has(key)) this.#firstSeen.delete(key);
  }

  /** A pass that tolerates nothing (call it once the kernel is quiet). Returns the mismatches found. */
  strictCheck(): Violation[] {
    const found = [...this.mismatches().values()].map((m) => ({ ...m, lastedMs: 0 }));
    this.violations.push(...found);
    return found;
  }
}

/** Files under `dir` not 0600 and directories not 0700 (the state directory itself included). */
export function badModes(dir: string): string[] {
  const bad: string[] = [];
  const visit = (p: string) => {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(p);
    } catch {
      return; // removed while we walked
    }
    const mode = stat.mode & 0o777;
    if (stat.isDirectory()) {
      if (mode !== 0o700) bad.push(`${p} is a directory with mode ${mode.toString(8)}`);
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {}
      for (const name of names) visit(path.join(p, name));
    } else if (mode !== 0o600) {
      bad.push(`${p} has mode ${mode.toString(8)}`);
    }
  };
  visit(dir);
  return bad;
}

/** Every file and directory under `dir`, relative, sorted (directories end in `/`). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = path.join(rel, name);
      if (lstatSync(path.join(dir, child)).isDirectory()) {
        out.push(`${child}/`);
        visit(child);
      } else out.push(child);
    }
  };
  visit('');
  return out.sort();
}

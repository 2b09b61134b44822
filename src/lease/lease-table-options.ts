import type { Logger } from 'pino';
import type { KernelEventMap } from '../telemetry/kernel-events.js';
import type { ExpiryStats } from './expiry-scheduler.js';
import type { ClearTimer, Clock, SetTimer } from './timer-source.js';

/** The telemetry events a `LeaseTable` emits. */
export type LeaseEventName =
  | 'lease.acquired'
  | 'lease.renewed'
  | 'lease.released'
  | 'lease.expired'
  | 'lease.revoked';

/** Receives lease events; `(name, payload) => bus.emit(name, payload)` wires it to an `EventBus`. */
export type LeaseEventHandler = <K extends LeaseEventName>(name: K, payload: KernelEventMap[K]) => void;

/** Expiry work counters, to show expiry costs O(expired · log n) per tick rather than O(all leases). */
export type LeaseTableStats = ExpiryStats;

export interface LeaseTableOptions {
  /** Source of epoch ms. @default Date.now */
  clock?: Clock;
  /** @default an unref'd setTimeout */
  setTimer?: SetTimer;
  /** @default clearTimeout */
  clearTimer?: ClearTimer;
  /** Receives every lease event (payloads as in `KernelEventMap`), after the table's books are updated. */
  onEvent?: LeaseEventHandler;
  /** Called when an instance's live-lease count goes 0 → 1 (not on revoke). */
  onInstanceBusy?: (instanceId: string) => void;
  /** Called when an instance's live-lease count goes 1 → 0 by release or expiry (not by `revokeInstance`). */
  onInstanceEmpty?: (instanceId: string) => void;
  /** TTL in ms for requests without `ttlMs`. @default 60000 */
  defaultTtlMs?: number;
  /** Capacity wait in ms for requests without `capacityWaitMs`. @default 30000 */
  defaultCapacityWaitMs?: number;
  /** Makes lease references; must return unique strings. @default `lease_` + 16 random bytes, base64url */
  idGenerator?: () => string;
  /** Receives errors thrown by `onEvent` and the hooks, which never break the table. @default silent pino */
  logger?: Logger;
}

import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { endpointDescriptorSchema } from './endpoint-descriptor.js';
import { managementModeSchema, metadataSchema, startupKindSchema } from './vocabulary.js';

/** Lifecycle states (guides/readiness-and-health.md). */
export const instanceStateSchema = z.enum(['starting', 'ready', 'degraded', 'stopping', 'stopped', 'failed']);
export type InstanceState = z.infer<typeof instanceStateSchema>;

export const healthStatusSchema = z.enum(['healthy', 'degraded', 'unavailable']);
export type HealthStatus = z.infer<typeof healthStatusSchema>;

/** A point-in-time, JSON-safe view of one instance. */
export const runtimeSnapshotSchema = z.strictObject({
  instanceId: z.string().min(1),
  instanceKey: z.string().min(1),
  backend: z.string().min(1),
  startupKind: startupKindSchema,
  managementMode: managementModeSchema,
  state: instanceStateSchema,
  health: healthStatusSchema,
  /** Why health is what it is (e.g. "model installed but not loaded"). */
  healthDetail: z.string().nullable().default(null),
  leaseCount: z.number().int().nonnegative(),
  endpoint: endpointDescriptorSchema.nullable(),
  pid: z.number().int().positive().optional(),
  port: z.number().int().positive().optional(),
  restarts: z.number().int().nonnegative(),
  /** Epoch ms. */
  startedAt: z.number().int().nullable(),
  /** Epoch ms. */
  readyAt: z.number().int().nullable(),
  /** Epoch ms. */
  stoppedAt: z.number().int().nullable().default(null),
  lastError: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
  /** Durations in ms of the last start: `spawnMs`, `readyMs`. */
  timings: z.record(z.string(), z.number()).default({}),
  /**
   * Memory the instance is charged per device (`system`, `gpu0`…), in bytes, and where the figure came from
   * (`configured`, `calibrated` from the server's own report, `estimated`, `none`); null without residency.
   */
  memory: z
    .object({
      bytes: z.record(z.string(), z.number()),
      source: z.enum(['configured', 'calibrated', 'estimated', 'none']),
    })
    .nullable()
    .default(null),
  /** When this daemon adopted the server from a previous one (guides/durable-state.md), epoch ms; null when it started it. */
  adoptedAt: z.number().int().nullable().default(null),
  metadata: metadataSchema.default({}),
});
export type RuntimeSnapshot = z.output<typeof runtimeSnapshotSchema>;

export const runtimeSnapshotContract = defineContract(
  'RuntimeSnapshot',
  'invalid_contract',
  runtimeSnapshotSchema,
);
export const parseRuntimeSnapshot = runtimeSnapshotContract.parse;
export const safeParseRuntimeSnapshot = runtimeSnapshotContract.safeParse;

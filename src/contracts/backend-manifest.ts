import { z } from 'zod';
import { defineContract } from './define-contract.js';
import {
  backendIdSchema,
  capabilitiesSchema,
  contractVersionSchema,
  executionSurfaceSchema,
  MANAGEMENT_MODE_FOR_STARTUP_KIND,
  managementModeSchema,
  metadataSchema,
  protocolSchema,
  runtimeKindSchema,
  startupKindSchema,
} from './vocabulary.js';

/** What a backend declares about itself; the kernel holds it to these claims (guides/backend-packages.md). */
export const backendManifestSchema = z
  .strictObject({
    contractVersion: contractVersionSchema,
    /** Backend id, equal to `Backend.id`. */
    backend: backendIdSchema,
    /** `service` for servers. */
    runtimeKind: runtimeKindSchema,
    /** Management modes the backend's instances can run under; the first is preferred. */
    managementModes: z.array(managementModeSchema).min(1),
    /** How instances start. */
    startupKind: startupKindSchema,
    /** Protocols the published endpoint speaks; the first is the default. */
    protocols: z.array(protocolSchema).min(1),
    /** Capability claims, e.g. `{ streaming: true, toolCalling: 'unknown' }`. */
    capabilities: capabilitiesSchema.default({}),
    /** Execution surfaces a spawned plan may use, e.g. `['local_subprocess']`. */
    supportedSurfaces: z.array(executionSurfaceSchema).default([]),
    /** Informal resource hints (memory, accelerators). */
    resourceProfile: metadataSchema.default({}),
    metadata: metadataSchema.default({}),
  })
  .refine((m) => m.managementModes.includes(MANAGEMENT_MODE_FOR_STARTUP_KIND[m.startupKind]), {
    // Otherwise no plan of this backend could ever pass validation (kinds and modes are paired: src/contracts/vocabulary.ts).
    message:
      'must include the management mode paired with startupKind (spawned → kernel_managed, attach_existing_service → externally_managed)',
    path: ['managementModes'],
  });
export type BackendManifest = z.output<typeof backendManifestSchema>;
export type BackendManifestInput = z.input<typeof backendManifestSchema>;

export const backendManifestContract = defineContract(
  'BackendManifest',
  'invalid_manifest',
  backendManifestSchema,
);
/** Parses a backend manifest; throws `ContractValidationError` (`invalid_manifest`) naming every bad field. */
export const parseBackendManifest = backendManifestContract.parse;
/** Parses a backend manifest without throwing. */
export const safeParseBackendManifest = backendManifestContract.safeParse;

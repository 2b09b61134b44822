import { z } from 'zod';
import { defineContract } from './define-contract.js';
import {
  capabilitiesSchema,
  contractVersionSchema,
  managementModeSchema,
  metadataSchema,
  protocolSchema,
  runtimeKindSchema,
  startupKindSchema,
} from './vocabulary.js';

/** What a caller can use; checked against a backend manifest before anything starts (guides/architecture.md). */
export const consumerManifestSchema = z.strictObject({
  contractVersion: contractVersionSchema,
  /** Name of the consuming component, for messages and telemetry. */
  consumer: z.string().min(1),
  acceptedRuntimeKinds: z.array(runtimeKindSchema).min(1),
  acceptedManagementModes: z.array(managementModeSchema).min(1),
  acceptedProtocols: z.array(protocolSchema).min(1),
  /** Capabilities that must have exactly this value, e.g. `{ streaming: true }`. */
  requiredCapabilities: capabilitiesSchema.default({}),
  /** Capabilities wanted but not required; mismatches become warnings. */
  optionalCapabilities: capabilitiesSchema.default({}),
  constraints: z.strictObject({ startupKind: startupKindSchema.optional() }).default({}),
  metadata: metadataSchema.default({}),
});
export type ConsumerManifest = z.output<typeof consumerManifestSchema>;
export type ConsumerManifestInput = z.input<typeof consumerManifestSchema>;

export const consumerManifestContract = defineContract(
  'ConsumerManifest',
  'invalid_manifest',
  consumerManifestSchema,
);
/** Parses a consumer manifest; throws `ContractValidationError` (`invalid_manifest`). */
export const parseConsumerManifest = consumerManifestContract.parse;
export const safeParseConsumerManifest = consumerManifestContract.safeParse;

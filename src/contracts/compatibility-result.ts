import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { managementModeSchema, metadataSchema, protocolSchema, runtimeKindSchema } from './vocabulary.js';

/** Reason names, as in SHIC; the first failing check wins. */
export const compatibilityReasonSchema = z.enum([
  'protocol_match',
  'runtime_kind_mismatch',
  'management_mode_mismatch',
  'unsupported_protocol',
  'startup_kind_unsupported',
  'missing_streaming',
  'missing_capability',
]);
export type CompatibilityReason = z.infer<typeof compatibilityReasonSchema>;

/** One failing check, as listed in `metadata.allFailures`. */
export const compatibilityFailureSchema = z.object({
  reason: compatibilityReasonSchema,
  missing: z.array(z.string()),
  message: z.string(),
});
export type CompatibilityFailure = z.infer<typeof compatibilityFailureSchema>;

export const compatibilityResultSchema = z.object({
  compatible: z.boolean(),
  reason: compatibilityReasonSchema,
  resolvedRuntimeKind: runtimeKindSchema.nullable(),
  resolvedManagementMode: managementModeSchema.nullable(),
  resolvedProtocol: protocolSchema.nullable(),
  warnings: z.array(z.string()),
  missingRequirements: z.array(z.string()),
  metadata: metadataSchema.and(z.object({ allFailures: z.array(compatibilityFailureSchema) })),
});
export type CompatibilityResult = z.output<typeof compatibilityResultSchema>;

export const compatibilityResultContract = defineContract(
  'CompatibilityResult',
  'invalid_contract',
  compatibilityResultSchema,
);
export const parseCompatibilityResult = compatibilityResultContract.parse;
export const safeParseCompatibilityResult = compatibilityResultContract.safeParse;

import { z } from 'zod';
import { Secret } from '../secret/secret.js';

/** Version tag stamped on every contract value. */
export const CONTRACT_VERSION = 'inference.v1';
export const contractVersionSchema = z.literal(CONTRACT_VERSION).default(CONTRACT_VERSION);

/** `service` = long-running server; `task` = runs to completion. */
export const runtimeKindSchema = z.enum(['service', 'task']);
export type RuntimeKind = z.infer<typeof runtimeKindSchema>;

/** Who owns the process: the kernel, or someone else (an attached daemon). */
export const managementModeSchema = z.enum(['kernel_managed', 'externally_managed']);
export type ManagementMode = z.infer<typeof managementModeSchema>;

/** How an instance comes to exist: the kernel spawns it, or attaches to a running service. */
export const startupKindSchema = z.enum(['spawned', 'attach_existing_service']);
export type StartupKind = z.infer<typeof startupKindSchema>;

/** The pairing every plan and manifest must respect between startup kinds and management modes. */
export const MANAGEMENT_MODE_FOR_STARTUP_KIND: Record<StartupKind, ManagementMode> = {
  spawned: 'kernel_managed',
  attach_existing_service: 'externally_managed',
};

/** Wire protocols an endpoint can speak; open-ended. */
export type Protocol =
  | 'openai_chat_completions'
  | 'openai_completions'
  | 'openai_embeddings'
  | 'ollama_native'
  | (string & {});
export const protocolSchema = z.string().min(1) as z.ZodType<Protocol>;

/** Where a process runs; open-ended. */
export type ExecutionSurface = 'local_subprocess' | (string & {});
export const executionSurfaceSchema = z.string().min(1) as z.ZodType<ExecutionSurface>;

/** A backend id; open-ended so third-party ids autocomplete alongside the built-in ones. */
export type BackendId = 'llama-cpp' | 'mlx' | 'ollama' | (string & {});
export const backendIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9@][A-Za-z0-9@._/-]*$/, 'must be letters, digits, and . _ / - @') as z.ZodType<BackendId>;

/** A capability value: supported, not supported, or not known. */
export const capabilityValueSchema = z.union([z.boolean(), z.literal('unknown')]);
export type CapabilityValue = z.infer<typeof capabilityValueSchema>;
export const capabilitiesSchema = z.record(z.string().min(1), capabilityValueSchema);
export type Capabilities = z.infer<typeof capabilitiesSchema>;

/** Free-form JSON-ish metadata. */
export const metadataSchema = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof metadataSchema>;

/** A header value: plain text, or a Secret that only the HTTP client ever exposes. */
export const headerValueSchema = z.union([
  z.string(),
  z.custom<Secret<string>>((v) => Secret.isInstance(v), 'must be a string or Secret'),
]);
export const headersSchema = z.record(z.string().min(1), headerValueSchema);
export type Headers = z.infer<typeof headersSchema>;

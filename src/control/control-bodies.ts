import { z } from 'zod';
import { consumerManifestSchema } from '../contracts/consumer-manifest.js';
import { defineContract } from '../contracts/define-contract.js';
import { msSchema, positiveMsSchema } from '../contracts/duration-ms.js';
import {
  endpointRequestSchema,
  ensureEndpointOptionsSchema,
  executionContextSchema,
} from '../contracts/endpoint-request.js';

const ttlMs = positiveMsSchema;

/** `POST /v1/endpoints/ensure` by deployment name: the daemon fills in backend, boot spec and consumer. */
export const deploymentEnsureBodySchema = z.strictObject({
  deployment: z.string().min(1),
  /** Lease owner. @default 'shic-cli' */
  ownerRef: z.string().min(1).optional(),
  /** Lease TTL in ms. @default the deployment's `lease.ttlMs` */
  ttlMs: ttlMs.optional(),
  exclusive: z.boolean().optional(),
  capacityWaitMs: msSchema.optional(),
  context: executionContextSchema.optional(),
});

/** `POST /v1/endpoints/ensure` in full: exactly the arguments of `kernel.ensureEndpoint`. */
export const fullEnsureBodySchema = z.strictObject({
  request: endpointRequestSchema,
  consumer: consumerManifestSchema,
  context: executionContextSchema,
  options: ensureEndpointOptionsSchema,
});

/** `POST /v1/leases/{ref}/renew`. */
export const renewBodySchema = z.strictObject({ ttlMs: ttlMs.optional() }).default({});

/** Query of `GET /v1/instances/{id}/logs`. */
export const logsQuerySchema = z.strictObject({
  /** Lines of tail. @default 100 */
  n: z.coerce.number().int().positive().max(10_000).default(100),
  /** Keep the response open as SSE and send new lines. */
  follow: z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((v) => v === 'true' || v === '1' || v === ''),
});

/** Query of `GET /v1/events`. */
export const eventsQuerySchema = z.strictObject({
  /** Comma-separated event names or prefixes (`instance.`, `lease.ready`); all when absent. */
  types: z.string().min(1).optional(),
});

/** Query of `GET /v1/requests`. */
export const requestsQuerySchema = z.strictObject({
  deployment: z.string().min(1).optional(),
  /** `completed`, `failed` or `aborted`. */
  outcome: z.enum(['completed', 'failed', 'aborted']).optional(),
  /** Only requests that arrived at or after this epoch ms. */
  since: z.coerce.number().int().nonnegative().optional(),
  /** Newest first, at most this many. @default 100 */
  limit: z.coerce.number().int().positive().max(100_000).default(100),
});

// Each body parses to `invalid_request` errors whose issues name the field path (→ HTTP 400).
export const deploymentEnsureBody = defineContract(
  'EnsureBody',
  'invalid_request',
  deploymentEnsureBodySchema,
);
export const fullEnsureBody = defineContract('EnsureBody', 'invalid_request', fullEnsureBodySchema);
export const renewBody = defineContract('RenewBody', 'invalid_request', renewBodySchema);
export const logsQuery = defineContract('LogsQuery', 'invalid_request', logsQuerySchema);
export const eventsQuery = defineContract('EventsQuery', 'invalid_request', eventsQuerySchema);
export const requestsQuery = defineContract('RequestsQuery', 'invalid_request', requestsQuerySchema);

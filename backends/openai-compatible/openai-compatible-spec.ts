import {
  authHeaders,
  defineContract,
  type InstanceSpec,
  InvalidBootSpecError,
  Secret,
  type Secret as SecretType,
} from 'self-hosted-inference-core';
import { z } from 'zod';

const secretSchema = z.custom<SecretType<string>>((v) => Secret.isInstance(v), 'must be a string or Secret');
const ms = z.number().int().positive().max(2_147_483_647);

/** Options of the `openai-compatible` backend: defaults given to its factory, overridden per spec. */
export const openAiCompatibleOptionsSchema = z.strictObject({
  /** The server's OpenAI base URL, e.g. `http://gpu-box:8000/v1` (`/v1` is added when missing). */
  baseUrl: z.string().min(1).optional(),
  /** The model to use when the spec has no `modelIdentity`: an id the server lists in `GET /v1/models`. */
  model: z.string().min(1).optional(),
  /** Sent as `authorization: Bearer <key>` (held as a Secret). */
  apiKey: z.union([z.string().min(1), secretSchema]).optional(),
  /** Extra headers on every request; auth-like values are held as Secrets. */
  headers: z.record(z.string().min(1), z.union([z.string(), secretSchema])).optional(),
  /** How long refused connections are retried before the attach fails, in ms. @default 5000 */
  connectTimeoutMs: ms.optional(),
  /** Readiness deadline in ms. @default 60000 */
  readyTimeoutMs: ms.optional(),
  /** Health check interval while ready, in ms. @default 5000 */
  healthIntervalMs: ms.optional(),
  /** Stop tracking the attachment after this long without a lease, in ms; `null` = never. @default 300000 */
  idleShutdownMs: ms.nullable().optional(),
});
export type OpenAiCompatibleOptions = z.input<typeof openAiCompatibleOptionsSchema>;

/** Parses the backend's options; failures are `invalid_boot_spec` errors naming every bad field. */
export const openAiCompatibleOptionsContract = defineContract(
  'OpenAiCompatibleOptions',
  'invalid_boot_spec',
  openAiCompatibleOptionsSchema,
);

/** A validated attachment: the server's base URL, the model and the headers. */
export interface OpenAiCompatibleSpec {
  /** Ends in `/v1`, no trailing slash. */
  baseUrl: string;
  model: string;
  /** Lower-cased names; auth-like values are Secrets. */
  headers: Record<string, string | SecretType<string>>;
  connectTimeoutMs: number;
  readyTimeoutMs: number;
  healthIntervalMs?: number;
  idleShutdownMs?: number | null;
}

function fail(message: string, field: string): never {
  throw new InvalidBootSpecError(message, { backend: 'openai-compatible', details: { field } });
}

function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`baseUrl "${raw}" is not a URL: write it like http://host:8000/v1.`, 'baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`baseUrl "${raw}" must use http or https.`, 'baseUrl');
  }
  if (url.search || url.hash) fail(`baseUrl "${raw}" must not have a query or fragment.`, 'baseUrl');
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path.endsWith('/v1') ? path : `${path}/v1`}`;
}

/**
 * Validates and normalizes an attachment: `spec.backendOptions` over the factory's defaults; the model from
 * `spec.modelIdentity`, else `model`.
 * @throws ContractValidationError / InvalidBootSpecError (`invalid_boot_spec`) naming the bad field.
 */
export function parseOpenAiCompatibleSpec(
  spec: InstanceSpec,
  defaults: OpenAiCompatibleOptions = {},
): OpenAiCompatibleSpec {
  const options = openAiCompatibleOptionsContract.parse({ ...defaults, ...spec.backendOptions });
  if (!options.baseUrl)
    fail('The openai-compatible backend needs a baseUrl, e.g. http://gpu-box:8000/v1.', 'baseUrl');
  const model = spec.modelIdentity ?? options.model;
  if (!model) {
    fail(
      'The openai-compatible backend needs a model: set modelIdentity or the option "model".',
      'modelIdentity',
    );
  }
  const headers = authHeaders(options.headers ?? {}, options.apiKey, 'openai-compatible');
  return {
    baseUrl: normalizeBaseUrl(options.baseUrl),
    model,
    headers,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
    ...(options.idleShutdownMs === undefined ? {} : { idleShutdownMs: options.idleShutdownMs }),
  };
}

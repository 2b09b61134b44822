import { parseBackendManifest } from '../../contracts/backend-manifest.js';
import { safeParseEndpointDescriptor } from '../../contracts/endpoint-descriptor.js';
import { exposeSecret } from '../../secret/secret.js';
import type { ConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';
import { requireReady } from './require-ready.js';

const OPENAI_PROTOCOLS = new Set(['openai_chat_completions', 'openai_completions', 'openai_embeddings']);

/** Request headers from descriptor headers, with Secrets exposed (only ever sent, never printed). */
export function descriptorRequestHeaders(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, String(exposeSecret(value))]),
  );
}

/**
 * Rule `endpoint-descriptor`: the published endpoint parses as an EndpointDescriptor, its protocol is one
 * the manifest declares, its baseUrl is http(s) and ends in `/v1` for OpenAI protocols, and for those
 * `GET <baseUrl>/models`, sent with the descriptor's headers, answers 2xx.
 * @throws ConformanceViolation naming the field and value (header values never appear).
 */
export async function checkEndpointDescriptor(run: ConformanceRun): Promise<void> {
  const rule = 'endpoint-descriptor';
  const { descriptor, target } = requireReady(run, rule);
  const fail = (message: string, seen?: unknown): never => {
    throw new ConformanceViolation(rule, run.backend.id, message, seen);
  };
  const { protocol, baseUrl } = descriptor;
  const declared = parseBackendManifest(run.backend.manifest).protocols;
  if (!declared.includes(protocol)) {
    fail('the endpoint speaks a protocol the manifest does not declare', { protocol, declared });
  }
  const url = URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    fail('baseUrl must be an absolute http(s) URL', { baseUrl });
  }
  const openai = OPENAI_PROTOCOLS.has(protocol);
  if (openai && !url!.pathname.replace(/\/+$/, '').endsWith('/v1')) {
    fail(`baseUrl must end in /v1 for the OpenAI protocol "${protocol}" (clients append /chat/completions)`, {
      baseUrl,
    });
  }
  const parsed = safeParseEndpointDescriptor(descriptor);
  if (!parsed.success) fail(`the descriptor does not parse (${parsed.error.message})`, parsed.error.issues);
  if (!openai) return;
  const modelsUrl = `${baseUrl.replace(/\/+$/, '')}/models`;
  let status: number;
  try {
    const response = await fetch(modelsUrl, {
      headers: descriptorRequestHeaders(descriptor.headers),
      signal: AbortSignal.timeout(Math.max(target.plan.probeTimeoutMs, 10_000)),
    });
    status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    return fail(`GET ${modelsUrl} failed (${(error as Error).message}): the baseUrl is not usable`, {
      baseUrl,
    });
  }
  if (status < 200 || status >= 300) {
    fail(`GET ${modelsUrl} with the descriptor headers answered HTTP ${status}, expected 2xx`, {
      status,
      headerNames: Object.keys(descriptor.headers),
    });
  }
}

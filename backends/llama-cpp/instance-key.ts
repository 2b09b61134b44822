import { createHash } from 'node:crypto';
import type { LlamaCppBootSpec } from './boot-spec.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

// JSON with object keys sorted at every level, so field order never changes the hash.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fields that change what the launched server is, as hashed by `llamaCppInstanceKey`. A user-supplied API
 * key is present only as a salted digest; a generated key is not part of it (it is new per instance).
 */
export function llamaCppKeyMaterial(spec: LlamaCppBootSpec): Record<string, unknown> {
  return {
    model: spec.model,
    mmproj: spec.mmproj,
    alias: spec.alias,
    host: spec.host,
    port: spec.port,
    ctxSize: spec.ctxSize,
    threads: spec.threads,
    parallel: spec.parallel,
    nGpuLayers: spec.nGpuLayers,
    cacheTypeK: spec.cacheTypeK,
    cacheTypeV: spec.cacheTypeV,
    embeddings: spec.embeddings,
    apiPrefix: spec.apiPrefix,
    timeout: spec.timeout,
    extraArgs: spec.extraArgs,
    env: spec.env,
    binary: spec.binaryPath,
    apiKey:
      spec.apiKey !== undefined && spec.apiKeySource === 'user'
        ? sha256(`shic-llama-cpp-api-key\n${spec.apiKey.expose()}`)
        : spec.apiKeySource === 'generated'
          ? 'generated'
          : undefined,
  };
}

/**
 * The instance key of a boot spec: `llama-cpp:` + the first 16 hex digits of a SHA-256 over the launch-relevant
 * fields (sorted keys). Timeouts, idle shutdown and request metadata are not part of it; no secret can be read
 * back from it.
 */
export function llamaCppInstanceKey(spec: LlamaCppBootSpec): string {
  return `llama-cpp:${sha256(canonicalJson(llamaCppKeyMaterial(spec))).slice(0, 16)}`;
}

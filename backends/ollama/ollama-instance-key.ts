import { createHash } from 'node:crypto';
import { exposeSecret } from 'self-hosted-inference-core';
import type { OllamaAttachSpec } from './ollama-attach-spec.js';
import { normalizeOllamaModelName } from './ollama-model-name.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * A digest of the header set: equal headers give equal fingerprints, and no header value (a key included)
 * can be read back from it.
 */
export function fingerprintHeaders(headers: OllamaAttachSpec['headers']): string {
  const pairs = Object.entries(headers)
    .map(([name, value]) => [name, exposeSecret(value)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  return sha256(JSON.stringify(pairs)).slice(0, 16);
}

/**
 * The instance key of an attachment: `ollama:` + a hash of the root URL, the canonical model name and the
 * header fingerprint. Specs that reach the same model on the same daemon with the same credentials share an
 * instance; the key never contains a secret.
 */
export function ollamaInstanceKey(spec: Pick<OllamaAttachSpec, 'rootUrl' | 'model' | 'headers'>): string {
  const material = [spec.rootUrl, normalizeOllamaModelName(spec.model), fingerprintHeaders(spec.headers)];
  return `ollama:${sha256(material.join('\n')).slice(0, 24)}`;
}

import { describe, expect, it } from 'vitest';
import {
  type LlamaCppBootSpecInput,
  llamaCppInstanceKey,
  llamaCppKeyMaterial,
  normalizeLlamaCppBootSpec,
} from '../../../backends/llama-cpp/index.js';

const key = (input: LlamaCppBootSpecInput) => llamaCppInstanceKey(normalizeLlamaCppBootSpec(input));
const base: LlamaCppBootSpecInput = { model: '/m/tiny.gguf', ctxSize: 512, env: { A: '1', B: '2' } };

describe('llamaCppInstanceKey', () => {
  it('is llama-cpp: plus 16 hex digits, equal for equal specs', () => {
    expect(key(base)).toMatch(/^llama-cpp:[0-9a-f]{16}$/);
    expect(key(base)).toBe(key({ ...base }));
  });

  it('does not depend on field or env key order', () => {
    expect(key({ env: { B: '2', A: '1' }, ctxSize: 512, model: '/m/tiny.gguf' })).toBe(key(base));
  });

  it('ignores timeouts and idle shutdown', () => {
    expect(key({ ...base, stopTimeoutMs: 1, readyTimeoutMs: 2, idleShutdownMs: null })).toBe(key(base));
  });

  it('changes with each launch-relevant field', () => {
    const variants: LlamaCppBootSpecInput[] = [
      { ...base, ctxSize: 1024 },
      { ...base, model: '/m/other.gguf' },
      { ...base, alias: 'x' },
      { ...base, host: '0.0.0.0' },
      { ...base, port: 8080 },
      { ...base, threads: 2 },
      { ...base, parallel: 2 },
      { ...base, nGpuLayers: 0 },
      { ...base, embeddings: true },
      { ...base, apiPrefix: '/p' },
      { ...base, timeout: 5 },
      { ...base, extraArgs: ['-v'] },
      { ...base, env: { A: '1' } },
      { ...base, binaryPath: '/opt/llama-server' },
      { ...base, apiKey: 'k1' },
      { ...base, apiKey: 'generate' },
    ];
    const keys = new Set([key(base), ...variants.map(key)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('distinguishes two user keys but never contains either', () => {
    const a = key({ ...base, apiKey: 'sk-alpha-123' });
    const b = key({ ...base, apiKey: 'sk-beta-456' });
    expect(a).not.toBe(b);
    const material = JSON.stringify(
      llamaCppKeyMaterial(normalizeLlamaCppBootSpec({ ...base, apiKey: 'sk-alpha-123' })),
    );
    expect(material).not.toContain('sk-alpha-123');
    expect(a).not.toContain('sk-alpha');
  });

  it('gives two "generate" specs the same key although their generated keys differ', () => {
    expect(key({ ...base, apiKey: 'generate' })).toBe(key({ ...base, apiKey: 'generate' }));
  });
});

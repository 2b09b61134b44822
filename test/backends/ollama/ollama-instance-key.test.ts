import { Secret } from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import { fingerprintHeaders, ollamaInstanceKey } from '../../../backends/ollama/index.js';

const base = { rootUrl: 'http://127.0.0.1:11434', model: 'llama3.2', headers: {} };

describe('ollamaInstanceKey', () => {
  it('is stable and treats "model" and "model:latest" as the same model', () => {
    expect(ollamaInstanceKey(base)).toBe(ollamaInstanceKey({ ...base }));
    expect(ollamaInstanceKey(base)).toBe(ollamaInstanceKey({ ...base, model: 'LLAMA3.2:latest' }));
    expect(ollamaInstanceKey(base)).toMatch(/^ollama:[0-9a-f]{24}$/);
  });

  it('differs by root URL, model and headers', () => {
    const keys = new Set([
      ollamaInstanceKey(base),
      ollamaInstanceKey({ ...base, rootUrl: 'http://127.0.0.1:11435' }),
      ollamaInstanceKey({ ...base, model: 'llama3.2:1b' }),
      ollamaInstanceKey({ ...base, headers: { authorization: new Secret('Bearer one') } }),
      ollamaInstanceKey({ ...base, headers: { authorization: new Secret('Bearer two') } }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('never contains a header value', () => {
    const headers = { authorization: new Secret('Bearer sk-very-secret'), 'x-tenant': 'tenant-blue' };
    const key = ollamaInstanceKey({ ...base, headers });
    expect(key).not.toContain('sk-very-secret');
    expect(key).not.toContain('tenant-blue');
    expect(fingerprintHeaders(headers)).not.toContain('secret');
  });
});

describe('fingerprintHeaders', () => {
  it('does not depend on header order', () => {
    expect(fingerprintHeaders({ a: '1', b: '2' })).toBe(fingerprintHeaders({ b: '2', a: '1' }));
  });
});

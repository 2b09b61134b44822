import { parseInstanceSpec, Secret } from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import { parseOllamaAttachSpec } from '../../../backends/ollama/index.js';

const spec = (fields: Record<string, unknown>) => parseInstanceSpec({ backend: 'ollama', ...fields });

describe('parseOllamaAttachSpec', () => {
  it('takes the model from modelIdentity, else the backend option, and the root from OLLAMA_HOST', () => {
    const fromSpec = parseOllamaAttachSpec(spec({ modelIdentity: 'llama3.2' }), { model: 'other' }, {});
    expect(fromSpec).toMatchObject({ model: 'llama3.2', rootUrl: 'http://127.0.0.1:11434', pull: false });
    const fromOption = parseOllamaAttachSpec(
      spec({}),
      { model: 'qwen2.5:0.5b' },
      { OLLAMA_HOST: '0.0.0.0:9999' },
    );
    expect(fromOption).toMatchObject({ model: 'qwen2.5:0.5b', rootUrl: 'http://127.0.0.1:9999' });
  });

  it('prefers the rootUrl option over OLLAMA_HOST, and backendOptions over backend defaults', () => {
    const parsed = parseOllamaAttachSpec(
      spec({
        modelIdentity: 'm',
        backendOptions: { rootUrl: 'http://10.0.0.2:1234/v1/', unloadOnStop: true },
      }),
      { rootUrl: 'http://10.0.0.1', keepAlive: '10m' },
      { OLLAMA_HOST: 'elsewhere:1' },
    );
    expect(parsed).toMatchObject({ rootUrl: 'http://10.0.0.2:1234', keepAlive: '10m', unloadOnStop: true });
  });

  it('fails with invalid_boot_spec naming modelIdentity when no model is given', () => {
    expect(() => parseOllamaAttachSpec(spec({}), {}, {})).toThrow(
      expect.objectContaining({ code: 'invalid_boot_spec', details: { field: 'modelIdentity' } }),
    );
  });

  it('fails with invalid_boot_spec naming each bad option field', () => {
    let caught: unknown;
    try {
      parseOllamaAttachSpec(
        spec({ modelIdentity: 'm', backendOptions: { pull: 'yes', keepAlive: [] } }),
        {},
        {},
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'invalid_boot_spec' });
    const paths = (caught as { issues: Array<{ path: string }> }).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['keepAlive', 'pull']);
  });

  it('lower-cases header names and holds auth values and the apiKey as Secrets', () => {
    const parsed = parseOllamaAttachSpec(
      spec({
        modelIdentity: 'm',
        backendOptions: { headers: { 'X-Tenant': 'blue', 'X-Api-Key': 'k1' }, apiKey: 'sk-abc' },
      }),
      {},
      {},
    );
    expect(Object.keys(parsed.headers).sort()).toEqual(['authorization', 'x-api-key', 'x-tenant']);
    expect(parsed.headers['x-tenant']).toBe('blue');
    expect(Secret.isInstance(parsed.headers.authorization)).toBe(true);
    expect((parsed.headers.authorization as Secret<string>).expose()).toBe('Bearer sk-abc');
    expect(Secret.isInstance(parsed.headers['x-api-key'])).toBe(true);
    expect(JSON.stringify(parsed)).not.toContain('sk-abc');
    expect(JSON.stringify(parsed)).not.toContain('k1');
  });

  it('rejects an apiKey together with an authorization header, and headers differing only in case', () => {
    expect(() =>
      parseOllamaAttachSpec(
        spec({ modelIdentity: 'm', backendOptions: { apiKey: 'a', headers: { Authorization: 'Bearer b' } } }),
        {},
        {},
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_boot_spec', details: { field: 'apiKey' } }));
    expect(() =>
      parseOllamaAttachSpec(
        spec({ modelIdentity: 'm', backendOptions: { headers: { 'X-A': '1', 'x-a': '2' } } }),
        {},
        {},
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_boot_spec' }));
  });

  it('gives a pull a long ready timeout unless one is set', () => {
    expect(parseOllamaAttachSpec(spec({ modelIdentity: 'm' }), { pull: true }, {}).readyTimeoutMs).toBe(
      3_600_000,
    );
    expect(
      parseOllamaAttachSpec(spec({ modelIdentity: 'm' }), { readyTimeoutMs: 1234 }, {}).readyTimeoutMs,
    ).toBe(1234);
  });
});

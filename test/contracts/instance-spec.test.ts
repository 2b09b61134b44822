import { describe, expect, it } from 'vitest';
import { parseInstanceSpec, safeParseInstanceSpec } from '../../src/contracts/instance-spec.js';

describe('parseInstanceSpec', () => {
  it('parses a spec and fills backendOptions and metadata', () => {
    expect(parseInstanceSpec({ backend: 'llama-cpp', bootSpec: { model: '/m.gguf' } })).toEqual({
      backend: 'llama-cpp',
      backendOptions: {},
      bootSpec: { model: '/m.gguf' },
      metadata: {},
    });
  });

  it.each([
    { input: { backend: 'has space' }, path: 'backend', received: 'has space' },
    { input: { backend: 'x', startupKind: 'attach' }, path: 'startupKind', received: 'attach' },
    { input: { backend: 'x', executionSurface: '' }, path: 'executionSurface', received: '' },
    { input: { backend: 'x', modelIdentity: 5 }, path: 'modelIdentity', received: 5 },
    { input: { backend: 'x', backendOptions: [] }, path: 'backendOptions', received: 'array(0)' },
    { input: { backend: 'x', model: 'm' }, path: 'model', received: 'm' },
  ])('rejects $path with invalid_request and echoes the value', ({ input, path, received }) => {
    const result = safeParseInstanceSpec(input);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_request');
    expect(result.error.issues).toEqual([{ path, message: expect.any(String), received }]);
  });
});

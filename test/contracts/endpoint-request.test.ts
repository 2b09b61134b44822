import { describe, expect, it } from 'vitest';
import {
  parseEndpointRequest,
  parseEnsureEndpointOptions,
  parseExecutionContext,
  safeParseEndpointRequest,
  safeParseExecutionContext,
} from '../../src/contracts/endpoint-request.js';
import { ContractValidationError } from '../../src/errors/error-catalog.js';
import { endpointRequestInput } from '../support/manifests.js';

describe('parseEndpointRequest', () => {
  it('parses the SHIC request shape and fills defaults', () => {
    expect(parseEndpointRequest(endpointRequestInput())).toEqual({
      requestId: 'req-1',
      targetPreference: {
        backend: 'test-spawned',
        startupKind: 'spawned',
        backendOptions: {},
        bootSpec: { model: '/m.gguf' },
        metadata: {},
      },
      modelPreference: { id: 'tiny' },
    });
  });

  it.each([
    { over: { requestId: '' }, path: 'requestId', received: '' },
    {
      over: { targetPreference: { backend: 'bad id!' } },
      path: 'targetPreference.backend',
      received: 'bad id!',
    },
    {
      over: { targetPreference: { backend: 'x', startupKind: 'forked' } },
      path: 'targetPreference.startupKind',
      received: 'forked',
    },
    {
      over: { targetPreference: { backend: 'x', bootSpec: 'm.gguf' } },
      path: 'targetPreference.bootSpec',
      received: 'm.gguf',
    },
    {
      over: { targetPreference: { backend: 'x', model: 'm' } },
      path: 'targetPreference.model',
      received: 'm',
    },
    { over: { modelPreference: { id: '' } }, path: 'modelPreference.id', received: '' },
  ])('rejects a bad request with invalid_request naming $path', ({ over, path, received }) => {
    const result = safeParseEndpointRequest(endpointRequestInput(over));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(ContractValidationError);
    expect(result.error.code).toBe('invalid_request');
    expect(result.error.contract).toBe('EndpointRequest');
    expect(result.error.issues).toEqual([{ path, message: expect.any(String), received }]);
    expect(() => parseEndpointRequest(endpointRequestInput(over))).toThrow(result.error.message);
  });
});

describe('parseExecutionContext', () => {
  it('parses a context and defaults observability to {}', () => {
    expect(parseExecutionContext({ runId: 'r', attemptId: 'a' })).toEqual({
      runId: 'r',
      attemptId: 'a',
      observability: {},
    });
  });

  it('rejects a bad context with invalid_request naming the field', () => {
    const result = safeParseExecutionContext({ runId: 'r', attemptId: 3, observability: { traceId: '' } });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_request');
    expect(result.error.issues.map((i) => [i.path, i.received])).toEqual([
      ['attemptId', 3],
      ['observability.traceId', ''],
    ]);
  });
});

describe('parseEnsureEndpointOptions', () => {
  it('fills exclusive, capacityWaitMs and metadata defaults', () => {
    expect(parseEnsureEndpointOptions({ ownerRef: 'w' })).toEqual({
      ownerRef: 'w',
      exclusive: false,
      capacityWaitMs: 0,
      metadata: {},
    });
  });

  it('rejects a ttlMs that is not a positive whole number of ms within the timer range', () => {
    for (const ttlMs of [0, -5, 1.5, 2_147_483_648, '100']) {
      expect(() => parseEnsureEndpointOptions({ ownerRef: 'w', ttlMs })).toThrow(
        expect.objectContaining({
          code: 'invalid_request',
          issues: [expect.objectContaining({ path: 'ttlMs' })],
        }),
      );
    }
  });
});

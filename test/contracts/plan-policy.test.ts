import { describe, expect, it } from 'vitest';
import { parseEndpointRequest } from '../../src/contracts/endpoint-request.js';
import { parseInstanceSpec, safeParseInstanceSpec } from '../../src/contracts/instance-spec.js';
import { parsePlanPolicy, safeParsePlanPolicy } from '../../src/contracts/plan-policy.js';

describe('parsePlanPolicy', () => {
  it('parses every field as given', () => {
    const policy = {
      readyTimeoutMs: 1_000,
      stallTimeoutMs: 2_000,
      healthIntervalMs: 3_000,
      functionalHealthIntervalMs: 4_000,
      healthFailureThreshold: 5,
      idleShutdownMs: null,
      stopTimeoutMs: 6_000,
      maxLeases: 7,
      restartPolicy: {
        mode: 'never',
        maxRestarts: 0,
        windowMs: 8_000,
        backoffBaseMs: 9,
        backoffFactor: 1.5,
        backoffMaxMs: 10_000,
        jitter: 0,
      },
    } as const;
    expect(parsePlanPolicy(policy)).toEqual(policy);
  });

  it('fills no defaults: an empty policy, or one with a partial restart policy, stays as sparse as it was given', () => {
    expect(parsePlanPolicy({})).toEqual({});
    expect(parsePlanPolicy({ restartPolicy: { maxRestarts: 1 } })).toEqual({
      restartPolicy: { maxRestarts: 1 },
    });
    expect(parsePlanPolicy({ idleShutdownMs: 0 })).toEqual({ idleShutdownMs: 0 });
  });

  it.each([
    { input: { readyTimeoutMs: -1 }, path: 'readyTimeoutMs', received: -1 },
    { input: { stallTimeoutMs: 1.5 }, path: 'stallTimeoutMs', received: 1.5 },
    { input: { healthIntervalMs: 2_147_483_648 }, path: 'healthIntervalMs', received: 2_147_483_648 },
    { input: { healthFailureThreshold: 0 }, path: 'healthFailureThreshold', received: 0 },
    { input: { idleShutdownMs: '5m' }, path: 'idleShutdownMs', received: '5m' },
    { input: { maxLeases: 0 }, path: 'maxLeases', received: 0 },
    { input: { portRetries: 2 }, path: 'portRetries', received: 2 },
    { input: { restartPolicy: { mode: 'always' } }, path: 'restartPolicy.mode', received: 'always' },
    { input: { restartPolicy: { backoffFactor: 0.5 } }, path: 'restartPolicy.backoffFactor', received: 0.5 },
    { input: { restartPolicy: { jitter: 2 } }, path: 'restartPolicy.jitter', received: 2 },
    { input: { restartPolicy: { retries: 3 } }, path: 'restartPolicy.retries', received: 3 },
  ])('rejects $path with invalid_request naming the path and the value', ({ input, path, received }) => {
    const result = safeParsePlanPolicy(input);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_request');
    expect(result.error.issues).toEqual([{ path, message: expect.any(String), received }]);
  });

  it('is carried by instance specs and endpoint requests, and named by its full path when bad', () => {
    expect(parseInstanceSpec({ backend: 'x', policy: { maxLeases: 2 } }).policy).toEqual({ maxLeases: 2 });
    const request = parseEndpointRequest({
      requestId: 'r',
      targetPreference: { backend: 'x', policy: { restartPolicy: { mode: 'never' } } },
    });
    expect(request.targetPreference.policy).toEqual({ restartPolicy: { mode: 'never' } });
    const bad = safeParseInstanceSpec({ backend: 'x', policy: { restartPolicy: { windowMs: -5 } } });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    expect(bad.error.issues.map((issue) => issue.path)).toEqual(['policy.restartPolicy.windowMs']);
  });
});

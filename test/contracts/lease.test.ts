import { describe, expect, it } from 'vitest';
import { parseLease, safeParseLease } from '../../src/contracts/lease.js';
import { leaseInput } from '../support/manifests.js';

describe('parseLease', () => {
  it('defaults renewable to true, exclusive to false and metadata to {}', () => {
    expect(parseLease(leaseInput())).toMatchObject({ renewable: true, exclusive: false, metadata: {} });
  });

  it('rejects a non-positive ttlMs with invalid_contract naming ttlMs', () => {
    const result = safeParseLease(leaseInput({ ttlMs: 0 }));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_contract');
    expect(result.error.issues).toEqual([{ path: 'ttlMs', message: expect.any(String), received: 0 }]);
  });
});

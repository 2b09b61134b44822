import { describe, expect, it } from 'vitest';
import { parseRuntimeSnapshot, safeParseRuntimeSnapshot } from '../../src/contracts/runtime-snapshot.js';
import { endpointDescriptorInput, runtimeSnapshotInput } from '../support/manifests.js';

describe('parseRuntimeSnapshot', () => {
  it('parses a snapshot with a nested endpoint and fills defaults', () => {
    const snapshot = parseRuntimeSnapshot(runtimeSnapshotInput());
    expect(snapshot).toMatchObject({
      healthDetail: null,
      stoppedAt: null,
      lastError: null,
      timings: {},
      metadata: {},
      endpoint: { targetClass: 'self_hosted_endpoint' },
    });
  });

  it('names the nested path of a bad endpoint field with invalid_contract', () => {
    const bad = runtimeSnapshotInput({ endpoint: endpointDescriptorInput({ managementMode: 'owned' }) });
    const result = safeParseRuntimeSnapshot(bad);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_contract');
    expect(result.error.issues).toEqual([
      { path: 'endpoint.managementMode', message: expect.any(String), received: 'owned' },
    ]);
  });

  it('rejects an unknown state, echoing it', () => {
    const result = safeParseRuntimeSnapshot(runtimeSnapshotInput({ state: 'running' }));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues).toEqual([
      { path: 'state', message: expect.any(String), received: 'running' },
    ]);
  });
});

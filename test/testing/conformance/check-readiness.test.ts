import { checkEndpointDescriptor, checkReadiness } from 'self-hosted-inference-core/testing';
import { describe, expect, it } from 'vitest';
import { conformanceTestBackend } from './conformance-test-backend.js';
import { withRun } from './run-with.js';

describe('checkReadiness', () => {
  it('reports the typed error of a spec that never became ready, and later checks point back at it', async () => {
    await withRun(
      conformanceTestBackend({ neverReady: true }),
      { backend: 'conformance-spawned' },
      async (run) => {
        expect(() => checkReadiness(run)).toThrow(
          /rule "readiness" failed for backend "conformance-spawned": the spec given to the kit did not start: readiness_timeout/,
        );
        await expect(checkEndpointDescriptor(run)).rejects.toThrow(
          /rule "endpoint-descriptor" failed.*cannot be checked: the instance never became ready \(see the "readiness" check\)/,
        );
      },
    );
  });
});

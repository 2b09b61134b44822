import { checkInstanceKey } from 'self-hosted-inference-core/testing';
import { describe, expect, it } from 'vitest';
import { conformanceTestBackend } from './conformance-test-backend.js';
import { rejection } from './run-with.js';

const spec = { backend: 'conformance-spawned' };

describe('checkInstanceKey', () => {
  it("returns the plan's key when instanceKey(spec) agrees with it", async () => {
    const backend = conformanceTestBackend();
    await expect(checkInstanceKey(backend, spec)).resolves.toBe(backend.instanceKey!({} as never));
  });

  it("fails when instanceKey(spec) differs from the plan's key, showing both", async () => {
    const error = await rejection(checkInstanceKey(conformanceTestBackend({ keyMismatch: true }), spec));
    expect(error.message).toMatch(
      /^Backend conformance rule "instance-key" failed for backend "conformance-spawned"/,
    );
    expect(error.message).toContain("instanceKey(spec) must equal the plan's instanceKey");
    expect(error.message).toMatch(
      /"instanceKey":"conformance-spawned:[0-9a-f]{8}:fast","planInstanceKey":"conformance-spawned:[0-9a-f]{8}"/,
    );
  });

  it('fails when the key depends on the allocated port', async () => {
    const error = await rejection(checkInstanceKey(conformanceTestBackend({ keyWithPort: true }), spec));
    expect(error.message).toContain('two plans for the same spec carry different instance keys');
  });
});

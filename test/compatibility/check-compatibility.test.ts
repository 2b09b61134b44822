import { describe, expect, it } from 'vitest';
import { checkCompatibility } from '../../src/compatibility/check-compatibility.js';
import { parseCompatibilityResult } from '../../src/contracts/compatibility-result.js';
import { attachedManifest, consumer, spawnedManifest } from '../support/manifests.js';

describe('checkCompatibility', () => {
  it('reports protocol_match with resolved fields and no failures for a consumer the backend satisfies', () => {
    const result = checkCompatibility(spawnedManifest(), consumer());
    expect(result).toMatchObject({
      compatible: true,
      reason: 'protocol_match',
      resolvedRuntimeKind: 'service',
      resolvedManagementMode: 'kernel_managed',
      resolvedProtocol: 'openai_chat_completions',
      warnings: [],
      missingRequirements: [],
    });
    expect(result.metadata.allFailures).toEqual([]);
    expect(result.metadata).toMatchObject({ backend: 'test-spawned', consumer: 'test-consumer' });
    expect(result.metadata).not.toHaveProperty('message');
    expect(parseCompatibilityResult(result)).toEqual(result);
  });

  it.each([
    {
      reason: 'runtime_kind_mismatch',
      consumer: { acceptedRuntimeKinds: ['task'] },
      missing: ['runtimeKind:service'],
    },
    {
      reason: 'management_mode_mismatch',
      consumer: { acceptedManagementModes: ['externally_managed'] },
      missing: ['managementMode:kernel_managed'],
    },
    {
      reason: 'unsupported_protocol',
      consumer: { acceptedProtocols: ['openai_embeddings', 'ollama_native'] },
      missing: ['protocol:openai_embeddings', 'protocol:ollama_native'],
    },
    {
      reason: 'startup_kind_unsupported',
      consumer: { constraints: { startupKind: 'attach_existing_service' } },
      missing: ['startupKind:attach_existing_service'],
    },
    {
      reason: 'missing_streaming',
      manifest: { capabilities: { streaming: false } },
      consumer: {},
      missing: ['capability:streaming'],
    },
    {
      reason: 'missing_capability',
      consumer: { requiredCapabilities: { streaming: true, embeddings: true, vision: true } },
      missing: ['capability:embeddings', 'capability:vision'],
    },
  ])('fails with $reason when only that check fails', ({ reason, consumer: over, manifest, missing }) => {
    const result = checkCompatibility(spawnedManifest(manifest), consumer(over));
    expect(result.compatible).toBe(false);
    expect(result.reason).toBe(reason);
    expect(result.missingRequirements).toEqual(missing);
    expect(result.metadata.allFailures).toEqual([{ reason, missing, message: expect.any(String) }]);
    expect(result.metadata.message).toBe(result.metadata.allFailures[0]?.message);
    expect(result.metadata.message).toContain('test-spawned');
    expect(parseCompatibilityResult(result)).toEqual(result);
  });

  it('treats a required capability the backend does not declare as false (missing_streaming)', () => {
    const result = checkCompatibility(spawnedManifest({ capabilities: {} }), consumer());
    expect(result.reason).toBe('missing_streaming');
    expect(result.missingRequirements).toEqual(['capability:streaming']);
  });

  it('accepts a required false capability that the backend does not declare at all', () => {
    const result = checkCompatibility(
      spawnedManifest(),
      consumer({ requiredCapabilities: { vision: false } }),
    );
    expect(result).toMatchObject({ compatible: true, reason: 'protocol_match' });
  });

  it("matches 'unknown' only against 'unknown': a claimed-unknown capability does not satisfy true", () => {
    const manifest = spawnedManifest({ capabilities: { streaming: true, toolCalling: 'unknown' } });
    const needsTrue = checkCompatibility(manifest, consumer({ requiredCapabilities: { toolCalling: true } }));
    expect(needsTrue.reason).toBe('missing_capability');
    expect(needsTrue.missingRequirements).toEqual(['capability:toolCalling']);

    const needsUnknown = checkCompatibility(
      manifest,
      consumer({ requiredCapabilities: { toolCalling: 'unknown' } }),
    );
    expect(needsUnknown.compatible).toBe(true);

    const streamingUnknown = checkCompatibility(
      spawnedManifest({ capabilities: { streaming: 'unknown' } }),
      consumer({ requiredCapabilities: { streaming: true } }),
    );
    expect(streamingUnknown.reason).toBe('missing_streaming');
  });

  it('reports the first failing check as the reason and lists every failing check in order in allFailures', () => {
    const everythingWrong = consumer({
      acceptedRuntimeKinds: ['task'],
      acceptedManagementModes: ['externally_managed'],
      acceptedProtocols: ['ollama_native'],
      constraints: { startupKind: 'attach_existing_service' },
      requiredCapabilities: { streaming: true, toolCalling: true },
    });
    const result = checkCompatibility(
      spawnedManifest({ capabilities: { streaming: false } }),
      everythingWrong,
    );
    expect(result.compatible).toBe(false);
    expect(result.reason).toBe('runtime_kind_mismatch');
    expect(result.missingRequirements).toEqual(['runtimeKind:service']);
    expect(result.metadata.allFailures.map((f) => f.reason)).toEqual([
      'runtime_kind_mismatch',
      'management_mode_mismatch',
      'unsupported_protocol',
      'startup_kind_unsupported',
      'missing_streaming',
      'missing_capability',
    ]);
    expect(result.metadata.allFailures.map((f) => f.missing)).toEqual([
      ['runtimeKind:service'],
      ['managementMode:kernel_managed'],
      ['protocol:ollama_native'],
      ['startupKind:attach_existing_service'],
      ['capability:streaming'],
      ['capability:toolCalling'],
    ]);
    expect(result.resolvedRuntimeKind).toBeNull();
    expect(result.resolvedManagementMode).toBeNull();
    expect(result.resolvedProtocol).toBeNull();
  });

  it('lets a later check win once the earlier ones pass (protocol before startup kind before capabilities)', () => {
    const result = checkCompatibility(
      spawnedManifest({ capabilities: {} }),
      consumer({
        acceptedProtocols: ['ollama_native'],
        constraints: { startupKind: 'attach_existing_service' },
      }),
    );
    expect(result.reason).toBe('unsupported_protocol');
    expect(result.metadata.allFailures.map((f) => f.reason)).toEqual([
      'unsupported_protocol',
      'startup_kind_unsupported',
      'missing_streaming',
    ]);
    // Checks that passed still resolve their field.
    expect(result.resolvedRuntimeKind).toBe('service');
    expect(result.resolvedManagementMode).toBe('kernel_managed');
    expect(result.resolvedProtocol).toBeNull();
  });

  it('resolves the first backend mode and protocol that the consumer accepts, in the backend order', () => {
    const manifest = spawnedManifest({
      managementModes: ['externally_managed', 'kernel_managed'],
      protocols: ['openai_completions', 'openai_embeddings', 'openai_chat_completions'],
    });
    const result = checkCompatibility(
      manifest,
      consumer({
        acceptedManagementModes: ['kernel_managed', 'externally_managed'],
        acceptedProtocols: ['openai_chat_completions', 'openai_embeddings'],
      }),
    );
    expect(result.compatible).toBe(true);
    expect(result.resolvedManagementMode).toBe('externally_managed');
    expect(result.resolvedProtocol).toBe('openai_embeddings');
  });

  it('resolves an attached backend to externally_managed for a consumer that accepts both modes', () => {
    const result = checkCompatibility(attachedManifest(), consumer());
    expect(result).toMatchObject({
      compatible: true,
      resolvedManagementMode: 'externally_managed',
      resolvedProtocol: 'openai_chat_completions',
    });
  });

  it('turns optional-capability mismatches into warnings without failing', () => {
    const result = checkCompatibility(
      spawnedManifest(),
      consumer({
        optionalCapabilities: { streaming: true, toolCalling: true, embeddings: true, vision: true },
      }),
    );
    expect(result.compatible).toBe(true);
    expect(result.reason).toBe('protocol_match');
    expect(result.warnings).toEqual([
      'optional capability toolCalling is unknown (wanted true)',
      'optional capability embeddings is false (wanted true)',
      'optional capability vision is false (wanted true)',
    ]);
  });

  it('keeps warnings on an incompatible result too', () => {
    const result = checkCompatibility(
      spawnedManifest(),
      consumer({ acceptedRuntimeKinds: ['task'], optionalCapabilities: { embeddings: true } }),
    );
    expect(result.compatible).toBe(false);
    expect(result.warnings).toHaveLength(1);
  });

  it('does not mistake Object.prototype members for declared capabilities', () => {
    const result = checkCompatibility(
      spawnedManifest(),
      consumer({ requiredCapabilities: { streaming: true, constructor: false, toString: false } }),
    );
    expect(result).toMatchObject({ compatible: true, reason: 'protocol_match' });
  });
});

import { describe, expect, it } from 'vitest';
import { parseBackendManifest, safeParseBackendManifest } from '../../src/contracts/backend-manifest.js';
import { ContractValidationError } from '../../src/errors/error-catalog.js';
import { attachedManifestInput, spawnedManifestInput } from '../support/manifests.js';

// Parses and returns the typed error; fails the test when the input parses.
function failureOf(input: unknown): ContractValidationError {
  const result = safeParseBackendManifest(input);
  if (result.success) throw new Error('expected the manifest to be rejected');
  return result.error;
}

describe('parseBackendManifest', () => {
  it('fills contractVersion, capabilities, surfaces, resourceProfile and metadata defaults', () => {
    expect(parseBackendManifest(attachedManifestInput({ capabilities: undefined }))).toEqual({
      contractVersion: 'inference.v1',
      backend: 'test-attached',
      runtimeKind: 'service',
      managementModes: ['externally_managed'],
      startupKind: 'attach_existing_service',
      protocols: ['openai_chat_completions', 'ollama_native'],
      capabilities: {},
      supportedSurfaces: [],
      resourceProfile: {},
      metadata: {},
    });
  });

  it('keeps true, false and unknown capability values and open-ended protocols', () => {
    const manifest = parseBackendManifest(
      spawnedManifestInput({ protocols: ['my_protocol'], capabilities: { a: true, b: false, c: 'unknown' } }),
    );
    expect(manifest.capabilities).toEqual({ a: true, b: false, c: 'unknown' });
    expect(manifest.protocols).toEqual(['my_protocol']);
  });

  it('names managementModes.0 and echoes "weird" for an unknown management mode', () => {
    const error = failureOf(spawnedManifestInput({ managementModes: ['weird'] }));
    expect(error.code).toBe('invalid_manifest');
    expect(error.contract).toBe('BackendManifest');
    expect(error.issues).toEqual([
      { path: 'managementModes.0', message: expect.stringContaining('kernel_managed'), received: 'weird' },
    ]);
    expect(error.message).toContain('managementModes.0');
    expect(error.message).toContain('"weird"');
  });

  it.each([
    { field: 'runtimeKind', value: 'daemon', path: 'runtimeKind', received: 'daemon' },
    { field: 'startupKind', value: 'forked', path: 'startupKind', received: 'forked' },
    { field: 'protocols', value: [], path: 'protocols', received: 'array(0)' },
    {
      field: 'managementModes',
      value: 'kernel_managed',
      path: 'managementModes',
      received: 'kernel_managed',
    },
    {
      field: 'capabilities',
      value: { streaming: 'maybe' },
      path: 'capabilities.streaming',
      received: 'maybe',
    },
    { field: 'backend', value: 'has space', path: 'backend', received: 'has space' },
    { field: 'backend', value: '', path: 'backend', received: '' },
    { field: 'contractVersion', value: 'inference.v2', path: 'contractVersion', received: 'inference.v2' },
    { field: 'supportedSurfaces', value: [''], path: 'supportedSurfaces.0', received: '' },
  ])('rejects $field = $value naming $path', ({ field, value, path, received }) => {
    const error = failureOf(spawnedManifestInput({ [field]: value }));
    expect(error.code).toBe('invalid_manifest');
    expect(error.issues).toContainEqual({ path, message: expect.any(String), received });
    expect(error.message).toContain(`${path}:`);
  });

  it('rejects a spawned manifest that does not offer kernel_managed, naming managementModes', () => {
    const result = safeParseBackendManifest(
      spawnedManifestInput({ managementModes: ['externally_managed'] }),
    );
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_manifest');
    expect(result.error.issues.map((i) => i.path)).toContain('managementModes');
  });

  it('names a missing required field', () => {
    const { startupKind: _, ...rest } = spawnedManifestInput();
    expect(failureOf(rest).issues).toEqual([
      { path: 'startupKind', message: expect.stringContaining('expected one of'), received: undefined },
    ]);
  });

  it('rejects an unknown top-level key, naming it', () => {
    const error = failureOf(spawnedManifestInput({ protocol: 'openai_chat_completions' }));
    expect(error.issues).toEqual([
      {
        path: 'protocol',
        message: expect.stringContaining('"protocol"'),
        received: 'openai_chat_completions',
      },
    ]);
  });

  it('lists every bad field in one error', () => {
    const error = failureOf(spawnedManifestInput({ runtimeKind: 'x', startupKind: 'y', protocols: [1] }));
    expect(error.issues.map((i) => i.path)).toEqual(['runtimeKind', 'startupKind', 'protocols.0']);
  });

  it('throws the same typed error from parseBackendManifest', () => {
    expect(() => parseBackendManifest({})).toThrow(ContractValidationError);
    expect(() => parseBackendManifest(null)).toThrow(/Invalid BackendManifest/);
  });
});

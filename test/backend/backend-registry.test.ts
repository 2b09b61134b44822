import { describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backend/backend-registry.js';
import {
  ContractValidationError,
  DuplicateBackendError,
  UnknownBackendError,
} from '../../src/errors/error-catalog.js';
import { thrownKernelError as thrownBy } from '../support/kernel-errors.js';
import { attachedManifestInput, backendFor, spawnedManifestInput } from '../support/manifests.js';

describe('BackendRegistry', () => {
  it('registers a backend and returns it with its parsed manifest (defaults filled)', () => {
    const registry = new BackendRegistry();
    const backend = backendFor(attachedManifestInput());
    const entry = registry.register(backend);
    expect(entry.backend).toBe(backend);
    expect(entry.manifest).toMatchObject({
      backend: 'test-attached',
      contractVersion: 'inference.v1',
      metadata: {},
    });
    expect(registry.get('test-attached')).toBe(entry);
    expect(registry.getManifest('test-attached')).toBe(entry.manifest);
    expect(registry.has('test-attached')).toBe(true);
  });

  it('rejects a bad manifest with invalid_manifest naming the field and registers nothing', () => {
    const registry = new BackendRegistry();
    const error = thrownBy(() =>
      registry.register(backendFor(spawnedManifestInput({ managementModes: ['weird'] }))),
    );
    expect(error).toBeInstanceOf(ContractValidationError);
    expect(error.code).toBe('invalid_manifest');
    expect((error as ContractValidationError).issues).toEqual([
      { path: 'managementModes.0', message: expect.any(String), received: 'weird' },
    ]);
    expect(registry.list()).toEqual([]);
  });

  it('rejects a manifest whose backend id differs from the backend id with invalid_manifest', () => {
    const registry = new BackendRegistry();
    const error = thrownBy(() => registry.register(backendFor(spawnedManifestInput(), 'other-id')));
    expect(error.code).toBe('invalid_manifest');
    expect((error as ContractValidationError).issues).toEqual([
      { path: 'backend', message: expect.stringContaining('"other-id"'), received: 'test-spawned' },
    ]);
    expect(registry.has('other-id')).toBe(false);
  });

  it('rejects a value that is not a v1 backend with invalid_manifest naming specificationVersion', () => {
    const registry = new BackendRegistry();
    const v2 = { ...backendFor(spawnedManifestInput()), specificationVersion: 'v2' };
    const error = thrownBy(() => registry.register(v2 as never));
    expect(error.code).toBe('invalid_manifest');
    expect((error as ContractValidationError).issues[0]).toMatchObject({
      path: 'specificationVersion',
      received: 'v2',
    });
    expect(thrownBy(() => registry.register(null as never)).code).toBe('invalid_manifest');
  });

  it('rejects a second registration of the same id with duplicate_backend and keeps the first', () => {
    const registry = new BackendRegistry();
    const first = backendFor(spawnedManifestInput());
    registry.register(first);
    const error = thrownBy(() => registry.register(backendFor(spawnedManifestInput())));
    expect(error).toBeInstanceOf(DuplicateBackendError);
    expect(error.code).toBe('duplicate_backend');
    expect(error.backend).toBe('test-spawned');
    expect(registry.get('test-spawned').backend).toBe(first);
  });

  it('replaces a registered backend when replace: true', () => {
    const registry = new BackendRegistry();
    registry.register(backendFor(spawnedManifestInput()));
    const second = backendFor(spawnedManifestInput({ protocols: ['openai_completions'] }));
    registry.register(second, { replace: true });
    expect(registry.get('test-spawned').backend).toBe(second);
    expect(registry.getManifest('test-spawned').protocols).toEqual(['openai_completions']);
    expect(registry.list()).toEqual(['test-spawned']);
  });

  it('still validates the manifest of a replacement', () => {
    const registry = new BackendRegistry();
    registry.register(backendFor(spawnedManifestInput()));
    const bad = backendFor(spawnedManifestInput({ protocols: [] }));
    expect(thrownBy(() => registry.register(bad, { replace: true })).code).toBe('invalid_manifest');
    expect(registry.getManifest('test-spawned').protocols).toEqual([
      'openai_chat_completions',
      'openai_completions',
    ]);
  });

  it('lists registered ids sorted', () => {
    const registry = new BackendRegistry();
    for (const id of ['zeta', 'alpha', '@scope/mid', 'beta'])
      registry.register(backendFor(attachedManifestInput({ backend: id })));
    expect(registry.list()).toEqual(['@scope/mid', 'alpha', 'beta', 'zeta']);
  });

  it('throws unknown_backend for an unknown id, listing the known ids sorted', () => {
    const registry = new BackendRegistry();
    for (const id of ['ollama', 'llama-cpp'])
      registry.register(backendFor(attachedManifestInput({ backend: id })));
    for (const lookup of [() => registry.get('mlx'), () => registry.getManifest('mlx')]) {
      const error = thrownBy(lookup);
      expect(error).toBeInstanceOf(UnknownBackendError);
      expect(error.code).toBe('unknown_backend');
      expect(error.backend).toBe('mlx');
      expect((error as UnknownBackendError).knownBackends).toEqual(['llama-cpp', 'ollama']);
      expect(error.details).toEqual({ knownBackends: ['llama-cpp', 'ollama'] });
      expect(error.message).toContain('llama-cpp, ollama');
    }
  });

  it('says no backend is registered when the registry is empty', () => {
    const error = thrownBy(() => new BackendRegistry().get('llama-cpp'));
    expect(error.code).toBe('unknown_backend');
    expect((error as UnknownBackendError).knownBackends).toEqual([]);
  });

  it('unregisters a backend, returning whether it was registered', () => {
    const registry = new BackendRegistry();
    registry.register(backendFor(attachedManifestInput()));
    expect(registry.unregister('test-attached')).toBe(true);
    expect(registry.unregister('test-attached')).toBe(false);
    expect(registry.list()).toEqual([]);
    expect(thrownBy(() => registry.get('test-attached')).code).toBe('unknown_backend');
    registry.register(backendFor(attachedManifestInput()));
    expect(registry.list()).toEqual(['test-attached']);
  });
});

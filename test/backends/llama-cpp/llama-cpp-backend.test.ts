import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  checkCompatibility,
  exposeSecret,
  parseBackendManifest,
  parseConsumerManifest,
  parseInstanceSpec,
  Secret,
} from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import { createLlamaCppBackend, LLAMA_API_KEY_ENV } from '../../../backends/llama-cpp/index.js';
import { planContext, probeContext, targetFor } from '../../support/backend-test-target.js';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { failure, useTempDir } from './test-setup.js';

const dir = useTempDir('shic-llama-backend-');

const consumer = (
  requiredCapabilities: Record<string, boolean>,
  acceptedProtocols = ['openai_chat_completions'],
) =>
  parseConsumerManifest({
    consumer: 'test',
    acceptedRuntimeKinds: ['service'],
    acceptedManagementModes: ['kernel_managed'],
    acceptedProtocols,
    requiredCapabilities,
  });

describe('createLlamaCppBackend', () => {
  it('declares a spawned, kernel-managed chat and completions service that streams', () => {
    const manifest = parseBackendManifest(createLlamaCppBackend().manifest);
    expect(manifest).toMatchObject({
      backend: 'llama-cpp',
      runtimeKind: 'service',
      managementModes: ['kernel_managed'],
      startupKind: 'spawned',
      protocols: ['openai_chat_completions', 'openai_completions'],
      capabilities: { streaming: true, toolCalling: 'unknown', embeddings: 'unknown' },
      supportedSurfaces: ['local_subprocess'],
    });
  });

  it('claims embeddings only when created with embeddings: true, so a consumer requiring them can check', () => {
    const plain = parseBackendManifest(createLlamaCppBackend().manifest);
    const withEmbeddings = parseBackendManifest(createLlamaCppBackend({ embeddings: true }).manifest);
    expect(withEmbeddings.protocols).toContain('openai_embeddings');
    const wantsEmbeddings = consumer({ embeddings: true }, ['openai_embeddings']);
    expect(checkCompatibility(plain, wantsEmbeddings).compatible).toBe(false);
    expect(checkCompatibility(withEmbeddings, wantsEmbeddings)).toMatchObject({
      compatible: true,
      resolvedProtocol: 'openai_embeddings',
    });
    expect(checkCompatibility(plain, consumer({ streaming: true })).compatible).toBe(true);
  });

  it('plans llama-server on an allocated port with the endpoint at /v1 and the alias as model', async () => {
    const backend = createLlamaCppBackend({ binaryPath: '/opt/llama/llama-server' });
    const target = await targetFor(backend, { bootSpec: { model: '/m/tiny.gguf', ctxSize: 512 } });
    const { plan } = target;
    expect(plan.port).toBeGreaterThan(0);
    expect(plan.transport).toMatchObject({
      command: '/opt/llama/llama-server',
      executionSurface: 'local_subprocess',
      env: {},
    });
    expect(plan.transport?.args).toEqual([
      '--model',
      '/m/tiny.gguf',
      '--alias',
      'tiny',
      '--host',
      '127.0.0.1',
      '--port',
      String(plan.port),
      '--ctx-size',
      '512',
      '--log-verbosity',
      '4',
    ]);
    expect(plan).toMatchObject({
      startupKind: 'spawned',
      managementMode: 'kernel_managed',
      readyTimeoutMs: 60_000,
    });
    expect(plan.instanceKey).toMatch(/^llama-cpp:[0-9a-f]{16}$/);
    expect(plan.endpointTemplate).toMatchObject({
      protocol: 'openai_chat_completions',
      baseUrl: `http://127.0.0.1:${plan.port}/v1`,
      headers: {},
      modelIdentity: 'tiny',
      capabilities: { streaming: true, embeddings: false },
    });
  });

  it('publishes the API key only as a Secret authorization header and keeps it out of args and backendState', async () => {
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, {
      bootSpec: { model: '/m/tiny.gguf', apiKey: 'sk-plan-secret', apiPrefix: '/llm', port: 18_080 },
    });
    const { plan } = target;
    expect(plan.endpointTemplate.baseUrl).toBe('http://127.0.0.1:18080/llm/v1');
    const auth = plan.endpointTemplate.headers.authorization;
    expect(Secret.isInstance(auth)).toBe(true);
    expect(exposeSecret(auth)).toBe('Bearer sk-plan-secret');
    expect(plan.transport?.env[LLAMA_API_KEY_ENV]).toBe('sk-plan-secret');
    expect(plan.transport?.args.join(' ')).not.toContain('sk-plan-secret');
    expect(JSON.stringify(plan.backendState)).not.toContain('sk-plan-secret');
    expect(plan.portRetries).toBe(0);
  });

  it('takes the boot spec over the backend defaults field by field', async () => {
    const backend = createLlamaCppBackend({
      defaults: { model: '/m/default.gguf', threads: 2, ctxSize: 256 },
    });
    const { plan } = await targetFor(backend, { bootSpec: { ctxSize: 1024 } });
    expect(plan.transport?.args).toEqual(
      expect.arrayContaining(['/m/default.gguf', '--threads', '2', '--ctx-size', '1024']),
    );
    expect(plan.transport?.args).not.toContain('256');
  });

  it('maps readiness, stop and idle timeouts onto the plan without changing the instance key', async () => {
    const backend = createLlamaCppBackend();
    const a = await targetFor(backend, { bootSpec: { model: '/m/t.gguf', port: 18_081 } });
    const b = await targetFor(backend, {
      bootSpec: {
        model: '/m/t.gguf',
        port: 18_081,
        readyTimeoutMs: 1_000,
        stopTimeoutMs: 200,
        idleShutdownMs: 2_000,
      },
      metadata: { runId: 'r1' },
    });
    expect(b.plan).toMatchObject({ readyTimeoutMs: 1_000, stopTimeoutMs: 200, idleShutdownMs: 2_000 });
    expect(b.plan.instanceKey).toBe(a.plan.instanceKey);
  });

  it('names the instance key without planning, equal to the plan key', async () => {
    const backend = createLlamaCppBackend({ defaults: { ctxSize: 512 } });
    for (const bootSpec of [{ model: '/m/t.gguf' }, { model: '/m/t.gguf', apiKey: 'generate', threads: 2 }]) {
      const spec = parseInstanceSpec({ backend: 'llama-cpp', bootSpec });
      const { plan } = await targetFor(backend, { bootSpec });
      expect(backend.instanceKey?.(spec)).toBe(plan.instanceKey);
    }
  });

  it('keeps instance keys apart for specs that differ only in a Secret API key, even when cached', () => {
    const backend = createLlamaCppBackend();
    const keyOf = (apiKey: string | Secret<string>) =>
      backend.instanceKey?.(
        parseInstanceSpec({ backend: 'llama-cpp', bootSpec: { model: '/m/t.gguf', apiKey } }),
      );
    const first = keyOf(new Secret('sk-one'));
    expect(keyOf(new Secret('sk-one'))).toBe(first);
    expect(keyOf(new Secret('sk-two'))).not.toBe(first);
    expect(keyOf('sk-one')).toBe(first);
  });

  it('rejects a bad boot spec with invalid_boot_spec before allocating a port', async () => {
    const backend = createLlamaCppBackend();
    let allocated = 0;
    const context = { ...planContext(), allocatePort: async () => ++allocated };
    const error = await failure(
      Promise.resolve(
        backend.startupPlan(parseInstanceSpec({ backend: 'llama-cpp', bootSpec: { ctxSize: 512 } }), context),
      ),
    );
    expect(error.code).toBe('invalid_boot_spec');
    expect(error.message).toContain('bootSpec.model');
    expect(allocated).toBe(0);
  });

  it('rejects embeddings: false on a backend that claims embeddings', async () => {
    const backend = createLlamaCppBackend({ embeddings: true });
    const error = await failure(targetFor(backend, { bootSpec: { model: '/m/t.gguf', embeddings: false } }));
    expect(error.code).toBe('invalid_boot_spec');
    const { plan } = await targetFor(backend, { bootSpec: { model: '/m/t.gguf' } });
    expect(plan.transport?.args).toContain('--embeddings');
  });

  describe('preflight', () => {
    it('passes for the real llama-server and the tiny model', async () => {
      const { binaryPath, modelPath } = await realLlamaServer();
      const backend = createLlamaCppBackend({ binaryPath });
      const { plan } = await targetFor(backend, { bootSpec: { model: modelPath } });
      await expect(backend.preflight?.(plan, probeContext())).resolves.toBeUndefined();
    });

    it('fails with model_not_found naming the missing model', async () => {
      const { binaryPath } = await realLlamaServer();
      const backend = createLlamaCppBackend({ binaryPath });
      const model = path.join(dir(), 'absent.gguf');
      const { plan } = await targetFor(backend, { bootSpec: { model } });
      const error = await failure(backend.preflight!(plan, probeContext()));
      expect(error).toMatchObject({ code: 'model_not_found', path: model });
    });

    it('fails with invalid_model for a file that is not GGUF', async () => {
      const { binaryPath } = await realLlamaServer();
      const backend = createLlamaCppBackend({ binaryPath });
      const model = path.join(dir(), 'not-a-model.gguf');
      await writeFile(model, 'PK\u0003\u0004 this is a zip');
      const { plan } = await targetFor(backend, { bootSpec: { model } });
      const error = await failure(backend.preflight!(plan, probeContext()));
      expect(error).toMatchObject({ code: 'invalid_model', path: model });
    });

    it('fails with binary_not_found for a missing binary, after the model check passes', async () => {
      const { modelPath } = await realLlamaServer();
      const binary = path.join(dir(), 'bin', 'llama-server');
      const backend = createLlamaCppBackend({ binaryPath: binary });
      const { plan } = await targetFor(backend, { bootSpec: { model: modelPath } });
      const error = await failure(backend.preflight!(plan, probeContext()));
      expect(error).toMatchObject({ code: 'binary_not_found', path: binary });
      expect(error.message).toContain('shic llama-server build');
    });
  });
});

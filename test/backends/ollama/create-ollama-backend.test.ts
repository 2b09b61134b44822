import { parseLease, Secret } from 'self-hosted-inference-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOllamaBackend, OLLAMA_MANIFEST } from '../../../backends/ollama/index.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';
import { probeContext, targetFor } from './ollama-test-target.js';

let standIn: OllamaStandIn | undefined;
afterEach(async () => {
  await standIn?.kill();
  standIn = undefined;
});

const lease = (instanceId: string) =>
  parseLease({
    leaseRef: 'lease-1',
    instanceId,
    ownerRef: 'test',
    ttlMs: 60_000,
    expiresAt: Date.now() + 60_000,
    acquiredAt: Date.now(),
  });

describe('createOllamaBackend', () => {
  it('declares an attached, externally managed backend speaking OpenAI chat and the native API', () => {
    const backend = createOllamaBackend();
    expect(backend.id).toBe('ollama');
    expect(OLLAMA_MANIFEST).toMatchObject({
      startupKind: 'attach_existing_service',
      managementModes: ['externally_managed'],
      protocols: ['openai_chat_completions', 'ollama_native'],
      capabilities: { streaming: true },
    });
  });

  it('plans an attachment with the /v1 endpoint, the native root as sourceRuntimeRef and no transport', async () => {
    const backend = createOllamaBackend({ env: { OLLAMA_HOST: '0.0.0.0:11500' } });
    const target = await targetFor(backend, {
      modelIdentity: 'llama3.2',
      backendOptions: { apiKey: 'sk-plan' },
    });
    const { plan } = target;
    expect(plan.transport).toBeUndefined();
    expect(plan.instanceKey).toMatch(/^ollama:/);
    expect(plan.endpointTemplate).toMatchObject({
      protocol: 'openai_chat_completions',
      baseUrl: 'http://127.0.0.1:11500/v1',
      sourceRuntimeRef: 'http://127.0.0.1:11500',
      modelIdentity: 'llama3.2',
      providerIdentity: 'ollama',
    });
    expect(Secret.isInstance(plan.endpointTemplate.headers.authorization)).toBe(true);
    expect(JSON.stringify(plan)).not.toContain('sk-plan');
  });

  it('sends a keep_alive warm-up on lease only when keepAlive is set (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny']);
    const plain = createOllamaBackend({ rootUrl: standIn.url });
    const plainTarget = await targetFor(plain, { modelIdentity: 'tiny' });
    await plain.onLease?.(plainTarget, lease(plainTarget.instanceId), probeContext());
    expect((await standIn.requests()).filter((r) => r.path === '/api/generate')).toEqual([]);

    const warm = createOllamaBackend({ rootUrl: standIn.url, keepAlive: '30m' });
    const target = await targetFor(warm, { modelIdentity: 'tiny' });
    await warm.onLease?.(target, lease(target.instanceId), probeContext());
    const generates = (await standIn.requests()).filter((r) => r.path === '/api/generate');
    expect(generates.map((r) => r.body)).toEqual([{ model: 'tiny', keep_alive: '30m', stream: false }]);
    expect((await warm.checkHealth(target, probeContext())).status).toBe('healthy');
  });

  it('sends nothing to the daemon on shutdown by default (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny', '--loaded', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    await backend.shutdown?.(target, probeContext());
    expect(await standIn.requests()).toEqual([]);
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');
  });

  it('with unloadOnStop only unloads the model, and the daemon keeps serving (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny', '--loaded', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url, unloadOnStop: true });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    await backend.shutdown?.(target, probeContext());
    const seen = await standIn.requests();
    expect(seen.map((r) => [r.path, r.body])).toEqual([
      ['/api/generate', { model: 'tiny', keep_alive: 0, stream: false }],
    ]);
    expect(await backend.checkHealth(target, probeContext())).toMatchObject({
      status: 'degraded',
      detail: 'model installed but not loaded',
    });
  });
});

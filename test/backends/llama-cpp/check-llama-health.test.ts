import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from '../../../backends/llama-cpp/index.js';
import { probeContext, targetFor } from '../../support/backend-test-target.js';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { waitUntil } from '../../support/wait-until.js';
import { startLlamaServer, startLlamaStandIn } from './llama-server-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function standInTarget(routes: Parameters<typeof startLlamaStandIn>[0]) {
  const standIn = await startLlamaStandIn(routes);
  cleanups.push(standIn.close);
  const backend = createLlamaCppBackend();
  const target = await targetFor(backend, {
    bootSpec: { model: '/m/t.gguf', port: Number(new URL(standIn.url).port) },
  });
  return { backend, target };
}

describe('checkLlamaHealth', () => {
  it('is healthy on the real llama-server, then unavailable once it is killed', async () => {
    const { modelPath } = await realLlamaServer();
    const port = await getPort({ host: '127.0.0.1' });
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, { bootSpec: { model: modelPath, port, apiKey: 'sk-h' } });
    const server = await startLlamaServer([], { LLAMA_API_KEY: 'sk-h' }, port);
    cleanups.push(server.kill);

    const healthy = await waitUntil(
      async () => {
        const health = await backend.checkHealth(target, probeContext());
        return health.status === 'healthy' ? health : undefined;
      },
      { message: 'healthy llama-server' },
    );
    expect(healthy.detail).toBe('GET /health: ok');

    await server.kill();
    const gone = await backend.checkHealth(target, probeContext());
    expect(gone.status).toBe('unavailable');
    expect(gone.detail).toContain(`http://127.0.0.1:${port}`);
  });

  it('is degraded ("loading") while /health answers 503 (llama-server stand-in)', async () => {
    const { backend, target } = await standInTarget({ '/health': { status: 503, body: '{}' } });
    expect(await backend.checkHealth(target, probeContext())).toEqual({
      status: 'degraded',
      detail: 'loading',
    });
  });

  it('falls back to /v1/models on a server without /health (older llama-server stand-in)', async () => {
    const { backend, target } = await standInTarget({ '/v1/models': { status: 200, body: '{"data":[]}' } });
    expect(await backend.checkHealth(target, probeContext())).toMatchObject({
      status: 'healthy',
      detail: expect.stringContaining('/v1/models'),
    });
  });

  it('is unavailable when neither /health nor /v1/models answers 200 (llama-server stand-in)', async () => {
    const { backend, target } = await standInTarget({ '/v1/models': { status: 500, body: '{}' } });
    expect(await backend.checkHealth(target, probeContext())).toEqual({
      status: 'unavailable',
      detail: 'GET /v1/models answered HTTP 500',
    });
  });
});

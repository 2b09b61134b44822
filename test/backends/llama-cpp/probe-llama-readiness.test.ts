import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from '../../../backends/llama-cpp/index.js';
import { probeContext, targetFor } from '../../support/backend-test-target.js';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { waitUntil } from '../../support/wait-until.js';
import { type LlamaServerProcess, startLlamaServer, startLlamaStandIn } from './llama-server-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function start(...args: Parameters<typeof startLlamaServer>): Promise<LlamaServerProcess> {
  const server = await startLlamaServer(...args);
  cleanups.push(server.kill);
  return server;
}

describe('probeLlamaReadiness', () => {
  it('is pending while nothing listens on the port, then ready once the real llama-server answers /health', async () => {
    const { modelPath } = await realLlamaServer();
    const port = await getPort({ host: '127.0.0.1' });
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, { bootSpec: { model: modelPath, port } });

    const before = await backend.probeReadiness(target, probeContext());
    expect(before.status).toBe('pending');
    expect(before).toMatchObject({ detail: expect.stringContaining('not answering yet') });

    await start([], {}, port);
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        const result = await backend.probeReadiness(target, probeContext());
        seen.add(result.status);
        return result.status === 'ready';
      },
      { message: 'llama-server readiness' },
    );
    expect([...seen].every((s) => s === 'pending' || s === 'ready')).toBe(true);
  });

  it('sends the API key, so a keyed server behind an api prefix becomes ready', async () => {
    const { modelPath } = await realLlamaServer();
    const port = await getPort({ host: '127.0.0.1' });
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, {
      bootSpec: { model: modelPath, port, apiKey: 'sk-probe', apiPrefix: '/llm' },
    });
    await start(['--api-prefix', '/llm'], { LLAMA_API_KEY: 'sk-probe' }, port);
    await waitUntil(async () => (await backend.probeReadiness(target, probeContext())).status === 'ready', {
      message: 'keyed llama-server readiness',
    });
  });

  it('is pending with "loading model" while /health answers 503 (llama-server stand-in)', async () => {
    const standIn = await startLlamaStandIn({
      '/health': {
        status: 503,
        body: '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}',
      },
    });
    cleanups.push(standIn.close);
    const port = Number(new URL(standIn.url).port);
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, { bootSpec: { model: '/m/t.gguf', port } });
    expect(await backend.probeReadiness(target, probeContext())).toEqual({
      status: 'pending',
      detail: 'loading model',
    });
  });
});

import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLlamaFunctional, createLlamaCppBackend } from '../../../backends/llama-cpp/index.js';
import { probeContext, targetFor } from '../../support/backend-test-target.js';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { waitUntil } from '../../support/wait-until.js';
import { type LlamaServerProcess, startLlamaServer } from './llama-server-process.js';

let server: LlamaServerProcess;
let port: number;
let modelPath: string;
beforeAll(async () => {
  ({ modelPath } = await realLlamaServer());
  port = await getPort({ host: '127.0.0.1' });
  server = await startLlamaServer([], { LLAMA_API_KEY: 'sk-f' }, port);
  const backend = createLlamaCppBackend();
  const target = await targetFor(backend, { bootSpec: { model: modelPath, port, apiKey: 'sk-f' } });
  await waitUntil(async () => (await backend.probeReadiness(target, probeContext())).status === 'ready', {
    message: 'llama-server readiness',
  });
});
afterAll(async () => {
  await server.kill();
});

describe('checkLlamaFunctional', () => {
  it('is healthy when a 1-token completion succeeds on the real llama-server', async () => {
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, { bootSpec: { model: modelPath, port, apiKey: 'sk-f' } });
    expect(await checkLlamaFunctional(target, probeContext([], 30_000))).toEqual({
      status: 'healthy',
      detail: '1-token completion succeeded',
    });
  });

  it('is degraded when the server refuses the completion (wrong API key)', async () => {
    const backend = createLlamaCppBackend();
    const target = await targetFor(backend, { bootSpec: { model: modelPath, port, apiKey: 'sk-wrong' } });
    const result = await checkLlamaFunctional(target, probeContext([], 30_000));
    expect(result.status).toBe('degraded');
    expect(result.detail).toContain('HTTP 401');
  });
});

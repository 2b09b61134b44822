// The openai-compatible backend attached to a real llama-server it does not own: failures are typed and early,
// the gateway routes to it, and stopping the attachment leaves the server running.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import OpenAI from 'openai';
import {
  createGateway,
  createKernel,
  type GatewayServer,
  type Kernel,
  startGatewayServer,
} from 'self-hosted-inference-core';
import { createOpenAiCompatibleBackend } from 'self-hosted-inference-core/openai-compatible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LlamaUpstream, startLlamaUpstream } from '../../support/start-llama-upstream.js';

const KEY = 'sk-remote-4b9e0d';
let llama: LlamaUpstream;
let kernel: Kernel;
let dir: string;

beforeAll(async () => {
  llama = await startLlamaUpstream(['--alias', 'remote-tiny', '--api-key', KEY]);
  dir = await mkdtemp(join(tmpdir(), 'shic-openai-compatible-'));
  kernel = createKernel({ stateDir: dir, backends: [createOpenAiCompatibleBackend()] });
}, 120_000);
afterAll(async () => {
  await kernel?.close();
  await llama?.kill();
  await rm(dir, { recursive: true, force: true });
});

const spec = (backendOptions: Record<string, unknown>, modelIdentity = 'remote-tiny') => ({
  backend: 'openai-compatible',
  modelIdentity,
  backendOptions: { baseUrl: `${llama.url}/v1`, apiKey: KEY, ...backendOptions },
});

describe('openai-compatible backend on a real llama-server', () => {
  it('fails at once on a wrong key (invalid_boot_spec), never printing either key', async () => {
    const error = await kernel.ensureInstance(spec({ apiKey: 'sk-wrong-000' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_boot_spec' });
    expect(JSON.stringify(error) + String(error)).not.toContain(KEY);
  });

  it('names the models the server serves when the requested one is missing (model_not_found)', async () => {
    const error = await kernel
      .ensureInstance(spec({ readyTimeoutMs: 500 }, 'not-there'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('remote-tiny') });
  });

  it('fails with service_unreachable when nothing listens, after connectTimeoutMs', async () => {
    const port = await getPort();
    const error = await kernel
      .ensureInstance(spec({ baseUrl: `http://127.0.0.1:${port}`, connectTimeoutMs: 300 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'service_unreachable' });
  });

  it('routes gateway requests to it by deployment name, and stopping the attachment leaves the server up', async () => {
    const gateway = createGateway({
      kernel,
      deployments: {
        remote: {
          backend: 'openai-compatible',
          modelIdentity: 'remote-tiny',
          backendOptions: spec({}).backendOptions,
        },
      },
    });
    const server: GatewayServer = await startGatewayServer({ gateway });
    try {
      const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: 'remote',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 3,
      });
      expect(answer.model).toBe('remote-tiny');
      const [instance] = kernel.listInstances().filter((i) => i.metadata.deployment === 'remote');
      await kernel.stopInstance(instance!.instanceId);
      const health = await fetch(`${llama.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await server.close(0);
    }
  });
});

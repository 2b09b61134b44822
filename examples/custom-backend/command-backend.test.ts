// The example backend end to end: a real llama-server as the command, a chat through the openai client.
// conformance.test.ts runs the conformance kit on it (also from the package's own directory).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createKernel, exposeSecret, KernelError, Secret } from 'self-hosted-inference-core';
import { provisionLlamaServer, vocabModelPath } from 'self-hosted-inference-core/llama-cpp';
import { ensureTinyLlamaModel } from 'self-hosted-inference-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandBackend, PORT_PLACEHOLDER } from './index.js';

const API_KEY = 'sk-command-backend-5d1e0b';

/** llama-server and the tiny test model, through the package's public entry points. */
async function llamaServer(): Promise<{ binaryPath: string; modelPath: string }> {
  const { binaryPath } = await provisionLlamaServer();
  const modelPath = await ensureTinyLlamaModel({ vocabPath: await vocabModelPath() });
  return { binaryPath, modelPath };
}

// llama-server reads its API key from LLAMA_API_KEY: the key stays out of argv (and so out of the logs).
const llamaBackend = ({ binaryPath, modelPath }: { binaryPath: string; modelPath: string }) =>
  createCommandBackend({
    id: 'llama-command',
    command: [binaryPath, '--model', modelPath, '--port', PORT_PLACEHOLDER, '--ctx-size', '512'],
    protocol: 'openai_chat_completions',
    capabilities: { streaming: true },
    env: { LLAMA_API_KEY: new Secret(API_KEY) },
    headers: { authorization: new Secret(`Bearer ${API_KEY}`) },
    readyTimeoutMs: 60_000,
  });

let llama: { binaryPath: string; modelPath: string };
let stateDir = '';
beforeAll(async () => {
  llama = await llamaServer();
  stateDir = await mkdtemp(join(tmpdir(), 'command-backend-'));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('createCommandBackend', () => {
  it('serves a chat completion through ensureEndpoint and leaves nothing running after close', async () => {
    const kernel = createKernel({ stateDir, backends: [llamaBackend(llama)] });
    let pid: number | undefined;
    try {
      const { endpoint, lease } = await kernel.ensureEndpoint(
        {
          requestId: 'req-1',
          targetPreference: { backend: 'llama-command' },
          modelPreference: { id: 'tiny' },
        },
        {
          consumer: 'example-chat',
          acceptedRuntimeKinds: ['service'],
          acceptedManagementModes: ['kernel_managed'],
          acceptedProtocols: ['openai_chat_completions'],
          requiredCapabilities: { streaming: true },
        },
        { runId: 'run-1', attemptId: 'attempt-1' },
        { ownerRef: 'command-backend-example', ttlMs: 60_000 },
      );
      expect(endpoint.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(JSON.stringify(endpoint)).not.toContain(API_KEY);
      pid = kernel.listInstances()[0]?.pid;
      expect(pid).toBeGreaterThan(0);

      const client = new OpenAI({
        baseURL: endpoint.baseUrl,
        apiKey: exposeSecret(endpoint.headers.authorization!).replace(/^Bearer /, ''),
      });
      const completion = await client.chat.completions.create({
        model: 'tiny',
        messages: [{ role: 'user', content: 'Say hello.' }],
        max_tokens: 4,
      });
      expect(completion.choices[0]?.message.role).toBe('assistant');
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      // Without the key, the same server refuses: the endpoint's header is what made the call work.
      await expect(
        new OpenAI({ baseURL: endpoint.baseUrl, apiKey: 'wrong', maxRetries: 0 }).models.list(),
      ).rejects.toMatchObject({ status: 401 });

      expect(kernel.releaseLease(lease.leaseRef)).toBe(true);
    } finally {
      await kernel.close();
    }
    expect(() => process.kill(pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('rejects a command without the port placeholder with invalid_boot_spec', () => {
    let error: unknown;
    try {
      createCommandBackend({ id: 'no-port', command: ['server', '--port', '8080'] });
    } catch (e) {
      error = e;
    }
    expect(KernelError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_boot_spec', details: { option: 'command' } });
    expect((error as Error).message).toContain(PORT_PLACEHOLDER);
  });
});

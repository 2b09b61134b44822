import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KernelError } from 'self-hosted-inference-core';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type KernelHarness,
  openaiClientFor,
  processAlive,
  startKernelHarness,
  TINY_MODEL_SAFE,
  wireHeaders,
} from './kernel-harness.js';
import { waitUntil } from './wait-until.js';

let h: KernelHarness;
beforeEach(async () => {
  h = await startKernelHarness();
});
afterEach(async () => {
  await h.close();
});

const spec = (bootSpec: Record<string, unknown> = {}) => ({
  backend: 'llama-cpp',
  bootSpec: { model: h.modelPath, ctxSize: 512, ...bootSpec },
});

async function failure(promise: Promise<unknown>): Promise<KernelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!KernelError.isInstance(error)) throw new Error(`expected a KernelError, got ${String(error)}`);
  return error;
}

const spawnedCount = () => h.events.filter((e) => e.type === 'instance.spawned').length;

describe('llama-cpp backend on a real llama-server', () => {
  it('spawns llama-server, serves a plain and a streaming chat completion through openai, and stops it', async () => {
    const { instance, reused } = await h.kernel.ensureInstance(spec());
    expect(reused).toBe(false);
    expect(instance).toMatchObject({ backend: 'llama-cpp', state: 'ready', health: 'healthy' });
    const endpoint = instance.endpoint!;
    expect(endpoint).toMatchObject({
      protocol: 'openai_chat_completions',
      baseUrl: `http://127.0.0.1:${instance.port}/v1`,
      modelIdentity: 'tiny-llama-r1-seed-42',
      sourceRuntime: 'llama-cpp',
      capabilities: { streaming: true },
    });
    const pid = instance.pid!;
    expect(processAlive(pid)).toBe(true);

    const client = openaiClientFor(endpoint);
    const completion = await client.chat.completions.create({
      model: endpoint.modelIdentity!,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 8,
      ...TINY_MODEL_SAFE,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: endpoint.modelIdentity!,
      messages: [{ role: 'user', content: 'Count to three.' }],
      max_tokens: 8,
      ...TINY_MODEL_SAFE,
      seed: 7,
      stream: true as const,
      stream_options: { include_usage: true },
    });
    // Random weights may emit byte tokens the server holds back until they form UTF-8, so count chunks, not text.
    let chunks = 0;
    let finish: string | null | undefined;
    let streamedTokens = 0;
    for await (const chunk of stream) {
      chunks += 1;
      const choice = chunk.choices[0];
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) streamedTokens = chunk.usage.completion_tokens;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBeTruthy();
    expect(streamedTokens).toBeGreaterThan(0);

    await h.kernel.stopInstance(instance.instanceId);
    expect(h.kernel.lookupInstance(instance.instanceId)?.state ?? 'stopped').toBe('stopped');
    await waitUntil(() => !processAlive(pid), { what: `llama-server pid ${pid} to exit` });
    expect(h.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['instance.starting', 'instance.spawned', 'instance.ready', 'instance.stopped']),
    );
  });

  it('starts one llama-server for concurrent ensures of the same model, and a second one for another ctxSize', async () => {
    const [a, b] = await Promise.all([h.kernel.ensureInstance(spec()), h.kernel.ensureInstance(spec())]);
    expect(a.instance.instanceId).toBe(b.instance.instanceId);
    expect(a.instance.pid).toBe(b.instance.pid);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(spawnedCount()).toBe(1);

    const c = await h.kernel.ensureInstance(spec({ ctxSize: 256 }));
    expect(c.instance.instanceId).not.toBe(a.instance.instanceId);
    expect(c.instance.pid).not.toBe(a.instance.pid);
    expect(c.instance.port).not.toBe(a.instance.port);
    expect(spawnedCount()).toBe(2);
    expect(h.kernel.listInstances().filter((i) => i.state === 'ready')).toHaveLength(2);
  });

  it('restarts llama-server after kill -9 and the next ensure gets a working endpoint', async () => {
    const first = await h.kernel.ensureInstance(spec());
    const oldPid = first.instance.pid!;
    process.kill(oldPid, 'SIGKILL');

    await waitUntil(() => h.events.some((e) => e.type === 'instance.exited' && !e.expected), {
      what: 'an unexpected exit event',
    });
    const restarted = await waitUntil(
      () => {
        const s = h.kernel.lookupInstance(first.instance.instanceId);
        return s?.state === 'ready' && s.pid !== oldPid ? s : undefined;
      },
      { what: 'the restarted llama-server to be ready' },
    );
    expect(restarted.restarts).toBe(1);
    expect(h.events.map((e) => e.type)).toContain('instance.restarting');

    const again = await h.kernel.ensureInstance(spec());
    expect(again).toMatchObject({ reused: true, instance: { instanceId: first.instance.instanceId } });
    const client = openaiClientFor(again.instance.endpoint!);
    const completion = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      ...TINY_MODEL_SAFE,
    });
    expect(completion.choices).toHaveLength(1);
  });

  it('requires the API key: 401 without the header, 200 with the descriptor headers, and never logs the key', async () => {
    const { instance } = await h.kernel.ensureInstance(spec({ apiKey: 'generate', apiPrefix: '/llm' }));
    const endpoint = instance.endpoint!;
    expect(endpoint.baseUrl).toBe(`http://127.0.0.1:${instance.port}/llm/v1`);
    const headers = wireHeaders(endpoint);
    const key = headers.authorization!.replace(/^Bearer /, '');
    expect(key.length).toBeGreaterThanOrEqual(32);

    const without = await request(`${endpoint.baseUrl}/models`);
    await without.body.dump();
    expect(without.statusCode).toBe(401);
    const withHeaders = await request(`${endpoint.baseUrl}/models`, { headers });
    expect(withHeaders.statusCode).toBe(200);
    expect(JSON.stringify(await withHeaders.body.json())).toContain(endpoint.modelIdentity!);

    const completion = await openaiClientFor(endpoint).chat.completions.create({
      model: endpoint.modelIdentity!,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      ...TINY_MODEL_SAFE,
    });
    expect(completion.choices).toHaveLength(1);

    // The capture is real: the spawn and the server's own output were logged at debug.
    expect(h.logLines.some((l) => l.includes('process spawned'))).toBe(true);
    expect(h.logLines.some((l) => l.includes('process output'))).toBe(true);
    expect(h.logLines.filter((l) => l.includes(key))).toEqual([]);
    expect(JSON.stringify(endpoint)).not.toContain(key);
    expect(JSON.stringify(h.kernel.listInstances())).not.toContain(key);
    expect(JSON.stringify(h.events)).not.toContain(key);
    expect(await h.stateFiles()).not.toContain(key);
  });

  describe('fails before spawning', () => {
    it('with model_not_found for a missing model file', async () => {
      const model = path.join(h.stateDir, 'missing.gguf');
      const error = await failure(h.kernel.ensureInstance(spec({ model })));
      expect(error).toMatchObject({ code: 'model_not_found', path: model });
      expect(spawnedCount()).toBe(0);
    });

    it('with invalid_model for a file that is not GGUF', async () => {
      const model = path.join(h.stateDir, 'weights.bin');
      await writeFile(model, Buffer.alloc(1024, 7));
      const error = await failure(h.kernel.ensureInstance(spec({ model })));
      expect(error).toMatchObject({ code: 'invalid_model', path: model });
      expect(spawnedCount()).toBe(0);
    });

    it('with binary_not_found for a missing llama-server binary', async () => {
      const binaryPath = path.join(h.stateDir, 'no-such-llama-server');
      const error = await failure(h.kernel.ensureInstance(spec({ binaryPath })));
      expect(error).toMatchObject({ code: 'binary_not_found', path: binaryPath });
      expect(error.message).toContain('shic llama-server build');
      expect(spawnedCount()).toBe(0);
    });

    it('with invalid_boot_spec for a bad field', async () => {
      const error = await failure(h.kernel.ensureInstance(spec({ ctxSize: 'big' })));
      expect(error.code).toBe('invalid_boot_spec');
      expect(error.message).toContain('bootSpec.ctxSize');
      expect(spawnedCount()).toBe(0);
    });
  });
});

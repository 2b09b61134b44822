import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConsumerManifestInput } from 'self-hosted-inference-core';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../support/wait-until.js';
import {
  type KernelHarness,
  openaiClientFor,
  processAlive,
  startKernelHarness,
  wireHeaders,
} from './kernel-harness.js';
import { failure } from './test-setup.js';

let h: KernelHarness;
beforeEach(async () => {
  h = await startKernelHarness();
});
afterEach(async () => {
  await h.close();
});

const streamingChat: ConsumerManifestInput = {
  consumer: 'test-chat',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
  requiredCapabilities: { streaming: true },
};
let requests = 0;
const ensure = (bootSpec: Record<string, unknown> = {}, consumer = streamingChat) =>
  h.kernel.ensureEndpoint(
    {
      requestId: `req-${++requests}`,
      targetPreference: { backend: 'llama-cpp', bootSpec: { model: h.modelPath, ctxSize: 512, ...bootSpec } },
    },
    consumer,
    { runId: 'run-1', attemptId: `attempt-${requests}` },
    { ownerRef: 'llama-cpp-integration', ttlMs: 120_000 },
  );

const count = (type: string) => h.events.filter((e) => e.type === type).length;
const pidOf = (instanceId: string) => h.kernel.lookupInstance(instanceId)?.pid;

describe('llama-cpp backend on a real llama-server', () => {
  it('never returns the endpoint of a server kill -9ed a moment ago: the ensure waits for the restart', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await ensure({ idleShutdownMs: 60_000 });
      const pid = pidOf(first.endpoint.healthRef)!;
      process.kill(pid, 'SIGKILL');
      const { endpoint } = await ensure({ idleShutdownMs: 60_000 });
      expect(pidOf(endpoint.healthRef)).not.toBe(pid);
      const health = await request(endpoint.baseUrl.replace(/\/v1$/, '/health'));
      await health.body.text();
      expect(health.statusCode, `round ${round}`).toBe(200);
    }
  });

  it('spawns, leases, serves a plain and a streaming chat through openai, and idles out after release', async () => {
    const { endpoint, compatibility, lease } = await ensure({ idleShutdownMs: 1_000 });
    expect(compatibility).toMatchObject({ compatible: true, resolvedProtocol: 'openai_chat_completions' });
    const instance = h.kernel.lookupInstance(endpoint.healthRef)!;
    expect(instance).toMatchObject({
      backend: 'llama-cpp',
      state: 'ready',
      health: 'healthy',
      leaseCount: 1,
    });
    expect(endpoint).toMatchObject({
      protocol: 'openai_chat_completions',
      baseUrl: `http://127.0.0.1:${instance.port}/v1`,
      modelIdentity: path.basename(h.modelPath, '.gguf'),
      sourceRuntime: 'llama-cpp',
      leaseRef: lease.leaseRef,
      capabilities: { streaming: true },
    });
    const pid = instance.pid!;
    expect(processAlive(pid)).toBe(true);

    const client = openaiClientFor(endpoint);
    const completion = await client.chat.completions.create({
      model: endpoint.modelIdentity!,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 8,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: endpoint.modelIdentity!,
      messages: [{ role: 'user', content: 'Count to three.' }],
      max_tokens: 8,
      stream: true as const,
      stream_options: { include_usage: true },
    });
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

    expect(h.kernel.releaseLease(lease.leaseRef)).toBe(true);
    const stopped = await waitUntil(
      () => h.events.find((e) => e.type === 'instance.stopped' && e.instanceId === endpoint.healthRef),
      { message: 'the idle instance to stop' },
    );
    expect(stopped).toMatchObject({ reason: 'idle' });
    await waitUntil(() => !processAlive(pid), { message: `llama-server pid ${pid} to exit` });
    expect(h.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['instance.spawned', 'instance.ready', 'lease.acquired', 'lease.released']),
    );
  });

  it('starts one llama-server for concurrent ensures of the same model, and a second one for another ctxSize', async () => {
    const [a, b] = await Promise.all([ensure(), ensure()]);
    expect(a.endpoint.healthRef).toBe(b.endpoint.healthRef);
    expect(a.lease.leaseRef).not.toBe(b.lease.leaseRef);
    expect(count('instance.spawned')).toBe(1);
    expect(h.kernel.lookupInstance(a.endpoint.healthRef)?.leaseCount).toBe(2);

    const c = await ensure({ ctxSize: 256 });
    expect(c.endpoint.healthRef).not.toBe(a.endpoint.healthRef);
    expect(c.endpoint.baseUrl).not.toBe(a.endpoint.baseUrl);
    expect(pidOf(c.endpoint.healthRef)).not.toBe(pidOf(a.endpoint.healthRef));
    expect(count('instance.spawned')).toBe(2);
  });

  it('revokes the lease when llama-server is killed with SIGKILL, restarts it, and the next ensure works', async () => {
    const first = await ensure();
    const instanceId = first.endpoint.healthRef;
    const oldPid = pidOf(instanceId)!;
    process.kill(oldPid, 'SIGKILL');

    const revoked = await waitUntil(() => h.events.find((e) => e.type === 'lease.revoked'), {
      message: 'the lease to be revoked',
    });
    expect(revoked).toMatchObject({ leaseRef: first.lease.leaseRef, instanceId });
    expect(h.kernel.releaseLease(first.lease.leaseRef)).toBe(false);
    await waitUntil(
      () => {
        const s = h.kernel.lookupInstance(instanceId);
        return s?.state === 'ready' && s.pid !== oldPid;
      },
      { message: 'the restarted llama-server to be ready' },
    );
    expect(h.kernel.lookupInstance(instanceId)?.restarts).toBe(1);

    const again = await ensure();
    expect(again.endpoint.healthRef).toBe(instanceId);
    expect(again.lease.leaseRef).not.toBe(first.lease.leaseRef);
    const completion = await openaiClientFor(again.endpoint).chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    expect(completion.choices).toHaveLength(1);
  });

  it('requires the API key: 401 without the header, 200 with the descriptor headers, and never logs the key', async () => {
    const { endpoint } = await ensure({ apiKey: 'generate', apiPrefix: '/llm' });
    const port = h.kernel.lookupInstance(endpoint.healthRef)?.port;
    expect(endpoint.baseUrl).toBe(`http://127.0.0.1:${port}/llm/v1`);
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
      const error = await failure(ensure({ model }));
      expect(error).toMatchObject({ code: 'model_not_found', path: model });
      expect(count('instance.spawned')).toBe(0);
    });

    it('with invalid_model for a file that is not GGUF', async () => {
      const model = path.join(h.stateDir, 'weights.bin');
      await writeFile(model, Buffer.alloc(1024, 7));
      const error = await failure(ensure({ model }));
      expect(error).toMatchObject({ code: 'invalid_model', path: model });
      expect(count('instance.spawned')).toBe(0);
    });

    it('with binary_not_found for a missing llama-server binary', async () => {
      const binaryPath = path.join(h.stateDir, 'no-such-llama-server');
      const error = await failure(ensure({ binaryPath }));
      expect(error).toMatchObject({ code: 'binary_not_found', path: binaryPath });
      expect(error.message).toContain('shic llama-server build');
      expect(count('instance.spawned')).toBe(0);
    });

    it('with invalid_boot_spec for a bad field', async () => {
      const error = await failure(ensure({ ctxSize: 'big' }));
      expect(error.code).toBe('invalid_boot_spec');
      expect(error.message).toContain('bootSpec.ctxSize');
      expect(count('instance.spawned')).toBe(0);
    });

    it('with incompatible for a consumer that requires embeddings the backend does not claim', async () => {
      const error = await failure(
        ensure({}, { ...streamingChat, requiredCapabilities: { streaming: true, embeddings: true } }),
      );
      expect(error.code).toBe('incompatible');
      expect(count('instance.starting')).toBe(0);
    });
  });
});

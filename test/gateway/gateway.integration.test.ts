import { execa } from 'execa';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait-until.js';
import { type GatewayHarness, startGatewayHarness } from './gateway-harness.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness(({ modelPath, longModelPath }) => ({
    tiny: { backend: 'llama-cpp', aliases: ['tiny-chat'], bootSpec: { model: modelPath, ctxSize: 512 } },
    other: { backend: 'llama-cpp', bootSpec: { model: modelPath, ctxSize: 256 } },
    burst: { backend: 'llama-cpp', bootSpec: { model: modelPath, ctxSize: 384 } },
    long: {
      backend: 'llama-cpp',
      bootSpec: { model: longModelPath, ctxSize: 32_768, parallel: 1 },
      timeouts: { idleMs: 30_000 },
    },
  }));
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const records = (id: string) => h.gateway.requests.list({ limit: 10_000 }).filter((r) => r.requestId === id);
const stateOf = async (id: string) => {
  const { data } = (await (await fetch(`${h.server.url}/models`)).json()) as {
    data: Array<{ id: string; state: string }>;
  };
  return data.find((m) => m.id === id)?.state;
};

describe('gateway on real llama-servers', () => {
  it('starts a model on the first request (openai client), lists states, and releases the lease', async () => {
    expect(await stateOf('tiny')).toBe('unloaded');
    const client = h.openai();
    const answer = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 8,
    });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(await stateOf('tiny')).toBe('loaded');
    expect(await stateOf('other')).toBe('unloaded');
    expect(h.leaseCount()).toBe(0);
    const [record] = h.gateway.requests.list({ deployment: 'tiny', limit: 1 });
    expect(record).toMatchObject({ outcome: 'completed', httpStatus: 200, coldStart: true, attempts: 1 });
    expect(record!.completionTokens).toBeGreaterThan(0);
    // An alias reaches the same instance: no second server.
    await client.chat.completions.create({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
    });
    expect(h.kernel.listInstances().filter((i) => i.metadata.deployment === 'tiny')).toHaveLength(1);
  });

  it('streams through the openai client and records TTFT and tokens', async () => {
    const stream = await h.openai().chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'stream please' }],
      max_tokens: 16,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    const [record] = h.gateway.requests.list({ deployment: 'tiny', limit: 1 });
    expect(record).toMatchObject({ outcome: 'completed', stream: true, coldStart: false });
    expect(record!.ttftMs).toBeGreaterThan(0);
    expect(record!.completionTokens).toBeGreaterThan(0);
    expect(
      h.gatewayEvents.some((e) => e.type === 'request.first_token' && e.requestId === record!.requestId),
    ).toBe(true);
    expect(h.leaseCount()).toBe(0);
  });

  it('serves two models concurrently, and curl and the AI SDK work against the same URL', async () => {
    const client = h.openai();
    const [a, b] = await Promise.all(
      ['tiny', 'other'].map((model) =>
        client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      ),
    );
    expect(a?.choices).toHaveLength(1);
    expect(b?.choices).toHaveLength(1);
    const curl = await execa('curl', [
      '-sS',
      '--fail-with-body',
      `${h.server.url}/chat/completions`,
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ model: 'other', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    ]);
    expect(JSON.parse(curl.stdout)).toMatchObject({ object: 'chat.completion' });
    const sdk = await execa('npx', ['tsx', 'test/fixtures/ai-sdk-client.ts', h.server.url, 'tiny']);
    expect(JSON.parse(sdk.stdout)).toMatchObject({ text: expect.any(String), streamed: expect.any(String) });
    expect(h.gateway.requests.list({ deployment: 'tiny', limit: 2 }).map((r) => r.stream)).toEqual([
      true,
      false,
    ]);
    expect(h.leaseCount()).toBe(0);
  });

  it('lets concurrent requests for a model that is not loaded join one start', async () => {
    const spawnedBefore = h.kernelEvents.filter((e) => e.type === 'instance.spawned').length;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.openai().chat.completions.create({
          model: 'burst',
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 2,
        }),
      ),
    );
    expect(answers).toHaveLength(6);
    expect(h.kernelEvents.filter((e) => e.type === 'instance.spawned').length - spawnedBefore).toBe(1);
    expect(h.gateway.requests.list({ deployment: 'burst' }).filter((r) => r.coldStart)).toHaveLength(6);
    expect(h.leaseCount()).toBe(0);
  });

  it('answers an unknown model with 404 in OpenAI shape listing what exists', async () => {
    const error = await h
      .openai()
      .chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('unknown_model');
    expect((error as Error).message).toContain('tiny, other, burst, long');
    const res = await request(`${h.server.url}/chat/completions`, { method: 'POST', body: '{"model":' });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toMatchObject({
      error: { code: 'invalid_json', type: 'invalid_request_error' },
    });
  });

  it('aborts the upstream generation when the client disconnects mid-stream, and releases the lease', async () => {
    const res = await request(`${h.server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'disconnect-1' },
      body: JSON.stringify({
        model: 'long',
        stream: true,
        max_tokens: 30_000,
        messages: [{ role: 'user', content: 'go on' }],
      }),
    });
    expect(res.statusCode).toBe(200);
    let seen = 0;
    for await (const chunk of res.body) {
      seen += (chunk as Buffer).length;
      if (seen > 2_000) break; // leaving the loop destroys the body: the client is gone mid-stream
    }
    const [record] = await waitUntil(() => (records('disconnect-1').length ? records('disconnect-1') : null));
    expect(record).toMatchObject({ outcome: 'aborted', errorCode: 'client_closed', deployment: 'long' });
    expect(h.leaseCount()).toBe(0);
    // llama-server logs the cancellation and, on release, how many tokens the slot held: far short of 30 000.
    const instance = h.kernel.listInstances().find((i) => i.metadata.deployment === 'long')!;
    const lines = await waitUntil(() => {
      const tail = h.kernel.instanceLogs(instance.instanceId, 200);
      return tail.some((l) => l.includes('cancel task')) &&
        tail.some((l) => /stop processing: n_tokens/.test(l))
        ? tail
        : null;
    });
    const released = lines.findLast((l) => /stop processing: n_tokens/.test(l))!;
    const generated = Number(/n_tokens = (\d+)/.exec(released)![1]);
    expect(generated).toBeLessThan(20_000);
  });

  it('retries once, transparently, when the server dies before answering (kill -9 mid-request)', async () => {
    const client = h.openai();
    await client.chat.completions.create({
      model: 'long',
      messages: [{ role: 'user', content: 'warm' }],
      max_tokens: 2,
    });
    const before = h.kernel
      .listInstances()
      .find((i) => i.metadata.deployment === 'long' && i.state === 'ready')!;
    const pending = client.chat.completions.create({
      model: 'long',
      messages: [{ role: 'user', content: 'a long answer' }],
      max_tokens: 12_000,
    });
    // A non-streaming answer sends no byte until it is complete: kill the server while it generates.
    await waitUntil(async () => {
      const slots = (await (await fetch(`http://127.0.0.1:${before.port}/slots`)).json()) as Array<{
        is_processing: boolean;
      }>;
      return slots.some((s) => s.is_processing);
    });
    process.kill(before.pid!, 'SIGKILL');
    const answer = await pending;
    expect(answer.choices).toHaveLength(1);
    const [record] = h.gateway.requests.list({ deployment: 'long', limit: 1 });
    expect(record).toMatchObject({ outcome: 'completed', attempts: 2 });
    const after = h.kernel.lookupInstance(record!.instanceId!)!;
    expect(after.pid).not.toBe(before.pid);
    expect(h.leaseCount()).toBe(0);
    // The retried request generates up to 12 000 tokens: tens of seconds when the machine is busy.
  }, 180_000);
});

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait-until.js';
import { type GatewayHarness, startGatewayHarness } from './gateway-harness.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness(
    ({ modelPath }) => ({
      one: { backend: 'llama-cpp', maxLeases: 1, bootSpec: { model: modelPath, ctxSize: 512 } },
      two: {
        backend: 'llama-cpp',
        maxLeases: 1,
        bootSpec: { model: modelPath, ctxSize: 256 },
        timeouts: { modelWaitMs: 1_000 },
      },
      three: { backend: 'llama-cpp', maxLeases: 1, bootSpec: { model: modelPath, ctxSize: 384 } },
    }),
    { maxQueue: 1, streamLoadProgress: true },
  );
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const chat = (model: string) =>
  request(`${h.server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });

// Takes the deployment's only lease slot directly from the kernel (same boot spec → same instance), starting
// the instance when needed.
async function holdSlot(ctxSize: number) {
  const { lease } = await h.kernel.ensureEndpoint(
    {
      requestId: `hold-${ctxSize}`,
      // The policy matters when this call starts the instance: the first start's policy wins.
      targetPreference: {
        backend: 'llama-cpp',
        bootSpec: { model: h.modelPath, ctxSize },
        policy: { maxLeases: 1 },
      },
    },
    {
      consumer: 'holder',
      acceptedRuntimeKinds: ['service'],
      acceptedManagementModes: ['kernel_managed'],
      acceptedProtocols: ['openai_chat_completions'],
    },
    { runId: 'holder', attemptId: `hold-${ctxSize}` },
    { ownerRef: 'holder', ttlMs: 60_000 },
  );
  return lease;
}

describe('gateway queue on a real llama-server', () => {
  it('queues a request while the slot is leased, answers 429 with Retry-After past maxQueue, serves the waiter on release', async () => {
    expect((await chat('one')).statusCode).toBe(200); // starts "one" with maxLeases 1
    const lease = await holdSlot(512);
    const waiting = chat('one');
    await waitUntil(() => h.gatewayEvents.filter((e) => e.type === 'request.started').length >= 2);
    // The waiter counts against maxQueue from the moment its ensure begins: poll until the queue is full.
    const full = await waitUntil(async () => {
      const res = await chat('one');
      const body = (await res.body.json()) as { error?: { code: string } };
      return res.statusCode === 429 ? { res, body } : null;
    });
    expect(full.body).toMatchObject({ error: { code: 'queue_full', type: 'rate_limit_error' } });
    expect(Number(full.res.headers['retry-after'])).toBeGreaterThan(0);
    await h.kernel.releaseLease(lease.leaseRef);
    const served = await waiting;
    expect(served.statusCode).toBe(200);
    await served.body.json();
    expect(h.leaseCount()).toBe(0);
  });

  it('answers 503 model_wait_timeout when no slot frees within the deployment’s modelWaitMs', async () => {
    // Started by the holder: "two"'s 1 s modelWaitMs then only measures the wait for the slot, not a load.
    const lease = await holdSlot(256);
    const res = await chat('two');
    expect(res.statusCode).toBe(503);
    expect(await res.body.json()).toMatchObject({
      error: {
        code: 'model_wait_timeout',
        type: 'timeout_error',
        message: expect.stringContaining('modelWaitMs'),
      },
    });
    await h.kernel.releaseLease(lease.leaseRef);
    expect(h.leaseCount()).toBe(0);
    const [record] = h.gateway.requests.list({ deployment: 'two', outcome: 'failed' });
    expect(record).toMatchObject({ errorCode: 'model_wait_timeout', httpStatus: 503 });
  });

  it('tells a waiting streaming client in SSE comments, then streams the answer (streamLoadProgress)', async () => {
    expect((await chat('three')).statusCode).toBe(200);
    const lease = await holdSlot(384);
    const res = await request(`${h.server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'three',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 3,
      }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const chunks: string[] = [];
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    chunks.push(String(first.value));
    expect(chunks[0]).toMatch(/^: waiting for three to load/);
    await h.kernel.releaseLease(lease.leaseRef);
    for (let next = await reader.next(); !next.done; next = await reader.next())
      chunks.push(String(next.value));
    const text = chunks.join('');
    expect(text).toContain('data: {');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(h.leaseCount()).toBe(0);
  });

  it('sends a load failure to a committed stream as an SSE error event', async () => {
    const lease = await holdSlot(256);
    const res = await request(`${h.server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'two', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.body.text();
    await h.kernel.releaseLease(lease.leaseRef);
    expect(res.statusCode).toBe(200);
    expect(text).toMatch(/^: waiting for two to load/);
    expect(text).toContain('data: {"error":{');
    expect(text).toContain('"code":"model_wait_timeout"');
  });
});

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
    }),
    { maxQueue: 1 },
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

// Takes the deployment's only lease slot directly from the kernel (same boot spec → same instance).
async function holdSlot(ctxSize: number) {
  const { lease } = await h.kernel.ensureEndpoint(
    {
      requestId: `hold-${ctxSize}`,
      targetPreference: { backend: 'llama-cpp', bootSpec: { model: h.modelPath, ctxSize } },
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
    expect((await chat('two')).statusCode).toBe(200);
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
});

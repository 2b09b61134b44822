// Gateway soak: SHIC_GATEWAY_SOAK_REQUESTS (default 2 000 in CI; the full run is 10 000) requests through the gateway to two real
// llama-servers, 16 at a time, a fifth of them streaming a long answer and disconnecting mid-stream. At the end:
// no lease, in-flight request, socket or timer is left, every disconnect cancelled its generation on
// llama-server (its `cancel task` log lines are counted), and no server is still generating.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGateway,
  createKernel,
  type Gateway,
  type GatewayServer,
  type Kernel,
  startGatewayServer,
} from 'self-hosted-inference-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from '../../backends/llama-cpp/index.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { openFdCount } from '../support/process-census.js';
import { waitUntil } from '../support/wait-until.js';
import { printTable } from './support/print-table.js';
import { seededRandom, seedFromEnv } from './support/seeded-random.js';

const REQUESTS = Number(process.env.SHIC_GATEWAY_SOAK_REQUESTS ?? '2000');
const CONCURRENCY = 16;
const DISCONNECT_SHARE = 0.2;
const SEED = seedFromEnv('SHIC_GATEWAY_SOAK_SEED');

let dir: string;
let kernel: Kernel;
let gateway: Gateway;
let server: GatewayServer;
let client: Agent;
let cancelled = 0;
// llama-server's debug line when a client left after its generation had already ended (nothing to cancel):
// tells a generation that ran to its end apart from an abort that never reached llama-server.
let finishedBeforeCancel = 0;
const unfollow: Array<() => void> = [];

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

beforeAll(async () => {
  const { binaryPath, modelPath, longModelPath } = await realLlamaServer();
  dir = await mkdtemp(join(tmpdir(), 'shic-gateway-soak-'));
  kernel = createKernel({ stateDir: dir, backends: [createLlamaCppBackend({ binaryPath })] });
  gateway = createGateway({
    kernel,
    deployments: {
      tiny: { backend: 'llama-cpp', bootSpec: { model: modelPath, ctxSize: 2048, parallel: 4 } },
      long: { backend: 'llama-cpp', bootSpec: { model: longModelPath, ctxSize: 32_768, parallel: 4 } },
    },
    config: { maxQueue: 1_000, recentRequests: REQUESTS },
  });
  server = await startGatewayServer({ gateway });
  client = new Agent({ connections: CONCURRENCY });
}, 120_000);
afterAll(async () => {
  for (const stop of unfollow) stop();
  await client?.close();
  await server?.close(0);
  await kernel?.close();
  await rm(dir, { recursive: true, force: true });
});

describe(`gateway soak: ${REQUESTS} requests, ${DISCONNECT_SHARE * 100} % disconnecting mid-stream`, () => {
  it('leaves no lease, request, socket or timer behind and cancels every abandoned generation', {
    timeout: 1_800_000,
  }, async () => {
    const random = seededRandom(SEED).next;
    const body = (model: string, stream: boolean, maxTokens: number) =>
      JSON.stringify({ model, stream, max_tokens: maxTokens, messages: [{ role: 'user', content: 'soak' }] });
    // Warm both servers so the baseline counts sockets and timers of a running system.
    for (const model of ['tiny', 'long']) {
      const res = await request(`${server.url}/chat/completions`, {
        method: 'POST',
        dispatcher: client,
        body: body(model, false, 1),
      });
      await res.body.dump();
    }
    for (const instance of kernel.listInstances()) {
      unfollow.push(
        kernel.followInstanceLogs(instance.instanceId, (entry) => {
          if (entry.line.includes('cancel task')) cancelled += 1;
          if (entry.line.includes('all tasks already finished')) finishedBeforeCancel += 1;
        }),
      );
    }
    const fdsBefore = openFdCount();
    const timersBefore = timers();
    const counts = { ok: 0, streamedOk: 0, disconnected: 0, failed: 0 };
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        next += 1;
        const disconnect = random() < DISCONNECT_SHARE;
        const stream = disconnect || random() < 0.5;
        const model = disconnect ? 'long' : random() < 0.5 ? 'tiny' : 'long';
        const res = await request(`${server.url}/chat/completions`, {
          method: 'POST',
          dispatcher: client,
          headers: { 'content-type': 'application/json' },
          body: body(model, stream, disconnect ? 20_000 : 3),
        });
        if (res.statusCode !== 200) {
          counts.failed += 1;
          failures.push(`${res.statusCode} ${await res.body.text()}`);
          continue;
        }
        if (disconnect) {
          for await (const _chunk of res.body) break; // first chunk, then gone
          counts.disconnected += 1;
        } else {
          await res.body.dump();
          counts[stream ? 'streamedOk' : 'ok'] += 1;
        }
      }
    };
    const started = Date.now();
    const progress = setInterval(() => {
      const done = counts.ok + counts.streamedOk + counts.disconnected + counts.failed;
      console.log(`gateway soak: ${done}/${REQUESTS} after ${Math.round((Date.now() - started) / 1000)} s`);
    }, 10_000);
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      clearInterval(progress);
    }

    console.log(
      `gateway soak: all ${REQUESTS} answered after ${Math.round((Date.now() - started) / 1000)} s`,
    );
    await waitUntil(() => gateway.inFlight === 0, { message: 'no gateway request in flight' });
    // Counted, not required here: the assertion below reports how many were missing.
    await waitUntil(() => cancelled >= counts.disconnected, {
      message: `${counts.disconnected} cancel task lines`,
    }).catch(() => {});
    const leases = kernel.listInstances().reduce((n, i) => n + i.leaseCount, 0);
    const generating = await Promise.all(
      kernel.listInstances().map(async (i) => {
        const slots = (await (await fetch(`http://127.0.0.1:${i.port}/slots`)).json()) as Array<{
          is_processing: boolean;
        }>;
        return slots.filter((s) => s.is_processing).length;
      }),
    );
    // Keep-alive pools may hold a socket per concurrent request on each hop (client → gateway and its accepted end,
    // gateway → each server); a leak grows with the number of requests instead.
    const fdsAfter = openFdCount();
    expect(fdsAfter).toBeLessThanOrEqual(fdsBefore + 4 * CONCURRENCY + 8);
    await waitUntil(() => timers() <= timersBefore, { message: 'timers back to baseline' });
    const records = gateway.requests.list({ limit: REQUESTS });
    printTable(`gateway soak (seed ${SEED})`, [
      ['requests', String(REQUESTS)],
      ['completed (plain / streamed)', `${counts.ok} / ${counts.streamedOk}`],
      ['disconnected mid-stream', String(counts.disconnected)],
      ['llama-server "cancel task" lines', String(cancelled)],
      ['"all tasks already finished" lines', String(finishedBeforeCancel)],
      ['failed', String(counts.failed)],
      ['leases left', String(leases)],
      ['slots still generating', String(generating.reduce((a, b) => a + b, 0))],
      ['descriptors before → after', `${fdsBefore} → ${fdsAfter}`],
      ['timers before → after', `${timersBefore} → ${timers()}`],
    ]);
    expect(failures).toEqual([]);
    expect(counts.ok + counts.streamedOk + counts.disconnected).toBe(REQUESTS);
    expect(leases).toBe(0);
    expect(cancelled).toBeGreaterThanOrEqual(counts.disconnected);
    expect(generating.every((n) => n === 0)).toBe(true);
    expect(records.filter((r) => r.outcome === 'aborted').length).toBe(counts.disconnected);
  });
});

// Warm POST /v1/endpoints/ensure over loopback keep-alive against a bare node:http server answering constant JSON.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { startControlServer } from '../src/control/control-server.js';
import {
  BENCH_CONSUMER,
  BENCH_CONTEXT,
  benchKernel,
  benchRequest,
  benchStandInBackend,
} from './bench-kernel.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const WARMUP = 500;
const SAMPLES = 3_000;
const TOKEN = 'bench-control-token';

async function post(pool: Pool, path: string, body: string): Promise<unknown> {
  const response = await pool.request({
    method: 'POST',
    path,
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
  });
  const json = await response.body.json();
  if (response.statusCode !== 200)
    throw new Error(`${path} answered ${response.statusCode}: ${JSON.stringify(json)}`);
  return json;
}

export const controlApiEnsure: Benchmark = {
  id: 'control',
  title: 'warm control-API ensure',
  async run(context) {
    const kernel = await benchKernel(context, [benchStandInBackend()]);
    const request = benchRequest('stand-in', { name: 'control', plan: { healthIntervalMs: 5_000 } });
    await kernel.ensureEndpoint(request, BENCH_CONSUMER, BENCH_CONTEXT, {
      ownerRef: 'holder',
      ttlMs: 600_000,
    });
    const server = await startControlServer({ kernel, token: TOKEN });
    context.defer(() => server.close());
    const constant = { endpoint: { baseUrl: 'http://127.0.0.1:1/v1' }, lease: { leaseRef: 'constant' } };
    // The baseline reads the body and parses it too, so the difference is the kernel's work and the routing.
    const bare = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const text = JSON.stringify(constant);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    context.defer(async () => {
      bare.closeAllConnections();
      await new Promise((resolve) => bare.close(resolve));
    });
    const bareAddress = bare.address() as { port: number };
    const controlPool = new Pool(server.url, { connections: 1, pipelining: 1 });
    const barePool = new Pool(`http://127.0.0.1:${bareAddress.port}`, { connections: 1, pipelining: 1 });
    context.defer(() => controlPool.close());
    context.defer(() => barePool.close());
    const body = JSON.stringify({
      request,
      consumer: BENCH_CONSUMER,
      context: BENCH_CONTEXT,
      options: { ownerRef: 'bench-control', ttlMs: 60_000 },
    });
    context.progress(
      `${WARMUP} warm-up + ${SAMPLES} requests to each server, alternating, one keep-alive connection`,
    );
    const controlSamples = new Float64Array(SAMPLES);
    const bareSamples = new Float64Array(SAMPLES);
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const c0 = process.hrtime.bigint();
      const result = (await post(controlPool, '/v1/endpoints/ensure', body)) as {
        lease: { leaseRef: string };
      };
      const c1 = process.hrtime.bigint();
      kernel.releaseLease(result.lease.leaseRef);
      const b0 = process.hrtime.bigint();
      await post(barePool, '/baseline', body);
      const b1 = process.hrtime.bigint();
      if (i >= WARMUP) {
        controlSamples[i - WARMUP] = elapsed(c0, c1, 'ms');
        bareSamples[i - WARMUP] = elapsed(b0, b1, 'ms');
      }
    }
    const summary = summarize(controlSamples);
    const baseline = summarize(bareSamples);
    return {
      figures: [
        figure({
          name: 'warm control-API ensure (POST /v1/endpoints/ensure)',
          unit: 'ms',
          summary,
          baseline: { name: 'bare node:http constant JSON', summary: baseline },
          target: { kind: 'at-most', value: 1 },
          extra: { 'req/s': 1_000 / summary.mean, 'baseline req/s': 1_000 / baseline.mean },
        }),
      ],
      notes: [
        'client (undici Pool, 1 keep-alive connection) and servers share one process; requests are sequential, so req/s = 1 / mean latency. The lease is released in-process, untimed. Both servers receive the same body.',
      ],
    };
  },
};

// Benchmark: warm `POST /v1/endpoints/ensure` over loopback with keep-alive (target p50 ≤ 1 ms).
// Run with `npx tsx --conditions=shic-source bench/control-ensure.bench.ts`. Prints p50/p99 in ms and req/s; not a test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Pool } from 'undici';
import { parseConfigObject } from '../src/config/load-config.js';
import { startDaemon } from '../src/control/control-daemon.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';

const WARMUP = 200;
const SAMPLES = 2_000;

const { binaryPath, modelPath } = await realLlamaServer();
const dir = await mkdtemp(join(tmpdir(), 'shic-bench-'));
const loaded = parseConfigObject({
  stateDir: join(dir, 'state'),
  deployments: {
    tiny: { backend: 'llama-cpp', start: 'eager', bootSpec: { model: modelPath, binaryPath, ctxSize: 256 } },
  },
});
const daemon = await startDaemon({ loaded, logger: pino({ level: 'silent' }) });
const pool = new Pool(daemon.server.url, { connections: 1, pipelining: 1, keepAliveTimeout: 30_000 });
try {
  await daemon.startEager();
  const headers = { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ deployment: 'tiny', ownerRef: 'bench', ttlMs: 60_000 });
  const samples = new Float64Array(SAMPLES);
  const started = process.hrtime.bigint();
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    const res = await pool.request({ path: '/v1/endpoints/ensure', method: 'POST', headers, body });
    const json = (await res.body.json()) as { lease: { leaseRef: string } };
    const t1 = process.hrtime.bigint();
    if (res.statusCode !== 200) throw new Error(`ensure answered ${res.statusCode}: ${JSON.stringify(json)}`);
    if (i >= WARMUP) samples[i - WARMUP] = Number(t1 - t0) / 1e6;
    const del = await pool.request({
      path: `/v1/leases/${json.lease.leaseRef}`,
      method: 'DELETE',
      headers: { authorization: headers.authorization },
    });
    await del.body.dump();
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  samples.sort();
  const at = (p: number) => samples[Math.min(SAMPLES - 1, Math.floor(SAMPLES * p))]!;
  let total = 0;
  for (const s of samples) total += s;
  console.log(
    `warm POST /v1/endpoints/ensure (keep-alive, loopback)  p50 ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  ` +
      `${Math.round((SAMPLES * 1000) / total).toLocaleString('en-US')} req/s (ensure only; ${Math.round(((WARMUP + SAMPLES) * 2 * 1000) / elapsedMs)} req/s incl. release)`,
  );
} finally {
  await pool.close();
  await daemon.close();
  await rm(dir, { recursive: true, force: true });
}

// The llama-cpp memory estimate against what a real llama-server reports allocating (`--log-verbosity 4`
// buffer lines), over generated models of several shapes: weights and KV cache exact, the whole within 5 %.
// The full set of shapes runs in `npm run bench -- residency-estimate`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateLlamaMemory, memoryArgsOf } from '../../../backends/llama-cpp/estimate-llama-memory.js';
import { readGgufHeader } from '../../../src/gguf/read-gguf-header.js';
import { writeShapedModel } from '../../../src/testing/shaped-model.js';
import { ESTIMATE_CASES } from '../../support/estimate-shapes.js';
import { measureLlamaBuffers } from '../../support/llama-buffers.js';
import { type RealLlamaServer, realLlamaServer } from '../../support/llama-fixture.js';

// Every shape: each run takes well under a second.
const CASES = ESTIMATE_CASES;

let real: RealLlamaServer;
let dir: string;
beforeAll(async () => {
  real = await realLlamaServer();
  dir = await mkdtemp(path.join(tmpdir(), 'shic-estimate-'));
}, 900_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('estimateLlamaMemory on a real llama-server', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const model = await writeShapedModel({
        shape: c.shape,
        vocabPath: real.vocabPath,
        path: path.join(dir, `${_name.replace(/\W+/g, '-')}.gguf`),
      });
      const args = ['--no-repack', ...c.args];
      const reported = await measureLlamaBuffers(real.binaryPath, model, args);
      const estimate = estimateLlamaMemory(await readGgufHeader(model), memoryArgsOf(args));
      const total = Object.values(estimate.bytes).reduce((a, b) => a + b, 0);
      const MiB = 1024 * 1024;
      // llama-server prints MiB with two decimals: allow that rounding per buffer.
      expect(Math.abs(estimate.detail.weights - reported.parts.model!)).toBeLessThanOrEqual(0.01 * MiB);
      expect(Math.abs(estimate.detail.kv - reported.parts.KV!)).toBeLessThanOrEqual(0.02 * MiB);
      expect(Math.abs(total - reported.total) / reported.total).toBeLessThanOrEqual(0.05);
      expect(estimate.bytes).toEqual({ system: total });
    },
    120_000,
  );
});

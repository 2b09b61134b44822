// Accuracy of the llama-cpp memory estimate: for each generated model shape, what the kernel estimates from the
// GGUF header and the arguments against what llama-server itself reports allocating (`--log-verbosity 4` buffer
// lines), weight repacking off (its copies depend on the CPU and are left to calibration).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { estimateLlamaMemory, memoryArgsOf } from '../backends/llama-cpp/estimate-llama-memory.js';
import { readGgufHeader } from '../src/gguf/read-gguf-header.js';
import { writeShapedModel } from '../src/testing/shaped-model.js';
import { ESTIMATE_CASES } from '../test/support/estimate-shapes.js';
import { measureLlamaBuffers } from '../test/support/llama-buffers.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { summarize } from './stats.js';

const MiB = 1024 * 1024;

export const residencyEstimate: Benchmark = {
  id: 'residency-estimate',
  title: 'residency: llama-cpp memory estimate vs llama-server’s own report (14 shapes)',
  async run(context) {
    const { binaryPath, vocabPath } = await realLlamaServer({ onProgress: () => {} });
    const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-estimate-'));
    context.defer(() => rm(dir, { recursive: true, force: true }));
    const errors: number[] = [];
    const parts = { weights: [] as number[], kv: [] as number[], compute: [] as number[] };
    const notes: string[] = [];
    for (const [i, c] of ESTIMATE_CASES.entries()) {
      const model = await writeShapedModel({ shape: c.shape, vocabPath, path: path.join(dir, `m${i}.gguf`) });
      const args = ['--no-repack', ...c.args];
      const reported = await measureLlamaBuffers(binaryPath, model, args);
      const estimate = estimateLlamaMemory(await readGgufHeader(model), memoryArgsOf(args));
      const total = Object.values(estimate.bytes).reduce((a, b) => a + b, 0);
      const error = (100 * (total - reported.total)) / reported.total;
      const pct = (est: number, rep: number | undefined) => (rep ? (100 * Math.abs(est - rep)) / rep : 0);
      errors.push(Math.abs(error));
      parts.weights.push(pct(estimate.detail.weights, reported.parts.model));
      parts.kv.push(pct(estimate.detail.kv, reported.parts.KV));
      parts.compute.push(pct(estimate.detail.compute, reported.parts.compute));
      const line = `${c.name}: reported ${(reported.total / MiB).toFixed(1)} MiB, estimated ${(total / MiB).toFixed(1)} MiB (${error >= 0 ? '+' : ''}${error.toFixed(1)} %)`;
      notes.push(line);
      context.progress(line);
    }
    const summary = summarize(errors);
    return {
      figures: [
        figure({
          name: `|estimate − reported| / reported, whole server, ${ESTIMATE_CASES.length} shapes (worst case judged)`,
          unit: '%',
          summary,
          target: { kind: 'at-most', value: 5, label: 'worst ≤ 5 %' },
          judged: summary.max,
          extra: {
            'weights worst %': summarize(parts.weights).max.toFixed(2),
            'KV cache worst %': summarize(parts.kv).max.toFixed(2),
            'compute worst %': summarize(parts.compute).max.toFixed(1),
          },
        }),
      ],
      notes,
    };
  },
};

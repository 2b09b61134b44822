// Model shapes and llama-server arguments the memory estimate is held against (test/backends/llama-cpp/
// estimate-llama-memory.real.test.ts runs some, `npm run bench -- residency-estimate` all of them). Weight
// repacking is off (`--no-repack`): repacked copies depend on the CPU (AMX here) and are left to calibration.
import { GGML_TYPE } from '../../src/gguf/gguf-types.js';
import type { ModelShape } from '../../src/testing/shaped-model.js';

export interface EstimateCase {
  name: string;
  shape: ModelShape;
  args: string[];
}

const llama = (over: Partial<ModelShape>): ModelShape => ({
  blocks: 4,
  embedding: 256,
  heads: 8,
  kvHeads: 2,
  feedForward: 704,
  contextLength: 2048,
  ...over,
});

export const ESTIMATE_CASES: EstimateCase[] = [
  { name: 'llama 4×256 GQA 8/2, ctx 2048, auto slots', shape: llama({}), args: [] },
  { name: 'llama 4×256, 2 slots', shape: llama({}), args: ['--parallel', '2'] },
  {
    name: 'llama 8×512 MHA, ctx 4096',
    shape: llama({ blocks: 8, embedding: 512, heads: 8, kvHeads: 8, feedForward: 1408, contextLength: 4096 }),
    args: [],
  },
  {
    name: 'llama 8×512, ctx 8192, q8_0 KV',
    shape: llama({ blocks: 8, embedding: 512, heads: 8, kvHeads: 8, feedForward: 1408, contextLength: 4096 }),
    args: ['--ctx-size', '8192', '--cache-type-k', 'q8_0', '--cache-type-v', 'q8_0'],
  },
  {
    name: 'llama 6×384 q8_0 weights, ctx 8192',
    shape: llama({
      blocks: 6,
      embedding: 384,
      heads: 6,
      kvHeads: 2,
      feedForward: 1024,
      contextLength: 8192,
      weightType: GGML_TYPE.Q8_0,
    }),
    args: [],
  },
  {
    name: 'llama 12×768 GQA 12/4, ctx 16384',
    shape: llama({
      blocks: 12,
      embedding: 768,
      heads: 12,
      kvHeads: 4,
      feedForward: 2048,
      contextLength: 16384,
    }),
    args: [],
  },
  {
    name: 'llama 2×1024 f32 weights, ctx 1024',
    shape: llama({
      blocks: 2,
      embedding: 1024,
      heads: 16,
      kvHeads: 16,
      feedForward: 2816,
      contextLength: 1024,
      weightType: GGML_TYPE.F32,
    }),
    args: [],
  },
  {
    name: 'llama 16×256 MQA, ctx 32768, 3 slots',
    shape: llama({
      blocks: 16,
      embedding: 256,
      heads: 8,
      kvHeads: 1,
      feedForward: 704,
      contextLength: 32768,
    }),
    args: ['--parallel', '3', '--ctx-size', '24576'],
  },
  {
    name: 'llama 4×512, ctx 4096, q8_0 K / f16 V',
    shape: llama({ embedding: 512, heads: 8, kvHeads: 4, feedForward: 1408, contextLength: 4096 }),
    args: ['--cache-type-k', 'q8_0'],
  },
  {
    name: 'llama 4×512, ctx 4096, q4_0 KV, ubatch 256',
    shape: llama({ embedding: 512, heads: 8, kvHeads: 4, feedForward: 1408, contextLength: 4096 }),
    args: ['--cache-type-k', 'q4_0', '--cache-type-v', 'q4_0', '--ubatch-size', '256'],
  },
  {
    name: 'gemma2 SWA 1024, 6×256, ctx 8192',
    shape: {
      architecture: 'gemma2',
      blocks: 6,
      embedding: 256,
      heads: 4,
      kvHeads: 2,
      feedForward: 512,
      contextLength: 8192,
      slidingWindow: 1024,
    },
    args: [],
  },
  {
    name: 'gemma2 SWA 1024, 3 slots, ctx 12288',
    shape: {
      architecture: 'gemma2',
      blocks: 6,
      embedding: 256,
      heads: 4,
      kvHeads: 2,
      feedForward: 512,
      contextLength: 8192,
      slidingWindow: 1024,
    },
    args: ['--parallel', '3', '--ctx-size', '12288'],
  },
  {
    name: 'gemma2 SWA 2048 pattern 3, 9×512, ctx 16384, q8_0 KV',
    shape: {
      architecture: 'gemma2',
      blocks: 9,
      embedding: 512,
      heads: 8,
      kvHeads: 4,
      feedForward: 1536,
      contextLength: 16384,
      slidingWindow: 2048,
      slidingWindowPattern: 3,
    },
    args: ['--cache-type-k', 'q8_0', '--cache-type-v', 'q8_0'],
  },
  {
    name: 'gemma2 SWA 512, 8×384 q8_0 weights, ctx 4096, 2 slots',
    shape: {
      architecture: 'gemma2',
      blocks: 8,
      embedding: 384,
      heads: 6,
      kvHeads: 2,
      feedForward: 1024,
      contextLength: 4096,
      slidingWindow: 512,
      weightType: GGML_TYPE.Q8_0,
    },
    args: ['--parallel', '2'],
  },
];

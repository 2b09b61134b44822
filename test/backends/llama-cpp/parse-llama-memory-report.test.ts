import { describe, expect, it } from 'vitest';
import { memoryArgsOf } from '../../../backends/llama-cpp/estimate-llama-memory.js';
import { interpretLlamaServerOutput } from '../../../backends/llama-cpp/interpret-llama-server-output.js';
import {
  bufferDevice,
  parseLlamaBufferReport,
} from '../../../backends/llama-cpp/parse-llama-memory-report.js';

const MiB = 1024 * 1024;

// Recorded from the llama-server this project builds (node-llama-cpp 3.21.1's llama.cpp, commit 80fb11a) at
// `--log-verbosity 4`, on this machine's CPU (which has AMX, hence the repacked buffer).
const RECORDED = [
  '0.00.151.787 I load_tensors:          AMX model buffer size =    80.25 MiB',
  '0.00.151.799 I load_tensors:   CPU_Mapped model buffer size =   107.41 MiB',
  '0.00.233.710 I llama_context:        CPU  output buffer size =     0.49 MiB',
  '0.00.233.796 I llama_kv_cache:        CPU KV buffer size =    64.00 MiB',
  '0.00.265.571 I sched_reserve:        CPU compute buffer size =    16.26 MiB',
];

describe('parseLlamaBufferReport', () => {
  it('reads every buffer line llama-server prints while loading', () => {
    expect(RECORDED.map(parseLlamaBufferReport)).toEqual([
      { kind: 'model', buffer: 'AMX', device: 'system', bytes: Math.round(80.25 * MiB) },
      { kind: 'model', buffer: 'CPU_Mapped', device: 'system', bytes: Math.round(107.41 * MiB) },
      { kind: 'output', buffer: 'CPU', device: 'system', bytes: Math.round(0.49 * MiB) },
      { kind: 'KV', buffer: 'CPU', device: 'system', bytes: 64 * MiB },
      { kind: 'compute', buffer: 'CPU', device: 'system', bytes: Math.round(16.26 * MiB) },
    ]);
  });

  it('charges numbered accelerator buffers to their GPU and pinned host buffers to system memory', () => {
    expect(bufferDevice('CUDA0')).toBe('gpu0');
    expect(bufferDevice('CUDA1')).toBe('gpu1');
    expect(bufferDevice('CUDA_Host')).toBe('system');
    expect(bufferDevice('CPU_REPACK')).toBe('system');
  });

  it('ignores every other line', () => {
    expect(parseLlamaBufferReport('srv  update_slots: all slots are idle')).toBeUndefined();
    expect(
      parseLlamaBufferReport('llama_kv_cache: size =    1.00 MiB (  1024 cells,   2 layers'),
    ).toBeUndefined();
  });
});

describe('interpretLlamaServerOutput memory reports', () => {
  const report = (line: string, args?: string[]) =>
    interpretLlamaServerOutput({ type: 'stderr', line }, args)?.memoryReport;

  it('counts a repacked copy of memory-mapped weights as part of the mapping, not on top of it', () => {
    expect(report(RECORDED[0]!, ['--model', 'm.gguf'])).toEqual({
      device: 'system',
      bytes: 0,
      kind: 'model',
    });
    expect(report(RECORDED[1]!)).toEqual({
      device: 'system',
      bytes: Math.round(107.41 * MiB),
      kind: 'model',
    });
  });

  it('counts repacked weights in full when the model is read without mmap', () => {
    expect(report(RECORDED[0]!, ['--no-mmap'])?.bytes).toBe(Math.round(80.25 * MiB));
  });
});

describe('memoryArgsOf', () => {
  it('reads the memory-relevant flags, long and short, the last occurrence winning', () => {
    expect(
      memoryArgsOf([
        '--model',
        '/m/a.gguf',
        '-c',
        '4096',
        '--ctx-size',
        '8192',
        '-np',
        '2',
        '-ngl',
        '99',
        '-ctk',
        'q8_0',
        '--cache-type-v',
        'q4_0',
        '-ub',
        '256',
        '--kv-unified',
        '--swa-full',
        '--flash-attn',
        'off',
        '--embeddings',
        '--mmproj',
        '/m/p.gguf',
      ]),
    ).toEqual({
      model: '/m/a.gguf',
      ctxSize: 8192,
      parallel: 2,
      nGpuLayers: 99,
      cacheTypeK: 'q8_0',
      cacheTypeV: 'q4_0',
      ubatchSize: 256,
      kvUnified: true,
      swaFull: true,
      flashAttnOff: true,
      embeddings: true,
      mmproj: '/m/p.gguf',
    });
  });

  it('treats --parallel -1 as llama-server does: automatic', () => {
    expect(memoryArgsOf(['--parallel', '-1'])).toEqual({});
  });
});

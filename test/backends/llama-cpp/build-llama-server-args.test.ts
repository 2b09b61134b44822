import { describe, expect, it } from 'vitest';
import {
  buildLlamaServerArgs,
  buildLlamaServerEnv,
  inheritedLlamaServerVars,
  normalizeLlamaCppBootSpec,
} from '../../../backends/llama-cpp/index.js';

describe('buildLlamaServerArgs', () => {
  it('passes only model, alias, host, port and the memory-report verbosity for a minimal spec', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/tiny.gguf' });
    expect(buildLlamaServerArgs(spec, 8081)).toEqual([
      '--model',
      '/m/tiny.gguf',
      '--alias',
      'tiny',
      '--host',
      '127.0.0.1',
      '--port',
      '8081',
      '--log-verbosity',
      '4',
    ]);
  });

  it('leaves llama-server at its own verbosity when reportMemory is false', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/tiny.gguf', reportMemory: false });
    expect(buildLlamaServerArgs(spec, 1)).not.toContain('--log-verbosity');
  });

  it('adds every optional flag in order, then the extra args', () => {
    const spec = normalizeLlamaCppBootSpec({
      model: '/m/tiny.gguf',
      alias: 'tiny-chat',
      host: '0.0.0.0',
      port: 9000,
      ctxSize: 4096,
      threads: 2,
      parallel: 4,
      nGpuLayers: 0,
      cacheTypeK: 'q8_0',
      cacheTypeV: 'q4_0',
      embeddings: true,
      apiKey: 'sk-secret',
      apiPrefix: '/llm',
      timeout: 30,
      extraArgs: ['--flash-attn', 'on', '--no-webui'],
    });
    expect(buildLlamaServerArgs(spec, 9000)).toEqual([
      '--model',
      '/m/tiny.gguf',
      '--alias',
      'tiny-chat',
      '--host',
      '0.0.0.0',
      '--port',
      '9000',
      '--ctx-size',
      '4096',
      '--threads',
      '2',
      '--parallel',
      '4',
      '--n-gpu-layers',
      '0',
      '--cache-type-k',
      'q8_0',
      '--cache-type-v',
      'q4_0',
      '--embeddings',
      '--api-prefix',
      '/llm',
      '--timeout',
      '30',
      '--log-verbosity',
      '4',
      '--flash-attn',
      'on',
      '--no-webui',
    ]);
  });

  it('passes only the flags that are set', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/a b.gguf', ctxSize: 512, nGpuLayers: 99 });
    expect(buildLlamaServerArgs(spec, 1234)).toEqual([
      '--model',
      '/m/a b.gguf',
      '--alias',
      'a b',
      '--host',
      '127.0.0.1',
      '--port',
      '1234',
      '--ctx-size',
      '512',
      '--n-gpu-layers',
      '99',
      '--log-verbosity',
      '4',
    ]);
  });

  it('omits --embeddings when embeddings is false', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/t.gguf', embeddings: false, extraArgs: ['-v'] });
    expect(buildLlamaServerArgs(spec, 1)).toEqual([
      '--model',
      '/m/t.gguf',
      '--alias',
      't',
      '--host',
      '127.0.0.1',
      '--port',
      '1',
      '--log-verbosity',
      '4',
      '-v',
    ]);
  });

  it('never puts the API key into the argument list', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/t.gguf', apiKey: 'sk-do-not-leak' });
    const args = buildLlamaServerArgs(spec, 1);
    expect(args).not.toContain('--api-key');
    expect(args.join(' ')).not.toContain('sk-do-not-leak');
  });
});

describe('buildLlamaServerEnv', () => {
  it('hands the API key to llama-server as LLAMA_API_KEY, next to the spec env', () => {
    const spec = normalizeLlamaCppBootSpec({
      model: '/m/t.gguf',
      apiKey: 'sk-1',
      env: { GGML_NTHREADS: '2' },
    });
    expect(buildLlamaServerEnv(spec)).toEqual({ GGML_NTHREADS: '2', LLAMA_API_KEY: 'sk-1' });
  });

  it('is the spec env alone without a key', () => {
    expect(buildLlamaServerEnv(normalizeLlamaCppBootSpec({ model: '/m/t.gguf', env: { A: '1' } }))).toEqual({
      A: '1',
    });
  });
});

describe('inheritedLlamaServerVars', () => {
  it('names inherited LLAMA_ARG_* and LLAMA_API_KEY variables the spec did not set itself', () => {
    const inherited = { LLAMA_API_KEY: 'outer', LLAMA_ARG_PORT: '9', LLAMA_ARG_CTX_SIZE: '8', PATH: '/bin' };
    const spec = normalizeLlamaCppBootSpec({ model: '/m/t.gguf', env: { LLAMA_ARG_CTX_SIZE: '64' } });
    expect(inheritedLlamaServerVars(spec, inherited).sort()).toEqual(['LLAMA_API_KEY', 'LLAMA_ARG_PORT']);
  });

  it('keeps LLAMA_API_KEY out of the list when the spec sets a key of its own', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/m/t.gguf', apiKey: 'sk-own' });
    expect(inheritedLlamaServerVars(spec, { LLAMA_API_KEY: 'outer' })).toEqual([]);
  });
});

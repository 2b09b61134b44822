import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { KernelError, Secret } from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import { LLAMA_CPP_DEFAULTS, normalizeLlamaCppBootSpec } from '../../../backends/llama-cpp/index.js';
import { thrownKernelError as thrown } from '../../support/kernel-errors.js';

describe('normalizeLlamaCppBootSpec', () => {
  it('reports an object whose toString is not callable as a typed error, without printing it', () => {
    const error = (() => {
      try {
        normalizeLlamaCppBootSpec({ model: { toString: [] } });
      } catch (e) {
        return e;
      }
    })();
    expect(KernelError.isInstance(error) && error.code).toBe('invalid_boot_spec');
    expect((error as Error).message).toContain('model');
  });

  it('applies every default to a spec naming only the model', () => {
    const spec = normalizeLlamaCppBootSpec(
      { model: '/models/tiny-llama.Q4_K_M.gguf' },
      { env: { PATH: '', XDG_CACHE_HOME: '/nonexistent' } },
    );
    expect(spec).toEqual({
      model: '/models/tiny-llama.Q4_K_M.gguf',
      alias: 'tiny-llama.Q4_K_M',
      host: '127.0.0.1',
      reportMemory: true,
      embeddings: false,
      extraArgs: [],
      env: {},
      binaryPath: 'llama-server',
      stopTimeoutMs: LLAMA_CPP_DEFAULTS.stopTimeoutMs,
      readyTimeoutMs: 60_000,
      idleShutdownMs: 300_000,
    });
  });

  it('finds the binary as everywhere else: SHIC_LLAMA_SERVER, then PATH, then the provisioning cache', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shic-find-llama-'));
    try {
      const onPath = path.join(dir, 'bin', 'llama-server');
      const cached = path.join(
        dir,
        'cache',
        'self-hosted-inference-core',
        'llama-server',
        'node-llama-cpp-3.21.1-v1',
        'bin',
        'llama-server',
      );
      for (const file of [onPath, cached]) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
      }
      const binary = (env: NodeJS.ProcessEnv) =>
        normalizeLlamaCppBootSpec({ model: '/m.gguf' }, { env }).binaryPath;
      const cache = { XDG_CACHE_HOME: path.join(dir, 'cache') };
      expect(binary({ SHIC_LLAMA_SERVER: '/opt/llama-server', PATH: path.dirname(onPath), ...cache })).toBe(
        '/opt/llama-server',
      );
      expect(binary({ PATH: path.dirname(onPath), ...cache })).toBe(onPath);
      expect(binary({ PATH: '', ...cache })).toBe(cached);
      expect(binary({ PATH: '', XDG_CACHE_HOME: path.join(dir, 'empty') })).toBe('llama-server');
      expect(
        normalizeLlamaCppBootSpec(
          { model: '/m.gguf', binaryPath: '/x/ls' },
          { env: { SHIC_LLAMA_SERVER: '/y' } },
        ).binaryPath,
      ).toBe('/x/ls');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves a relative model path against cwd and takes the alias from the request model id', () => {
    const spec = normalizeLlamaCppBootSpec({ model: 'm/x.gguf' }, { cwd: '/srv', modelIdentity: 'my-model' });
    expect(spec.model).toBe(path.resolve('/srv/m/x.gguf'));
    expect(spec.alias).toBe('my-model');
  });

  it('keeps an explicit alias over the request model id', () => {
    expect(normalizeLlamaCppBootSpec({ model: '/a.gguf', alias: 'a1' }, { modelIdentity: 'b' }).alias).toBe(
      'a1',
    );
  });

  it('holds a string API key as a Secret that never prints', () => {
    const spec = normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: 'sk-very-secret' });
    expect(Secret.isInstance(spec.apiKey)).toBe(true);
    expect(spec.apiKey?.expose()).toBe('sk-very-secret');
    expect(spec.apiKeySource).toBe('user');
    expect(JSON.stringify(spec)).not.toContain('sk-very-secret');
    expect(inspect(spec)).not.toContain('sk-very-secret');
  });

  it('keeps a Secret API key as given', () => {
    const key = new Secret('sk-1');
    expect(normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: key }).apiKey).toBe(key);
  });

  it('generates a fresh random key per call for apiKey "generate"', () => {
    const a = normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: 'generate' });
    const b = normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: 'generate' });
    expect(a.apiKeySource).toBe('generated');
    expect(a.apiKey?.expose()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.apiKey?.expose()).not.toBe(b.apiKey?.expose());
  });

  it('generates a key for "generate" given as a Secret too (how shic.yaml passes apiKey), never the literal', () => {
    const a = normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: new Secret('generate') });
    const b = normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: new Secret('generate') });
    expect(a.apiKeySource).toBe('generated');
    expect(a.apiKey?.expose()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.apiKey?.expose()).not.toBe(b.apiKey?.expose());
  });

  it('drops a trailing slash from apiPrefix and treats "/" as no prefix', () => {
    expect(normalizeLlamaCppBootSpec({ model: '/a.gguf', apiPrefix: '/llm/' }).apiPrefix).toBe('/llm');
    expect(normalizeLlamaCppBootSpec({ model: '/a.gguf', apiPrefix: '/' }).apiPrefix).toBeUndefined();
  });

  it('accepts idleShutdownMs null as "never idle out"', () => {
    expect(normalizeLlamaCppBootSpec({ model: '/a.gguf', idleShutdownMs: null }).idleShutdownMs).toBeNull();
  });

  it('rejects a spec without a model with invalid_boot_spec naming the field', () => {
    const error = thrown(() => normalizeLlamaCppBootSpec({ alias: 'x' }));
    expect(error.code).toBe('invalid_boot_spec');
    expect(error.name).toBe('InvalidBootSpecError');
    expect(error.message).toContain('bootSpec.model');
  });

  it('names the field path and the received value of each bad field', () => {
    const error = thrown(() =>
      normalizeLlamaCppBootSpec({ model: '/a.gguf', ctxSize: -5, apiPrefix: 'v2', extraArgs: ['--x', 3] }),
    );
    expect(error.code).toBe('invalid_boot_spec');
    expect(error.message).toContain('bootSpec.ctxSize');
    expect(error.message).toContain('number -5');
    expect(error.message).toContain('bootSpec.apiPrefix');
    expect(error.message).toContain('string "v2"');
    expect(error.message).toContain('bootSpec.extraArgs.1');
    expect(error.details.issues).toHaveLength(3);
  });

  it('names an unknown field so a typo is caught', () => {
    const error = thrown(() => normalizeLlamaCppBootSpec({ model: '/a.gguf', ctx_size: 512 }));
    expect(error.code).toBe('invalid_boot_spec');
    expect(error.message).toContain('bootSpec.ctx_size');
  });

  it('never echoes a bad apiKey or env value in the error', () => {
    const error = thrown(() =>
      normalizeLlamaCppBootSpec({ model: '/a.gguf', apiKey: 123456789, env: { HF_TOKEN: 987654321 } }),
    );
    expect(error.code).toBe('invalid_boot_spec');
    expect(error.message).toContain('bootSpec.apiKey');
    expect(error.message).toContain('bootSpec.env.HF_TOKEN');
    const everything = `${error.message} ${JSON.stringify(error.toJSON())}`;
    expect(everything).not.toContain('123456789');
    expect(everything).not.toContain('987654321');
  });
});

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import pWaitFor from 'p-wait-for';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionError, provisionLlamaServer } from '../../../../backends/llama-cpp/provision/index.js';
import { realLlamaServer } from '../../../support/llama-fixture.js';

let dir: string;
let emptyPath: string;

// A stand-in binary: a script that answers `--version` like llama-server does.
async function fakeServer(at: string, version = '7 (abc1234)'): Promise<string> {
  await mkdir(join(at, '..'), { recursive: true });
  await writeFile(at, `#!/bin/sh\necho "version: ${version}" >&2\necho "built with test" >&2\n`);
  await chmod(at, 0o755);
  return at;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-provision-'));
  emptyPath = join(dir, 'empty-path');
  await mkdir(emptyPath);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('provisionLlamaServer', () => {
  it('uses SHIC_LLAMA_SERVER first, without building', async () => {
    const binary = await fakeServer(join(dir, 'env', 'my-llama-server'));
    const onPath = await fakeServer(join(dir, 'on-path', 'llama-server'), '9 (fffffff)');
    const result = await provisionLlamaServer({
      env: { SHIC_LLAMA_SERVER: binary, PATH: join(dir, 'on-path') },
      cacheDir: join(dir, 'cache-unused'),
    });
    expect(result).toEqual({ binaryPath: binary, version: '7 (abc1234)', source: 'env' });
    expect(onPath).not.toBe(result.binaryPath);
  });

  it('rejects a SHIC_LLAMA_SERVER that does not run, naming the variable', async () => {
    const error = await provisionLlamaServer({
      env: { SHIC_LLAMA_SERVER: join(dir, 'nope'), PATH: emptyPath },
      cacheDir: join(dir, 'cache-unused'),
    }).catch((e: unknown) => e);
    expect(ProvisionError.isInstance(error)).toBe(true);
    expect((error as ProvisionError).code).toBe('provision_failed');
    expect((error as ProvisionError).message).toMatch(/SHIC_LLAMA_SERVER/);
  });

  it('finds llama-server on PATH when it runs --version', async () => {
    const binary = await fakeServer(join(dir, 'bin-a', 'llama-server'), '5 (1234567)');
    const result = await provisionLlamaServer({
      env: { PATH: join(dir, 'bin-a') },
      cacheDir: join(dir, 'c0'),
    });
    expect(result).toEqual({ binaryPath: binary, version: '5 (1234567)', source: 'path' });
  });

  it('reuses a cached build without fetching or building', async () => {
    const cacheDir = join(dir, 'cache');
    const binary = await fakeServer(
      join(cacheDir, 'node-llama-cpp-3.21.1-v0-abcdef0', 'bin', 'llama-server'),
    );
    const progress: string[] = [];
    const result = await provisionLlamaServer({
      env: { PATH: emptyPath },
      cacheDir,
      onProgress: (p) => progress.push(p.phase),
    });
    expect(result.source).toBe('cache');
    expect(result.binaryPath).toBe(binary);
    expect(progress).toEqual(['resolve', 'done']);
  });

  it.each([
    ['linux', /apt-get install cmake g\+\+ git/],
    ['darwin', /xcode-select --install.*brew install cmake/],
  ] as const)('says what to install on %s when cmake is missing', async (platform, hint) => {
    const which = async (command: string) => (command === 'cmake' ? undefined : `/usr/bin/${command}`);
    const error = await provisionLlamaServer({
      env: { PATH: emptyPath },
      cacheDir: join(dir, 'c1'),
      which,
      platform,
    })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(ProvisionError.isInstance(error)).toBe(true);
    expect((error as ProvisionError).code).toBe('build_tools_missing');
    expect((error as ProvisionError).missing).toEqual(['cmake']);
    expect((error as ProvisionError).message).toMatch(hint);
  });

  it('lists every missing tool, including the C++ compiler', async () => {
    const error = (await provisionLlamaServer({
      env: { PATH: emptyPath, CXX: '' },
      cacheDir: join(dir, 'c2'),
      which: async () => undefined,
    }).catch((e: unknown) => e)) as ProvisionError;
    expect(error.code).toBe('build_tools_missing');
    expect(error.missing).toEqual(['git', 'cmake', 'C++ compiler (g++ or clang++)']);
  });
});

describe('provisionLlamaServer (real llama-server)', () => {
  let real: { binaryPath: string; modelPath: string };
  // Cold caches build llama.cpp here (minutes on 2 cores); warm ones return at once.
  beforeAll(async () => {
    real = await realLlamaServer();
  }, 20 * 60_000);

  it('provides a binary that serves chat completions on the tiny model', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const args = [
      '--model',
      real.modelPath,
      '--alias',
      'tiny',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ];
    const server = execa(real.binaryPath, [...args, '--ctx-size', '512', '--threads', '1'], {
      all: true,
      buffer: false,
      reject: false,
      stdin: 'ignore',
    });
    let hasExited = false;
    const exited = server.then((r) => {
      hasExited = true;
      return r;
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await pWaitFor(
        async () => {
          if (hasExited)
            throw new Error(`llama-server exited before becoming healthy: ${(await exited).all}`);
          return fetch(`${base}/health`).then(
            (r) => r.status === 200,
            () => false,
          );
        },
        { interval: 50, timeout: 30_000 },
      );
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tiny',
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 8,
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: { message: { role: string; content: string } }[] };
      expect(body.choices[0]?.message.role).toBe('assistant');
      expect(typeof body.choices[0]?.message.content).toBe('string');
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
